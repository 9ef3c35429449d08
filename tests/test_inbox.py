"""engine/inbox.py: live runs, traced programs and replays feed the model by one road."""

from __future__ import annotations

import marshal
import math
import pickle
from pathlib import Path

import pytest

from engine.config import RunConfig
from engine.events import Kind
from engine.explain.summary import summary_json
from engine.inbox import Inbox, ListSource, QueueSource
from engine.model import RunModel
from engine.recorder import encode_batch
from engine.replay import Replayer, replay_model
from engine.runner import Run
from engine.tracefile import TraceWriter, read_trace

CFG = RunConfig(producers=1, consumers=2, tasks_per_producer=30, start_method="forkserver",
                time_scale=0.02)  # fmt: skip


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Run]:
    """A real run's trace, recorded by the writer listening on the run's inbox."""
    path = tmp_path_factory.mktemp("inbox") / "run.qltrace"
    with TraceWriter(path, CFG) as writer:
        run = Run(CFG)
        writer.attach(run)
        with run:
            assert run.wait(60), "the recorded run did not end"
    assert writer.error is None
    return path, run


def test_a_recorded_run_through_an_inbox_is_the_live_model(recorded) -> None:
    path, run = recorded
    trace = read_trace(path)
    heard: list[tuple] = []
    model = RunModel()
    inbox = Inbox(model, ListSource(trace.batches))
    inbox.add_listener(lambda b: heard.append((b[0], b[1], len(b[2]))))
    applied = inbox.poll(math.inf)
    assert inbox.drained and inbox.pending == 0
    # Every batch is heard once, in file order, and every record is applied.
    assert heard == [(s, f, len(r)) for s, f, r in trace.batches]
    assert len(applied) == trace.n_events == run.model.events
    assert summary_json(model) == summary_json(run.model)
    assert summary_json(replay_model(trace)) == summary_json(run.model)


def test_the_inbox_feeds_within_chunks_and_keeps_a_split_batch_first() -> None:
    records = [(int(Kind.PAUSED), 1.0 + i * 1e-6) for i in range(25)]
    inbox = Inbox(RunModel(), ListSource([(1, 0, records), (1, 25, records[:1])]), chunk=10)
    first = inbox.poll(0.0)  # a spent budget still feeds one chunk
    assert len(first) == 10 and inbox.pending == 2  # the rest of batch 1, then batch 2
    assert len(inbox.poll(math.inf)) == 16 and inbox.drained


def test_a_queue_source_decodes_on_take_and_counts_what_will_not_unpickle() -> None:
    src = QueueSource()
    src.put_raw(pickle.dumps((1, 0, [(int(Kind.PAUSED), 1.0)])))
    src.put_raw(b"\x80\x05 torn")
    src.put((0, 0, [(int(Kind.PAUSE), 2.0)]))
    assert src.waiting() == 3 and not src.done and src.now() is not None
    assert src.take() == (1, 0, [(int(Kind.PAUSED), 1.0)])
    assert src.take() == (0, 0, [(int(Kind.PAUSE), 2.0)])
    assert src.take() is None and src.undecodable == 1
    src.finish()
    assert src.done and src.now() is None


def test_a_replay_hands_over_what_it_applied_without_patching_the_model(recorded) -> None:
    trace = read_trace(recorded[0])
    rp = Replayer(trace)
    half = rp.duration_s / 2
    applied = rp.advance(half)
    assert applied and rp.playhead_s == half
    assert "feed" not in vars(rp.model)  # the model's own feed, never a wrapper
    rest = rp.advance(rp.duration_s)
    assert len(applied) + len(rest) == trace.n_events and rp.at_end
    # Back: a new model, rebuilt from the start.
    old = rp.model
    assert len(rp.advance(half)) == len(applied) and rp.model is not old


def test_a_budgeted_replay_step_stops_early_and_resumes() -> None:
    records = {1: [(int(Kind.PAUSED), 1.0 + i * 1e-3) for i in range(5000)]}
    trace_batches = [(s, 0, r) for s, r in records.items()]

    class FakeTrace:
        batches = trace_batches
        t0 = 1.0

    rp = Replayer(FakeTrace())  # type: ignore[arg-type]
    first = rp.advance(rp.duration_s, budget_s=0.0)  # one chunk of the way
    assert 0 < len(first) < 5000 and rp.playhead_s < rp.duration_s
    assert len(first) + len(rp.advance(rp.duration_s)) == 5000
    assert rp.playhead_s == rp.duration_s


def test_worker_batches_travel_as_marshal_and_decode_whatever_the_encoding() -> None:
    """A worker's batch is marshal (cheaper to write and read than pickle); one marshal refuses
    goes pickled; both decode to the same batch, and a torn marshal payload is counted lost."""
    plain = (3, 7, [(int(Kind.GET), 1.0, 1.5, (3 << 32) + 1), (int(Kind.TASK_DONE), 2.0, 5)])
    odd = (3, 9, [(Kind.PAUSED, 3.0)])  # an IntEnum member: marshal refuses it
    encoded = encode_batch(plain)
    assert encoded == marshal.dumps(plain, 2)
    assert encode_batch(odd)[0] == 0x80  # pickle's PROTO opcode
    src = QueueSource()
    for payload in (encoded, encode_batch(odd), encoded[:-3], marshal.dumps(42, 2)):
        src.put_raw(payload)
    assert src.take() == plain
    assert src.take() == odd
    assert src.take() is None and src.undecodable == 2
