"""The model's bulk path gives exactly the state (and the applied order) of the one-by-one path."""

from __future__ import annotations

import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import model as model_mod
from engine.events import Kind, RecordError
from engine.model import RunModel

PUT, GET, DONE = int(Kind.PUT), int(Kind.GET), int(Kind.TASK_DONE)
T0 = 500.0


def flood(producers: int, consumers: int, tasks: int, rng: random.Random, *, busy: float = 0.0,
          held_open: bool = False, fail: float = 0.0,
          dies: bool = False) -> dict[int, list[tuple]]:  # fmt: skip
    """Every stream's records of a run, as its processes would emit them.

    ``fail``: the share of tasks whose work raised (TASK_FAIL, then task_done as the workers
    do). ``dies``: the last consumer is killed a third of the way in: its last records die
    unsent and the parent sees its process end (PROC_EXIT, code -9).
    """
    start = (int(Kind.RUN_START), T0, producers, consumers, tasks * producers)
    streams: dict[int, list[tuple]] = {0: [start, (int(Kind.QUEUE_INFO), T0, 0)]}
    streams[0].append((int(Kind.JOIN_BEGIN), T0 + 0.001))
    for s in range(1, producers + consumers + 1):
        role = 0 if s <= producers else 1
        idx = s - 1 if role == 0 else s - 1 - producers
        streams[s] = [(int(Kind.WORKER_START), T0 + 0.002 + rng.random() * 1e-3, 9000 + s,
                       role, idx)]  # fmt: skip
    items: list[tuple[int, float, int]] = []  # (tid, t_put, label)
    for p in range(1, producers + 1):
        t = T0 + 0.005
        for n in range(1, tasks + 1 + (consumers if p == producers else 0)):
            t += rng.random() * 2e-5
            label = (p - 1) * tasks + n - 1 if n <= tasks else -1
            tid = (p << 32) + n
            streams[p].append((PUT, t, t, tid, label, rng.random()))
            items.append((tid, t, label))
    items.sort(key=lambda x: x[1])
    free = {c: T0 + 0.004 for c in range(producers + 1, producers + consumers + 1)}
    victim = producers + consumers if dies and consumers > 1 else None
    death_t = items[len(items) // 3][1] if victim is not None else None
    for tid, t_put, label in items:
        if victim in free and free[victim] > death_t:
            del free[victim]  # killed: it takes nothing more
            unsent = rng.randint(0, 5)
            if unsent:
                del streams[victim][-unsent:]
            streams[0].append((int(Kind.PROC_EXIT), death_t + 1e-4, victim, -9))
        c = min(free, key=lambda k: (free[k], rng.random()))
        start = free[c]
        ret = max(start, t_put) + rng.random() * 1e-5 + 1e-7
        streams[c].append((GET, start, ret, tid))
        end = ret + rng.random() * 1e-6
        if busy and label >= 0 and rng.random() < busy:
            streams[c].append((int(Kind.TASK_START), ret + 1e-7, tid))
            end = ret + rng.random() * 1e-4
            streams[c].append((int(Kind.TASK_END), end, tid))
        if fail and label >= 0 and rng.random() < fail:
            end = ret + rng.random() * 1e-5
            streams[c].append((int(Kind.TASK_FAIL), end, tid, f"ValueError: task {label}"))
        if held_open and label >= 0 and rng.random() < 0.02:
            free[c] = end + 1e-6
            continue  # this task_done comes much later or never
        streams[c].append((DONE, end + 1e-7, tid))
        free[c] = end + 2e-7
    return streams


def deliveries(
    streams: dict[int, list[tuple]], rng: random.Random, max_batch: int
) -> list[list[tuple[int, int, list[tuple]]]]:
    """Batches in an order the collector could deliver them, grouped into feed calls."""
    cuts: dict[int, list[tuple[int, int, list[tuple]]]] = {}
    for s, recs in streams.items():
        out, i = [], 0
        while i < len(recs):
            k = rng.randint(1, max_batch)
            out.append((s, i, recs[i : i + k]))
            i += k
        cuts[s] = out
    order: list[tuple[int, int, list[tuple]]] = []
    while any(cuts.values()):
        s = rng.choice([s for s, b in cuts.items() if b])
        order.append(cuts[s].pop(0))
    calls, i = [], 0
    while i < len(order):
        k = rng.randint(1, 6)
        calls.append(order[i : i + k])
        i += k
    return calls


def state(m: RunModel) -> dict[str, Any]:
    return {
        "counts": (m.puts, m.gets, m.task_dones, m.sentinel_puts, m.task_puts,
                   m.extra_task_dones, m.events, m.events_lost),
        "series": (list(m.s_t), list(m.s_puts), list(m.s_gets), list(m.s_dones)),
        "done": (list(m.done_t), list(m.done_wait), list(m.done_service)),
        "tasks": sorted(m.tasks.items()),
        "workers": {
            s: (w.activity, w.since, w.task, list(w.held), list(w.intervals), w.tasks_done)
            for s, w in sorted(m.workers.items())
        },
        "held": (sorted(m._held_gets.items()), sorted(m._held_dones.items())),
        "times": (m.last_t, m._last_series_t, m.join_returned_t),
        "faults": (m.failures, m.puts_stood_in, sorted(m._closed_streams),
                   [(s, w.exitcode, w.exit_t, w.failures, list(w.errors))
                    for s, w in sorted(m.workers.items())]),
    }


def both(calls: list, monkeypatch: pytest.MonkeyPatch) -> tuple[list, list]:
    results = []
    for bulk_min in (10**9, 1):
        monkeypatch.setattr(model_mod, "BULK_MIN", bulk_min)
        m = RunModel()
        applied = []
        snaps = []
        for call in calls:
            applied.append(m.feed(call))
            snaps.append(state(m))
        results.append((snaps, applied))
    return results[0], results[1]


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 10**6),
    producers=st.integers(1, 3),
    consumers=st.integers(1, 4),
    tasks=st.integers(1, 120),
    max_batch=st.sampled_from([1, 7, 50, 300]),
    busy=st.sampled_from([0.0, 0.3]),
    held_open=st.booleans(),
)
def test_bulk_path_equals_the_one_by_one_path(
    seed: int, producers: int, consumers: int, tasks: int, max_batch: int, busy: float,
    held_open: bool,
) -> None:  # fmt: skip
    rng = random.Random(seed)
    calls = deliveries(flood(producers, consumers, tasks, rng, busy=busy, held_open=held_open),
                       rng, max_batch)  # fmt: skip
    with pytest.MonkeyPatch.context() as mp:
        (slow, slow_applied), (fast, fast_applied) = both(calls, mp)
    for i, (a, b) in enumerate(zip(slow, fast, strict=True)):
        for key in a:
            assert a[key] == b[key], f"after feed call {i}: {key} differs"
    assert slow_applied == fast_applied
    for got in fast_applied:  # the log's read of a flood: the newest pairs only
        pairs = list(got)
        for k in {1, 5, len(pairs) // 2, len(pairs)} - {0}:
            assert got.tail(k) == pairs[-k:]


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 10**6),
    producers=st.integers(1, 3),
    consumers=st.integers(2, 4),
    tasks=st.integers(20, 150),
    max_batch=st.sampled_from([3, 40, 400]),
    fail=st.sampled_from([0.0, 0.1]),
    dies=st.booleans(),
)
def test_bulk_path_equals_the_one_by_one_path_with_failures_and_a_death(
    seed: int, producers: int, consumers: int, tasks: int, max_batch: int, fail: float,
    dies: bool,
) -> None:  # fmt: skip
    # Several producers' streams, failed tasks (rare records between the hot runs), a consumer
    # killed with records unsent (its held gets stay held; puts stand in after its exit).
    rng = random.Random(seed)
    streams = flood(producers, consumers, tasks, rng, held_open=True, fail=fail, dies=dies)
    calls = deliveries(streams, rng, max_batch)
    with pytest.MonkeyPatch.context() as mp:
        (slow, slow_applied), (fast, fast_applied) = both(calls, mp)
    for i, (a, b) in enumerate(zip(slow, fast, strict=True)):
        for key in a:
            assert a[key] == b[key], f"after feed call {i}: {key} differs"
    assert slow_applied == fast_applied


