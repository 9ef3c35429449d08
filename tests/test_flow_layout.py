"""The flow view's pure layout (engine/flow_layout.py) on hand-made records: exact places."""

from __future__ import annotations

from engine.events import Kind
from engine.flow_layout import (
    CONSUMER,
    DONE,
    EDGE_PUT,
    GATE_CLOSED,
    GATE_NOT_CALLED,
    GATE_OPEN,
    QUEUE,
    FlowLimits,
    flow_frame,
    latest_time,
)
from engine.model import RunModel

T0 = 100.0


def model(records_by_src: dict[int, list[tuple]]) -> RunModel:
    m = RunModel()
    m.feed([(src, 0, recs) for src, recs in records_by_src.items()])
    return m


def start(consumers: int = 1, tasks: int = 1) -> dict[int, list[tuple]]:
    recs = {0: [(int(Kind.RUN_START), T0, 1, consumers, tasks)],
            1: [(int(Kind.WORKER_START), T0 + 0.01, 10, 0, 0)]}  # fmt: skip
    for c in range(consumers):
        recs[2 + c] = [(int(Kind.WORKER_START), T0 + 0.01, 11 + c, 1, c)]
    return recs


def test_a_get_that_waited_counts_from_its_return_live() -> None:
    recs = start()
    tid = 1 << 32
    recs[1].append((int(Kind.PUT), T0 + 0.5, T0 + 0.5, tid, 0, 0.2))
    # The consumer called get() at 0.05 s and it returned at 0.5 s, with the task.
    recs[2].append((int(Kind.GET), T0 + 0.05, T0 + 0.5 + 1e-4, tid))
    m = model(recs)
    now = latest_time(m)
    assert now >= 0.5 + 1e-4 - 1e-9
    f = flow_frame(m, now)
    assert f.token(tid).place == CONSUMER and f.depth == 0 and f.unfinished == 1
    assert m.in_flight == 1 and list(m.workers[2].held) == [tid]


def test_places_queue_order_gate_and_streams() -> None:
    recs = start(consumers=1, tasks=40)
    tids = [(1 << 32) + k for k in range(40)]
    for k, tid in enumerate(tids):  # 40 puts within 0.2 s: too fast for the eye at 1x
        t = T0 + 0.1 + k * 0.005
        recs[1].append((int(Kind.PUT), t, t, tid, k, 0.5))
    recs[0] += [(int(Kind.JOIN_BEGIN), T0 + 0.4)]
    first = T0 + 0.5
    recs[2] += [(int(Kind.GET), first, first, tids[0]), (int(Kind.TASK_DONE), first + 0.1, tids[0])]
    m = model(recs)
    assert flow_frame(m, 0.05).gate == GATE_NOT_CALLED
    f = flow_frame(m, 0.45, FlowLimits(queue_slots=5))
    assert f.gate == GATE_CLOSED and f.depth == 40 and f.queue_more == 35
    queued = [tok for tok in f.tokens if tok.place == QUEUE]
    assert [tok.station for tok in queued] == [0, 1, 2, 3, 4]
    assert [tok.tid for tok in queued] == tids[:5]  # the head is the first put
    assert any(s.edge == EDGE_PUT and s.count > 20 for s in f.streams)
    slow = flow_frame(m, 0.45, FlowLimits(eye_window_s=0.01))
    assert not slow.streams
    g = flow_frame(m, 0.65)
    assert g.token(tids[0]).place == DONE and g.done == 1 and g.unfinished == 39
    m2 = model({**recs, 0: recs[0] + [(int(Kind.JOIN_END), T0 + 0.9)]})
    assert flow_frame(m2, 0.95).gate == GATE_OPEN


def test_a_traced_programs_main_process_is_its_producer() -> None:
    # trace: the main process (stream 0) puts its own items (not the tutorial's tuples).
    recs = {0: [(int(Kind.RUN_START), T0, 0, 1, 0)],
            1: [(int(Kind.PROC_INFO), T0 + 0.01, 11, "worker")]}  # fmt: skip
    tid = 5
    recs[0].append((int(Kind.PUT), T0 + 0.1, T0 + 0.1, tid, -2, 0.0))
    m = model(recs)
    f = flow_frame(m, 0.2)
    assert [s.name for s in f.producers] == ["main"]
    tok = f.token(tid)
    assert tok.place == QUEUE and tok.text == "#5" and not tok.retried
