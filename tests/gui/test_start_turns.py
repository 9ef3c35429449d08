"""A Start in turns of the event loop: the views for the new run are readied and painted first,
its workers are launched after (gui/run_start.py); a stop or a failure in between."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
from PySide6.QtCore import QEvent, QObject

from engine.runner import Run, RunStatus
from gui.main_window import MainWindow
from gui.sweep_window import start_sweep
from tests.gui.window_runs import END_TIMEOUT_MS, SMALL, alive, child_pids
from tests.gui.window_runs import fixture_window as fixture_window

pytestmark = pytest.mark.slow


class Repaints(QObject):
    """Counts the window's repaints (each starts with an UpdateRequest to the window)."""

    def __init__(self, w: MainWindow) -> None:
        super().__init__(w)
        self.count = 0
        w.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.UpdateRequest:
            self.count += 1
        return False


def test_the_start_turn_readies_the_views_and_the_run_is_launched_once_they_are_drawn(
    window: MainWindow, qtbot, monkeypatch
) -> None:
    """The Start click's turn starts nothing: the run's workers took the two cores from it
    (benchmarks/gui_flood.py: 85-93 ms of wall for ~25 ms of the window's CPU). Its views are
    drawn first, and the run then goes as before, RUN_START then its workers."""
    w = window
    repaints = Repaints(w)
    at_launch: list[tuple[int, bool]] = []
    start = Run.start

    def noting(self: Run, **kw: object) -> Run:
        at_launch.append((repaints.count, w.charts.model is self.model))
        return start(self, **kw)

    monkeypatch.setattr(Run, "start", noting)
    with qtbot.waitSignal(w.driver.sig_ended, timeout=END_TIMEOUT_MS) as ended:
        assert w.start_run()
        # The turn is over and nothing is started, but the window shows the run as going.
        assert at_launch == [] and w.run_start.pending and w.driver.run is not None
        assert not w.controls.start_action.isEnabled() and w.controls.stop_action.isEnabled()
        assert w.config_panel.locked
    assert ended.args == ["joined"]
    assert len(at_launch) == 1
    painted, charts_ready = at_launch[0]
    assert painted >= 1 and charts_ready  # launched after the new run's views were drawn
    assert w.model.task_dones == SMALL.tasks_per_producer + SMALL.consumers
    assert not w.run_start.pending and w.controls.start_action.isEnabled()


def test_stop_or_pause_pressed_before_the_launch_act_on_the_run(window: MainWindow, qtbot) -> None:
    """Space twice, a script: Stop in the Start's own turn ends the run as a Stop does (every
    worker started is ended, sig_ended says so); Pause there pauses it."""
    w = window
    with qtbot.waitSignal(w.driver.sig_ended, timeout=END_TIMEOUT_MS) as ended:
        assert w.start_run()
        w.stop_run()
        assert not w.run_start.pending
    assert ended.args[0].startswith("stopped")
    assert not any(alive(p.pid) for p in w.driver.run.processes.values() if p.pid)
    assert w.controls.start_action.isEnabled() and not w.config_panel.locked
    assert w.start_run()
    w.pause_run()
    assert w.driver.status is RunStatus.PAUSED and not w.run_start.pending
    with qtbot.waitSignal(w.driver.sig_ended, timeout=END_TIMEOUT_MS) as ended:
        w.stop_run()
    assert ended.args[0].startswith("stopped")


def _failing_start(self: Run, **kw: object) -> Run:
    raise OSError("no semaphores left")


def test_a_run_that_cannot_start_says_why_and_leaves_nothing(
    window: MainWindow, qtbot, monkeypatch
) -> None:
    w = window
    monkeypatch.setattr(Run, "start", _failing_start)
    before = child_pids()
    assert w.start_run()  # the views are readied; the launch, a turn later, fails
    qtbot.waitUntil(lambda: w.last_error_box is not None, timeout=10_000)
    assert "OSError: no semaphores left" in w.last_error_box.text()
    w.last_error_box.close()
    assert w.driver.run is None and not w.run_start.pending
    assert w.controls.start_action.isEnabled() and not w.config_panel.locked
    assert child_pids() <= before


def test_a_sweep_whose_run_cannot_start_ends_and_says_why(
    window: MainWindow, qtbot, monkeypatch
) -> None:
    from engine.sweep import parse_params

    monkeypatch.setattr(Run, "start", _failing_start)
    sw = start_sweep(window, SMALL, parse_params(["consumers=1,2"], SMALL), 1, 0)
    qtbot.waitUntil(lambda: sw.runner.finished, timeout=10_000)
    assert not sw.runner.complete
    assert sw.runner.error == "a run could not be started: OSError: no semaphores left"
    assert window.driver.run is None


def test_an_unattended_window_whose_run_cannot_start_quits_and_says_why(
    qtbot, monkeypatch, capsys
) -> None:
    # `gui --quit-when-done` (a script, CI) waited for ever behind the error dialog nobody
    # would close.
    monkeypatch.setattr(Run, "start", _failing_start)
    w = MainWindow(SMALL, None, quit_when_done=True)
    qtbot.addWidget(w)
    w.show()
    codes: list[int] = []
    w.sig_done.connect(codes.append)
    assert w.start_run()
    qtbot.waitUntil(lambda: codes == [3], timeout=10_000)
    assert "could not start the run: OSError: no semaphores left" in capsys.readouterr().err
    qtbot.waitUntil(lambda: not w.isVisible(), timeout=10_000)
