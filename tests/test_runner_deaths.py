"""Deaths in a Run: a killed consumer is named with its task; a killed parent leaves no worker."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import psutil
import pytest

from engine.model import Activity, JoinState, RunModel
from engine.runner import Run
from tests.faults import RUN_TIMEOUT_S, START_TIMEOUT_S, config, const, poll_until
from tests.run_checks import LINUX, METHODS, assert_all_gone, real_unfinished, settle

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("done_before", [0, 1], ids=["first-task", "second-task"])
def test_consumer_killed_mid_task_is_detected_with_its_task_named(
    proc_tools: SimpleNamespace, done_before: int
) -> None:
    """Killed in its first task or in a later one: what it finished before still counts."""
    duration = 0.4
    cfg = config(consumers=2, tasks_per_producer=6, task_duration=const(duration))
    victim, survivor = 2, 3
    with Run(cfg) as run:
        m = run.model

        # Kill early in a task, so the victim is surely sleeping in it and not inside get();
        # in the task after ``done_before`` finished ones (gated on the model, not on time).
        def early_in_task(m: RunModel) -> bool:
            w = m.workers[victim]
            now = time.perf_counter() - m.t0 if m.t0 is not None else 0.0
            return (w.activity == Activity.PROCESS and w.task != -1 and now - w.since < 0.1
                    and w.tasks_done == done_before)

        assert poll_until(run, early_in_task, START_TIMEOUT_S)
        w = m.workers[victim]
        pid = w.pid
        assert pid == run.processes[victim].pid
        title = " ".join(psutil.Process(pid).cmdline()).strip()
        assert title == "queuelab consumer-0", f"process title is {title!r}"
        label = m.tasks[w.task][0]
        tasks_before = m.workers[survivor].tasks_done
        victim_done = w.tasks_done  # finished before the kill: the model saw each task_done

        os.kill(pid, signal.SIGKILL)
        t_kill = time.monotonic()
        assert poll_until(run, lambda m: m.workers[victim].exitcode is not None, 5.0)
        detected_after = time.monotonic() - t_kill
        print(f"death of consumer-0 in the model after {detected_after * 1000:.0f} ms")

        assert w.exitcode == -signal.SIGKILL
        assert w.activity == Activity.DIED
        assert m.held_task_labels(w) == [label], "the dead worker's task must be named"
        assert [d.name for d in m.dead_workers()] == ["consumer-0"]
        assert run.processes[survivor].is_alive()

        # The other consumer's events keep coming: it finishes the remaining tasks and exits.
        assert poll_until(run, lambda m: not m.workers[survivor].alive, RUN_TIMEOUT_S)
        settle(run)
        other = m.workers[survivor]
        assert other.exitcode == 0
        assert other.tasks_done > tasks_before
        assert victim_done == done_before
        assert other.tasks_done + victim_done + 1 == 6, "every task but the dead worker's was done"
        assert m.task_dones == 5 + 1  # five tasks and the survivor's sentinel
        # The dead worker's task and one sentinel nobody took keep join() waiting.
        assert m.join_state == JoinState.WAITING
        assert m.unfinished == 2
        if LINUX:
            assert m.unfinished == real_unfinished(run)
        assert not run.ended
        pids = [p.pid for p in run.processes.values()]
    assert_all_gone(proc_tools, pids, 0.5)


PARENT_SCRIPT = """
import json, sys, time
from engine.config import RunConfig
from engine.distributions import Distribution
from engine.model import Activity
from engine.runner import Run

if __name__ == "__main__":
    cfg = RunConfig(producers=1, consumers=2, tasks_per_producer=8, maxsize=1, seed=1,
                    task_duration=Distribution.constant(60.0), start_method=sys.argv[1])
    run = Run(cfg).start()
    deadline = time.monotonic() + 20
    # Gated on the records: both consumers have taken their first task (a get's record is sent
    # before the task's 60 s of work), so the parent dies while they work, not while they wait.
    while time.monotonic() < deadline:
        run.poll(0.05, wait_s=0.05)
        working = [w for w in run.model.workers.values() if w.activity == Activity.PROCESS]
        if len(working) == 2:
            break
    took = len(working) == 2
    print(json.dumps(run.alive_pids() if took else "no task taken in 20 s"), flush=True)
    time.sleep(600)
"""


def _read_line(proc: subprocess.Popen, timeout: float) -> str:
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    assert ready, "the script printed nothing"
    return proc.stdout.readline()


@pytest.mark.skipif(not LINUX, reason="uses SIGKILL and select() on a pipe")
@pytest.mark.parametrize("method", METHODS)
def test_parent_killed_leaves_no_worker(method: str, proc_tools: SimpleNamespace) -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    script = subprocess.Popen(
        [sys.executable, "-c", PARENT_SCRIPT, method],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    pids: list[int] = []
    others: list[int] = []
    try:
        said = json.loads(_read_line(script, START_TIMEOUT_S))
        assert isinstance(said, list), said
        pids = said
        assert len(pids) == 3
        assert all(proc_tools.is_queuelab_process(psutil.Process(pid)) for pid in pids)
        # Its forkserver / resource tracker should go too (not a deadline: just "not left").
        others = [p.pid for p in psutil.Process(script.pid).children(recursive=True)
                  if p.pid not in pids]  # fmt: skip
        os.kill(script.pid, signal.SIGKILL)
        script.wait(5)
        t_kill = time.monotonic()
        left = proc_tools.wait_gone(pids, 2.0)
        print(f"{method}: workers gone {time.monotonic() - t_kill:.2f} s after the parent's death")
        assert not left, f"workers outlived their SIGKILLed parent by 2 s: {left}"
        assert not proc_tools.wait_gone(others, 5.0), "helper processes outlived the parent"
    finally:
        if script.poll() is None:
            script.kill()
            script.wait(5)
        for pid in pids + others:
            if proc_tools.pid_running(pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
