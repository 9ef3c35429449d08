"""Every control and status label shows in full, in both themes, sizes and presenter mode."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
from PySide6.QtWidgets import QApplication, QToolButton

from engine.runner import RunStatus
from gui.main_window import MainWindow
from tests.gui.window_runs import SMALL

pytestmark = pytest.mark.slow


def cut_labels(w: MainWindow) -> list[str]:
    """Toolbar, menu and status texts that are hidden, squeezed (elided) or off the window."""
    QApplication.processEvents()
    bad = []
    right = w.width()
    for b in w.toolbar.findChildren(QToolButton):
        a = b.defaultAction()
        if a is None:
            if b.isVisible():  # the » button: some action did not fit
                bad.append("toolbar overflow button shown")
            continue
        x1 = b.mapTo(w, b.rect().topRight()).x()
        if not b.isVisible() or b.width() < b.sizeHint().width() or x1 > right:
            bad.append(f"button {a.text()!r} w={b.width()} needs {b.sizeHint().width()} x1={x1}")
    bar = w.menuBar()
    if bar.width() < bar.sizeHint().width():
        bad.append(f"menu bar w={bar.width()} needs {bar.sizeHint().width()}")
    sb = w.status_bar
    for label in (sb.state_label, sb.lost_label, sb.alert_label, sb.elapsed_label, sb.join_label,
                  sb.counts_label, sb.rate_label):  # fmt: skip
        if label.isVisible() and label.width() < label.sizeHint().width():
            bad.append(f"status {label.objectName()} {label.text()!r} squeezed")
    for label in (sb.state_label, sb.lost_label):
        if not label.isVisible():
            bad.append(f"status {label.objectName()} hidden")
    caption = w.code_view.caption
    if caption.fontMetrics().horizontalAdvance(caption.text()) > caption.contentsRect().width():
        bad.append(f"code caption {caption.text()!r} cut")
    return bad


@pytest.mark.parametrize("presenter", [False, True], ids=["normal", "presenter"])
@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
@pytest.mark.parametrize("size", [(1280, 800), (1920, 1080)], ids=["1280", "1920"])
def test_every_control_label_shows_in_full(
    qtbot, size: tuple[int, int], dark: bool, presenter: bool
) -> None:
    from gui.qt_app import apply_theme

    app = QApplication.instance()
    assert isinstance(app, QApplication)
    palette, sheet, style = app.palette(), app.styleSheet(), app.style().name()
    apply_theme(app, dark=dark)
    w = MainWindow(SMALL)
    qtbot.addWidget(w)
    try:
        w.show()
        w.resize(*size)
        qtbot.waitExposed(w)
        w.set_presenter(presenter)
        ctl = w.controls
        for status, has_run in [
            (RunStatus.IDLE, False),
            (RunStatus.RUNNING, True),
            (RunStatus.PAUSED, True),
            (RunStatus.FINISHED, True),  # "Run again", the text that used to be elided
            (RunStatus.STOPPED, True),
        ]:
            ctl.update_state(status, valid=True, has_run=has_run)
            w.status_bar.show_run(None, status, 123.4, 98765.0, force=True)
            assert cut_labels(w) == [], (status, ctl.start_action.text())
        assert ctl.start_action.text() == "Run again"
    finally:
        w.close()
        app.setStyle(style)
        app.setPalette(palette)
        app.setStyleSheet(sheet)


def test_a_screenshot_right_after_the_end_draws_run_again_whole(qtbot, tmp_path) -> None:
    """The run's end renames Start and grab() follows at once: pending layouts go first."""
    w = MainWindow(SMALL)
    qtbot.addWidget(w)
    w.show()
    w.resize(1280, 800)
    qtbot.waitExposed(w)
    QApplication.processEvents()
    button = w.toolbar.widgetForAction(w.controls.start_action)
    assert isinstance(button, QToolButton)
    before = button.width()
    w.controls.update_state(RunStatus.FINISHED, valid=True, has_run=True)
    assert w.save_screenshot(str(tmp_path / "end.png"))  # no event loop turn in between
    assert button.width() >= button.sizeHint().width() > before
    w.close()
