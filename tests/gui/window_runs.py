"""The main window's test runs: a small and a long config, a shown window, a run to its end."""

from __future__ import annotations

from collections.abc import Iterator

import psutil
import pytest

from engine.config import RunConfig
from engine.distributions import Distribution
from engine.model import Activity
from gui.main_window import MainWindow

# One producer: with several, engine/workers.py lets the last producer's None sentinels
# overtake tasks still in another producer's feeder thread (reported to the lead), and the
# run then hangs in join(); that race is the engine's, not the window's.
SMALL = RunConfig(
    producers=1,
    consumers=2,
    tasks_per_producer=24,
    task_duration=Distribution.uniform(0.01, 0.04),
    sentinels="per_consumer",
    seed=7,
    title="small",
)
# Long enough (~5 s of work per consumer) that pause, stop and close happen mid-run.
LONG = SMALL.replace(tasks_per_producer=200, task_duration=Distribution.constant(0.1))

END_TIMEOUT_MS = 60_000


@pytest.fixture(name="window")
def fixture_window(qtbot) -> Iterator[MainWindow]:
    w = MainWindow(SMALL)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.close()  # stops whatever run a failed test left behind


def worker_pids(w: MainWindow) -> list[int]:
    run = w.driver.run
    assert run is not None
    pids = [p.pid for p in run.processes.values()]
    assert pids and all(pids)
    return pids


def child_pids() -> set[int]:
    return {p.pid for p in psutil.Process().children(recursive=True)}


def alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def describe(w: MainWindow) -> str:
    """What the run was doing, for a failure message."""
    run, m = w.driver.run, w.model
    if run is None or m is None:
        return "no run"
    workers = {
        wi.name: (wi.pid, Activity(wi.activity).name, wi.exitcode, alive(wi.pid))
        for wi in m.workers.values()
    }
    return (
        f"status={run.status} ended={run.ended} pending={run.pending} polling="
        f"{w.driver.polling} join={m.join_words()!r} puts={m.puts} gets={m.gets} "
        f"dones={m.task_dones} events={m.events} lost={m.events_lost} workers={workers} "
        f"procs={[(p.pid, p.exitcode) for p in run.processes.values()]}"
    )


def run_to_end(qtbot, w: MainWindow) -> None:
    try:
        with qtbot.waitSignal(w.driver.sig_ended, timeout=END_TIMEOUT_MS):
            assert w.start_run()
    except Exception as error:
        raise AssertionError(describe(w)) from error
