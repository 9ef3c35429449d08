"""A Run held still, by a join that hangs or by a pause: the model matches the real queue."""

from __future__ import annotations

import time

import pytest

from engine.events import ROLE_CONSUMER
from engine.model import Activity, JoinState
from engine.runner import Run, RunStatus
from tests.faults import RUN_TIMEOUT_S, START_TIMEOUT_S, config, const, poll_until
from tests.run_checks import LINUX, real_unfinished, settle

real_counter_on_linux = pytest.mark.skipif(
    not LINUX, reason="Semaphore.get_value() is only reliable on Linux"
)


@real_counter_on_linux
def test_model_unfinished_equals_real_counter_while_join_hangs() -> None:
    # Every task fails and its task_done is skipped: join() waits forever on 5 unfinished tasks.
    cfg = config(consumers=2, tasks_per_producer=5, failure_rate=1.0,
                 on_failure="skip_task_done")  # fmt: skip
    with Run(cfg) as run:
        assert poll_until(run, lambda m: m.all_exited(), START_TIMEOUT_S)
        settle(run)
        m = run.model
        assert not run.ended
        assert m.join_state == JoinState.WAITING
        assert m.failures == 5
        assert m.unfinished == 5
        assert m.unfinished == real_unfinished(run)
        assert m.depth == 0 and m.in_flight == 5
        assert "5 unfinished" in m.join_words()


def test_pause_freezes_counters_and_resume_finishes() -> None:
    cfg = config(consumers=2, tasks_per_producer=30, task_duration=const(0.05),
                 put_interval=const(0.01))  # fmt: skip
    with Run(cfg) as run:
        assert poll_until(run, lambda m: m.task_dones >= 4, START_TIMEOUT_S)
        run.pause()
        assert run.status is RunStatus.PAUSED
        settle(run)
        m = run.model
        assert m.paused
        frozen = (m.puts, m.gets, m.task_dones)
        assert frozen[2] < 32, "the run finished before the pause took effect"
        real = real_unfinished(run) if LINUX else None
        end = time.monotonic() + 0.5
        while time.monotonic() < end:
            run.poll(0.05, wait_s=0.05)
        assert (m.puts, m.gets, m.task_dones) == frozen, "workers kept going while paused"
        if LINUX:
            assert real_unfinished(run) == real
            # Quiescent mid-run: tasks are queued and held, and the model agrees with the queue.
            assert m.unfinished == real
        assert m.unfinished > 0
        run.resume()
        assert run.status is RunStatus.RUNNING
        assert run.wait(RUN_TIMEOUT_S)
        assert run.end_reason == "joined"
        assert not m.paused
        assert m.task_dones == 32
        assert all(w.exitcode == 0 for w in m.workers.values())


def test_a_worker_released_from_the_pause_goes_back_to_its_task() -> None:
    """Held mid-task, a consumer says PAUSED; released, it says nothing until its task ends.
    The model must show it working again from the resume on, not "paused" for 5 more s."""
    cfg = config(consumers=1, tasks_per_producer=1, task_duration=const(5.0))
    with Run(cfg) as run:
        m = run.model
        consumer = lambda: next(w for w in m.workers.values() if w.role == ROLE_CONSUMER)  # noqa: E731
        assert poll_until(run, lambda m: consumer().activity == Activity.PROCESS,
                          START_TIMEOUT_S)  # fmt: skip
        run.pause()
        assert poll_until(run, lambda m: consumer().activity == Activity.PAUSED,
                          START_TIMEOUT_S)  # fmt: skip
        run.resume()
        assert poll_until(run, lambda m: not m.paused, START_TIMEOUT_S)
        assert m.task_dones == 0, "the 5 s task ended already: the check below proves nothing"
        assert consumer().activity == Activity.PROCESS
        run.stop()
