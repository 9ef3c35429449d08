"""The lesson parts of the window: explanation, live diagnosis, coloured code, presenter, zoom."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import re
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QGuiApplication
from PySide6.QtWidgets import QApplication

from engine.codegen import BUG_MARK, code_line_map, generate_program
from engine.config import list_presets, load_preset
from gui.code_view import CodeView
from gui.diagnosis_view import DiagnosisState
from gui.main_window import MainWindow
from gui.window_layout import LESSON_SHARE, PRESENTER_SCALE

END_TIMEOUT_MS = 30_000


@pytest.fixture
def window(qtbot) -> Iterator[MainWindow]:
    w = MainWindow(load_preset("tutorial"), "tutorial")
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.close()  # stops a run a failed test left behind and puts the application font back


def choose_preset(w: MainWindow, name: str) -> None:
    """What a click in the preset list does."""
    combo = w.config_panel.preset_combo
    index = combo.findData(name)
    assert index >= 0, f"no preset {name} in the list"
    combo.setCurrentIndex(index)
    combo.activated.emit(index)


def settle(w: MainWindow, qtbot) -> None:
    """Until the lesson's fit has run and Qt's layout no longer moves anything: events, not a
    fixed wait (30 ms was too short on a loaded machine, and the pane was measured mid-fit)."""
    qtbot.waitUntil(lambda: not w._refit_pending, timeout=5000)
    lv = w.lesson_view

    def sizes() -> tuple[int, ...]:
        return (w.lesson_dock.height(), lv.viewport().height(), lv.viewport().width(),
                lv.verticalScrollBar().maximum(), lv.verticalScrollBar().isVisible())

    before = None
    for _ in range(50):
        QApplication.processEvents()
        now = sizes()
        if now == before and not w._refit_pending:
            return
        before = now
    raise AssertionError("the lesson pane kept changing size")


def bug_lines_are_red_and_bold(w: MainWindow) -> list[int]:
    """Line numbers whose ``# BUG (lesson):`` text the highlighter drew red and bold."""
    found = []
    block = w.code_view.edit.document().firstBlock()
    while block.isValid():
        if BUG_MARK in block.text():
            start = block.text().index(BUG_MARK)
            for r in block.layout().formats():
                colour = r.format.foreground().color()
                if (
                    r.start <= start < r.start + r.length
                    and r.format.fontWeight() == QFont.Weight.Bold
                    and colour.red() > 150
                    and colour.green() < 110
                ):
                    found.append(block.blockNumber() + 1)
        block = block.next()
    return found


def test_choosing_a_preset_shows_its_lesson_and_program(window: MainWindow) -> None:
    w = window
    choose_preset(w, "forgot-task-done")
    cfg = load_preset("forgot-task-done")
    assert w.lesson_view.title_label.text() == cfg.title
    assert w.lesson_view.text_label.text() == cfg.explanation
    program = generate_program(cfg)
    assert w.code_view.program() == program
    assert w.code_view.edit.toPlainText() == program
    assert BUG_MARK in w.code_view.edit.toPlainText()
    assert bug_lines_are_red_and_bold(w), "the lesson's bug comment is not marked"
    # The chosen preset is what File ▸ Save program… writes.
    assert "queue.task_done()" in program and "continue" in program

    choose_preset(w, "tutorial")
    tutorial = load_preset("tutorial")
    assert w.lesson_view.title_label.text() == tutorial.title
    assert w.lesson_view.text_label.text() == tutorial.explanation
    assert w.code_view.program() == generate_program(tutorial)
    assert BUG_MARK not in w.code_view.edit.toPlainText()
    assert bug_lines_are_red_and_bold(w) == []
    # No run yet: no highlighted line, no diagnosis box.
    assert w.code_view.running() == {}
    assert not w.lesson_view.diagnosis_view.isVisibleTo(w)


def test_save_and_copy_the_program(window: MainWindow, tmp_path: Path) -> None:
    w = window
    choose_preset(w, "join-race")
    path = tmp_path / "join_race.py"
    assert w.save_program_file(str(path))
    text = path.read_text(encoding="utf-8")
    assert text == generate_program(load_preset("join-race"))
    compile(text, str(path), "exec")
    w.code_view.copy_button.click()
    clipboard = QGuiApplication.clipboard()
    assert clipboard is not None and clipboard.text() == text
    assert not w.save_program_file(str(tmp_path / "missing-dir" / "x.py"))
    assert w.last_error_box is not None and "missing-dir" in w.last_error_box.text()
    w.last_error_box.close()


