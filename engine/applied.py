"""What a feed applied to the model, in order: ``(src, record)`` pairs kept as columns until read.

Under a flood the model applies thousands of records per feed through its bulk path
(engine/bulk.py), and a Python pair per record (with the collector's scans of them) cost it
~15 % of its time, while the readers (the event log, the timeline's error marks, the replay's
log tail) look at a few of them at most. So a run of records applied at once is kept as the
feed's record list, an index array into it and a source array: a pair is made only when it is
read. Reads look like the former list: ``len``, iteration, indexing, ``==`` with a list.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

Pair = tuple[int, tuple]


class _Columns:
    """Records ``records[idx[i]]`` from streams ``srcs[i]``; made by the bulk path."""

    __slots__ = ("idx", "records", "srcs")

    def __init__(self, srcs: np.ndarray, records: list[tuple], idx: np.ndarray) -> None:
        self.srcs, self.records, self.idx = srcs, records, idx

    def __len__(self) -> int:
        return int(self.idx.size)

    def pairs(self, a: int = 0, b: int | None = None) -> list[Pair]:
        """Pairs ``a`` to ``b`` of this run."""
        idx = self.idx[a:b].tolist()
        recs = self.records
        return list(zip(self.srcs[a:b].tolist(), [recs[i] for i in idx], strict=True))


class Applied:
    """Applied ``(src, record)`` pairs in the order applied; see the module's docstring."""

    __slots__ = ("_n", "_parts")

    def __init__(self, pairs: Iterable[Pair] = ()) -> None:
        self._parts: list[list[Pair] | _Columns] = []
        self._n = 0
        self.extend(pairs)

    # ------------------------------------------------------------------ writing
    def append(self, pair: Pair) -> None:
        """One pair (a record applied by itself, or one it released)."""
        parts = self._parts
        if not parts or type(parts[-1]) is not list:
            parts.append([])
        parts[-1].append(pair)  # type: ignore[union-attr]
        self._n += 1

    def add_columns(self, srcs: np.ndarray, records: list[tuple], idx: np.ndarray) -> None:
        """A run applied at once: ``(srcs[i], records[idx[i]])`` for each i, in order."""
        if idx.size:
            self._parts.append(_Columns(srcs, records, idx))
            self._n += int(idx.size)

    def extend(self, other: Iterable[Pair]) -> None:
        """Pairs applied after these: another :class:`Applied` (its runs are shared, not
        copied) or any iterable of pairs."""
        if isinstance(other, Applied):
            for part in other._parts:
                self._parts.append(list(part) if type(part) is list else part)
            self._n += other._n
            return
        for pair in other:
            self.append(pair)

    # ------------------------------------------------------------------ reading
    def __len__(self) -> int:
        return self._n

    def __bool__(self) -> bool:
        return self._n > 0

    def __iter__(self) -> Iterator[Pair]:
        for part in self._parts:
            yield from (part if type(part) is list else part.pairs())

    def tail(self, k: int) -> list[Pair]:
        """The last ``k`` pairs (all of them if fewer), oldest first; only those are made."""
        out: list[list[Pair]] = []
        left = k
        for part in reversed(self._parts):
            if left <= 0:
                break
            n = len(part)
            a = max(0, n - left)
            out.append(part[a:] if type(part) is list else part.pairs(a))  # type: ignore[misc]
            left -= n - a
        return [pair for chunk in reversed(out) for pair in chunk]

    def __getitem__(self, i: Any) -> Any:
        return list(self)[i]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Applied | list | tuple):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Applied({list(self)!r})"


def last(pairs: Iterable[Pair], k: int) -> list[Pair]:
    """The last ``k`` of ``pairs`` (an :class:`Applied` or a list): for readers that keep a
    bounded tail, so a flood's other pairs are never made."""
    if isinstance(pairs, Applied):
        return pairs.tail(k)
    return list(pairs)[-k:] if k > 0 else []
