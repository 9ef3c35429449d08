"""Growable numpy columns and timelines: how the model keeps a run in bytes per task."""

from __future__ import annotations

import bisect
from collections.abc import Iterator, Sequence
from typing import Any, overload

import numpy as np

from engine.tasks import NO_SLOT, TaskTable

# Capacity grows by an eighth, not double: a finished run holds at most 12.5 % slack, for about
# 8 copies of each element over the run (memcpy; far below the model's other costs).
GROWTH = 1.125
BLOCK = 1024  # a reference log's checkpoint spacing: a read recomputes at most this many
LABEL_ROW = 0x40  # an interval's code bit: its label is its row's label (else -1 or listed)


def _labels(table: TaskTable, tids: np.ndarray) -> np.ndarray:
    """The labels the tasks ``tids`` were put with (-1 where a task has no row)."""
    slots, rows = table.refs(tids)
    out = np.full(tids.size, -1, np.int64)
    table.column_at(slots, rows, "label", out)
    return out


class ArrayColumn(Sequence):
    """What a column that reads like a list shares, from its ``view()`` (the filled part)."""

    __slots__ = ()

    def view(self) -> np.ndarray:
        raise NotImplementedError

    def __iter__(self) -> Iterator[Any]:
        return iter(self.view().tolist())

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        v = self.view()
        return v if dtype is None else v.astype(dtype)

    def __eq__(self, other: object) -> bool:
        try:
            return list(self) == list(other)  # type: ignore[call-overload]
        except TypeError:
            return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.view().tolist()!r})"


class GrowArray(ArrayColumn):
    """A 1-D numpy array that only grows (by an eighth: little slack); reads like a list.

    ``view()`` is the filled part without a copy. Indexing gives Python numbers and slicing
    gives numpy arrays, so code written for the model's former lists keeps working.
    """

    __slots__ = ("_a", "n")

    def __init__(self, dtype: Any = np.float64, capacity: int = 256) -> None:
        self._a = np.empty(capacity, dtype=dtype)
        self.n = 0

    def __len__(self) -> int:
        return self.n

    def _grow(self, need: int) -> None:
        cap = max(16, self._a.size)
        while cap < need:
            cap = int(cap * GROWTH) + 16
        try:
            # Where it stands: the C library's realloc moves a large array's pages instead of
            # copying its bytes (growing by an eighth copied each element ~8 times over a run,
            # ~10 % of the model's time under a flood). numpy refuses (ValueError) while
            # anything else refers to the array (a view would point at freed memory): then a
            # copy, as before. Called on the attribute, no local name: one reference more
            # and numpy would always refuse.
            self._a.resize(cap, refcheck=True)
        except ValueError:
            a = np.empty(cap, dtype=self._a.dtype)
            a[: self.n] = self._a[: self.n]
            self._a = a

    def append(self, x: Any) -> None:
        n = self.n
        if n == self._a.size:
            self._grow(n + 1)
        self._a[n] = x
        self.n = n + 1

    def extend(self, values: Any) -> None:
        v = np.asarray(values)
        k = v.size
        if k:
            n = self.n
            if n + k > self._a.size:
                self._grow(n + k)
            self._a[n : n + k] = v
            self.n = n + k

    def view(self) -> np.ndarray:
        return self._a[: self.n]

    @overload
    def __getitem__(self, i: int) -> Any: ...
    @overload
    def __getitem__(self, i: slice) -> np.ndarray: ...
    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return self._a[: self.n][i]
        if i < 0:
            i += self.n
        if not 0 <= i < self.n:
            raise IndexError(i)
        return self._a[i].item()

    def nbytes(self) -> int:
        return int(self._a.nbytes)


_I64_MIN, _I64_MAX = -(2**63), 2**63 - 1


