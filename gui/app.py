"""run_gui(): the QApplication (Fusion, light or dark), the main window and the exit code."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from engine.config import RunConfig
from engine.resources_path import resource_dir

STYLES_DIR: Path = resource_dir("styles")
THEME_ENV = "QUEUELAB_THEME"  # "dark" or "light" overrides what the system says
SIGNAL_POLL_MS = 200  # Python runs signal handlers only between bytecodes, not inside Qt


def system_prefers_dark(app: QApplication) -> bool:
    forced = os.environ.get(THEME_ENV, "").strip().lower()
    if forced in ("dark", "light"):
        return forced == "dark"
    if app.styleHints().colorScheme() == Qt.ColorScheme.Dark:
        return True
    return app.palette().color(QPalette.ColorRole.Window).lightnessF() < 0.45


def dark_palette() -> QPalette:
    """A dark Fusion palette with enough contrast for a projector."""
    p = QPalette()
    roles = QPalette.ColorRole
    colors = {
        roles.Window: "#1f2328",
        roles.WindowText: "#e3e7ec",
        roles.Base: "#15181c",
        roles.AlternateBase: "#22272e",
        roles.ToolTipBase: "#2b3138",
        roles.ToolTipText: "#e3e7ec",
        roles.PlaceholderText: "#8b949e",
        roles.Text: "#e3e7ec",
        roles.Button: "#2b3138",
        roles.ButtonText: "#e3e7ec",
        roles.BrightText: "#ff6b6b",
        roles.Light: "#3a4048",
        roles.Midlight: "#30363d",
        roles.Mid: "#262b31",
        roles.Dark: "#101317",
        roles.Shadow: "#000000",
        roles.Highlight: "#3d7cc9",
        roles.HighlightedText: "#ffffff",
        roles.Link: "#6db6ff",
        roles.LinkVisited: "#c9a0ff",
    }
    for role, color in colors.items():
        p.setColor(role, QColor(color))
    disabled = QPalette.ColorGroup.Disabled
    # Locked options stay legible: dimmer, not invisible.
    for role in (roles.WindowText, roles.Text, roles.ButtonText):
        p.setColor(disabled, role, QColor("#8b949e"))
    p.setColor(disabled, roles.Base, QColor("#1b1f24"))
    p.setColor(disabled, roles.Button, QColor("#252a30"))
    return p


def apply_theme(app: QApplication, dark: bool | None = None) -> bool:
    """Fusion style, the dark palette when the system (or QUEUELAB_THEME) asks, our QSS.

    Returns whether the dark theme is in use.
    """
    if dark is None:
        dark = system_prefers_dark(app)
    app.setStyle("Fusion")
    if dark:
        if app.palette().color(QPalette.ColorRole.Window).lightnessF() >= 0.45:
            app.setPalette(dark_palette())
    elif os.environ.get(THEME_ENV, "").strip().lower() == "light":
        app.setPalette(app.style().standardPalette())
    else:
        palette = app.palette()
        # Fusion's default disabled text is very faint; locked options must stay readable.
        for role in (
            QPalette.ColorRole.WindowText,
            QPalette.ColorRole.Text,
            QPalette.ColorRole.ButtonText,
        ):
            palette.setColor(QPalette.ColorGroup.Disabled, role, QColor("#5f656c"))
        app.setPalette(palette)
    qss = STYLES_DIR / ("dark.qss" if dark else "light.qss")
    app.setStyleSheet(qss.read_text(encoding="utf-8") if qss.is_file() else "")
    return dark


def make_app() -> QApplication:
    """The running QApplication, or a new one set up for QueueLab."""
    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        return existing
    QApplication.setApplicationName("QueueLab")
    QApplication.setOrganizationName("QueueLab")
    QApplication.setDesktopFileName("queuelab")
    app = QApplication(sys.argv[:1])
    apply_theme(app)
    return app


def check_screenshot_path(path: str) -> None:
    """Raise OSError (one line) when a PNG cannot be written at ``path``.

    Checked before Qt starts: an unattended ``--screenshot --quit-when-done`` would otherwise
    run the whole lesson and end with nothing written.
    """
    target = Path(path)
    folder = target.parent
    if target.is_dir():
        raise OSError(f"cannot save the screenshot to {path}: it is a folder")
    if not folder.is_dir():
        raise OSError(f"cannot save the screenshot to {path}: the folder {folder} does not exist")
    if not os.access(folder, os.W_OK) or (target.exists() and not os.access(target, os.W_OK)):
        raise OSError(f"cannot save the screenshot to {path}: permission denied")


def run_gui(
    cfg: RunConfig,
    preset: str | None = None,
    start: bool = False,
    screenshot: str | None = None,
    quit_when_done: bool = False,
    presenter: bool = False,
) -> int:
    """Show the main window on ``cfg`` and run the event loop.

    ``presenter`` opens it in presenter mode (what F5 toggles), for handouts taken with
    ``screenshot`` and for a projector.

    With ``quit_when_done`` the window closes once the run is over and the result is 0 when
    queue.join() returned, 3 otherwise; without it, closing the window returns 0.

    ``screenshot`` and ``quit_when_done`` start the run at once (as ``start`` does): both
    wait for the run's end, which would never come otherwise. A screenshot path that cannot
    be written raises OSError before anything starts (main.py: one line, exit code 2); one
    that fails at the end prints one line and returns 1.
    """
    if screenshot:
        check_screenshot_path(screenshot)
    start = start or bool(screenshot) or quit_when_done
    app = make_app()
    # Imported here so `main.py run` never pays for Qt widgets and pyqtgraph.
    from gui.main_window import MainWindow

    window = MainWindow(
        cfg, preset, screenshot=screenshot, quit_when_done=quit_when_done, defer_charts=True
    )
    if presenter:
        # Before the first paint, so the window never shows at the normal size first.
        window.set_presenter(True)
    window.show()
    window.showMaximized()
    # Zero-delay timers run after the pending paint of the window: it is visible by then.
    QTimer.singleShot(0, window.load_charts)

    # Ctrl+C in the terminal closes the window like the close button (stopping the run).
    wake = QTimer(app)
    wake.setObjectName("signal_wake")
    wake.timeout.connect(lambda: None)
    wake.start(SIGNAL_POLL_MS)
    previous = signal.signal(signal.SIGINT, lambda *_: window.close())
    if start:
        # After the first paint: the window is visible before the worker processes start.
        QTimer.singleShot(50, window.start_run)
    try:
        app.exec()
    finally:
        signal.signal(signal.SIGINT, previous)
        wake.stop()
        window.driver.shutdown()
    code = window.exit_code if quit_when_done else 0
    if window.screenshot_error is not None:
        print(f"queuelab: error: {window.screenshot_error}", file=sys.stderr)
        code = 1
    window.deleteLater()
    return code


def run_replay(path: str) -> int:
    """Show a ReplayWindow on the trace ``path`` and run the event loop.

    Returns 0 when the window closes, 2 when the file could not be loaded (the window has
    shown the dialog by then; main.py refuses bad files before Qt starts anyway).
    """
    app = make_app()
    from gui.replay_window import ReplayWindow

    window = ReplayWindow()
    window.show()
    window.open_path(path, exit_code_on_failure=2)
    wake = QTimer(app)
    wake.setObjectName("signal_wake")
    wake.timeout.connect(lambda: None)
    wake.start(SIGNAL_POLL_MS)
    previous = signal.signal(signal.SIGINT, lambda *_: window.close())
    try:
        app.exec()
    finally:
        signal.signal(signal.SIGINT, previous)
        wake.stop()
        window.loader.cancel()
        window.loader.wait(5.0)
    code = window.exit_code
    window.deleteLater()
    return code
