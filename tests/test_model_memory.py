"""The model keeps a run in columns: at most 100 bytes a task, and times that stay true."""

from __future__ import annotations

import gc
import itertools
import tracemalloc

import numpy as np

from engine.columns import GrowArray
from engine.events import Kind
from engine.model import RunModel
from engine.tasks import TaskTable

PUT, GET, DONE = int(Kind.PUT), int(Kind.GET), int(Kind.TASK_DONE)
T0 = 100.0


def flood(tasks: int, consumers: int = 2, gap: float = 1e-6
          ) -> list[list[tuple[int, int, list[tuple]]]]:  # fmt: skip
    """Feed calls of a flood of no-op tasks: 1 producer, ``consumers`` consumers; each get()
    starts ``gap`` after the consumer's previous task_done."""
    streams: dict[int, list[tuple]] = {
        0: [(int(Kind.RUN_START), T0, 1, consumers, tasks), (int(Kind.QUEUE_INFO), T0, 0)],
        1: [(int(Kind.WORKER_START), T0 + 0.01, 4000, 0, 0)],
    }
    for c in range(consumers):
        streams[2 + c] = [(int(Kind.WORKER_START), T0 + 0.01, 4001 + c, 1, c)]
    free = [T0 + 0.02] * consumers
    for k in range(tasks + consumers):
        tid = (1 << 32) + k + 1
        tp = T0 + 0.05 + k * 1e-5
        streams[1].append((PUT, tp, tp, tid, k if k < tasks else -1, 0.0))
        c = k % consumers
        tg = max(tp, free[c]) + 3e-6
        streams[2 + c].append((GET, free[c], tg, tid))
        streams[2 + c].append((DONE, tg + 2e-6, tid))
        free[c] = tg + 2e-6 + gap
    calls, first = [], dict.fromkeys(streams, 0)
    while any(first[s] < len(r) for s, r in streams.items()):
        call = []
        for s, recs in streams.items():
            i = first[s]
            if i < len(recs):
                call.append((s, i, recs[i : i + 1365]))
                first[s] = i + 1365
        calls.append(call)
    return calls


def test_a_flood_is_kept_in_at_most_100_bytes_per_task() -> None:
    # The shape of benchmarks/ingest.py (issue 11's measure): each get() starts as the
    # consumer's task_done returns, two intervals a task per consumer.
    tasks = 50_000
    calls = flood(tasks, gap=0.0)
    for call in flood(100, gap=0.0):  # imports and first-use allocations are not the run's
        RunModel().feed(call)
    gc.collect()
    tracemalloc.start()
    try:
        m = RunModel()
        for call in calls:
            m.feed(call)
        held, _peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert m.task_dones == tasks + 2 and m.unfinished == 0
    assert held / tasks <= 100, f"{held / tasks:.1f} bytes per task"


def test_a_run_with_gaps_before_each_get_stays_exact() -> None:
    # Gaps between a task_done and the next get() give each consumer three intervals a task,
    # one of them ending at a get's start, a time no task row holds: the timeline keeps it.
    calls = flood(3000)
    m = RunModel()
    for call in calls:
        m.feed(call)
    ivs = list(m.workers[2].intervals)
    assert ivs[0][2] == 0  # STARTING until its WORKER_START; then three a task
    assert len(ivs) == 1 + 3 * 1501
    starts = [r[1] - m.t0 for call in calls for s, _i, recs in call if s == 2 for r in recs
              if r[0] == GET]  # fmt: skip
    assert [iv[1] for iv in ivs[1::3]] == starts
    for a, b in itertools.pairwise(ivs):
        assert a[1] == b[0], "intervals are contiguous"
    assert len(m.done_t) == 3000


