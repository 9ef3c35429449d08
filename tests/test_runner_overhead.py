"""What the parent costs a run: main's join paced by the counter, the forkserver started first."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import pytest

from engine.runner import Run


def _counted(body: Callable[[], None], into: dict[str, float]) -> Callable[[], None]:
    """``body`` (a thread's whole life) that leaves its wake-ups and wall seconds in ``into``."""

    def counted() -> None:
        import resource

        r0 = resource.getrusage(resource.RUSAGE_THREAD)
        t0 = time.perf_counter()
        try:
            body()
        finally:
            r1 = resource.getrusage(resource.RUSAGE_THREAD)
            into["wakeups"] = r1.ru_nvcsw - r0.ru_nvcsw
            into["s"] = time.perf_counter() - t0

    return counted


class _CountedRun(Run):
    """A Run whose coordinating thread (main's joins) counts its own wake-ups."""

    def _coordinate(self) -> None:
        self.coordinator: dict[str, float] = {}
        _counted(super()._coordinate, self.coordinator)()


def test_mains_join_follows_the_counters_pace_not_a_2ms_poll() -> None:
    # It used to look at the counter every 2 ms for the whole run: 500 wake-ups a second of a
    # parent whose CPU, on a 2-core machine, comes out of the workers it measures.
    from engine.join_pace import CEIL_S
    from tests.faults import config, const

    cfg = config(consumers=2, tasks_per_producer=60, task_duration=const(0.02),
                 sentinels="per_consumer")  # fmt: skip
    run = _CountedRun(cfg)
    with run:
        assert run.wait(120), "the run did not end"
    m = run.model
    assert run.end_reason == "joined" and m.task_dones == 62
    # The join is still seen when it happens: after the last task_done, never before it.
    assert m.join_returned_t >= float(m.done_t.view().max())
    # Generous: 1.5x one look per CEIL_S over the whole coordination, plus the producers' and
    # the processes' joins. Bounded by the wall time it took, so a loaded machine cannot fail it.
    bound = 1.5 * run.coordinator["s"] / CEIL_S + 40
    assert 0 <= run.coordinator["wakeups"] <= bound, run.coordinator


def test_the_collector_wakes_at_its_pace_not_for_every_small_batch() -> None:
    # Consumers of short tasks ship a batch before each task's work (a worker killed in the
    # task must not take its last task_done with it). Woken by each of them, the collector
    # thread preempted a measured worker for every task on a 2-core machine.
    from engine import collector
    from tests.faults import config, const

    tasks = 400
    cfg = config(consumers=2, tasks_per_producer=tasks, task_duration=const(0.001),
                 sentinels="per_consumer")  # fmt: skip
    run = Run(cfg)
    counted: dict[str, float] = {}
    run.collector._serve = _counted(run.collector._serve, counted)  # type: ignore[method-assign]
    with run:
        assert run.wait(120), "the run did not end"
    m = run.model
    assert run.end_reason == "joined" and m.task_dones == tasks + 2 and m.events_lost == 0
    batches = run.received_batches
    assert batches >= tasks, batches  # still one before each task's work
    # A wake-up per pause at most (each pause is one more), and the waits for the GIL; bounded
    # by the wall time it took, so a loaded machine cannot fail it. The base: one per batch.
    bound = 2 * counted["s"] / collector.PAUSE_S + 20
    assert counted["wakeups"] <= min(bound, 0.6 * batches), (counted, batches)


def test_join_pace_sleeps_an_eighth_of_the_time_left_between_its_floor_and_ceiling(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from engine import join_pace

    clock = [100.0]
    left = [100]
    monkeypatch.setattr(join_pace, "perf_counter", lambda: clock[0])
    counter = SimpleNamespace(get_value=lambda: left[0])
    pace = join_pace.JoinPace(counter)
    assert pace.next_sleep() == join_pace.FLOOR_S  # no pace known yet
    clock[0] += 1.0
    assert pace.next_sleep() == join_pace.FLOOR_S  # no progress: it might touch zero any time
    left[0] = 50  # 50 done in 2 s: 2 s to go
    clock[0] += 1.0
    assert pace.next_sleep() == join_pace.CEIL_S
    left[0] = 2  # 98 done in 2.1 s: ~43 ms to go
    clock[0] += 0.1
    assert pace.next_sleep() == pytest.approx(2 * 2.1 / 98 / join_pace.MARGIN)
    left[0] = 0
    assert pace.next_sleep() == join_pace.FLOOR_S
    # No sem_getvalue (macOS): the old 2 ms looks.
    def no_value() -> int:
        raise NotImplementedError

    assert join_pace.JoinPace(SimpleNamespace(get_value=no_value)).next_sleep() == join_pace.FLOOR_S


_FIRST_RUN = """
import sys
import psutil
from engine.config import RunConfig
from engine.events import Kind
from engine.runner import Run

def forkservers():
    return [p for p in psutil.Process().children()
            if any("forkserver" in part for part in p.cmdline())]

if __name__ == "__main__":
    run = Run(RunConfig(consumers=1, tasks_per_producer=2, start_method="forkserver"))
    at_start = []
    emit = run.rec.emit
    def watch(record):
        if record[0] == Kind.RUN_START:
            at_start.extend((p, sum(p.cpu_times()[:2])) for p in forkservers())
        emit(record)
    run.rec.emit = watch
    with run:
        assert run.wait(120)
    assert len(at_start) == 1, "no forkserver running when the run's clock started"
    server, before = at_start[0]
    after = sum(server.cpu_times()[:2]) - before
    print(f"forkserver CPU before the run {before:.3f} s, during it {after:.3f} s")
    sys.exit(0 if after < before else 1)
"""


def test_the_forkservers_start_up_is_not_in_the_first_runs_window(tmp_path: Path) -> None:
    # The forkserver (an interpreter importing the engine) started with the first worker,
    # inside the first run's makespan: ~70 ms of CPU, a second on a loaded 2-core machine,
    # that the plain program's figure and every later run's did not have. It is started and
    # waited for before RUN_START now. A fresh interpreter: this one may have a server already.
    script = tmp_path / "first_run.py"
    script.write_text(_FIRST_RUN)
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": str(root)}
    done = subprocess.run([sys.executable, str(script)], env=env, capture_output=True,
                          text=True, timeout=180)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


_TWO_RUNS = """
import sys

def one_run():
    from engine.config import RunConfig
    from engine.runner import Run

    with Run(RunConfig(consumers=2, tasks_per_producer=4, start_method="forkserver")) as run:
        assert run.wait(120)

if __name__ == "__main__":  # each worker re-runs this file as __mp_main__: nothing to import
    one_run()  # the parent's own imports, and the forkserver's
    print("QUEUELAB-SECOND-RUN", file=sys.stderr, flush=True)
    one_run()
"""
# What a plain program's worker does not import and QueueLab's own needs.
_OURS = ("engine", "argparse", "ctypes", "setproctitle", "logging", "multiprocessing.sharedctypes")


def test_workers_forked_from_the_forkserver_import_nothing_of_queuelabs_own(
    tmp_path: Path,
) -> None:
    # Each worker imported main.py's command line, the traced queue, the pause flag's ctypes
    # and the process-title module for itself: ~12 ms of CPU apiece inside the measured run,
    # 25 ms against a plain program's worker's 7. The forkserver imports them once now.
    script = tmp_path / "two_runs.py"
    script.write_text(_TWO_RUNS)
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": str(root), "PYTHONPROFILEIMPORTTIME": "1"}
    done = subprocess.run([sys.executable, str(script)], env=env, capture_output=True,
                          text=True, timeout=180)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    first, marker, second = done.stderr.partition("QUEUELAB-SECOND-RUN")
    assert marker, done.stderr[-3000:]
    imported = {line.rsplit("|", 1)[1].strip() for line in second.splitlines()
                if line.startswith("import time:") and "|" in line}  # fmt: skip
    assert "engine.workers" in {line.rsplit("|", 1)[1].strip() for line in first.splitlines()
                                if line.startswith("import time:")}  # fmt: skip
    ours = sorted(m for m in imported if m.split(".")[0] in _OURS or m in _OURS)
    assert not ours, f"the second run's workers imported {ours}"
