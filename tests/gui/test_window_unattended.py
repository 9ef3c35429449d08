"""A window left alone: screenshot and quit when done, a hang explained, presenter handouts."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

from engine.config import load_preset
from gui.main_window import MainWindow
from gui.run_session import EXIT_JOINED, EXIT_NOT_JOINED
from gui.window_layout import PRESENTER_SCALE
from tests.gui.window_runs import END_TIMEOUT_MS, SMALL

pytestmark = pytest.mark.slow


def test_screenshot_and_quit_when_done(qtbot, tmp_path) -> None:
    out = tmp_path / "shot.png"
    w = MainWindow(SMALL, screenshot=str(out), quit_when_done=True)
    qtbot.addWidget(w)
    w.resize(1100, 760)
    w.show()
    qtbot.waitExposed(w)
    with qtbot.waitSignal(w.sig_done, timeout=END_TIMEOUT_MS) as done:
        assert w.start_run()
    assert done.args == [EXIT_JOINED]
    assert out.is_file()
    image = QImage(str(out))
    dpr = w.devicePixelRatioF()
    assert (image.width(), image.height()) == (round(w.width() * dpr), round(w.height() * dpr))
    qtbot.waitUntil(lambda: not w.isVisible(), timeout=2000)
    assert not w.driver.polling


def test_unattended_hang_is_explained_and_stopped(qtbot) -> None:
    # Every task fails and the consumer skips task_done(): join() can never return.
    cfg = SMALL.replace(tasks_per_producer=4, failure_rate=1.0, on_failure="skip_task_done")
    w = MainWindow(cfg, quit_when_done=True)
    qtbot.addWidget(w)
    w.show()
    with qtbot.waitSignal(w.sig_done, timeout=END_TIMEOUT_MS) as done:
        assert w.start_run()
    assert done.args == [EXIT_NOT_JOINED]
    m = w.model
    assert m.join_returned_t is None and m.unfinished >= 4
    problems = [ln for ln in w.event_log.lines() if ln[len("   0.00 s  ") :].startswith("!")]
    assert any("task_done" in ln for ln in problems), w.event_log.lines()
    qtbot.waitUntil(lambda: not w.isVisible(), timeout=5000)
    assert w.driver.run.ended

def test_gui_presenter_flag_opens_in_presenter_mode(qtbot, tmp_path) -> None:
    import main
    from gui.launch import run_gui

    args = main.build_parser().parse_args(["gui", "--presenter", "--start"])
    assert args.presenter and args.start
    assert not main.build_parser().parse_args(["gui"]).presenter
    base = QApplication.font().pointSizeF()
    seen: dict[str, object] = {}

    def peek() -> None:
        for widget in QApplication.topLevelWidgets():
            if isinstance(widget, MainWindow):
                seen["presenter"] = widget.presenter
                seen["action"] = widget.presenter_action.isChecked()
                seen["pt"] = QApplication.font().pointSizeF()

    QTimer.singleShot(200, peek)
    out = tmp_path / "handout.png"
    code = run_gui(
        SMALL.replace(tasks_per_producer=6),
        start=True,
        screenshot=str(out),
        quit_when_done=True,
        presenter=True,
    )
    assert code == EXIT_JOINED and out.is_file()
    assert seen == {"presenter": True, "action": True, "pt": pytest.approx(base * PRESENTER_SCALE)}
    assert QApplication.font().pointSizeF() == pytest.approx(base)  # put back at close


def test_a_handout_waits_for_the_diagnosis_of_workers_left_waiting(qtbot, tmp_path) -> None:
    """One sentinel, three consumers: join() returns, two wait in get() forever; PNG says why."""
    out = tmp_path / "one-sentinel.png"
    cfg = load_preset("one-sentinel-many-consumers").replace(time_scale=0.1)
    w = MainWindow(cfg, screenshot=str(out), quit_when_done=True)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    said: list[list[str]] = []
    w.sig_screenshot_saved.connect(
        lambda _path: said.append(w.lesson_view.diagnosis_view.sentences())
    )
    with qtbot.waitSignal(w.sig_done, timeout=END_TIMEOUT_MS) as done:
        assert w.start_run()
    assert done.args == [EXIT_JOINED] and out.is_file()
    assert said and any("missing sentinels" in s for s in said[0]), said
    assert w.status_bar.alert is not None  # the handout's status bar points at it too
    qtbot.waitUntil(lambda: not w.isVisible(), timeout=5000)
