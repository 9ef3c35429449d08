"""The flow view's pure layout (engine/flow_layout.py): exact places, on hand-made records and
on a real run stopped mid-task."""

from __future__ import annotations

import time

from engine.config import RunConfig
from engine.distributions import Distribution
from engine.events import Kind
from engine.flow_layout import (
    CONSUMER,
    DONE,
    DROPPED,
    EDGE_PUT,
    GATE_CLOSED,
    GATE_NOT_CALLED,
    GATE_OPEN,
    QUEUE,
    UNFINISHED,
    FlowLimits,
    flow_frame,
    latest_time,
)
from engine.model import RunModel
from engine.runner import Run
from engine.states import Activity

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


def stopped_holding_a_task(cfg: RunConfig) -> tuple[RunModel, int]:
    """A real run stopped while consumer-0 (stream 2) works on a task: the model, that task."""
    with Run(cfg) as run:
        m = run.model
        end = time.monotonic() + 60
        while time.monotonic() < end:  # gated on the model: the consumer holds a task
            run.poll(0.01, wait_s=0.005)
            w = m.workers.get(2)
            if w is not None and w.activity == Activity.PROCESS and w.task != -1:
                break
        tid = m.workers[2].task
        assert tid != -1, "consumer-0 never took a task"
        run.stop()
        assert run.wait(30)
    return m, tid


def test_a_consumer_stopped_holding_a_task_is_stopped_and_its_task_left_unfinished() -> None:
    # Each task takes 60 s: Stop (SIGTERM) ends consumer-0 in the middle of its first one.
    cfg = RunConfig(consumers=1, tasks_per_producer=3, task_duration=Distribution.constant(60.0))
    m, tid = stopped_holding_a_task(cfg)
    w = m.workers[2]
    assert w.exitcode not in (None, 0) and m.stop_t is not None and w.exit_t >= m.stop_t
    f = flow_frame(m, latest_time(m))
    tok = f.token(tid)
    assert tok is not None and tok.place != DROPPED, "a stopped worker's task is not dropped"
    assert tok.place == UNFINISHED and tok.station == 0
    assert f.consumers[0].stopped and f.consumers[0].held == 1
    # Before the stop it was held by its consumer.
    assert flow_frame(m, m.stop_t - 1e-6).token(tid).place == CONSUMER
    assert not flow_frame(m, m.stop_t - 1e-6).consumers[0].stopped


def test_a_consumer_killed_before_the_stop_dropped_its_task_one_stopped_after_did_not() -> None:
    # A run stopped after a consumer died: consumer-0 was killed (SIGKILL) holding task a, then
    # QueueLab stopped the run, ending consumer-1 (SIGTERM) holding task b.
    recs = start(consumers=2, tasks=2)
    a, b = 1 << 32, (1 << 32) + 1
    recs[1] += [(int(Kind.PUT), T0 + 0.1, T0 + 0.1, a, 0, 5.0),
                (int(Kind.PUT), T0 + 0.1, T0 + 0.1, b, 1, 5.0)]  # fmt: skip
    recs[2].append((int(Kind.GET), T0 + 0.2, T0 + 0.2, a))
    recs[3].append((int(Kind.GET), T0 + 0.2, T0 + 0.2, b))
    recs[0] += [(int(Kind.PROC_EXIT), T0 + 0.5, 2, -9), (int(Kind.STOP), T0 + 0.6, "stopped"),
                (int(Kind.PROC_EXIT), T0 + 0.7, 3, -15),
                (int(Kind.PROC_EXIT), T0 + 0.7, 1, -15)]  # fmt: skip
    m = model(recs)
    f = flow_frame(m, 0.8)
    assert (f.token(a).place, f.token(a).station) == (DROPPED, 0)
    assert (f.token(b).place, f.token(b).station) == (UNFINISHED, 1)
    assert [(s.stopped, s.held) for s in f.consumers] == [(False, 0), (True, 1)]
    assert f.producers[0].stopped
    assert [s.activity for s in f.consumers] == [int(Activity.DIED)] * 2
    # Between the death and the stop, b is still at work.
    mid = flow_frame(m, 0.55)
    assert (mid.token(a).place, mid.token(b).place) == (DROPPED, CONSUMER)
    assert not any(s.stopped for s in mid.consumers)
