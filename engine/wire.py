"""The worker-to-parent wire format: hot records as rows of doubles, rare ones as tuples.

A worker records about three events per task (PUT, GET, TASK_DONE); a tuple per event and a
pickle of it per batch were most of what recording cost. So a recorder keeps those three kinds
as fixed-width rows of ``ROW`` doubles in one ``array('d')`` (one C call per record, no object
kept) and ships the rows as bytes; any other record (joins, exits, failures, a run of empty
polls...) stays a tuple in a side list, its place in the stream marked by a row of kind 0.

A *packed* batch is ``(src, first_seq, rows_bytes, rare)``. Whoever reads one gets back exactly
the ``(src, first_seq, [record, ...])`` batch a list of tuples would have given (same kinds,
types and values: every int a row holds is below 2**53, so exact as a double; the recorder
sends a larger label as a tuple). :func:`loads_batch` reads either form from a pickle.

Row layouts (kind first, unused cells 0):
  PUT        (1, t_begin, t_return, tid, label, value)
  GET        (3, t_begin, t_return, tid, 0, 0)
  TASK_DONE  (5, t, tid, 0, 0, 0)
  rare       (0, 0, 0, 0, 0, 0)      the next tuple of ``rare``

This module is imported by workers: numpy is imported only by :func:`unpack_rows`, which runs
in the parent.
"""

from __future__ import annotations

import pickle
from array import array
from itertools import repeat
from operator import itemgetter
from typing import Any

from engine.events import Kind

ROW = 6
PUT, GET, TASK_DONE = int(Kind.PUT), int(Kind.GET), int(Kind.TASK_DONE)
RARE_ROW = (0, 0.0, 0.0, 0, 0, 0.0)
EXACT = 1 << 53  # an int of at most this magnitude is exact as a double
Batch = tuple[int, int, list[tuple]]
Packed = tuple[int, int, bytes, list[tuple]]


def rows_to_records(rows: array | list[float], rare: list[tuple]) -> list[tuple]:
    """Decode rows (an ``array('d')`` or a list of floats) in pure Python: small batches and
    processes without numpy (the parent's own recorder, tests)."""
    out: list[tuple] = []
    append = out.append
    it = iter(rare)
    for i in range(0, len(rows), ROW):
        k = rows[i]
        if k == PUT:
            append((PUT, rows[i + 1], rows[i + 2], int(rows[i + 3]), int(rows[i + 4]),
                    rows[i + 5]))  # fmt: skip
        elif k == GET:
            append((GET, rows[i + 1], rows[i + 2], int(rows[i + 3])))
        elif k == TASK_DONE:
            append((TASK_DONE, rows[i + 1], int(rows[i + 2])))
        else:
            append(next(it))
    return out


def _records(kind: int, sub: Any) -> list[tuple]:
    """The records of ``sub``, rows of one hot kind (a numpy view), as tuples."""
    import numpy as np

    if kind == PUT:
        ints = sub[:, 3:5].astype(np.int64)
        return list(zip(repeat(PUT), sub[:, 1].tolist(), sub[:, 2].tolist(),
                        ints[:, 0].tolist(), ints[:, 1].tolist(), sub[:, 5].tolist()))  # fmt: skip
    if kind == GET:
        return list(zip(repeat(GET), sub[:, 1].tolist(), sub[:, 2].tolist(),
                        sub[:, 3].astype(np.int64).tolist()))  # fmt: skip
    return list(zip(repeat(TASK_DONE), sub[:, 1].tolist(), sub[:, 2].astype(np.int64).tolist()))


def unpack_rows(data: bytes, rare: list[tuple]) -> list[tuple]:
    """Decode the rows of a packed batch in bulk (numpy, in the parent): a few C passes per
    kind instead of a Python step per record."""
    import numpy as np  # the parent's: workers never decode

    m = np.frombuffer(data, dtype="<f8").reshape(-1, ROW)
    n = len(m)
    if n < 16 or (rare and len(rare) * 8 > n):  # not worth numpy's fixed costs
        a = array("d")
        a.frombytes(data)
        return rows_to_records(a, rare)
    kinds = m[:, 0]
    a, b = int(kinds[0]), int(kinds[1])
    # The two shapes a flood sends: a producer's PUTs, a consumer's GET, TASK_DONE, GET, ...
    if a and b:
        if a == b and (kinds == a).all():
            return _records(a, m)
        if (kinds[0::2] == a).all() and (kinds[1::2] == b).all():
            out: list[tuple] = [None] * n  # type: ignore[list-item]
            out[0::2] = _records(a, m[0::2])
            out[1::2] = _records(b, m[1::2])
            return out
    parts: list[tuple[Any, list[tuple]]] = []
    for kind in (PUT, GET, TASK_DONE):
        sel = np.flatnonzero(kinds == kind)
        if len(sel):
            parts.append((sel, _records(kind, m[sel])))
    if rare:
        parts.append((np.flatnonzero(kinds == 0), list(rare)))
    # Put the kinds back in stream order: position p of the concatenation goes to order[p].
    order = np.concatenate([sel for sel, _ in parts])
    records: list[tuple] = []
    for _, recs in parts:
        records += recs
    inverse = np.empty(n, dtype=np.int64)
    inverse[order] = np.arange(n)
    return list(itemgetter(*inverse.tolist())(records))


def unpack(packed: Packed) -> Batch:
    """``(src, first, rows, rare)`` -> ``(src, first, [record, ...])``."""
    src, first, data, rare = packed
    return src, first, unpack_rows(data, rare)


def loads_batch(payload: bytes) -> Batch:
    """Unpickle one batch as a worker shipped it, packed or not, into the list-of-tuples form."""
    msg = pickle.loads(payload)
    if len(msg) == 4:
        return unpack(msg)
    return msg


def as_batch(msg: tuple) -> Any:
    """A message read from a channel that may carry packed batches, as the batch it stands
    for; anything else (a traced program's notes) as it is."""
    if len(msg) == 4 and type(msg[2]) is bytes:
        return unpack(msg)  # type: ignore[arg-type]
    return msg


def pack_records(records: list[tuple]) -> tuple[bytes, list[tuple]]:
    """The rows and rare list a recorder would ship for ``records`` (benchmarks, tests)."""
    rows = array("d")
    rare: list[tuple] = []
    for r in records:
        k, n = r[0], len(r)
        if k == PUT and n == 6 and _floats(r, 1, 2, 5) and _exact(r, 3, 4):
            rows.extend(r)
        elif k == GET and n == 4 and _floats(r, 1, 2) and _exact(r, 3):
            rows.extend((*r, 0, 0))
        elif k == TASK_DONE and n == 3 and _floats(r, 1) and _exact(r, 2):
            rows.extend((*r, 0, 0, 0))
        else:
            rare.append(r)
            rows.extend(RARE_ROW)
    return rows.tobytes(), rare


def _floats(r: tuple, *at: int) -> bool:
    return all(type(r[i]) is float for i in at)


def _exact(r: tuple, *at: int) -> bool:
    return all(type(r[i]) is int and -EXACT <= r[i] <= EXACT for i in at)
