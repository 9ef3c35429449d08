"""A main window at 1280x800 in presenter mode, its flow view in front (a projector's view)."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from engine.config import RunConfig
from gui.main_window import MainWindow


def presenter_window(qtbot: QtBot, cfg: RunConfig, preset: str | None) -> MainWindow:
    w = MainWindow(cfg, preset)
    qtbot.addWidget(w)
    w.resize(1280, 800)
    w.set_presenter(True)
    w.show()
    qtbot.waitExposed(w)
    w.show_flow()
    return w
