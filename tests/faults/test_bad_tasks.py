"""Tasks that cannot be pickled or whose work raises: refused or shown failed, never a hang."""

from __future__ import annotations

import multiprocessing
import threading

import pytest

from engine.recorder import Recorder
from engine.runner import Run
from engine.traced_queue import TracedJoinableQueue, UnpicklableTaskError

from . import RUN_TIMEOUT_S, config, const


def _join_returns(q: TracedJoinableQueue, timeout: float) -> bool:
    t = threading.Thread(target=q.join, name="queuelab-test-join", daemon=True)
    t.start()
    t.join(timeout)
    return not t.is_alive()


@pytest.mark.parametrize(
    "traced",
    [True, False],
    ids=["recorder", "no-recorder"],
)
def test_unpicklable_task_is_refused_at_put_and_join_returns(traced: bool) -> None:
    ctx = multiprocessing.get_context("spawn")
    q = TracedJoinableQueue(ctx=ctx)
    records: list = []
    if traced:
        q.bind_recorder(Recorder(0, records.append, batch=1))
    try:
        with pytest.raises(UnpicklableTaskError) as info:
            q.put((3, lambda: 1))
        text = str(info.value)
        assert "(3, <function" in text and "cannot be pickled" in text, text
        # The unfinished counter was not raised: join() returns at once.
        assert q._unfinished_tasks.get_value() == 0
        assert _join_returns(q, 2.0), "join() hangs after a refused put"
        assert not any(t.name == "QueueFeederThread" for t in threading.enumerate())
    finally:
        q.cancel_join_thread()
        q.close()


def test_bare_lambda_is_refused_naming_it() -> None:
    ctx = multiprocessing.get_context("spawn")
    q = TracedJoinableQueue(ctx=ctx)
    q.bind_recorder(Recorder(0, lambda batch: None, batch=1))
    try:
        with pytest.raises(UnpicklableTaskError, match="lambda"):
            q.put(lambda: 1)
        assert _join_returns(q, 2.0)
    finally:
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
