"""How batches reach a Run's model: fed in chunks, decoded in poll, lost if torn, one selector."""

from __future__ import annotations

from engine.events import Kind
from engine.recorder import dumps_batch
from engine.runner import FEED_CHUNK, Run
from tests.faults import RUN_TIMEOUT_S, config


def test_poll_feeds_a_big_batch_in_chunks_within_its_budget() -> None:
    """A batch bigger than a chunk is split: the model gets its head, the rest waits, in order."""
    run = Run(config(tasks_per_producer=0))
    size = 2 * FEED_CHUNK + 5
    records = [(int(Kind.WORKER_START), 1.0, 100, 0, 0)]
    records += [(int(Kind.PAUSED), 1.0 + i * 1e-6) for i in range(size - 1)]
    run._deliver((1, 0, records))
    applied = run.poll(budget_s=0.0)  # the first look at the clock is after one chunk
    assert len(applied) == FEED_CHUNK and run.pending == 1
    while run.pending:
        run.poll(budget_s=0.0)
    assert run.model.events == size and run.model.events_lost == 0


def test_worker_batches_arrive_pickled_and_are_decoded_in_poll_in_order() -> None:
    """The collector hands batches on as bytes; poll unpickles them, and every listener hears
    each whole batch once, in the model's order, even when poll feeds it in chunks."""
    run = Run(config(tasks_per_producer=0))
    heard: list[tuple[int, int, int]] = []
    run.add_listener(lambda b: heard.append((b[0], b[1], len(b[2]))))
    big = [(int(Kind.WORKER_START), 1.0, 100, 0, 0)]
    big += [(int(Kind.PAUSED), 1.0 + i * 1e-6) for i in range(2 * FEED_CHUNK)]
    run._deliver_raw(dumps_batch((1, 0, big)))
    run._deliver((0, 0, [(int(Kind.PAUSE), 2.0)]))  # the parent's own, already a tuple
    run._deliver_raw(dumps_batch((1, len(big), [(int(Kind.PAUSED), 3.0)])))
    assert heard == [] and run.pending == 3  # nothing decoded before a poll
    applied = run.poll(budget_s=0.0)
    assert len(applied) == FEED_CHUNK and heard == [(1, 0, len(big))]
    while run.pending:
        run.poll(budget_s=0.0)
    assert heard == [(1, 0, len(big)), (0, 0, 1), (1, len(big), 1)]
    assert run.model.events == len(big) + 2 and run.model.events_lost == 0


def test_a_batch_that_will_not_unpickle_is_counted_as_lost() -> None:
    run = Run(config(tasks_per_producer=0))
    run._deliver_raw(dumps_batch((1, 0, [(int(Kind.WORKER_START), 1.0, 100, 0, 0)])))
    run._deliver_raw(b"\x80\x05 torn")  # two records that arrived unreadable
    run._deliver_raw(dumps_batch((1, 3, [(int(Kind.PAUSED), 2.0)])))
    while run.pending:
        run.poll(1.0)
    assert run.undecodable_batches == 1
    assert run.model.events == 2 and run.model.events_lost == 2

def test_the_collector_keeps_one_selector_for_the_whole_run(monkeypatch) -> None:
    """multiprocessing.connection.wait() built and filled a new selector on every wake-up
    (one per batch, ~60 us); the collector now keeps one for the run, and every record still
    arrives, the last ones drained after each worker's exit included."""
    import selectors
    import threading

    made: list[str] = []
    kind = getattr(selectors, "PollSelector", selectors.SelectSelector)
    original = kind.__init__

    def counted(self: object) -> None:
        made.append(threading.current_thread().name)
        original(self)

    monkeypatch.setattr(kind, "__init__", counted)
    # 60,000 records: at least 30 batches of 2048, whatever the machine's speed.
    cfg = config(consumers=2, tasks_per_producer=20_000, sentinels="per_consumer")
    with Run(cfg) as run:
        assert run.wait(RUN_TIMEOUT_S), "the run did not finish"
        run.drain(0.3)
        m = run.model
        assert run.end_reason == "joined" and m.task_dones == 20_002
        assert m.events_lost == 0 and run.received_batches >= 30
        processes = len(run.processes)
    # What is left: CPython's own Process.join() (two waits per process, once, at its exit).
    assert made.count("queuelab-collector") <= 2 * processes, made


def test_a_built_in_task_is_recorded_by_its_get_and_task_done_alone() -> None:
    # A start and an end record of its own (microseconds from its get's return and its
    # task_done) cost two records a task in the workers and the parent's one-by-one model path,
    # whose CPU came out of the measured workers. Each task's work is still drawn from its
    # get to its task_done, and still shipped before the work starts (a kill in it loses nothing).
    from engine.distributions import Distribution
    from engine.states import Activity

    tasks = 40
    cfg = config(consumers=2, tasks_per_producer=tasks, sentinels="per_consumer",
                 task_duration=Distribution.constant(0.002))  # fmt: skip
    kinds: list[int] = []
    run = Run(cfg)
    run.add_listener(lambda batch: kinds.extend(r[0] for r in batch[2]))
    with run:
        assert run.wait(RUN_TIMEOUT_S), "the run did not end"
    m = run.model
    assert m.task_dones == tasks + 2 and m.events_lost == 0
    assert Kind.TASK_START not in kinds and Kind.TASK_END not in kinds
    assert kinds.count(Kind.GET) == tasks + 2
    assert run.received_batches >= tasks  # one ahead of each task's work
    worked = [iv for w in m.workers.values() for iv in w.intervals if iv[2] == Activity.PROCESS]
    assert len(worked) == tasks + 2  # each task (and sentinel) from its get to its task_done
    assert all(t1 - t0 >= 0.0015 for t0, t1, _, label in worked if label >= 0)
