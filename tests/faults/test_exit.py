"""Ending a run the hard ways without a window: a signal to the CLI, a worker ignoring SIGTERM."""

from __future__ import annotations

import signal
import time

import pytest

import engine.runner
from engine.runner import Run, RunStatus
from engine.workers import WorkerSpec, consumer_main

from . import (
    START_TIMEOUT_S,
    all_started,
    cli,
    config,
    const,
    poll_until,
    reap,
    titled,
    wait_for,
    wait_gone,
    worker_pids,
)

# Exiting takes about a second (SIGTERM, grace, SIGKILL); only a hang reaches this bound.
HANG_S = 20.0


def stubborn_consumer(spec: WorkerSpec) -> None:
    """QueueLab's consumer, except that it ignores SIGTERM (as some user code does)."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    consumer_main(spec)


def test_stop_kills_a_worker_that_ignores_sigterm(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine.runner, "consumer_main", stubborn_consumer)
    cfg = config(consumers=2, tasks_per_producer=20, task_duration=const(1.0))
    with Run(cfg) as run:
        assert poll_until(run, all_started, START_TIMEOUT_S)
        assert poll_until(run, lambda m: m.gets >= 2, START_TIMEOUT_S)
        pids = [p.pid for p in run.processes.values()]
        t0 = time.monotonic()
        run.stop()
        took = time.monotonic() - t0
        print(f"\nFIGURE stop() with SIGTERM-ignoring consumers took {took:.2f} s")
        assert not wait_gone(pids, 2.0 - took + 0.5), "a SIGTERM-ignoring worker survived stop()"
        assert run.status is RunStatus.STOPPED
        # They were killed by the SIGKILL that follows the grace period, not by SIGTERM.
        assert sorted(run.exit_codes[s] for s in (2, 3)) == [-signal.SIGKILL] * 2


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_cli_ended_by_a_signal_mid_run_exits_promptly_leaving_nothing(sig: int) -> None:
    p = cli("run", "--set", "consumers=3", "--set", "tasks_per_producer=200",
            "--set", "task_duration=0.5", "--set", "seed=1")  # fmt: skip
    pids: list[int] = []
    try:
        assert wait_for(lambda: titled(p.pid, "queuelab consumer-2"), START_TIMEOUT_S)
        pids = worker_pids(p.pid)
        time.sleep(0.3)
        t0 = time.monotonic()
        p.send_signal(sig)
        _out, err = p.communicate(timeout=30)
        took = time.monotonic() - t0
        print(f"\nFIGURE CLI exit {took:.2f} s after {signal.Signals(sig).name}")
        assert p.returncode == 130, err
        assert "every worker was stopped" in err and "Traceback" not in err, err
        assert took < HANG_S, f"the CLI took {took:.1f} s to exit: a hang"
        assert not wait_gone(pids, 0.5), "workers outlived the CLI"
    finally:
        reap(p, pids)


def hold_join_lock(queue: object, ready: object) -> None:
    """Take the queue's condition lock (as task_done() does) and keep it until killed."""
    queue._cond.acquire()  # type: ignore[attr-defined]
    ready.set()  # type: ignore[attr-defined]
    time.sleep(600)


def test_stop_ends_the_coordinator_even_if_a_killed_worker_held_the_join_lock() -> None:
    import multiprocessing
    import threading

    cfg = config(consumers=1, tasks_per_producer=2, task_duration=const(30.0))
    with Run(cfg) as run:
        assert poll_until(run, lambda m: m.join_called_t is not None, START_TIMEOUT_S)
        time.sleep(0.1)  # the coordinator is inside cond.wait(poll), the lock released
        ctx = multiprocessing.get_context(cfg.start_method)
        ready = ctx.Event()
        holder = ctx.Process(target=hold_join_lock, args=(run.queue, ready), daemon=True)
        holder.start()
        try:
            assert ready.wait(START_TIMEOUT_S)
            holder.kill()
            holder.join(5)
            run.stop()
        finally:
            if holder.is_alive():
                holder.kill()
                holder.join(5)
        coordinators = [t for t in threading.enumerate() if t.name == "queuelab-coordinator"]
        deadline = time.monotonic() + 2.0
        while coordinators and time.monotonic() < deadline:
            time.sleep(0.05)
            coordinators = [t for t in coordinators if t.is_alive()]
        assert not coordinators, "the coordinator thread outlived stop()"
