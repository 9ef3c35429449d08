"""The live window under a flood of no-op tasks: what it shows at the end, what it costs."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest

from engine.config import RunConfig
from engine.distributions import Distribution
from engine.runner import Run
from gui.run_driver import RunDriver

pytestmark = pytest.mark.slow

# Fast enough that batches of many records reach the window (a small flood).
FLOOD = RunConfig(
    producers=1, consumers=2, tasks_per_producer=3000, task_duration=Distribution.constant(0),
    workload="cpu", sentinels="per_consumer", title="flood",
)
END_TIMEOUT_MS = 120_000


def test_applied_records_reach_the_window_as_the_list_polled(qtbot) -> None:
    """sig_applied hands its slots the very list the run's poll returned: a ``list`` signal
    copied every (src, record) pair through a QVariant and back, 0.3 s per 600,000 records."""
    driver = RunDriver()
    run = Run(FLOOD)
    polled: list[list] = []
    poll = run.poll

    def keeping_poll(*a: object, **k: object) -> list:
        applied = poll(*a, **k)
        polled.append(applied)
        return applied

    run.poll = keeping_poll  # type: ignore[method-assign]
    got: list[list] = []
    driver.sig_applied.connect(got.append)
    try:
        with qtbot.waitSignal(driver.sig_ended, timeout=END_TIMEOUT_MS):
            driver.start(FLOOD, run)
    finally:
        driver.discard()
    assert got and sum(map(len, got)) == run.model.events
    ids = {id(p) for p in polled}
    assert all(id(g) in ids for g in got)


def test_the_first_start_is_readied_while_the_window_waits(qtbot, monkeypatch) -> None:
    """The slow first steps of a start (the forkserver's start and its import of the worker
    module, the cpu work's speed measurement) are done once the window shows, not in the
    Start click that blocked the event loop for 300 ms to 1 s."""
    from multiprocessing import forkserver

    from engine import cpuwork
    from gui.main_window import MainWindow

    monkeypatch.setattr(cpuwork, "_speed", None)
    w = MainWindow(FLOOD.replace(start_method="forkserver"))
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(lambda: cpuwork._speed is not None, timeout=10_000)
    assert forkserver._forkserver._forkserver_pid is not None
    assert w.driver.run is None  # nothing was started
    w.close()
