"""The window's run controls and keys: pause and resume, stop, close mid-run, reset."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
from PySide6.QtCore import Qt, QTimer

from engine.model import Activity
from engine.runner import RunStatus
from gui.main_window import MainWindow
from gui.run_session import EXIT_JOINED, EXIT_NOT_JOINED
from tests.gui.window_runs import END_TIMEOUT_MS, LONG, alive, child_pids, run_to_end, worker_pids

# The fixture window: pytest finds it among this module's names.
from tests.gui.window_runs import fixture_window as fixture_window

pytestmark = pytest.mark.slow


# ---------------------------------------------------------------------------- pause / resume


def test_pause_holds_every_worker_and_resume_reaches_the_join(qtbot, window: MainWindow) -> None:
    window.config_panel.set_config(LONG)
    assert window.start_run()
    assert window.config_panel.locked
    qtbot.waitUntil(lambda: window.model.task_dones >= 6, timeout=END_TIMEOUT_MS)
    pids = worker_pids(window)
    window.controls.pause_action.trigger()
    assert window.driver.status is RunStatus.PAUSED
    assert window.controls.pause_action.text() == "Resume"
    m = window.model
    # Each consumer holds at its next step (within one 50 ms sleep slice) and says so.
    consumers = [w for w in m.workers.values() if w.name.startswith("consumer")]
    qtbot.waitUntil(lambda: all(w.activity == Activity.PAUSED for w in consumers), timeout=5000)
    qtbot.wait(300)
    before = (m.events, m.puts, m.gets, m.task_dones)
    clock = window.driver.elapsed()
    qtbot.wait(1500)
    assert (m.events, m.puts, m.gets, m.task_dones) == before
    assert window.driver.elapsed() == pytest.approx(clock, abs=0.05)  # the charts' clock too
    assert m.task_dones < 200
    live = [pid for pid in pids if alive(pid)]
    assert {w.pid for w in consumers} <= set(live)  # held, not dead
    assert window.driver.status is RunStatus.PAUSED

    with qtbot.waitSignal(window.driver.sig_ended, timeout=END_TIMEOUT_MS):
        window.controls.pause_action.trigger()  # Resume
        assert window.driver.status is RunStatus.RUNNING
    assert m.join_returned_t is not None and m.task_dones == 200 + 2
    notes = [ln.split("— ", 1)[1] for ln in window.event_log.lines() if "— " in ln]
    assert [n for n in notes if n.startswith(("Paused", "Resumed"))] == [
        "Paused: every worker holds at its next queue operation or task step",
        "Resumed",
    ]
    assert window.driver.status is RunStatus.FINISHED
    assert window.exit_code == EXIT_JOINED
    assert not any(alive(pid) for pid in pids)


# ---------------------------------------------------------------------------- stop / close


def test_stop_ends_every_process(qtbot, window: MainWindow) -> None:
    window.config_panel.set_config(LONG)
    assert window.start_run()
    qtbot.waitUntil(lambda: window.model.gets >= 3, timeout=END_TIMEOUT_MS)
    pids = worker_pids(window)
    assert all(alive(pid) for pid in pids if pid in child_pids())
    with qtbot.waitSignal(window.driver.sig_ended, timeout=5000) as ended:
        window.controls.stop_action.trigger()
    assert ended.args[0] == "stopped by user"
    assert window.driver.status is RunStatus.STOPPED
    assert not any(alive(pid) for pid in pids)
    assert not set(pids) & child_pids()
    assert window.exit_code == EXIT_NOT_JOINED
    assert window.status_bar.state_label.text().strip() == "Stopped"
    assert not window.config_panel.locked
    assert any("Run ended: stopped by user" in ln for ln in window.event_log.lines())


def test_close_mid_run_leaves_no_child_and_no_timer(qtbot) -> None:
    w = MainWindow(LONG)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    assert w.start_run()
    def consumers() -> list[int]:
        return [wi.pid for wi in w.model.workers.values() if wi.name.startswith("consumer")]

    # A consumer is known by pid once its START record is in (a busy machine can show three
    # gets of one consumer before another's start): pid 0 until then.
    qtbot.waitUntil(lambda: w.model.gets >= 3 and all(consumers()), timeout=END_TIMEOUT_MS)
    pids = worker_pids(w)
    taking = consumers()
    assert set(taking) <= child_pids()  # (the producers may be done already)
    assert all(alive(pid) for pid in taking)
    timers = w.findChildren(QTimer)
    assert any(t.isActive() for t in timers)  # the driver's poll timer, at least
    w.close()
    assert not set(pids) & child_pids()
    assert not any(alive(pid) for pid in pids)
    still = [t.objectName() or repr(t) for t in w.findChildren(QTimer) if t.isActive()]
    assert still == []
    assert w.driver.run.ended


# ---------------------------------------------------------------------------- reset, keys


def test_reset_clears_run_and_unlocks(qtbot, window: MainWindow) -> None:
    run_to_end(qtbot, window)
    assert window.event_log.lines()
    window.controls.reset_action.trigger()
    assert window.driver.run is None and window.charts.model is None
    assert window.event_log.lines() == []
    assert not window.config_panel.locked
    assert window.controls.start_action.text() == "Start"
    assert not window.controls.reset_action.isEnabled()
    assert window.status_bar.state_label.text().strip() == "Ready"


def test_keyboard_space_escape_ctrl_r(qtbot, window: MainWindow) -> None:
    window.config_panel.set_config(LONG)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=2000)
    qtbot.keyClick(window, Qt.Key.Key_Space)

    def running() -> bool:  # launched turns after the Start (gui/run_start.py)
        return window.driver.status is RunStatus.RUNNING

    qtbot.waitUntil(running, timeout=END_TIMEOUT_MS)
    qtbot.waitUntil(lambda: window.model.gets >= 1, timeout=END_TIMEOUT_MS)
    qtbot.keyClick(window, Qt.Key.Key_Space)
    assert window.driver.status is RunStatus.PAUSED
    qtbot.keyClick(window, Qt.Key.Key_Space)
    assert window.driver.status is RunStatus.RUNNING
    pids = worker_pids(window)
    with qtbot.waitSignal(window.driver.sig_ended, timeout=5000):
        qtbot.keyClick(window, Qt.Key.Key_Escape)
    assert window.driver.status is RunStatus.STOPPED
    assert not any(alive(pid) for pid in pids)
    qtbot.keyClick(window, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    assert window.driver.run is None
    # Space starts a run even right after typing a value into a spin box.
    spin = window.config_panel.editors["consumers"].spin
    spin.setFocus()
    qtbot.waitUntil(spin.hasFocus, timeout=2000)
    qtbot.keyClick(spin, Qt.Key.Key_Space)
    qtbot.waitUntil(running, timeout=END_TIMEOUT_MS)
    # ...but a text field still gets its spaces.
    window.event_log.filter_edit.setFocus()
    qtbot.waitUntil(window.event_log.filter_edit.hasFocus, timeout=2000)
    qtbot.keyClicks(window.event_log.filter_edit, "a b")
    assert window.event_log.filter_edit.text() == "a b"
    assert window.driver.status is RunStatus.RUNNING
