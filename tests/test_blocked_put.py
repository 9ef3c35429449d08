"""A put that waits for room on a full bounded queue is shown blocked while it waits, live.

The put's own record is written when it returns; before PUT_BLOCKED a producer waiting for
room showed "producing" until then. These tests gate on what was shipped or applied, never on
how long something took: a put is known not to have returned because nothing made room.
"""

from __future__ import annotations

import multiprocessing
import queue
import threading
from pathlib import Path

import pytest

from engine.events import Kind
from engine.flow_layout import PRODUCER, flow_frame
from engine.model import RunModel
from engine.recorder import Recorder, activate
from engine.replay import replay_model
from engine.runner import Run
from engine.states import Activity
from engine.traced_queue import TracedJoinableQueue
from engine.tracefile import TraceWriter, read_trace
from tests.faults import START_TIMEOUT_S, config, const, poll_until

CTX = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods()
                                  else "spawn")  # fmt: skip


class Shipped:
    """A recorder's send: keeps the batches and says when a PUT_BLOCKED went out."""

    def __init__(self) -> None:
        self.batches: list[tuple[int, int, list[tuple]]] = []
        self.blocked = threading.Event()

    def __call__(self, batch: tuple[int, int, list[tuple]]) -> None:
        self.batches.append(batch)
        if any(r[0] == Kind.PUT_BLOCKED for r in batch[2]):
            self.blocked.set()

    def of(self, kind: Kind) -> list[tuple]:
        return [r for _s, _f, recs in self.batches for r in recs if r[0] == kind]


@pytest.fixture
def full_queue() -> tuple[TracedJoinableQueue, Shipped, Recorder]:
    tq = TracedJoinableQueue(1, ctx=CTX)
    shipped = Shipped()
    # Nothing ships by itself for a minute: only what the queue flushes on purpose goes out.
    rec = Recorder(0, shipped, batch=1_000_000, interval=60.0)
    activate(rec)
    tq.put((0, 0.5))  # fits: the queue is full from here
    try:
        yield tq, shipped, rec
    finally:
        activate(None)
        tq.close()
        tq.join_thread()


def test_a_put_that_must_wait_ships_put_blocked_before_it_waits(full_queue) -> None:
    tq, shipped, rec = full_queue
    assert shipped.batches == [], "a put that did not wait shipped at once"
    returned = threading.Event()
    putter = threading.Thread(target=lambda: (tq.put((1, 0.25)), returned.set()), daemon=True)
    putter.start()
    assert shipped.blocked.wait(30), "no PUT_BLOCKED was shipped while the put waited"
    assert not returned.is_set()  # nothing made room: the put cannot have returned
    (blocked,) = shipped.of(Kind.PUT_BLOCKED)
    assert blocked[2:] == (blocked[2], 1, 0.25)
    assert [r[3] for r in shipped.of(Kind.PUT)] != [blocked[2]]
    assert tq.get(timeout=5) == (0, 0.5)  # room: the waiting put goes through
    putter.join(30)
    assert returned.is_set()
    rec.flush()
    put = shipped.of(Kind.PUT)[-1]
    assert put[3] == blocked[2] and put[1] == blocked[1] <= put[2]
    assert tq.get(timeout=5) == (1, 0.25)


def test_a_put_whose_timeout_runs_out_was_blocked_then_full(full_queue) -> None:
    tq, shipped, rec = full_queue
    with pytest.raises(queue.Full):
        tq.put((1, 0.0), timeout=0.05)
    with pytest.raises(queue.Full):
        tq.put((2, 0.0), block=False)  # never waits: not blocked, only Full
    rec.flush()
    kinds = [r[0] for _s, _f, recs in shipped.batches for r in recs]
    assert kinds == [Kind.PUT, Kind.PUT_BLOCKED, Kind.PUT_FULL, Kind.PUT_FULL]


def _records(maxsize: int, *more: tuple) -> list[tuple[int, int, list[tuple]]]:
    start = [(int(Kind.RUN_START), 100.0, 1, 1, 3), (int(Kind.QUEUE_INFO), 100.0, maxsize)]
    worker = [(int(Kind.WORKER_START), 100.0, 11, 0, 0),
              (int(Kind.PUT), 100.1, 100.1, (1 << 32) + 1, 0, 0.5)]  # fmt: skip
    return [(0, 0, start), (1, 0, worker + list(more))]


