"""Preallocated growable numpy buffers, filled from the model's lists one new tail at a time."""

from __future__ import annotations

import mmap
from collections.abc import Callable

import numpy as np

# numpy asks for transparent huge pages on arrays from 4 MB up; the first write into each
# 2 MB region then stalls while the kernel finds and clears a huge page: appends to the
# fourteen counter arrays took 60-120 ms now and then. Big buffers are plain anonymous
# memory instead (4 kB pages, cleared as they are first written).
_PLAIN_PAGES_FROM_BYTES = 1 << 22


def _alloc(n: int) -> np.ndarray:
    nbytes = n * 8
    if nbytes < _PLAIN_PAGES_FROM_BYTES:
        return np.empty(n, dtype=np.float64)
    if hasattr(mmap, "MAP_PRIVATE"):
        buf = mmap.mmap(-1, nbytes, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    else:  # Windows: anonymous memory, committed page by page
        buf = mmap.mmap(-1, nbytes)
    if hasattr(mmap, "MADV_NOHUGEPAGE"):
        buf.madvise(mmap.MADV_NOHUGEPAGE)
    return np.frombuffer(buf, dtype=np.float64)


class GrowBuffer:
    """A float64 array that only grows; capacity doubles so appends are amortised O(1).

    ``view()`` is a slice of the live storage: no copy per frame. A view taken before a
    reallocation keeps pointing at the old storage, which stays valid.

    Moving a big array is not cheap: the copy lands on fresh pages, and at a million points
    the fourteen counter arrays took 150-200 ms to move, in one frame. Callers that know how
    much is coming :meth:`reserve` it up front; untouched capacity costs address space only.
    """

    __slots__ = ("_a", "n")

    def __init__(self, capacity: int = 1024) -> None:
        self._a = _alloc(max(16, capacity))
        self.n = 0

    def __len__(self) -> int:
        return self.n

    def reserve(self, n: int) -> None:
        if n > self._a.size:
            cap = self._a.size
            while cap < n:
                cap *= 2
            a = _alloc(cap)
            a[: self.n] = self._a[: self.n]
            self._a = a

    def extend(self, values: object) -> None:
        v = np.asarray(values, dtype=np.float64)
        k = v.size
        if k:
            self.reserve(self.n + k)
            self._a[self.n : self.n + k] = v
            self.n += k

    def raw(self, n: int) -> np.ndarray:
        """The first ``n`` slots of storage (``n`` may exceed the filled length by reserve)."""
        self.reserve(n)
        return self._a[:n]

    def view(self) -> np.ndarray:
        return self._a[: self.n]

    def last(self, default: float = 0.0) -> float:
        return float(self._a[self.n - 1]) if self.n else default

    def clear(self) -> None:
        self.n = 0


class _Column:
    """A raw column of a :class:`StepSeries`, read from its polylines (``view()``: no store
    of its own; a difference of two stored series is computed when read)."""

    __slots__ = ("_read",)

    def __init__(self, read: Callable[[], np.ndarray]) -> None:
        self._read = read

    def view(self) -> np.ndarray:
        return self._read()

    def last(self, default: float = 0.0) -> float:
        v = self._read()
        return float(v[-1]) if v.size else default


class Difference:
    """``a - b`` of two equal-length arrays, computed for the part read (a slice or an item):
    a derived counter's polyline, handed to the decimation without a stored copy."""

    __slots__ = ("a", "b")

    def __init__(self, a: np.ndarray, b: np.ndarray) -> None:
        self.a, self.b = a, b

    @property
    def size(self) -> int:
        return int(self.a.size)

    def __len__(self) -> int:
        return int(self.a.size)

    def __getitem__(self, i: object) -> np.ndarray:
        return self.a[i] - self.b[i]  # type: ignore[index, no-any-return]

    def __array__(self, dtype: object = None, copy: object = None) -> np.ndarray:
        d = self.a - self.b
        return d if dtype is None else d.astype(dtype)


class StepSeries:
    """Counter series drawn as steps, kept as expanded lines (no ``stepMode``).

    A counter that is ``y[i]`` from ``t[i]`` to ``t[i+1]`` becomes the polyline
    ``(t0,y0) (t1,y0) (t1,y1) (t2,y1) (t2,y2) …`` plus one tail point ``(now, y[-1])`` so the
    last value is drawn up to the present. ``stepMode='center'`` raises with downsampling in
    pyqtgraph 0.14; expanded lines downsample and clip like any other curve.

    Only the polylines are stored, ``ex`` and ``ey[name]`` (length ``2 * n``: ``2n - 1`` step
    points + the tail): the raw points are every other slot of them (``t`` and ``cols[name]``
    read ``ex[0::2]`` and ``ey[name][0::2]``). ``derived`` names series that are the difference
    of two stored ones (``{"depth": ("puts", "gets")}``), computed only when read: ``drawn``
    hands them out as :class:`Difference`, which the decimation reads slice by slice. Why:
    under a flood the charts' copy of the counters is written at 180,000 points a second into
    fresh pages (each a fault: a copy of each raw column beside its polyline was 40 % of the
    bytes), and two of the five drawn counters are differences of the other three.
    """

    def __init__(self, names: tuple[str, ...],
                 derived: dict[str, tuple[str, str]] | None = None) -> None:  # fmt: skip
        self.names = names
        self.derived = dict(derived or {})
        self.n = 0
        self.ex = GrowBuffer()
        self.ey = {k: GrowBuffer() for k in names}
        self.t = _Column(lambda: self.ex.view()[0 : 2 * self.n : 2])
        self.cols = {k: _Column(lambda k=k: self._raw(k)) for k in (*names, *self.derived)}
        self.now = 0.0

    def __len__(self) -> int:
        return self.n

    def _raw(self, name: str) -> np.ndarray:
        if name in self.derived:
            a, b = self.derived[name]
            return self._raw(a) - self._raw(b)
        return self.ey[name].view()[0 : 2 * self.n : 2]

    def clear(self) -> None:
        for b in (self.ex, *self.ey.values()):
            b.clear()
        self.n = 0
        self.now = 0.0

    def reserve(self, n: int) -> None:
        """Make room for ``n`` raw points now, so no append has to move the arrays later."""
        for b in (self.ex, *self.ey.values()):
            b.reserve(2 * n)

    def append(self, t: np.ndarray, cols: dict[str, np.ndarray]) -> None:
        """Add raw points ``t[k], cols[name][k]`` (``t`` non-decreasing, after the last one)."""
        k = int(t.size)
        if not k:
            return
        n0 = self.n
        n1 = n0 + k
        # Point i >= 1 is the riser (t[i], y[i-1]) -> (t[i], y[i]) at slots 2i-1 and 2i; the
        # old tail slot (2*n0 - 1) is rewritten and the new tail lands at 2*n1 - 1. Two
        # strided copies per array, straight from the new points.
        ex = self.ex.raw(2 * n1)
        if n0 == 0:
            ex[0] = t[0]
            ex[1 : 2 * n1 - 1 : 2] = t[1:]
            ex[2 : 2 * n1 : 2] = t[1:]
        else:
            ex[2 * n0 - 1 : 2 * n1 - 1 : 2] = t
            ex[2 * n0 : 2 * n1 : 2] = t
        for name in self.names:
            y = cols[name]
            ey = self.ey[name].raw(2 * n1)
            if n0 == 0:
                ey[0] = y[0]
                ey[1 : 2 * n1 - 1 : 2] = y[:-1]
                ey[2 : 2 * n1 : 2] = y[1:]
            else:
                ey[2 * n0 - 1] = ey[2 * n0 - 2]
                ey[2 * n0 + 1 : 2 * n1 - 1 : 2] = y[:-1]
                ey[2 * n0 : 2 * n1 : 2] = y
            ey[2 * n1 - 1] = y[-1]
            self.ey[name].n = 2 * n1
        self.ex.n = 2 * n1
        self.n = n1
        ex[2 * n1 - 1] = max(self.now, float(t[-1]))

    def set_now(self, now: float) -> bool:
        """Move the tail point to ``now`` (never before the last change); True if it moved."""
        n = self.n
        if not n:
            self.now = now
            return False
        ex = self.ex.view()
        x = max(now, float(ex[2 * n - 2]))
        self.now = now
        if ex[2 * n - 1] == x:
            return False
        ex[2 * n - 1] = x
        return True

    def drawn(self, names: tuple[str, ...]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """The expanded polyline's x and the named series' y (views, no copy; a derived one
        a :class:`Difference`, computed for the slices read)."""
        return self.ex.view(), {k: self._lazy(k) for k in names}

    def _lazy(self, name: str) -> np.ndarray:
        if name in self.derived:
            a, b = self.derived[name]
            return Difference(self._lazy(a), self._lazy(b))  # type: ignore[return-value]
        return self.ey[name].view()

    def _y(self, name: str) -> np.ndarray:
        if name in self.derived:
            a, b = self.derived[name]
            return self._y(a) - self._y(b)
        return self.ey[name].view()

    def xy(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        return self.ex.view(), self._y(name)

    def _count_upto(self, t: float) -> int:
        """How many raw points lie at or before ``t``, found in the polyline's x (the raw
        times' strided view would be copied by every search)."""
        n = self.n
        if not n:
            return 0
        return (int(np.searchsorted(self.ex.view()[: 2 * n - 1], t, side="right")) + 1) // 2

    def upto(self, t: float) -> int:
        """How many polyline slots lie at or before ``t``: the steps of the raw points up to
        ``t``, without a tail (a cut at ``t`` adds its own, ``(t, y)`` of the last slot)."""
        k = self._count_upto(t)
        return 2 * k - 1 if k else 0

    def xy_until(self, name: str, t: float) -> tuple[np.ndarray, np.ndarray]:
        """The polyline of ``name`` as it was at ``t``: the steps up to it and a tail at ``t``
        (copies; the live arrays stay whole)."""
        m = self.upto(t)
        if not m:
            return np.zeros(0), np.zeros(0)
        y = self._y(name)
        return (np.append(self.ex.view()[:m], max(t, self.ex.view()[m - 1])),
                np.append(y[:m], y[m - 1]))

    def index_at(self, t: float) -> int:
        """Index of the raw point in force at time ``t`` (-1 before the first)."""
        return self._count_upto(t) - 1

    def value_at(self, name: str, i: int) -> float:
        """Raw point ``i``'s value of ``name`` (a derived one computed for that point only)."""
        if name in self.derived:
            a, b = self.derived[name]
            return self.value_at(a, i) - self.value_at(b, i)
        return float(self.ey[name].view()[2 * i])
