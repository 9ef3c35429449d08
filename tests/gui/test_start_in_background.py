"""The window's Start returns before the workers are started: a forkserver start is a round trip
(20-200 ms each under load) that blocked the event loop once per worker."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import threading
from multiprocessing.process import BaseProcess

import psutil
import pytest

from engine.config import RunConfig
from engine.distributions import Distribution
from gui.main_window import MainWindow

pytestmark = pytest.mark.slow

SMALL = RunConfig(
    producers=2, consumers=2, tasks_per_producer=20, task_duration=Distribution.constant(0.001),
    sentinels="per_consumer", start_method="forkserver", title="small",
)
END_TIMEOUT_MS = 60_000


def test_start_returns_and_the_workers_are_started_off_the_gui_thread(qtbot, monkeypatch) -> None:
    starts: list[bool] = []  # per worker start: on the GUI thread?
    start = BaseProcess.start

    def noting(self: BaseProcess) -> None:
        if self.name.startswith("queuelab ") and "warm-up" not in self.name:
            starts.append(threading.current_thread() is threading.main_thread())
        start(self)

    monkeypatch.setattr(BaseProcess, "start", noting)
    w = MainWindow(SMALL)
    qtbot.addWidget(w)
    w.show()
    with qtbot.waitSignal(w.driver.sig_ended, timeout=END_TIMEOUT_MS) as ended:
        assert w.start_run()
    assert ended.args == ["joined"]
    assert starts == [False] * 4
    m = w.model
    assert m.task_dones == 2 * 20 + 2 and m.events_lost == 0
    assert sorted(w.driver.run.processes) == [1, 2, 3, 4]
    w.close()


def test_a_stop_while_the_workers_start_ends_every_one_started(qtbot, monkeypatch) -> None:
    """Stop pressed while the second worker starts: that one is ended with the first, no other
    is started, and the run ends as stopped."""
    reached, release = threading.Event(), threading.Event()
    started: list[int] = []
    start = BaseProcess.start

    def held(self: BaseProcess) -> None:
        if self.name.startswith("queuelab ") and "warm-up" not in self.name:
            if len(started) == 1:
                reached.set()
                assert release.wait(60)
            start(self)
            started.append(self.pid)
        else:
            start(self)

    monkeypatch.setattr(BaseProcess, "start", held)
    w = MainWindow(SMALL.replace(task_duration=Distribution.constant(0.5)))
    qtbot.addWidget(w)
    w.show()
    assert w.start_run()
    # The second worker's start is under way (launched turns after the Start: run_start.py).
    qtbot.waitUntil(reached.is_set, timeout=60_000)
    with qtbot.waitSignal(w.driver.sig_ended, timeout=END_TIMEOUT_MS) as ended:
        w.stop_run()
        release.set()
    assert ended.args[0].startswith("stopped")
    assert len(started) == 2 and len(w.driver.run.processes) == 2
    for pid in started:
        assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    w.close()


def test_the_views_are_readied_before_the_runs_clock_and_workers_start(qtbot, monkeypatch) -> None:
    """A Start readies the charts, the log and the code pane for the new run first, and then
    starts it: the workers' start-up (a thread) and their flood took the CPU and the GIL from
    that turn of the event loop (benchmarks/gui_flood.py: the Start was its longest gap)."""
    from engine.runner import Run

    seen: list[bool] = []
    start = Run.start

    def noting(self: Run, **kw: object) -> Run:
        seen.append(w.charts.model is self.model and w.event_log._model is self.model)
        return start(self, **kw)

    monkeypatch.setattr(Run, "start", noting)
    w = MainWindow(SMALL)
    qtbot.addWidget(w)
    w.show()
    with qtbot.waitSignal(w.driver.sig_ended, timeout=END_TIMEOUT_MS) as ended:
        assert w.start_run()
    assert ended.args == ["joined"] and seen == [True]
    assert w.model.t0 is not None and w.model.task_dones == 2 * 20 + 2
    w.close()