@pytest.mark.parametrize("seed", range(4))
def test_a_killed_consumers_records_arriving_after_its_exit_match_the_one_by_one_path(
    seed: int,
) -> None:
    # The parent sees the process end before the records still in its pipe arrive: they are
    # counted, but its timeline stays ended (RunModel._set), in the bulk path too.
    rng = random.Random(seed)
    streams = flood(2, 3, 300, rng, dies=True)
    parent = streams.pop(0)
    calls = [[(0, 0, parent)], *deliveries(streams, rng, 60)]
    with pytest.MonkeyPatch.context() as mp:
        (slow, slow_applied), (fast, fast_applied) = both(calls, mp)
    for i, (a, b) in enumerate(zip(slow, fast, strict=True)):
        for key in a:
            assert a[key] == b[key], f"after feed call {i}: {key} differs"
    assert slow_applied == fast_applied


def test_the_bulk_path_is_taken_for_a_flood(monkeypatch: pytest.MonkeyPatch) -> None:
    # Proves the comparison above compares something: the fast path really runs.
    from engine import bulk

    taken = []
    real = bulk.apply_hot
    monkeypatch.setattr(bulk, "apply_hot", lambda *a: taken.append(real(*a)) or taken[-1])
    rng = random.Random(1)
    m = RunModel()
    for call in deliveries(flood(1, 2, 2000, rng), rng, 2048):
        m.feed(call)
    assert taken and all(taken), taken
    assert m.task_dones == 2002 and m.unfinished == 0


