"""The Qt bootstrap: the QApplication (Fusion, light or dark) and its event loop; no windows."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QWidget

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


def exec_until_closed(window: QWidget) -> None:
    """Run the event loop until it ends; Ctrl+C in the terminal closes ``window`` meanwhile.

    Python runs signal handlers only between bytecodes, not inside Qt's loop, so a timer wakes
    the interpreter every SIGNAL_POLL_MS; the previous SIGINT handler is restored afterwards.
    """
    app = make_app()
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
