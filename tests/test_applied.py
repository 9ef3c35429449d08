"""Applied (engine/applied.py) reads like the list of (src, record) pairs it stands for."""

from __future__ import annotations

import numpy as np

from engine.applied import Applied, last


def _mixed() -> tuple[Applied, list[tuple[int, tuple]]]:
    """Pairs appended one by one, runs kept as columns, in turns; and the list they are."""
    records = [(3, float(i), float(i), i) for i in range(10)]
    a, want = Applied(), []
    a.append((0, (9, 0.5)))
    want.append((0, (9, 0.5)))
    order = np.array([4, 2, 7, 0])
    a.add_columns(np.array([5, 6, 5, 6]), records, order)
    want += [(s, records[i]) for s, i in zip([5, 6, 5, 6], order.tolist(), strict=True)]
    for k in range(3):
        a.append((1, (10 + k,)))
        want.append((1, (10 + k,)))
    a.add_columns(np.array([2, 2]), records, np.array([9, 8]))
    want += [(2, records[9]), (2, records[8])]
    return a, want


def test_an_applied_reads_as_its_pairs_in_order() -> None:
    a, want = _mixed()
    assert list(a) == want and a == want and len(a) == len(want) and a
    assert a[3] == want[3] and a[-2:] == want[-2:]
    for k in range(len(want) + 3):
        assert a.tail(k) == (want[-k:] if k else []), k
        assert last(want, k) == (want[-k:] if k else [])
    assert not Applied() and Applied() == []


def test_extending_shares_runs_and_keeps_both_sides_apart() -> None:
    a, want = _mixed()
    b = Applied([(7, (1,))])
    b.extend(a)
    b.append((8, (2,)))
    assert list(b) == [(7, (1,)), *want, (8, (2,))]
    assert list(a) == want, "appending to the copy changed the original"
    a.append((4, (3,)))
    assert list(b)[-1] == (8, (2,)) and len(b) == len(want) + 2
