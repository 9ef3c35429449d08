"""The model's chart series as references into the task table: one point per counter change.

A point is a put, a get or a task_done applied (or a lost item's mark). Its time is the task's
``t_put``, ``t_get`` or ``t_done`` (raised to the series' running maximum: the series never goes
back in time) and the counters are counts of the points' kinds, so a point keeps six bytes: its
kind, and the task's row (slot, row) in :class:`~engine.tasks.TaskTable`. The completions'
(time, wait, service) are the task_done points of real tasks, read the same way. Points whose
task has no dense row keep their values in ``_pin_*``. Reads look like the arrays they replace
(:class:`Series`): ``len``, indexing, slicing, ``view()``.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from typing import Any

import numpy as np

from engine.columns import BLOCK, ArrayColumn, GrowArray
from engine.tasks import NO_SLOT, TaskTable

MARK, PUT, GET, DONE, DONE_REAL = 0, 1, 2, 3, 4  # DONE_REAL: a task, not a sentinel
_FIELD = {PUT: "t_put", GET: "t_get", DONE: "t_done", DONE_REAL: "t_done"}
_NAN3 = (float("nan"), float("nan"), float("nan"))
_WHAT = {"t": 0, "wait": 1, "service": 2}


class PointLog:
    """Every counter change of a run, in the order applied."""

    def __init__(self, table: TaskTable) -> None:
        self.table = table
        self.kind = GrowArray(np.uint8, 1024)
        self.slot = GrowArray(np.uint8, 1024)
        self.row = GrowArray(np.uint32, 1024)
        # Before each BLOCK of points: the series time so far, puts, gets, dones, real dones.
        self.cp_t = GrowArray(np.float64, 64)
        self.cp_n = [GrowArray(np.int64, 64) for _ in range(4)]
        self.counts = [0, 0, 0, 0]  # puts, gets, dones, real dones so far
        self.last_t = 0.0  # the series' running maximum
        # The sum of (puts - dones) steps times their series time (from 0 on), so far and
        # before each BLOCK: the area under puts - dones up to any time is two lookups and
        # one block's read (area_until), where the whole series read took 60 ms at 600,000
        # points, in the run's end turn (Little's law in the theory pane).
        self.moment = 0.0
        self.cp_m = GrowArray(np.float64, 64)
        self._pin_at: list[int] = []
        self._pin: list[tuple[float, float, float]] = []  # (t, wait, service)
        self.version = 0  # changes with every append: caches key on it
        # The last completions read: (version, a, b) -> (times, waits, services). A reader
        # asks for all three of the same range (the charts' sync, a summary's means), and
        # each read gathers the same rows of the task table.
        self._done_key: tuple[int, int, int] | None = None
        self._done: tuple[np.ndarray, np.ndarray, np.ndarray] = (np.empty(0),) * 3

    def __len__(self) -> int:
        return self.kind.n

    # ------------------------------------------------------------------ writing
    def add(self, kind: int, tid: int, t: float, wait: float = 0.0, service: float = 0.0) -> float:
        """Append one point of raw time ``t``; returns the series time (never back in time)."""
        slot, row = (NO_SLOT, 0) if kind == MARK else self.table.ref(tid)
        if slot != NO_SLOT:
            rows = self.table.streams[self.table.slot_streams[slot]]
            if getattr(rows, _FIELD[kind])[row] != t:
                slot, row = NO_SLOT, 0  # not the row's time: keep it here
        n = self.kind.n
        if n % BLOCK == 0:
            self._checkpoint()
        if slot == NO_SLOT:
            self._pin_at.append(n)
            self._pin.append((t, wait, service))
        self.kind.append(kind)
        self.slot.append(slot)
        self.row.append(row)
        c = self.counts
        if kind == PUT:
            c[0] += 1
        elif kind == GET:
            c[1] += 1
        elif kind >= DONE:
            c[2] += 1
            c[3] += kind == DONE_REAL
        self.last_t = max(t, self.last_t)
        if kind == PUT or kind >= DONE:
            self.moment += (1.0 if kind == PUT else -1.0) * max(self.last_t, 0.0)
        self.version += 1
        return self.last_t

    def _checkpoint(self) -> None:
        self.cp_t.append(self.last_t)
        for col, v in zip(self.cp_n, self.counts, strict=True):
            col.append(v)
        self.cp_m.append(self.moment)

    def extend(self, kind: np.ndarray, tids: np.ndarray, ser_t: np.ndarray,
               refs: tuple[np.ndarray, np.ndarray] | None = None) -> None:  # fmt: skip
        """Append points whose raw times are their tasks' row times (the bulk path's);
        ``ser_t`` is their series time (running maximum); ``refs`` the tasks' references
        (``TaskTable.refs(tids)``) if already known."""
        k = kind.size
        if not k:
            return
        slot, row = self.table.refs(tids) if refs is None else refs
        if (slot == NO_SLOT).any():  # 255 streams: cannot happen in a run; stay exact anyway
            for i in range(k):
                self.add(int(kind[i]), int(tids[i]), float(ser_t[i]))
            return
        n = self.kind.n
        first_block, last_block = -(-n // BLOCK), (n + k - 1) // BLOCK
        is_put, is_get, is_done = kind == PUT, kind == GET, kind >= DONE
        is_real = kind == DONE_REAL
        if last_block >= first_block:
            at = np.arange(first_block, last_block + 1) * BLOCK - n
            st = np.concatenate(([self.last_t], ser_t))
            self.cp_t.extend(st[at])
            for col, base, flag in zip(self.cp_n, self.counts, (is_put, is_get, is_done, is_real),
                                       strict=True):  # fmt: skip
                col.extend(base + np.concatenate(([0], np.cumsum(flag)))[at])
        step = (is_put.astype(np.float64) - is_done) * np.maximum(ser_t, 0.0)
        if last_block >= first_block:
            self.cp_m.extend(self.moment + np.concatenate(([0.0], np.cumsum(step)))[at])
        self.moment += float(step.sum())
        self.kind.extend(kind)
        self.slot.extend(slot)
        self.row.extend(row)
        c = self.counts
        c[0] += int(is_put.sum())
        c[1] += int(is_get.sum())
        c[2] += int(is_done.sum())
        c[3] += int(is_real.sum())
        self.last_t = max(self.last_t, float(ser_t[-1]))
        self.version += 1

    # ------------------------------------------------------------------ reading
    def _raw(self, a: int, b: int) -> np.ndarray:
        """Points ``a`` to ``b``'s raw times."""
        kind = self.kind.view()[a:b]
        slot, row = self.slot.view()[a:b], self.row.view()[a:b]
        out = np.empty(kind.size)
        table = self.table
        for at, name in ((kind == PUT, "t_put"), (kind == GET, "t_get"), (kind >= DONE, "t_done")):
            if at.any():
                v = np.empty(int(at.sum()))
                table.column_at(slot[at], row[at], name, v)
                out[at] = v
        at, pins = self._pin_at, self._pin
        for i in range(bisect.bisect_left(at, a), bisect.bisect_left(at, b)):
            out[at[i] - a] = pins[i][0]
        return out

    def series_t(self, a: int, b: int) -> np.ndarray:
        if a >= b:
            return np.empty(0)
        start = a // BLOCK * BLOCK
        raw = self._raw(start, b)
        run = np.maximum.accumulate(np.concatenate(([self.cp_t.view()[start // BLOCK]], raw)))
        return run[1 + a - start :]

    def counter(self, which: int, a: int, b: int) -> np.ndarray:
        """Puts (0), gets (1) or dones (2) after each of points ``a`` to ``b``."""
        if a >= b:
            return np.empty(0, np.int64)
        start = a // BLOCK * BLOCK
        kind = self.kind.view()[start:b]
        flag = kind >= DONE if which == 2 else kind == (PUT, GET)[which]
        run = self.cp_n[which].view()[start // BLOCK] + np.cumsum(flag)
        return run[a - start :]

    def area_until(self, span: float) -> float:
        """The integral of puts - dones over series time from 0 to ``span``: each point up to
        ``span`` adds its step times the time left, ``span - max(t, 0)``."""
        n = self.kind.n
        if not n or span <= 0:
            return 0.0
        # Block k holds every point after cp_t[k] and before cp_t[k + 1]: those before it are
        # all in, those after it all out; only its own are read.
        k = int(np.searchsorted(self.cp_t.view(), span, side="right")) - 1
        a, b = k * BLOCK, min(n, (k + 1) * BLOCK)
        t = self.series_t(a, b)
        inside = t <= span
        kind = self.kind.view()[a:b][inside]
        steps = (kind == PUT).astype(np.float64) - (kind >= DONE)
        level = float(self.cp_n[0].view()[k] - self.cp_n[2].view()[k] + steps.sum())
        moment = float(self.cp_m.view()[k] + (steps * np.maximum(t[inside], 0.0)).sum())
        return level * span - moment

    def real_dones(self) -> int:
        return self.counts[3]

    def done_points(self, a: int, b: int) -> np.ndarray:
        """Indices of the real task_done points ``a`` to ``b`` (counted among those)."""
        if a >= b:
            return np.empty(0, np.int64)
        cp = self.cp_n[3].view()
        ka = int(np.searchsorted(cp, a, side="right")) - 1
        kb = int(np.searchsorted(cp, b - 1, side="right")) - 1
        start, end = ka * BLOCK, min(self.kind.n, (kb + 1) * BLOCK)
        idx = start + np.flatnonzero(self.kind.view()[start:end] == DONE_REAL)
        skip = a - int(cp[ka])
        return idx[skip : skip + b - a]

    def done_values(self, a: int, b: int, what: str) -> np.ndarray:
        """Times ("t"), waits or services of the real task_done points ``a`` to ``b``
        (read-only: shared with the next read of the same range until the log grows)."""
        key = (self.version, a, b)
        if key != self._done_key:
            self._done = self._done_triple(a, b)
            self._done_key = key
        return self._done[_WHAT[what]]

    def _done_triple(self, a: int, b: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        idx = self.done_points(a, b)
        if not idx.size:
            return (np.empty(0),) * 3
        lo, hi = int(idx[0]), int(idx[-1]) + 1
        at = idx - lo
        slot, row = self.slot.view()[lo:hi][at], self.row.view()[lo:hi][at]
        tp, tg, td = (np.empty(idx.size) for _ in range(3))
        for name, col in (("t_put", tp), ("t_get", tg), ("t_done", td)):
            self.table.column_at(slot, row, name, col)
        out = (td, tg - tp, td - tg)
        pin_at = self._pin_at
        first, last = bisect.bisect_left(pin_at, lo), bisect.bisect_left(pin_at, hi)
        if first < last:  # points kept off the table (their task has no dense row)
            p = np.asarray(pin_at[first:last], np.int64) - lo
            j = np.minimum(np.searchsorted(at, p), at.size - 1)
            hit = at[j] == p
            values = np.asarray(self._pin[first:last], np.float64)[hit]
            for c, col in enumerate(out):
                col[j[hit]] = values[:, c]
        for col in out:
            col.flags.writeable = False
        return out

    def last_of(self, kind: int) -> int:
        """Index of the last point of ``kind`` (PUT or GET), -1 if none."""
        n = self.kind.n
        while n > 0:
            a = max(0, n - BLOCK)
            hit = np.flatnonzero(self.kind.view()[a:n] == kind)
            if hit.size:
                return a + int(hit[-1])
            n = a
        return -1

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PointLog):
            return NotImplemented
        return (self.counts, self.last_t, self._pin_at, self._pin) == (
            other.counts, other.last_t, other._pin_at, other._pin
        ) and all(a == b for a, b in zip((self.kind, self.slot, self.row),
                                         (other.kind, other.slot, other.row), strict=True))

    __hash__ = None  # type: ignore[assignment]

    def nbytes(self) -> int:
        cols = (self.kind, self.slot, self.row, self.cp_t, *self.cp_n, self.cp_m)
        return sum(c.nbytes() for c in cols)


class Series(ArrayColumn):
    """A read-only column of a :class:`PointLog`, read like the array it replaces."""

    __slots__ = ("_cache", "_dtype", "_length", "_read", "_version", "_whole")

    def __init__(self, length: Callable[[], int], read: Callable[[int, int], np.ndarray],
                 dtype: Any, version: Callable[[], int]) -> None:  # fmt: skip
        self._length = length
        self._read = read
        self._dtype = dtype
        self._version = version
        self._cache: tuple[int, int, np.ndarray] | None = None  # (start, length, values)
        # The whole column as last read, by the log's version: a run's end asks for it from
        # several views at once (summary, theory, explain), each a pass over every point.
        self._whole: tuple[int, np.ndarray] | None = None

    def __len__(self) -> int:
        return self._length()

    def view(self) -> np.ndarray:
        """The whole column (read-only: the next reader shares it until the log grows)."""
        v = self._version()
        if self._whole is None or self._whole[0] != v:
            a = self._read(0, self._length()).astype(self._dtype, copy=False)
            a.flags.writeable = False
            self._whole = (v, a)
        return self._whole[1]

    def __getitem__(self, i: Any) -> Any:
        n = self._length()
        if isinstance(i, slice):
            a, b, step = i.indices(n)
            if step != 1:
                return self.view()[i]
            return self._read(a, b).astype(self._dtype, copy=False) if b > a else np.empty(0)
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError(i)
        # Item by item (a loop going back from the end): one block read serves the block.
        c = self._cache
        if c is None or c[1] != n or not c[0] <= i < c[0] + c[2].size:
            a = i // BLOCK * BLOCK
            c = self._cache = (a, n, self._read(a, min(n, a + BLOCK)).astype(self._dtype))
        return c[2][i - c[0]].item()


def series_of(log: PointLog) -> dict[str, Series]:
    """The model's former arrays: ``s_t``, ``s_puts``, ``s_gets``, ``s_dones``, ``done_*``."""
    n = log.__len__
    real = log.real_dones

    def version() -> int:
        return log.version

    return {
        "s_t": Series(n, log.series_t, np.float64, version),
        "s_puts": Series(n, lambda a, b: log.counter(0, a, b), np.int64, version),
        "s_gets": Series(n, lambda a, b: log.counter(1, a, b), np.int64, version),
        "s_dones": Series(n, lambda a, b: log.counter(2, a, b), np.int64, version),
        "done_t": Series(real, lambda a, b: log.done_values(a, b, "t"), np.float64, version),
        "done_wait": Series(real, lambda a, b: log.done_values(a, b, "wait"), np.float64,
                            version),
        "done_service": Series(real, lambda a, b: log.done_values(a, b, "service"), np.float64,
                               version),
    }