class IntervalLog(Sequence):
    """A worker's timeline; reads like a list of ``(t0, t1, activity, label)``.

    Six bytes an interval: a code (activity, where t1 comes from, whether the label is the
    row's) and a reference into the task table (slot, row). An interval closed by a put, a get
    or a task_done ends at that task's ``t_put``, ``t_get`` or ``t_done`` and shows that task's
    label, so neither is stored again; other ends are kept in ``xt1`` (ranked through ``cp``).
    An interval starts where the previous one ended, except those listed in ``_t0_at``.
    """

    __slots__ = ("_label", "_label_at", "_last_t1", "_t0", "_t0_at", "code", "cp", "row",
                 "slot", "table", "xt1")  # fmt: skip

    def __init__(self, table: TaskTable | None = None) -> None:
        self.table = table
        self.code = GrowArray(np.uint8, 16)  # activity | t1 source << 4 | LABEL_ROW
        self.slot = GrowArray(np.uint8, 16)
        self.row = GrowArray(np.uint32, 16)
        self.xt1 = GrowArray(np.float64, 16)  # t1 of intervals with source 0, in order
        self.cp = GrowArray(np.int64, 4)  # len(xt1) before each BLOCK of intervals
        self._t0_at: list[int] = []
        self._t0: list[float] = []
        self._label_at: list[int] = []  # labels not -1 that no row gives
        self._label: list[int] = []
        self._last_t1 = float("nan")

    def __len__(self) -> int:
        return self.code.n

    def append(self, iv: tuple[float, float, int, int], task: int = -1, hint: int = -1) -> None:
        """Add ``(t0, t1, activity, label)``; ``task`` is whose label it shows, ``hint`` the
        task of the record that closed it (its times may be t1)."""
        # extend_columns for one interval, in plain Python: the one-by-one path (replays of
        # timed tasks, rare records) appends one at a time, and ~50 numpy calls cost ~100 us.
        # A damaged trace's value that fits no column goes the numpy way, which says so as
        # it always did, before anything is appended.
        try:
            t0, t1, label = float(iv[0]), float(iv[1]), int(iv[3])
            hint, task = int(hint), int(task)
        except (OverflowError, ValueError, TypeError):
            return self._append_np(iv, task, hint)
        if not (_I64_MIN <= label <= _I64_MAX and _I64_MIN <= hint <= _I64_MAX
                and _I64_MIN <= task <= _I64_MAX):
            return self._append_np(iv, task, hint)
        code, slot, row, src = int(iv[2]) & 0xFF, NO_SLOT, 0, 0
        table = self.table
        if table is not None:
            hs, hr = table.ref(hint)
            if hs != NO_SLOT:
                rows = table.streams[table.slot_streams[hs]]
                for n, name in ((1, "t_put"), (2, "t_get"), (3, "t_done")):
                    if getattr(rows, name)[hr] == t1:  # NaN is equal to nothing
                        src, slot, row = n, hs, hr
                        break
            listed = label != -1
            same = listed and slot != NO_SLOT and task == hint
            if same and table.streams[table.slot_streams[slot]].label[row] == label:
                code |= LABEL_ROW
                listed = False
            if listed:
                ts, tr = table.ref(task)
                # one reference per interval: the label's row must be the t1's, if that has one
                mine = ts != NO_SLOT and (slot == NO_SLOT or (slot == ts and row == tr))
                if mine and table.streams[table.slot_streams[ts]].label[tr] == label:
                    slot, row = ts, tr
                    code |= LABEL_ROW
                    listed = False
        else:
            listed = label != -1
        code |= src << 4
        n = self.code.n
        if n % BLOCK == 0:
            self.cp.append(self.xt1.n)
        if not src:
            self.xt1.append(t1)
        if n == 0 or t0 != self._last_t1:  # NaN (nothing yet) too
            self._t0_at.append(n)
            self._t0.append(t0)
        if listed:
            self._label_at.append(n)
            self._label.append(label)
        self.code.append(code)
        self.slot.append(slot)
        self.row.append(row)
        self._last_t1 = t1

    def _append_np(self, iv: tuple, task: Any, hint: Any) -> None:
        t0, t1, act, label = iv
        self.extend_columns(
            np.array([t0], np.float64), np.array([t1], np.float64), np.array([act], np.int8),
            np.array([label], np.int64), np.array([task], np.int64), np.array([hint], np.int64),
        )  # fmt: skip

    def extend_columns(
        self, t0: Any, t1: Any, act: Any, label: Any, task: Any = None, hint: Any = None,
        src: Any = None,
    ) -> None:  # fmt: skip
        """Add intervals as columns. ``src`` (if known): where each t1 is in its ``hint``
        task's row (1 t_put, 2 t_get, 3 t_done, 0 none); else found by comparing."""
        t0, t1 = np.asarray(t0, np.float64), np.asarray(t1, np.float64)
        label = np.asarray(label, np.int64)
        k = t1.size
        if not k:
            return
        code = np.asarray(act, np.uint8).copy()
        slot = np.full(k, NO_SLOT, np.uint8)
        row = np.zeros(k, np.uint32)
        table = self.table
        if table is None or hint is None:
            src = np.zeros(k, np.uint8)
        else:
            hint = np.asarray(hint, np.int64)
            hs, hr = table.refs(hint)
            if src is None:
                src = np.zeros(k, np.uint8)
                for n, name in ((3, "t_done"), (2, "t_get"), (1, "t_put")):
                    v = np.full(k, np.nan)
                    table.column_at(hs, hr, name, v)
                    src[v == t1] = n  # NaN is equal to nothing: no time there
            else:
                src = np.where(hs != NO_SLOT, np.asarray(src, np.uint8), 0).astype(np.uint8)
            used = src > 0
            slot[used], row[used] = hs[used], hr[used]
        listed = label != -1
        if table is not None and task is not None and hint is not None and listed.any():
            # Usually the task shown is the one whose record closed the interval: its row.
            same = np.flatnonzero(listed & (slot != NO_SLOT) & (np.asarray(task) == hint))
            if same.size:
                v = np.empty(same.size, np.int64)
                table.column_at(slot[same], row[same], "label", v)
                hit = same[v == label[same]]
                code[hit] |= LABEL_ROW
                listed[hit] = False
        if table is not None and task is not None and listed.any():
            at = np.flatnonzero(listed)
            ts, tr = table.refs(np.asarray(task, np.int64)[at])
            v = np.full(at.size, -1, np.int64)
            table.column_at(ts, tr, "label", v)
            ok = (ts != NO_SLOT) & (v == label[at])
            # one reference per interval: the label's row must be the t1's row, if that has one
            ok &= (slot[at] == NO_SLOT) | ((slot[at] == ts) & (row[at] == tr))
            hit = at[ok]
            slot[hit], row[hit] = ts[ok], tr[ok]
            code[hit] |= LABEL_ROW
            listed[hit] = False
        code |= src << 4
        self._append(t0, t1, code, slot, row, src, np.flatnonzero(listed), label)

    def extend_refs(
        self, t0: np.ndarray, t1: np.ndarray, act: np.ndarray, task: np.ndarray,
        hint: np.ndarray, src: np.ndarray, hs: np.ndarray, hr: np.ndarray,
    ) -> None:  # fmt: skip
        """:meth:`extend_columns` where each label is its ``task``'s row label (-1: none) and
        ``hs``/``hr`` are the ``hint`` tasks' references (the bulk path's, found once)."""
        if not t1.size:
            return
        src = np.where(hs != NO_SLOT, src, 0).astype(np.uint8)
        used = src > 0
        shown = task >= 0
        if not shown.any():
            code = act.astype(np.uint8)
        elif (shown & ((task != hint) | ~used)).any():
            # A task shown by a row that does not close it (rare): the general way.
            label = np.full(t1.size, -1, np.int64)
            assert self.table is not None
            at = np.flatnonzero(shown)
            label[at] = _labels(self.table, task[at])
            self.extend_columns(t0, t1, act, label, task, hint, src)
            return
        else:
            code = act.astype(np.uint8) | (shown * LABEL_ROW).astype(np.uint8)
        if used.all():
            slot, row = hs, hr
        else:
            slot, row = np.where(used, hs, NO_SLOT).astype(np.uint8), np.where(used, hr, 0)
        code |= src << 4
        self._append(t0, t1, code, slot, row, src, np.empty(0, np.int64), None)

    def _append(
        self, t0: np.ndarray, t1: np.ndarray, code: np.ndarray, slot: np.ndarray,
        row: np.ndarray, src: np.ndarray, listed: np.ndarray, label: Any,
    ) -> None:  # fmt: skip
        """Store intervals whose codes and references are made; ``listed``: those whose
        ``label`` no row gives."""
        k = t1.size
        n = self.code.n
        # Checkpoints: how many explicit ends precede each block start in this extension.
        explicit = src == 0
        first_block = -(-n // BLOCK)
        last_block = (n + k - 1) // BLOCK
        if last_block >= first_block:
            before = self.xt1.n + np.concatenate(([0], np.cumsum(explicit)))
            self.cp.extend(before[np.arange(first_block, last_block + 1) * BLOCK - n])
        self.xt1.extend(t1[explicit])
        prev = np.concatenate(([self._last_t1], t1[:-1]))
        gap = ~(t0 == prev)
        if n == 0:
            gap[0] = True
        for j in np.flatnonzero(gap).tolist():
            self._t0_at.append(n + j)
            self._t0.append(float(t0[j]))
        for j in listed.tolist():
            self._label_at.append(n + j)
            self._label.append(int(label[j]))
        self.code.extend(code)
        self.slot.extend(slot)
        self.row.extend(row)
        self._last_t1 = float(t1[-1])

    def columns(self, a: int, b: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``(t0, t1, act, label)`` arrays of intervals ``a`` to ``b`` (0 <= a <= b <= len)."""
        if a >= b:
            e = np.empty(0)
            return e, e, np.empty(0, np.int8), np.empty(0, np.int64)
        lo = max(a - 1, 0)
        start = lo // BLOCK * BLOCK
        code = self.code.view()[start:b]
        slot, row = self.slot.view()[start:b], self.row.view()[start:b]
        src = code >> 4 & 3
        t1 = np.empty(code.size)
        explicit = src == 0
        r0 = int(self.cp.view()[start // BLOCK])
        t1[explicit] = self.xt1.view()[r0 : r0 + int(explicit.sum())]
        if self.table is not None:
            for n, name in ((1, "t_put"), (2, "t_get"), (3, "t_done")):
                at = src == n
                if at.any():
                    v = np.empty(int(at.sum()))
                    self.table.column_at(slot[at], row[at], name, v)
                    t1[at] = v
        label = np.full(code.size, -1, np.int64)
        by_row = (code & LABEL_ROW) != 0
        if by_row.any() and self.table is not None:
            v = np.empty(int(by_row.sum()), np.int64)
            self.table.column_at(slot[by_row], row[by_row], "label", v)
            label[by_row] = v
        t0 = np.concatenate(([np.nan], t1[:-1]))
        off = a - start
        t0, t1, label = t0[off:], t1[off:], label[off:]
        act = (code[off:] & 0x0F).astype(np.int8)
        for at, vals, col in ((self._t0_at, self._t0, t0), (self._label_at, self._label, label)):
            for j in range(bisect.bisect_left(at, a), bisect.bisect_left(at, b)):
                col[at[j] - a] = vals[j]
        return t0, t1, act, label

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            a, b, step = i.indices(len(self))
            if step != 1:
                return self[a:b][::step] if b > a else []
            t0, t1, act, label = self.columns(a, b)
            return list(zip(t0.tolist(), t1.tolist(), act.tolist(), label.tolist(), strict=True))
        n = len(self)
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError(i)
        return self[i : i + 1][0]

    def __iter__(self) -> Iterator[tuple[float, float, int, int]]:
        return iter(self[:])

    def __eq__(self, other: object) -> bool:
        try:
            return self[:] == list(other)  # type: ignore[call-overload]
        except TypeError:
            return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"IntervalLog({self[:]!r})"

    def nbytes(self) -> int:
        return sum(c.nbytes() for c in (self.code, self.slot, self.row, self.xt1, self.cp))