def test_a_repeated_task_id_keeps_the_times_already_shown() -> None:
    # A damaged trace puts one id twice: the points and intervals of its first life keep the
    # times they had (they refer to the task's row; a changed task gets a row of its own).
    tid = (1 << 32) + 1
    m = RunModel()
    m.feed([(0, 0, [(int(Kind.RUN_START), T0, 1, 1, 2)]),
            (1, 0, [(int(Kind.WORKER_START), T0, 1, 0, 0), (PUT, T0 + 1, T0 + 1, tid, 0, 0.0)]),
            (2, 0, [(int(Kind.WORKER_START), T0, 2, 1, 0), (GET, T0 + 1, T0 + 2, tid),
                    (DONE, T0 + 3, tid)])])  # fmt: skip
    before = (list(m.s_t), list(m.done_t), list(m.done_wait), list(m.workers[2].intervals),
              list(m.workers[1].intervals))  # fmt: skip
    m.feed([(1, 2, [(PUT, T0 + 5, T0 + 5, tid, 7, 0.0)])])
    assert list(m.s_t) == [*before[0], 5.0]
    assert (list(m.done_t), list(m.done_wait)) == (before[1], before[2])
    assert list(m.workers[2].intervals) == before[3]
    assert list(m.workers[1].intervals)[: len(before[4])] == before[4]
    assert m.tasks[tid].label == 7 and m.tasks[tid].t_get is None
    assert len(m.tasks) == 1 and list(m.tasks) == [tid]


def test_what_a_flood_feed_returns_holds_no_pair_per_record() -> None:
    # RunModel.feed's answer (engine/applied.py): under a flood the applied records stay the
    # feed's record list, an index and the sources (~24 bytes a record), not a (src, record)
    # tuple each in a list (64 bytes a record, and the collector's scans of them).
    calls = flood(6000, gap=0.0)
    for call in flood(100, gap=0.0):
        RunModel().feed(call)
    held = []
    for keep in (False, True):
        kept = []
        gc.collect()
        tracemalloc.start()
        try:
            m = RunModel()
            for call in calls:
                got = m.feed(call)
                if keep:
                    kept.append(got)
                del got
            held.append(tracemalloc.get_traced_memory()[0])
        finally:
            tracemalloc.stop()
        del m
    records = sum(len(recs) for call in calls for _s, _i, recs in call)
    assert sum(len(a) for a in kept) == records  # every record was applied and is read back
    per_record = (held[1] - held[0]) / records
    assert per_record <= 32, f"{per_record:.1f} bytes per applied record"
    assert [p for a in kept for p in a][-3:] == [p for a in kept[-1:] for p in a.tail(3)]


def test_columns_grow_in_place_and_a_view_taken_before_stays_true() -> None:
    # engine/columns.py and engine/tasks.py enlarge their arrays where they stand (no copy of
    # every element at each eighth more); numpy refuses while a view is alive, and then the
    # old array is copied as before: the view still reads what it read.
    g = GrowArray(np.float64, 16)
    for i in range(100):
        g.append(i)
    where = id(g._a)  # (a name for the array itself would be a reference: numpy refuses)
    g.extend(np.arange(100, 1000))
    assert id(g._a) == where, "grown by a copy, not in place"
    view = g.view()
    g.extend(np.arange(1000, 5000))
    assert view.tolist() == list(range(1000)) and g.view().tolist() == list(range(5000))
    table = TaskTable()
    table.put((1 << 32) + 1, 5, 0.5, 1, 1.0)
    t_put = table.streams[1].t_put
    first = t_put[:3]
    for n in range(2, 5000):
        table.put((1 << 32) + n, n, 0.0, 1, float(n))
    assert first[1] == 1.0 and np.isnan(first[0])
    rows = table.streams[1]
    assert rows.t_put[1:5000].tolist() == [1.0, *map(float, range(2, 5000))]
    assert np.isnan(rows.t_get[: rows.t_get.size]).all() and (rows.get_src == -1).all()
    assert np.isnan(rows.t_put[5000:]).all() and (rows.label[5000:] == 0).all()
