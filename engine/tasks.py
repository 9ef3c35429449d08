"""The model's task table: one row per task identity, kept as numpy columns per stream.

A task id is ``(stream << 32) + n`` with n counting the puts of that stream's process (see
engine/recorder.py), so a stream's tasks sit at dense rows ``n``: no dict entry and no Python
object per task. Reads through :class:`TaskTable` look like the former ``dict[tid, list]``:
``table[tid]`` is a :class:`Task` (a tuple, indexable as before), missing times are ``None``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import NamedTuple

import numpy as np

MASK = (1 << 32) - 1
NAN = float("nan")
# A stream's rows grow to take an id up to this far past what it holds; an id further out (a
# hand-made or damaged trace) gets a row in the overflow table instead of gigabytes of columns.
DENSE_SLACK = 1 << 16
# Growth of a stream's columns past their capacity: an eighth more, not double, so a finished
# run holds at most 12.5 % unused rows (copying costs about 8 writes per row over a run).
GROWTH = 1.125
NO_SLOT = 255  # a reference that is not a dense row (see TaskTable.refs)


def distinct(a: np.ndarray) -> list[int]:
    """The sorted distinct values of small non-negative ints (streams, slots) as Python ints.

    By counting: ``np.unique`` sorts (~100 µs for a feed's few thousand sources).
    """
    if not a.size:
        return []
    lo, hi = int(a.min()), int(a.max())
    if lo == hi:
        return [lo]
    if lo < 0 or hi - lo > 1 << 16:
        return np.unique(a).tolist()
    return (np.flatnonzero(np.bincount(a - lo)) + lo).tolist()


class Task(NamedTuple):
    label: int
    value: float
    put_src: int
    t_put: float
    get_src: int
    t_get: float | None
    t_done: float | None


class Rows:
    """One stream's tasks: column arrays indexed by n, grown by doubling."""

    __slots__ = ("get_src", "label", "n", "put_src", "t_done", "t_get", "t_put", "value")

    def __init__(self, capacity: int = 1024) -> None:
        self.n = 0  # rows in use: 1 + the highest n seen
        self.label = np.zeros(capacity, np.int64)
        self.value = np.zeros(capacity, np.float64)
        self.put_src = np.zeros(capacity, np.int32)
        self.t_put = np.full(capacity, NAN)
        self.get_src = np.full(capacity, -1, np.int32)
        self.t_get = np.full(capacity, NAN)
        self.t_done = np.full(capacity, NAN)

    def reserve(self, rows: int) -> None:
        cap = self.label.size
        if rows <= cap:
            if rows > self.n:
                self.n = rows
            return
        while cap < rows:
            cap = int(cap * GROWTH) + 64
        old_cap = self.label.size
        for name, fill in (("label", 0), ("value", 0.0), ("put_src", 0), ("t_put", NAN),
                           ("get_src", -1), ("t_get", NAN), ("t_done", NAN)):  # fmt: skip
            try:
                # In place, as engine/columns.py's GrowArray does (realloc, not a copy; numpy
                # refuses while a view of the column is alive). New rows come zeroed.
                getattr(self, name).resize(cap, refcheck=True)
                if fill != 0:
                    getattr(self, name)[old_cap:] = fill
            except ValueError:
                old = getattr(self, name)
                new = np.full(cap, fill, old.dtype)
                new[: self.n] = old[: self.n]
                setattr(self, name, new)
        self.n = rows

    def nbytes(self) -> int:
        return sum(getattr(self, k).nbytes for k in self.__slots__ if k != "n")


class TaskTable(Mapping):
    """Every task put so far, by id; ``len`` counts tasks with a put."""

    def __init__(self) -> None:
        self.streams: dict[int, Rows] = {}
        self.count = 0
        self.overflow: dict[int, int] = {}  # tid -> row of overflow_rows, for far-out ids
        self.overflow_rows = Rows(16)
        # Dense rows are written once per field (put, then get, then done): the model's series
        # and timelines refer to them instead of copying their times (engine/points.py,
        # engine/columns.py). A task whose row would change again (a damaged trace's repeated
        # id) moves to an overflow row; its dense row stays as it was, shadowed.
        self.shadowed: set[int] = set()
        self.slot_streams: list[int] = []  # a reference's slot (one byte) -> stream
        self._slots: dict[int, int] = {}

    def dense(self, s: int, i: int) -> bool:
        """Whether id ``(s << 32) + i`` has (or may take) a row in its stream's columns."""
        rows = self.streams.get(s)
        return i < 2 * (rows.n if rows is not None else 0) + DENSE_SLACK

    # ------------------------------------------------------------------ single rows
    def rows_for(self, tid: int) -> tuple[Rows, int]:
        s, i = tid >> 32, tid & MASK
        if self.overflow and tid in self.overflow:
            return self.overflow_rows, self.overflow[tid]
        if tid < 0 or not self.dense(s, i):
            j = self.overflow_rows.n
            self.overflow_rows.reserve(j + 1)
            self.overflow[tid] = j
            return self.overflow_rows, j
        rows = self.streams.get(s)
        if rows is None:
            rows = self.streams[s] = Rows()
        rows.reserve(i + 1)
        return rows, i

    def find(self, tid: int) -> tuple[Rows, int] | None:
        """The row of a task that was put, else None."""
        if self.overflow:
            j = self.overflow.get(tid)
            if j is not None:
                return self.overflow_rows, j
        if tid < 0:
            return None
        rows = self.streams.get(tid >> 32)
        i = tid & MASK
        if rows is None or i >= rows.n or rows.t_put[i] != rows.t_put[i]:  # NaN: no put
            return None
        return rows, i

    def label_value(self, tid: int) -> tuple[int, float] | None:
        """(label, value) of a task that was put, else None: the cheap read for log lines."""
        found = self.find(tid)
        if found is None:
            return None
        rows, i = found
        return int(rows.label[i]), float(rows.value[i])

    def movable(self, tid: int) -> tuple[Rows, int]:
        """The row of a task that was put, to be changed: a dense row moves to overflow first."""
        found = self.find(tid)
        assert found is not None
        rows, i = found
        if rows is self.overflow_rows:
            return found
        j = self.overflow_rows.n
        o = self.overflow_rows
        o.reserve(j + 1)
        for name in ("label", "value", "put_src", "t_put", "get_src", "t_get", "t_done"):
            getattr(o, name)[j] = getattr(rows, name)[i]
        self.overflow[tid] = j
        self.shadowed.add(tid)
        return o, j

    def put(self, tid: int, label: int, value: float, src: int, t: float) -> None:
        found = self.find(tid)
        if found is not None:
            rows, i = self.movable(tid)  # put again: the same id (a damaged trace)
        else:
            rows, i = self.rows_for(tid)
            self.count += 1
        rows.label[i], rows.value[i], rows.put_src[i], rows.t_put[i] = label, value, src, t
        rows.get_src[i], rows.t_get[i], rows.t_done[i] = -1, NAN, NAN

    def puts_after(self, t: float, sentinel: int) -> int:
        """How many tasks (label not ``sentinel``) were put after ``t`` (their rows' time)."""
        n = 0
        for rows in (*self.streams.values(), self.overflow_rows):
            k = rows.n
            n += int(np.count_nonzero((rows.t_put[:k] > t) & (rows.label[:k] != sentinel)))
        for tid in self.shadowed:  # a dense row left behind by a moved one: not a put of its own
            rows, i = self.streams[tid >> 32], tid & MASK
            n -= bool(rows.t_put[i] > t and rows.label[i] != sentinel)
        return n

    # ------------------------------------------------------------------ references
    def slot(self, stream: int) -> int:
        """A one-byte name for a stream's rows, NO_SLOT when 255 streams have one."""
        k = self._slots.get(stream)
        if k is None:
            if len(self.slot_streams) >= NO_SLOT:
                return NO_SLOT
            k = self._slots[stream] = len(self.slot_streams)
            self.slot_streams.append(stream)
        return k

    def ref(self, tid: int) -> tuple[int, int]:
        """(slot, row) of a task's dense row, (NO_SLOT, 0) when it has none."""
        if tid < 0 or (self.overflow and tid in self.overflow):
            return NO_SLOT, 0
        rows = self.streams.get(tid >> 32)
        i = tid & MASK
        if rows is None or i >= rows.n:
            return NO_SLOT, 0
        return self.slot(tid >> 32), i

    def refs(self, tids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`ref` of many ids at once."""
        slots = np.full(tids.size, NO_SLOT, np.uint8)
        rows_out = np.zeros(tids.size, np.uint32)
        if not tids.size:
            return slots, rows_out
        ok = tids >= 0
        if self.overflow:
            ok &= ~np.isin(tids, np.fromiter(self.overflow, np.int64, len(self.overflow)))
        streams = tids >> 32
        idx = tids & MASK
        lo, hi = int(streams.min()), int(streams.max())
        for s in [lo] if lo == hi else distinct(streams[ok]):
            rows = self.streams.get(s)
            if rows is None:
                continue
            at = ok & (idx < rows.n)
            if lo != hi:
                at &= streams == s
            k = self.slot(s)
            if k != NO_SLOT:
                slots[at] = k
                rows_out[at] = idx[at]
        return slots, rows_out

    def column_at(self, slots: np.ndarray, rows: np.ndarray, name: str, out: np.ndarray) -> None:
        """``out[j] = <name>`` of the row each reference names (NO_SLOT: left as it is)."""
        if not slots.size:
            return
        lo, hi = int(slots.min()), int(slots.max())
        if lo == hi and lo != NO_SLOT:  # the usual case: one producer's rows
            out[:] = getattr(self.streams[self.slot_streams[lo]], name)[rows]
            return
        for k in distinct(slots):
            if k == NO_SLOT:
                continue
            at = slots == k
            out[at] = getattr(self.streams[self.slot_streams[k]], name)[rows[at]]

    # ------------------------------------------------------------------ Mapping
    def __getitem__(self, tid: int) -> Task:
        found = self.find(tid)
        if found is None:
            raise KeyError(tid)
        rows, i = found
        t_get, t_done = float(rows.t_get[i]), float(rows.t_done[i])
        return Task(
            int(rows.label[i]), float(rows.value[i]), int(rows.put_src[i]),
            float(rows.t_put[i]), int(rows.get_src[i]),
            None if t_get != t_get else t_get, None if t_done != t_done else t_done,
        )  # fmt: skip

    def __contains__(self, tid: object) -> bool:
        return isinstance(tid, int) and self.find(tid) is not None

    def __len__(self) -> int:
        return self.count

    def __iter__(self) -> Iterator[int]:
        shadowed = self.shadowed
        for s, rows in sorted(self.streams.items()):
            for i in np.flatnonzero(~np.isnan(rows.t_put[: rows.n])).tolist():
                tid = (s << 32) + i
                if not shadowed or tid not in shadowed:
                    yield tid
        yield from self.overflow

    def nbytes(self) -> int:
        return sum(r.nbytes() for r in self.streams.values()) + self.overflow_rows.nbytes()
