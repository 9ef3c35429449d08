"""The main window's actions as one table, and the menu bar and toolbar built from it."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QHBoxLayout, QMainWindow, QMenuBar, QSizePolicy, QToolBar, QWidget

from gui.controls import icon


@dataclass(frozen=True)
class ActionSpec:
    """One action: the window attribute it becomes, its icon (and object name), words, keys,
    the window's slot (by name), its menu and whether a separator goes before it there."""

    attr: str
    icon: str
    text: str
    keys: tuple[str, ...]
    slot: str
    tip: str = ""
    menu: str = "&File"
    sep_before: bool = False
    checkable: bool = False
    checked: bool = False


# In menu order. The Run menu and the toolbar's first part are the run controls' own actions.
ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec("open_action", "open", "&Open config…", ("Ctrl+O",),
               "_on_open_action_triggered", "Load options from a TOML file"),
    ActionSpec("save_action", "save", "&Save config…", ("Ctrl+S",),
               "_on_save_action_triggered", "Save these options to a TOML file"),
    ActionSpec("save_program_action", "save_program", "Save &program…", ("Ctrl+Shift+P",),
               "_on_save_program_action_triggered",
               "Save the program in the Code pane as a .py file that runs with plain python"),
    ActionSpec("save_run_action", "save", "Save &run…", ("Ctrl+Shift+R",),
               "_on_save_run_action_triggered",
               "Save this run (its config and every event) to replay or compare later",
               sep_before=True),
    ActionSpec("open_run_action", "open", "Open r&un…", ("Ctrl+Shift+O",),
               "_on_open_run_action_triggered", "Replay a saved run in its own window"),
    ActionSpec("compare_action", "open", "Co&mpare runs…", (),
               "_on_compare_action_triggered", "Open two saved runs side by side"),
    ActionSpec("screenshot_action", "screenshot", "Save s&creenshot…", ("Ctrl+Shift+S",),
               "_on_screenshot_action_triggered",
               "Save a PNG of the whole window (for handouts)", sep_before=True),
    ActionSpec("quit_action", "quit", "&Quit", ("Ctrl+Q",), "close", sep_before=True),
    ActionSpec("sweep_action", "sweep", "&Sweep…", ("Ctrl+Shift+W",),
               "_on_sweep_action_triggered",
               "Run this configuration over a range of values (e.g. 1, 2, 4 consumers), "
               "several times each, and see which is best", menu="&Experiment"),
    ActionSpec("follow_action", "follow", "&Follow live", ("F",), "_on_follow_action_toggled",
               "Keep the newest seconds of the run in view (F)", menu="&View",
               checkable=True, checked=True),
    ActionSpec("presenter_action", "presenter", "&Presenter mode", ("F5",),
               "_on_presenter_action_toggled",
               "Larger text and thicker lines for a projector (F5)", menu="&View",
               checkable=True),
    ActionSpec("zoom_in_action", "zoom_in", "Zoom &in", ("Ctrl+=", "Ctrl++"), "zoom_in",
               "Larger text everywhere (Ctrl+=)", menu="&View"),
    ActionSpec("zoom_out_action", "zoom_out", "Zoom &out", ("Ctrl+-",), "zoom_out",
               "Smaller text everywhere (Ctrl+-)", menu="&View"),
    ActionSpec("zoom_reset_action", "zoom_reset", "&Actual size", ("Ctrl+0",), "zoom_reset",
               "Text at its normal size", menu="&View"),
)
TOOLBAR: tuple[str, ...] = ("follow_action", "presenter_action", "screenshot_action")


def make_action(window: QMainWindow, spec: ActionSpec) -> QAction:
    """The QAction of ``spec``, connected to the window's slot and set as its attribute."""
    a = QAction(icon(spec.icon), spec.text, window)
    a.setObjectName(f"action_{spec.icon}")
    if spec.keys:
        a.setShortcuts([QKeySequence(k) for k in spec.keys])
    if spec.tip:
        a.setToolTip(spec.tip)
    if spec.checkable:
        a.setCheckable(True)
        a.setChecked(spec.checked)
    a.triggered.connect(getattr(window, spec.slot))
    window.addAction(a)
    setattr(window, spec.attr, a)
    return a


def build_chrome(
    window: QMainWindow, run_actions: list[QAction], docks: list
) -> tuple[QMenuBar, QToolBar]:
    """Every action of ACTIONS, the menus (File, Run, View, Help) and the toolbar, in one row.

    ``run_actions`` are the run controls' (Run menu, toolbar); ``docks`` get a toggle each at
    the end of the View menu.
    """
    bar = QMenuBar(window)
    bar.setObjectName("menu_bar")
    menus = {"&File": bar.addMenu("&File")}
    run_menu = bar.addMenu("&Run")
    for a in run_actions:
        run_menu.addAction(a)
    menus["&Experiment"] = bar.addMenu("&Experiment")
    menus["&View"] = bar.addMenu("&View")
    for spec in ACTIONS:
        action = make_action(window, spec)
        if spec.sep_before:
            menus[spec.menu].addSeparator()
        menus[spec.menu].addAction(action)
    menus["&View"].addSeparator()
    for dock in docks:
        menus["&View"].addAction(dock.toggleViewAction())
    from gui.help_menu import HelpMenu

    window.help_menu = HelpMenu(window, bar)

    tools = QToolBar("Run", window)
    tools.setObjectName("run_toolbar")
    tools.setMovable(False)
    tools.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    for a in run_actions:
        tools.addAction(a)
    tools.addSeparator()
    for attr in TOOLBAR:
        tools.addAction(getattr(window, attr))
    # Menus and run buttons share one row: on a 1280x800 projector every line of height
    # goes to the charts, which need it most in presenter mode.
    chrome = QWidget(window)
    chrome.setObjectName("chrome_row")
    row = QHBoxLayout(chrome)
    row.setContentsMargins(0, 0, 0, 0)
    row.setSpacing(0)
    bar.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Preferred)
    # No line under the menus: the row is one strip. Colours only (the zoom sets fonts).
    bar.setStyleSheet("QMenuBar#menu_bar { background: transparent; border: none; }")
    row.addWidget(bar, 0, Qt.AlignmentFlag.AlignVCenter)
    row.addWidget(tools, 1)
    window.setMenuWidget(chrome)
    return bar, tools