@pytest.mark.parametrize("odd", ["float label", "int value", "null value", "bool"])
def test_fields_of_unexpected_types_give_the_one_by_one_paths_state(odd: str) -> None:
    # engine/record_columns.py reads ints as ints and times as doubles (struct); a trace's
    # record may carry a float where an int belongs, or a null: read the former way, or slow.
    rng = random.Random(3)
    streams = flood(1, 2, 400, rng)
    puts = [i for i, r in enumerate(streams[1]) if r[0] == PUT]
    for i in puts[100:300:7]:
        k, t, tr, tid, label, value = streams[1][i]
        streams[1][i] = {
            "float label": (k, t, tr, tid, float(label), value),
            "int value": (k, t, tr, tid, label, 3),
            "null value": (k, t, tr, tid, label, None),
            "bool": (k, t, tr, tid, True, value),
        }[odd]
    calls = deliveries(streams, rng, 300)
    with pytest.MonkeyPatch.context() as mp:
        (slow, slow_applied), (fast, fast_applied) = both(calls, mp)
    for i, (a, b) in enumerate(zip(slow, fast, strict=True)):
        for key in a:  # (repr: a null value is NaN in the table, and NaN != NaN)
            assert repr(a[key]) == repr(b[key]), f"after feed call {i}: {key} differs"
    assert slow_applied == fast_applied


@pytest.mark.parametrize("kind", ["PUT", "GET", "TASK_DONE", "TASK_START"])
def test_a_task_id_that_is_not_an_int_is_refused_by_both_paths_naming_the_field(
    kind: str,
) -> None:
    # The one-by-one path computes with a tid as an int (its stream is tid >> 32) and raised
    # TypeError on 3.0; the bulk path read it as 3. Both refuse it, in words naming the field,
    # before the model changes.
    rng = random.Random(5)
    streams = flood(1, 2, 400, rng, busy=0.3)
    k = int(Kind[kind])
    at = 3 if k in (PUT, GET) else 2
    src, i = next((s, i) for s in (1, 2, 3) for i, r in enumerate(streams[s])
                  if r[0] == k and r[at] & 0xFFFFFFFF >= 200)  # fmt: skip
    r = streams[src][i]
    streams[src][i] = (*r[:at], float(r[at]), *r[at + 1 :])
    calls = deliveries(streams, rng, 300)
    outcomes = []
    with pytest.MonkeyPatch.context() as mp:
        for bulk_min in (10**9, 1):
            mp.setattr(model_mod, "BULK_MIN", bulk_min)
            m = RunModel()
            for call in calls:
                before = repr(state(m))
                try:
                    m.feed(call)
                except RecordError as exc:
                    assert repr(state(m)) == before  # refused whole: nothing applied
                    outcomes.append((str(exc), before))
                    break
            else:
                outcomes.append(("accepted", repr(state(m))))
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][0] == (f"stream {src}: {kind} record field {at + 1} (tid) must be an "
                              f"integer, got {float(r[at])!r}")  # fmt: skip


def _step_area(m: RunModel, span: float) -> float:
    """The area under puts - dones from 0 to ``span``, point by point from the whole series."""
    import numpy as np

    t = np.asarray(m.s_t.view(), dtype=float)
    n = np.asarray(m.s_puts.view(), dtype=float) - np.asarray(m.s_dones.view())
    ends = np.minimum(np.append(t[1:], span), span)
    return float((n * np.clip(ends - np.clip(t, 0, span), 0, None)).sum())


@pytest.mark.parametrize("bulk_min", [10**9, 1], ids=["one-by-one", "bulk"])
def test_the_area_under_the_unfinished_counter_is_two_lookups_and_one_block(
    bulk_min: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Little's law's L at a run's end: the model's running sums give the area under puts -
    dones up to any time, as the whole series read point by point does (which took 60 ms at
    600,000 points, in the end's one turn of the window)."""
    monkeypatch.setattr(model_mod, "BULK_MIN", bulk_min)
    rng = random.Random(7)
    m = RunModel()
    for call in deliveries(flood(2, 3, 900, rng, busy=0.3), rng, 300):  # > 5 blocks of points
        m.feed(call)
    assert len(m.s_t) > 5 * 1024
    t = m.s_t.view()
    spans = [-1.0, 0.0, float(t[0]), float(t[100]), float(t[1023]), float(t[1024]),
             float(t[3000]) + 1e-9, float(t[-1]), float(t[-1]) + 2.0]
    spans += [rng.uniform(0, float(t[-1])) for _ in range(20)]
    for span in spans:
        assert m.points.area_until(span) == pytest.approx(_step_area(m, span), rel=1e-9,
                                                            abs=1e-9), span
