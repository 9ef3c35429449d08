"""Tasks that cannot be pickled or whose work raises: lost and diagnosed, or shown failed."""

from __future__ import annotations

import multiprocessing
import threading
import time

from engine.events import Kind
from engine.explain import diagnose
from engine.model import RunModel
from engine.recorder import Recorder
from engine.runner import Run
from engine.traced_queue import TracedJoinableQueue

from . import RUN_TIMEOUT_S, config, const


def _join_returns(q: TracedJoinableQueue, timeout: float) -> bool:
    t = threading.Thread(target=q.join, name="queuelab-test-join", daemon=True)
    t.start()
    t.join(timeout)
    return not t.is_alive()


def test_unpicklable_task_is_lost_as_in_cpython_and_diagnosed() -> None:
    # put() returns, the feeder drops the item, join() never returns: and the model and the
    # diagnosis say which task it was and why.
    ctx = multiprocessing.get_context("spawn")
    q = TracedJoinableQueue(ctx=ctx)
    batches: list = []
    q.bind_recorder(Recorder(0, batches.append, batch=1))
    model = RunModel()
    model.feed([(0, 0, [(int(Kind.RUN_START), time.perf_counter(), 1, 1, 2)])])
    try:
        q.put((3, lambda: 1))  # returns, as JoinableQueue.put does
        q.put((4, 0.5))
        assert q.get(timeout=10) == (4, 0.5)
        q.task_done()
        assert not _join_returns(q, 1.0), "join() returned although task 3 never arrived"
        deadline = time.monotonic() + 10
        while not any(r[0] == Kind.FEED_ERROR for b in batches for r in b[2]):
            assert time.monotonic() < deadline, "the feeder's error was never recorded"
            time.sleep(0.01)
        model.feed([(src, first + 1, recs) for src, first, recs in batches])
        assert [(label, "lambda" in text) for _t, _tid, label, text in model.lost_items] == [
            (3, True)
        ]
        assert model.unfinished == 1 and model.depth == 0 and model.in_flight == 0
        found = diagnose(model)
        assert any("Task 3 could not be pickled" in f and "never return" in f for f in found), found
    finally:
        q._unfinished_tasks.acquire()
        with q._cond:
            q._cond.notify_all()
        q.close()


def test_failing_tasks_are_shown_with_their_error_and_the_run_finishes() -> None:
    cfg = config(consumers=2, tasks_per_producer=6, task_duration=const(0.01),
                 failure_rate=1.0, on_failure="task_done")  # fmt: skip
    with Run(cfg) as run:
        assert run.wait(RUN_TIMEOUT_S), "a run whose tasks all fail did not end"
        m = run.model
        assert run.end_reason == "joined" and m.join_returned_t is not None
        assert m.failures == 6
        errors = [e for w in m.workers.values() for e in w.errors]
        assert len(errors) == 6
        assert all(e.startswith("TaskFailure: task ") and "failed" in e for e in errors), errors
        labels = sorted(int(e.split()[2]) for e in errors)
        assert labels == list(range(6)), "each failed task is named in its error"
        assert m.unfinished == 0 and not m.dead_workers()