@pytest.mark.slow
def test_a_hanging_run_is_diagnosed_and_its_lines_light_up(window: MainWindow, qtbot) -> None:
    w = window
    choose_preset(w, "forgot-task-done")
    w.config_panel.set_config(
        load_preset("forgot-task-done").replace(time_scale=2.0), preset="forgot-task-done"
    )
    lines = code_line_map(w.code_view.program())
    assert w.start_run()
    qtbot.waitUntil(lambda: not w.run_start.pending, timeout=END_TIMEOUT_MS)  # launched turns later
    run = w.driver.run
    assert run is not None
    pids = [p.pid for p in run.processes.values()]
    diag = w.lesson_view.diagnosis_view
    assert diag.isVisibleTo(w)

    # While the tasks are worked on (about 2 s: a loaded machine may not draw a frame for a
    # while), some worker's line is lit with its name.
    seen: list[dict[int, str]] = []

    def consumer_lit() -> bool:
        running = w.code_view.running()
        if not seen or seen[-1] != running:
            seen.append(running)
        return any("consumer-" in names for names in running.values())

    try:
        qtbot.waitUntil(consumer_lit, timeout=END_TIMEOUT_MS)
    except Exception:
        m = w.model
        workers = {x.name: x.activity.name for x in m.workers.values()} if m else None
        pytest.fail(f"no consumer line lit; seen {seen}; workers {workers}; lines {lines}")
    # Tasks 1 and 5 fail (seed 45) and are never marked done: the consumers take their None
    # and exit, and the diagnosis names the tasks and who took them.
    qtbot.waitUntil(lambda: diag.state is DiagnosisState.PROBLEM, timeout=END_TIMEOUT_MS)
    text = diag.text()
    assert "Problem found" in text
    assert "task_done() missing" in text
    assert re.search(r"consumer-\d took tasks? 1\b", text), text
    assert re.search(r"consumer-\d took tasks? (1 and )?5\b", text), text
    assert "stuck at 2" in text

    # Main waits in queue.join() for good, and its line says so.
    qtbot.waitUntil(
        lambda: w.code_view.running() == {lines["join"]: "main"}, timeout=END_TIMEOUT_MS
    )
    lit = [s.cursor.blockNumber() + 1 for s in w.code_view.edit.extraSelections()]
    assert lit == [lines["join"]]

    w.stop_run()
    qtbot.waitUntil(lambda: not w.driver.active, timeout=END_TIMEOUT_MS)
    # The finding stays up after the stop; the code shows where main was.
    assert diag.state is DiagnosisState.PROBLEM
    assert w.code_view.running() == {lines["join"]: "main"}
    # Every worker process of the run is gone (the start method's server may stay).
    assert pids and not any(
        psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
        for pid in pids
    ), f"worker processes left behind: {pids}"

    # Once the run is over another preset can be chosen, and the code follows it.
    choose_preset(w, "tutorial")
    assert w.code_view.program() == generate_program(load_preset("tutorial"))
    assert w.code_view.running() == {}

    w.reset_run()
    assert not diag.isVisibleTo(w)


@pytest.mark.slow
def test_a_clean_run_says_no_problem(window: MainWindow, qtbot) -> None:
    w = window
    w.config_panel.set_config(load_preset("tutorial").replace(time_scale=0.05), "tutorial")
    assert w.start_run()
    diag = w.lesson_view.diagnosis_view
    qtbot.waitUntil(lambda: not w.driver.active, timeout=END_TIMEOUT_MS)
    assert w.model is not None and w.model.join_returned_t is not None
    assert diag.state is DiagnosisState.OK
    assert "No problem found" in diag.text()
    assert w.code_view.running() == {}  # everyone exited


def app_pt() -> float:
    return QApplication.font().pointSizeF()


def test_ctrl_plus_minus_zero_zoom_the_whole_window(window: MainWindow, qtbot) -> None:
    w = window
    w.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is w, timeout=5000)
    base = app_pt()
    code_base = w.code_view.edit.font().pointSizeF()
    text_base = w.lesson_view.text_label.font().pointSizeF()

    qtbot.keyClick(w, Qt.Key.Key_Equal, Qt.KeyboardModifier.ControlModifier)
    assert w.zoom > 1.0
    assert app_pt() == pytest.approx(base * w.zoom, rel=0.01)
    assert w.code_view.edit.font().pointSizeF() > code_base
    assert w.lesson_view.text_label.font().pointSizeF() > text_base
    qtbot.keyClick(w, Qt.Key.Key_Equal, Qt.KeyboardModifier.ControlModifier)
    bigger = app_pt()
    assert bigger > base * 1.2

    qtbot.keyClick(w, Qt.Key.Key_Minus, Qt.KeyboardModifier.ControlModifier)
    assert base < app_pt() < bigger
    qtbot.keyClick(w, Qt.Key.Key_0, Qt.KeyboardModifier.ControlModifier)
    assert w.zoom == 1.0
    assert app_pt() == pytest.approx(base)
    assert w.code_view.edit.font().pointSizeF() == pytest.approx(code_base)
    qtbot.keyClick(w, Qt.Key.Key_Minus, Qt.KeyboardModifier.ControlModifier)
    assert app_pt() < base
    w.zoom_reset()
    assert app_pt() == pytest.approx(base)


