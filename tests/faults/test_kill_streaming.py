"""SIGKILL a worker while events stream: the others' events keep arriving, nothing is miscounted."""

from __future__ import annotations

import os
import platform
import signal
import sys
import time
from pathlib import Path

import pytest

from engine.runner import Run

from . import RUN_TIMEOUT_S, START_TIMEOUT_S, all_started, config, const, poll_until, wait_for

TASKS = 400
WORK_S = 0.02  # asleep in work ~99% of the time: the kill surely lands there


def _sleeping_in_work(pid: int) -> bool:
    """Its main thread sleeps in a task's work, not in get(), so the kill leaves the queue's
    read lock alone (a consumer killed in get() stalls the queue: see test_kill_consumer).
    Read from /proc/PID/syscall, which still names the call while the process is stopped."""
    return Path(f"/proc/{pid}/syscall").read_text().split()[0] in _SLEEP_SYSCALLS


_SLEEP_SYSCALLS = ("35", "230")  # x86_64 nanosleep, clock_nanosleep


@pytest.mark.slow
@pytest.mark.skipif(
    platform.machine() != "x86_64" or not sys.platform.startswith("linux"),
    reason="reads x86_64 syscall numbers from /proc",
)
def test_killing_a_streaming_consumer_leaves_the_other_streams_flowing() -> None:
    cfg = config(producers=2, consumers=4, tasks_per_producer=TASKS, task_duration=const(WORK_S))

    def feed(run: Run, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            run.poll(0.05, wait_s=0.01)

    with Run(cfg) as run:
        m = run.model
        assert poll_until(run, all_started, START_TIMEOUT_S)
        assert poll_until(run, lambda m: m.task_dones > 40, START_TIMEOUT_S)
        consumers = {s: w.pid for s, w in m.workers.items() if w.role == 1}

        def freeze_one_asleep_in_work() -> int:
            # Stopped first, so the state read is the state killed (no race with its wake-up).
            # The queue's read lock is not fair: any consumer may be the one starved in get().
            for s, pid in consumers.items():
                os.kill(pid, signal.SIGSTOP)
                time.sleep(0.002)
                if _sleeping_in_work(pid):
                    return s
                os.kill(pid, signal.SIGCONT)
            return 0

        victim = wait_for(freeze_one_asleep_in_work, 5.0, step=0.001)
        assert victim, "no consumer was seen asleep in a task"
        pid = consumers[victim]
        os.kill(pid, signal.SIGKILL)
        t_kill = time.perf_counter()
        while m.workers[victim].exitcode is None and time.perf_counter() - t_kill < 5:
            run.poll(0.05, wait_s=0.005)
        print(f"\nFIGURE streaming consumer death seen after "
              f"{(time.perf_counter() - t_kill) * 1000:.0f} ms")  # fmt: skip
        assert m.workers[victim].exitcode == -signal.SIGKILL
        feed(run, 0.1)  # not drain(): with events streaming it would last until the run ends
        assert m.workers[victim].held, "killed outside a task (in get()): not this scenario"
        others = [s for s in m.workers if s != victim]
        alive_others = [s for s in others if m.workers[s].alive]
        states = [(w.name, w.exitcode, w.tasks_done) for w in m.workers.values()]
        assert sum(m.workers[s].role == 1 for s in alive_others) == 3, states
        first = {s: m._expect_seq.get(s, 0) for s in alive_others}
        feed(run, 0.5)
        grown = [s for s in alive_others if m._expect_seq.get(s, 0) > first[s]]
        print(
            f"FIGURE records per stream in the 0.5 s after the death: "
            f"{ {m.workers[s].name: m._expect_seq.get(s, 0) - first[s] for s in alive_others} }"
        )
        assert any(m.workers[s].role == 1 for s in grown), "no consumer's events after the kill"
        # The run ends for everyone but the dead consumer; its sentinel is left on the queue.
        assert poll_until(run, lambda m: all(not m.workers[s].alive for s in others),
                          RUN_TIMEOUT_S), "the survivors never finished"  # fmt: skip
        run.drain(0.3)
        for s in others:
            w = m.workers[s]
            assert w.exitcode == 0 and w.records_sent is not None
            assert m._expect_seq[s] == w.records_sent, f"{w.name}: records lost"
        # What arrived from the dead worker is a whole prefix of what it sent: no gap, no tear.
        assert not any(m._gaps.values()) and run.collector.broken_messages <= 1
        assert m.events_lost == 0
        # Really left: the dead one's task and one sentinel. The model may show one more: the
        # killed worker's last task_done can die in its recorder's buffer, never sent.
        real = run.queue._unfinished_tasks.get_value()
        print(f"FIGURE unfinished: real counter {real}, model {m.unfinished}")
        assert real == 2, "only the dead one's task and sentinel are left"
        assert 0 <= m.unfinished - real <= 1
        print(
            f"FIGURE {m.events} events received, {m.events_lost} lost, "
            f"{run.collector.broken_messages} torn message(s)"
        )
