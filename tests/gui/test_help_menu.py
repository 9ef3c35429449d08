"""Issue 12 (16): the Help menu — shortcuts read from the actions, the charts guide, the
tutorial's own explanation, About with versions; engine.about without Qt."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import qVersion
from PySide6.QtGui import QAction, QKeySequence
from pytestqt.qtbot import QtBot

from engine.about import versions
from engine.config import list_presets, load_preset
from gui.charts.flow_plot import FlowChart
from gui.charts.rates_plot import RatesChart
from gui.charts.timeline_plot import TimelineChart
from gui.charts.unfinished_plot import UnfinishedChart
from gui.main_window import MainWindow

ROOT = Path(__file__).resolve().parents[2]
NATIVE = QKeySequence.SequenceFormat.NativeText


@pytest.fixture
def window(qtbot: QtBot) -> Iterator[MainWindow]:
    w = MainWindow(load_preset("tutorial"), "tutorial")
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.close()


def help_actions(w: MainWindow) -> list[str]:
    menus = {a.text(): a.menu() for a in w.menuBar().actions() if a.menu() is not None}
    assert "&Help" in menus, list(menus)
    return [a.text() for a in menus["&Help"].actions() if not a.isSeparator()]


def test_the_help_menu_has_its_four_pages(window: MainWindow) -> None:
    assert help_actions(window) == [
        "&Keyboard shortcuts", "How to read the &charts", "The &tutorial's program",
        "&About QueueLab",
    ]


def test_shortcuts_list_every_shortcut_of_the_window(window: MainWindow) -> None:
    w = window
    text = w.help_menu.show_shortcuts().text()
    keys = {k.toString(NATIVE) for a in w.findChildren(QAction) for k in a.shortcuts()
            if not k.isEmpty()}
    assert {"Ctrl+O", "F5", "Esc", "Ctrl+R", "Ctrl+Shift+R", "F1"} <= keys
    for k in keys:
        assert k in text, f"{k} missing from the shortcuts page"
    assert "Space" in text and "Pause or resume" in text and "Start a run" in text
    assert "Alt+H" in text
    # Generated from the actions: one added later is listed the next time.
    extra = QAction("&Frobnicate", w)
    extra.setShortcut(QKeySequence("Ctrl+Alt+K"))
    w.menuBar().actions()[0].menu().addAction(extra)
    text = w.help_menu.show_shortcuts().text()
    assert "Ctrl+Alt+K" in text and "Frobnicate" in text


def test_the_charts_page_explains_every_chart(window: MainWindow) -> None:
    text = window.help_menu.show_charts().text()
    for chart in (UnfinishedChart, TimelineChart, FlowChart, RatesChart):
        assert chart.title in text
    assert "last 1 s" in text and "whole run" in text and "stopped" in text


def test_the_tutorial_page_is_the_projects_own_and_names_every_preset(window: MainWindow):
    text = window.help_menu.show_tutorial().text()
    assert "What the program does" in text and "task_done()" in text
    for name, _title in list_presets():
        assert name in text, f"preset {name} has no lesson in docs/tutorial.md"
    readme = (ROOT / "README.md").read_text()
    assert "docs/tutorial.md" in readme and "../shared" not in readme


def test_about_gives_the_versions_in_order(window: MainWindow) -> None:
    text = window.help_menu.show_about().text()
    v = versions()
    assert list(v) == ["QueueLab", "Python", "PySide6", "pyqtgraph"]
    order = ["QueueLab", "Python", "Qt", "PySide6", "pyqtgraph"]
    positions = [text.index(f"{name}\n") for name in order]
    assert positions == sorted(positions)
    for name, version in {**v, "Qt": qVersion()}.items():
        assert f"{name}\n{version}" in text
    assert v["QueueLab"] == "0.1.0" and v["Python"] == ".".join(map(str, sys.version_info[:3]))


def test_engine_about_never_loads_qt() -> None:
    code = (
        "import sys\n"
        "for n in ('PySide6', 'pyqtgraph', 'shiboken6'): sys.modules[n] = None\n"
        "from engine.about import versions\n"
        "v = versions()\n"
        "assert v['PySide6'] not in ('', None)\n"
        "print(sorted(m for m in sys.modules if m.startswith(('PySide6', 'pyqtgraph'))))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['PySide6', 'pyqtgraph']"  # only the blocked stand-ins
