"""The window's hard endings: closed mid-run (healthy, consumers dead, a worker deaf to SIGTERM)
and the GUI process itself SIGKILLed — the app exits in time and no worker survives."""

from __future__ import annotations

import os
import signal
import time

import pytest

from . import START_TIMEOUT_S, cli, reap, wait_for, wait_gone, worker_pids

pytestmark = pytest.mark.slow
# The window exits within about a second (SIGTERM, 0.8 s of grace, SIGKILL); this bound is for
# a hang only (a stuck close), never a figure: a loaded 2-core machine took 5.6 s once.
EXIT_DEADLINE_S = 20.0


def gui(*sets: str, flags: tuple[str, ...] = ()):  # -> subprocess.Popen
    """The real window (offscreen), started at once on a run that lasts long enough."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    args = ["gui", "--start", *flags, "--set", "consumers=2", "--set", "sentinels=per_consumer"]
    args += ["--set", "tasks_per_producer=40", "--set", "task_duration=constant(0.5)"]
    for item in sets:
        args += ["--set", item]
    return cli(*args)


def started_workers(proc) -> list[int]:
    """The consumers (and the producer while it lives: it may finish its puts at once)."""

    def consumers_up() -> list[int]:
        pids = worker_pids(proc.pid)
        n = sum("consumer" in _cmdline(p) for p in pids)
        return pids if n >= 2 else []

    pids = wait_for(consumers_up, START_TIMEOUT_S)
    if not pids:
        proc.kill()
        _out, err = proc.communicate(timeout=5)
        raise AssertionError(f"the window did not start its workers; stderr:\n{err[-3000:]}")
    return pids


def close_window(proc) -> float:
    """Ctrl+C in the terminal closes the window like its close button; seconds to exit."""
    t0 = time.monotonic()
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=EXIT_DEADLINE_S + 10)
    return time.monotonic() - t0


def test_closing_the_window_during_a_healthy_run() -> None:
    proc = gui()
    pids: list[int] = []
    try:
        pids = started_workers(proc)
        took = close_window(proc)
        print(f"\nFIGURE window closed mid-run: exited after {took:.2f} s")
        assert took < EXIT_DEADLINE_S
        assert not wait_gone(pids, 2.0)
    finally:
        reap(proc, pids)


def test_closing_a_window_opened_in_presenter_mode_during_a_run() -> None:
    """``gui --presenter`` (handouts, projectors) starts and ends like the normal window."""
    proc = gui(flags=("--presenter",))
    pids: list[int] = []
    try:
        pids = started_workers(proc)
        took = close_window(proc)
        assert proc.returncode == 0, proc.communicate(timeout=5)[1][-2000:]
        assert took < EXIT_DEADLINE_S
        assert not wait_gone(pids, 2.0)
    finally:
        reap(proc, pids)


def test_closing_the_window_with_every_consumer_dead_and_data_queued() -> None:
    proc = gui("tasks_per_producer=5000", "task_duration=constant(0.2)")
    pids: list[int] = []
    try:
        pids = started_workers(proc)
        consumers = [p for p in pids if "consumer" in _cmdline(p)]
        assert len(consumers) == 2
        for pid in consumers:
            os.kill(pid, signal.SIGKILL)
        time.sleep(0.5)  # the producer keeps putting into a queue nobody reads
        took = close_window(proc)
        print(f"\nFIGURE window closed with dead consumers and a full pipe: {took:.2f} s")
        assert took < EXIT_DEADLINE_S
        assert not wait_gone(pids, 2.0)
    finally:
        reap(proc, pids)


def test_closing_the_window_with_a_worker_that_does_not_answer_sigterm() -> None:
    proc = gui()
    pids: list[int] = []
    try:
        pids = started_workers(proc)
        # A stopped process leaves SIGTERM pending, as a worker ignoring it would; only the
        # SIGKILL that follows the grace period ends it.
        os.kill(next(p for p in pids if "consumer" in _cmdline(p)), signal.SIGSTOP)
        took = close_window(proc)
        print(f"\nFIGURE window closed with a worker deaf to SIGTERM: {took:.2f} s")
        assert took < EXIT_DEADLINE_S
        assert not wait_gone(pids, 2.0)
    finally:
        reap(proc, pids)


def test_sigkill_of_the_gui_takes_every_worker_with_it() -> None:
    proc = gui()
    pids: list[int] = []
    try:
        pids = started_workers(proc)
        proc.kill()
        proc.wait(timeout=5)
        t0 = time.monotonic()
        left = wait_gone(pids, 2.0)
        print(f"\nFIGURE GUI SIGKILLed: workers gone after {time.monotonic() - t0:.2f} s")
        assert not left, f"workers survived the GUI: {left}"
    finally:
        reap(proc, pids)


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline") as f:
            return f.read()
    except OSError:
        return ""