def test_the_model_shows_the_wait_from_put_blocked_and_ends_it_with_the_put_or_full() -> None:
    tid = (1 << 32) + 2
    m = RunModel()
    m.feed(_records(1, (int(Kind.PUT_BLOCKED), 100.2, tid, 1, 0.25)))
    w = m.workers[1]
    assert (w.activity, w.since) == (Activity.BLOCK_PUT, pytest.approx(0.2))
    f = flow_frame(m, 0.3)
    assert f.producers[0].activity == Activity.BLOCK_PUT
    (token,) = [k for k in f.tokens if k.place == PRODUCER]
    assert (token.tid, token.text) == (tid, "1: 0.25")
    m.feed([(1, 3, [(int(Kind.PUT_FULL), 100.2, 100.5)])])  # put(timeout=...) gave up
    assert (w.activity, w.since) == (Activity.RUNNING, pytest.approx(0.5))
    assert not [k for k in flow_frame(m, 0.6).tokens if k.place == PRODUCER]
    t0s, t1s, acts, _ = w.intervals.columns(0, len(w.intervals))
    assert (float(t0s[-1]), float(t1s[-1]), int(acts[-1])) == (
        pytest.approx(0.2), pytest.approx(0.5), int(Activity.BLOCK_PUT))


def test_a_trace_without_put_blocked_still_shows_the_wait_once_the_put_returned() -> None:
    """Traces recorded before the record existed: the put's own duration says it waited."""
    tid = (1 << 32) + 2
    m = RunModel()
    batches = _records(1, (int(Kind.PUT), 100.2, 100.6, tid, 1, 0.25))
    consumer = [(int(Kind.WORKER_START), 100.0, 12, 1, 0),
                (int(Kind.GET), 100.1, 100.55, (1 << 32) + 1)]  # made room for it  # fmt: skip
    m.feed([*batches, (2, 0, consumer)])
    assert m.workers[1].activity == Activity.RUNNING
    _t0s, _t1s, acts, _ = m.workers[1].intervals.columns(0, len(m.workers[1].intervals))
    assert int(Activity.BLOCK_PUT) in acts.tolist()


def test_a_producer_blocked_in_a_real_run_is_shown_blocked_before_its_put_returns(
    tmp_path: Path,
) -> None:
    """The consumer holds task 0 for a minute, task 1 fills the queue (maxsize 1): the
    producer's put of task 2 cannot return, and the model, the flow view's cut and a replay of
    the recording show it blocked in put() holding task 2."""
    cfg = config(tasks_per_producer=10, maxsize=1, task_duration=const(60.0))
    path = tmp_path / "blocked.qltrace"
    with TraceWriter(path, cfg) as writer:
        run = Run(cfg)
        writer.attach(run)
        with run:
            assert poll_until(
                # (The put of task 1 may wait too, briefly, until the consumer takes task 0.)
                run, lambda m: m.puts >= 2 and m.workers[1].activity == Activity.BLOCK_PUT,
                START_TIMEOUT_S,
            ), "the producer waiting for room was not shown blocked"
            m = run.model
            # Task 0 is taken and task 1 sits in the one slot: the third put has no room.
            assert (m.puts, m.gets) == (2, 1)
            f = flow_frame(m, m.last_t)
            assert f.producers[0].activity == Activity.BLOCK_PUT
            held = [k for k in f.tokens if k.place == PRODUCER]
            assert [k.text.split(":")[0] for k in held] == ["2"]
            run.stop()
    trace = read_trace(path)
    assert any(r[0] == Kind.PUT_BLOCKED for _s, _f, recs in trace.batches for r in recs)
    replayed = replay_model(trace)
    w = replayed.workers[1]
    t0s, _t1s, acts, _ = w.intervals.columns(0, len(w.intervals))
    blocked_at = [float(t) for t, a in zip(t0s, acts, strict=True) if a == Activity.BLOCK_PUT]
    assert blocked_at, "the replay does not show the wait"
    assert flow_frame(replayed, blocked_at[-1]).producers[0].activity == Activity.BLOCK_PUT
