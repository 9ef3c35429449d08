"""The fields of put/get/task_done records as numpy columns: the bulk path's input (bulk.py).

A flood's records arrive as Python tuples; reading their fields into arrays is a third of the
model's time. ``struct`` packs a kind's records with each field as its own type (ints as
64-bit ints, times as doubles) about a quarter faster than ``np.fromiter`` turns every field
into a float, and the ids come out as ints. A record whose fields are not of those types (a
float where an int belongs, a null from a trace) is read the former way, as floats, and one
that will not read as numbers at all, or whose task id is not an int, goes the slow way
(``ok`` False).
"""

from __future__ import annotations

import functools
import itertools
import struct
from operator import itemgetter
from typing import Any

import numpy as np

from engine.events import Kind

PUT, GET, DONE = int(Kind.PUT), int(Kind.GET), int(Kind.TASK_DONE)
# Each kind's fields: (kind, t, t_return, tid, label, value), (kind, t, t_return, tid), (kind,
# t, tid); "q" a 64-bit int, "d" a double.
_FORMAT = {PUT: "qddqqd", GET: "qddq", DONE: "qdq"}
_DTYPE = {
    k: np.dtype([(f"f{i}", "<i8" if c == "q" else "<f8") for i, c in enumerate(fmt)])
    for k, fmt in _FORMAT.items()
}
_BLOCK = 256  # records per struct.pack: the formats compiled stay few (3 kinds x 256 sizes)


@functools.cache
def _packer(kind: int, n: int) -> struct.Struct:
    return struct.Struct("<" + _FORMAT[kind] * n)


def _typed(rows: list[tuple], kind: int) -> np.ndarray | None:
    """``rows`` (all of ``kind``) as a structured array, None if a field is not of its type."""
    chain = itertools.chain.from_iterable
    n = len(rows)
    try:
        parts = [_packer(kind, min(_BLOCK, n - i)).pack(*chain(rows[i : i + _BLOCK]))
                 for i in range(0, n, _BLOCK)]  # fmt: skip
    except (struct.error, OverflowError, TypeError):
        return None
    return np.frombuffer(b"".join(parts), _DTYPE[kind])


def columns(recs: list[tuple], srcs: Any, kind: np.ndarray) -> dict[str, np.ndarray]:
    """The fields of records as arrays, absolute times; ``ok`` False where a record is not a
    well-formed put/get/task_done (those go the slow way)."""
    n = len(recs)
    tid = np.zeros(n, np.int64)
    t1 = np.zeros(n, np.float64)
    te = np.zeros(n, np.float64)
    label = np.zeros(n, np.int64)
    value = np.zeros(n, np.float64)
    ok = np.zeros(n, bool)
    for k, width in ((PUT, 6), (GET, 4), (DONE, 3)):
        at = np.flatnonzero(kind == k)
        if not at.size:
            continue
        a0, a1 = int(at[0]), int(at[-1])
        step = int(at[1]) - a0 if at.size > 1 else 1
        # A producer's puts side by side, a consumer's gets and task_dones in turns: a slice
        # (no index list, no item gets) where they are evenly spaced.
        even = a1 - a0 == step * (at.size - 1) and (at.size < 3 or (np.diff(at) == step).all())
        rows = recs[a0 : a1 + 1 : step] if even else pick(recs, at.tolist())
        typed = _typed(rows, k)
        if typed is not None:
            t1[at] = typed["f1"]
            te[at] = typed["f2"] if k != DONE else typed["f1"]
            tid[at] = ids_i = typed["f3"] if k != DONE else typed["f2"]
            if k == PUT:
                label[at], value[at] = typed["f4"], typed["f5"]
            ok[at] = (ids_i >= 0) & (ids_i < 1 << 53)
            continue
        try:
            a = np.fromiter(itertools.chain.from_iterable(rows), np.float64, width * at.size)
        except (TypeError, ValueError):
            continue  # a null value (from a trace), a wrong shape: the slow path
        a = a.reshape(-1, width)
        t1[at] = a[:, 1]
        te[at] = a[:, 2] if k != DONE else a[:, 1]
        ids = a[:, 3] if k != DONE else a[:, 2]
        tid[at] = ids
        good = (tid[at] == ids) & (ids >= 0) & (ids < 1 << 53)
        # An id that is not an int (3.0 reads as 3 here) goes the slow way, which refuses it.
        pos = 3 if k != DONE else 2
        good &= np.fromiter((isinstance(r[pos], int) for r in rows), bool, at.size)
        if k == PUT:
            label[at], value[at] = a[:, 4], a[:, 5]
            good &= label[at] == a[:, 4]
        ok[at] = good
    return {
        "kind": kind, "src": np.asarray(srcs, np.int64), "t1": t1, "te": te, "tid": tid,
        "label": label, "value": value, "ok": ok,
    }  # fmt: skip


def pick(items: list, idx: list[int]) -> list:
    """``[items[i] for i in idx]`` at C speed (itemgetter), for the long runs of a flood."""
    if not idx:
        return []
    if len(idx) == 1:
        return [items[idx[0]]]
    return list(itemgetter(*idx)(items))
