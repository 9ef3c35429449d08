"""Issue 12 (10, 15): edited lessons say so, edits are not discarded without asking, and a
saved run gets a sensible name in an existing folder and a confirmation in the status bar."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QStandardPaths, QTimer
from PySide6.QtWidgets import QFileDialog, QMessageBox
from pytestqt.qtbot import QtBot

from engine.config import load_preset
from gui.main_window import MainWindow

END_MS = 60_000


@pytest.fixture
def window(qtbot: QtBot) -> Iterator[MainWindow]:
    w = MainWindow(load_preset("tutorial"), "tutorial")
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.close()


def answer_discard_box(w: MainWindow, button: QMessageBox.StandardButton) -> list[str]:
    """Press ``button`` in the "Discard your edits?" box as soon as it is up; its text goes
    into the returned list."""
    seen: list[str] = []

    def press() -> None:
        box = w.config_panel.last_discard_box
        if box is None or not box.isVisible():
            QTimer.singleShot(20, press)
            return
        seen.append(box.text() + "\n" + box.informativeText())
        box.button(button).click()

    QTimer.singleShot(0, press)
    return seen


def pick(w: MainWindow, name: str) -> None:
    combo = w.config_panel.preset_combo
    index = combo.findData(name)
    combo.setCurrentIndex(index)
    combo.activated.emit(index)


def test_an_edited_lesson_says_it_was_modified_from_its_preset(window: MainWindow) -> None:
    w = window
    note = w.lesson_view.modified_label
    assert not note.isVisibleTo(w)
    w.config_panel.editors["consumers"].spin.setValue(4)
    assert note.isVisibleTo(w)
    text = note.text()
    assert "Modified from the preset" in text and w.config_panel.preset_title in text
    assert re.search(r"[Cc]onsumers: 1 → 4", text), text
    # Back to the preset's value: the note goes.
    w.config_panel.editors["consumers"].spin.setValue(1)
    assert not note.isVisibleTo(w)


def test_picking_another_preset_asks_before_discarding_edits(window: MainWindow) -> None:
    w = window
    panel = w.config_panel
    panel.editors["consumers"].spin.setValue(4)
    # Cancel: nothing changes, the list still shows the loaded preset.
    asked = answer_discard_box(w, QMessageBox.StandardButton.Cancel)
    pick(w, "bounded-queue")
    assert asked, "no question was asked"
    assert "consumers" in asked[0].lower() and "1 → 4" in asked[0]
    assert panel.preset == "tutorial" and panel.config().consumers == 4
    assert panel.preset_combo.currentData() == "tutorial"
    # Discard: the new preset is loaded.
    asked = answer_discard_box(w, QMessageBox.StandardButton.Discard)
    pick(w, "bounded-queue")
    assert asked
    assert panel.preset == "bounded-queue" and panel.config() == load_preset("bounded-queue")
    assert not w.lesson_view.modified_label.isVisibleTo(w)
    # Unedited options are replaced without a question.
    pick(w, "tutorial")
    assert panel.preset == "tutorial"


def test_save_run_suggests_a_named_file_in_an_existing_folder(
    window: MainWindow, qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = window
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setattr(Path, "home", classmethod(lambda cls: home))
    # Qt names ~/Documents even when there is no such folder (as on this user's machine).
    monkeypatch.setattr(QStandardPaths, "writableLocation",
                        staticmethod(lambda loc: str(home / "Documents")))
    w.config_panel.set_config(load_preset("tutorial").replace(time_scale=0.05), "tutorial")
    assert w.start_run()
    qtbot.waitUntil(lambda: not w.driver.active, timeout=END_MS)
    offered: list[str] = []

    def fake_dialog(parent: object, caption: str, directory: str, filter_: str) -> tuple:
        offered.append(directory)
        return directory, filter_  # the user presses Enter

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(fake_dialog))
    w.save_run_action.trigger()
    assert len(offered) == 1
    path = Path(offered[0])
    assert path.parent == home  # an existing folder, not the missing Documents
    assert re.fullmatch(r"tutorial-\d{4}-\d{2}-\d{2}-\d{4}\.qltrace", path.name), path.name
    assert path.is_file() and path.stat().st_size > 0
    # Confirmed where people look: the status bar.
    assert w.status_bar.currentMessage() == f"✔ Run saved to {path}"
    assert w.status_bar.isVisible()


def test_an_edited_run_is_named_after_its_preset_and_modified(window: MainWindow) -> None:
    w = window
    w.config_panel.editors["consumers"].spin.setValue(3)
    assert re.fullmatch(r"tutorial-modified-\d{4}-\d{2}-\d{2}-\d{4}\.qltrace",
                        w.suggested_run_name())


def test_the_modified_note_names_only_what_changed(window: MainWindow) -> None:
    """Distributions compare as values, not as their editors' tables."""
    w = window
    w.config_panel.editors["consumers"].spin.setValue(4)
    assert w.config_panel.changes() == ["Consumers: 1 → 4"]
    assert "Task duration" not in w.lesson_view.modified_label.text()


def test_an_unattended_screenshot_that_fails_at_the_end_is_reported_not_boxed(
    qtbot: QtBot, tmp_path: Path
) -> None:
    """The folder goes away during the run: no dialog (nobody is there), the reason is kept
    for run_gui, which prints it and exits 1."""
    folder = tmp_path / "shots"
    folder.mkdir()
    out = folder / "x.png"
    cfg = load_preset("tutorial").replace(time_scale=0.05)
    w = MainWindow(cfg, "tutorial", screenshot=str(out), quit_when_done=True)
    qtbot.addWidget(w)
    w.show()
    folder.rmdir()
    with qtbot.waitSignal(w.sig_done, timeout=END_MS):
        assert w.start_run()
    assert not out.exists()
    assert w.screenshot_error == f"could not save the screenshot to {out}"
    assert w.last_error_box is None
