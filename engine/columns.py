"""Growable numpy columns: how the model keeps a run in bytes per task, not objects per task."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, overload

import numpy as np


class GrowArray(Sequence):
    """A 1-D numpy array that only grows (capacity doubles); reads like a list.

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
            cap *= 2
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

    def __iter__(self) -> Iterator[Any]:
        return iter(self._a[: self.n].tolist())

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        v = self._a[: self.n]
        return v if dtype is None else v.astype(dtype)

    def __eq__(self, other: object) -> bool:
        try:
            return list(self) == list(other)  # type: ignore[call-overload]
        except TypeError:
            return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"GrowArray({self._a[: self.n].tolist()!r})"

    def nbytes(self) -> int:
        return int(self._a.nbytes)


class IntervalLog(Sequence):
    """A worker's timeline as columns; reads like a list of ``(t0, t1, activity, label)``."""

    __slots__ = ("act", "label", "t0", "t1")

    def __init__(self) -> None:
        self.t0 = GrowArray(np.float64, 16)
        self.t1 = GrowArray(np.float64, 16)
        self.act = GrowArray(np.int8, 16)
        self.label = GrowArray(np.int64, 16)

    def __len__(self) -> int:
        return self.t0.n

    def append(self, iv: tuple[float, float, int, int]) -> None:
        self.t0.append(iv[0])
        self.t1.append(iv[1])
        self.act.append(iv[2])
        self.label.append(iv[3])

    def extend_columns(self, t0: Any, t1: Any, act: Any, label: Any) -> None:
        self.t0.extend(t0)
        self.t1.extend(t1)
        self.act.extend(act)
        self.label.extend(label)

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            return list(
                zip(self.t0[i].tolist(), self.t1[i].tolist(), self.act[i].tolist(),
                    self.label[i].tolist(), strict=True)
            )  # fmt: skip
        return (self.t0[i], self.t1[i], self.act[i], self.label[i])

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
        return self.t0.nbytes() + self.t1.nbytes() + self.act.nbytes() + self.label.nbytes()
