"""Stopping a Run: stop() ends workers blocked in put or get, or paused; the with-block too."""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest

from engine.model import JoinState
from engine.runner import Run, RunStatus
from tests.faults import START_TIMEOUT_S, all_started, config, const, poll_until
from tests.run_checks import assert_all_gone, settle

# The functional deadline for stop(); the slack absorbs a loaded 2-core machine.
STOP_DEADLINE_S = 2.0
STOP_SLACK_S = 0.6


def _stop_timed(run: Run, tools: SimpleNamespace) -> float:
    pids = [p.pid for p in run.processes.values()]
    t0 = time.monotonic()
    run.stop()
    elapsed = time.monotonic() - t0
    print(f"stop() took {elapsed:.2f} s")
    assert all(p.exitcode is not None for p in run.processes.values())
    assert_all_gone(tools, pids, 0.5)
    assert run.status is RunStatus.STOPPED
    assert run.end_reason == "stopped"
    return elapsed


def test_stop_ends_a_producer_blocked_in_put_on_a_full_queue(proc_tools: SimpleNamespace) -> None:
    cfg = config(tasks_per_producer=10, maxsize=1, task_duration=const(60.0))
    with Run(cfg) as run:
        # The consumer holds task 0, task 1 fills the queue, the producer blocks putting task 2.
        assert poll_until(run, lambda m: m.gets >= 1 and m.puts >= 2, START_TIMEOUT_S)
        time.sleep(0.2)
        run.poll(0.05)
        assert run.model.puts == 2, "the producer should be blocked on the full queue"
        assert run.processes[1].is_alive()
        elapsed = _stop_timed(run, proc_tools)
        assert elapsed < STOP_DEADLINE_S + STOP_SLACK_S, f"stop() took {elapsed:.2f} s"
        settle(run, 0.2)
        assert run.model.end_reason == "stopped"
        assert all(w.exitcode is not None for w in run.model.workers.values())


def test_stop_ends_consumers_blocked_in_get(proc_tools: SimpleNamespace) -> None:
    cfg = config(consumers=2, tasks_per_producer=3, sentinels="none")
    with Run(cfg) as run:
        # join() returns (every task done) but the consumers wait in get() for ever.
        assert poll_until(
            run,
            lambda m: m.join_state == JoinState.RETURNED and not m.workers[1].alive,
            START_TIMEOUT_S,
        )
        time.sleep(0.2)
        assert run.processes[2].is_alive() and run.processes[3].is_alive()
        assert not run.ended
        elapsed = _stop_timed(run, proc_tools)
        assert elapsed < STOP_DEADLINE_S + STOP_SLACK_S, f"stop() took {elapsed:.2f} s"


def test_stop_while_paused(proc_tools: SimpleNamespace) -> None:
    cfg = config(consumers=2, tasks_per_producer=50, task_duration=const(0.05))
    with Run(cfg) as run:
        assert poll_until(run, lambda m: m.task_dones >= 1, START_TIMEOUT_S)
        run.pause()
        elapsed = _stop_timed(run, proc_tools)
        assert elapsed < STOP_DEADLINE_S + STOP_SLACK_S, f"stop() took {elapsed:.2f} s"


def test_context_manager_stops_everything(proc_tools: SimpleNamespace) -> None:
    # maxsize=1 keeps the producer alive too, blocked in put().
    cfg = config(consumers=2, tasks_per_producer=6, maxsize=1, task_duration=const(60.0))
    with Run(cfg) as run:
        assert run.status is RunStatus.RUNNING
        assert poll_until(run, all_started, START_TIMEOUT_S)
        pids = run.alive_pids()
        assert len(pids) == 3
    assert run.ended
    assert run.status is RunStatus.STOPPED
    assert all(p.exitcode is not None for p in run.processes.values())
    assert_all_gone(proc_tools, pids, 0.5)


def test_context_manager_stops_everything_on_exception(proc_tools: SimpleNamespace) -> None:
    cfg = config(consumers=2, tasks_per_producer=6, maxsize=1, task_duration=const(60.0))
    pids: list[int] = []
    with pytest.raises(KeyError, match="boom"), Run(cfg) as run:
        assert poll_until(run, all_started, START_TIMEOUT_S)
        pids.extend(run.alive_pids())
        raise KeyError("boom")
    assert len(pids) == 3
    assert run.status is RunStatus.STOPPED
    assert_all_gone(proc_tools, pids, 0.5)