def test_presenter_mode_enlarges_everything_and_toggles_back(window: MainWindow, qtbot) -> None:
    w = window
    w.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is w, timeout=5000)
    base = app_pt()
    fonts = {
        "code": w.code_view.edit.font().pointSizeF(),
        "explanation": w.lesson_view.text_label.font().pointSizeF(),
        "title": w.lesson_view.title_label.font().pointSizeF(),
        "log": w.event_log.view.font().pointSizeF(),
    }

    def now() -> dict[str, float]:
        return {
            "code": w.code_view.edit.font().pointSizeF(),
            "explanation": w.lesson_view.text_label.font().pointSizeF(),
            "title": w.lesson_view.title_label.font().pointSizeF(),
            "log": w.event_log.view.font().pointSizeF(),
        }

    qtbot.keyClick(w, Qt.Key.Key_F5)
    assert w.presenter and w.presenter_action.isChecked()
    assert app_pt() == pytest.approx(base * PRESENTER_SCALE, rel=0.01)
    for name, size in now().items():
        assert size == pytest.approx(fonts[name] * PRESENTER_SCALE, rel=0.05), name
    # Zoom stacks on presenter mode.
    w.zoom_in()
    assert app_pt() > base * PRESENTER_SCALE
    w.zoom_reset()

    qtbot.keyClick(w, Qt.Key.Key_F5)
    assert not w.presenter and not w.presenter_action.isChecked()
    assert app_pt() == pytest.approx(base)
    assert now() == pytest.approx(fonts)


@pytest.mark.parametrize("presenter", [False, True], ids=["normal", "presenter"])
def test_the_lesson_pane_is_as_tall_as_its_text(window: MainWindow, qtbot, presenter: bool) -> None:
    """Every preset's lesson shows whole with no empty band under it (unless it hits the cap)."""
    w = window
    # Offscreen fonts run large: at 1280x800 in presenter mode every lesson reaches the cap.
    w.resize(*((1920, 1080) if presenter else (1280, 800)))
    w.set_presenter(presenter)
    lv = w.lesson_view
    line = lv.text_label.fontMetrics().lineSpacing()
    cap = int(w.height() * LESSON_SHARE)
    presets = list_presets()
    fitted = scrolled = 0
    for name, _title in presets:
        choose_preset(w, name)
        settle(w, qtbot)  # the fit waits for Qt to lay the docks out again
        content = lv.text_height(lv.viewport().width())
        shown = lv.viewport().height()
        assert w.lesson_dock.height() <= cap + 2, f"{name}: the lesson pane is above its cap"
        if w.lesson_dock.height() >= cap - 2:
            # A long explanation at the cap: all of it is still there to read, by scrolling.
            scrolled += 1
            bar = lv.verticalScrollBar()
            assert bar.isVisible(), f"{name}: cut at the cap with no scroll bar"
            assert bar.maximum() + shown >= content - 2, (
                f"{name}: {content - shown - bar.maximum()} px of the lesson out of reach")
            continue
        fitted += 1
        assert content <= shown, f"{name}: {content - shown} px of the lesson cut off"
        # The fit measures beside a scroll bar's width: up to two more wrapped lines' room.
        assert shown - content <= 2 * line + 4, f"{name}: {shown - content} px left empty"
    # Every preset was checked one way or the other (it used to be the one that fitted).
    assert fitted + scrolled == len(presets) >= 12  # the sweep branch added two lessons


def test_no_problem_takes_one_line_and_the_code_caption_is_never_cut(window: MainWindow) -> None:
    w = window
    diag = w.lesson_view.diagnosis_view
    diag.show_findings([])
    assert diag.state is DiagnosisState.OK and "No problem found so far" in diag.heading.text()
    assert not diag.body.isVisibleTo(diag)
    diag.show_findings(["something holds it up."])
    assert diag.body.isVisibleTo(diag) and "Problem found" in diag.heading.text()
    diag.show_findings([], ended=True)
    assert diag.text() == "✔ No problem found."

    view = CodeView()  # on its own: the window's code tab may be behind the options
    view.show_config(load_preset("tutorial"))
    view.show()
    caption = view.caption
    full = caption.full_text()
    for width in (700, 420, 300, 200, 120):
        view.resize(width, 400)
        QApplication.processEvents()
        text = caption.text()
        assert caption.fontMetrics().horizontalAdvance(text) <= caption.contentsRect().width()
        if width == 700:
            assert text == full
    assert caption.text() in ("", "Plain python")
    view.close()
