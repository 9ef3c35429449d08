"""export_trace_image(): a recorded run's charts drawn offscreen and saved as PNG or SVG."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from engine.tracefile import PathLike, read_trace

if TYPE_CHECKING:
    from PySide6.QtCore import QMessageLogContext, QtMsgType
    from PySide6.QtWidgets import QWidget

    from engine.tracefile import Trace

IMAGE_SIZE = (1600, 1000)  # pixels of the drawn charts (PNG size; SVG view box)
IMAGE_FORMATS = (".png", ".svg")


def _ensure_platform() -> None:
    # Before Qt loads: without a display (CI, ssh, cron) draw offscreen rather than abort.
    if os.environ.get("QT_QPA_PLATFORM"):
        return
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"


def save_charts_image(panel: QWidget, out_path: PathLike) -> None:
    """Save what ``panel`` shows: PNG pixels, or SVG vectors (chosen by the suffix).

    SVG is painted through the widget itself, so it holds exactly the visible area; the
    panel's own scene-wide SVG export also takes in items far outside it (a huge, mostly
    empty page).
    """
    interactive = getattr(panel, "interactive", None)
    if interactive:
        panel.set_interactive(False)  # a picture cannot be hovered: no hint to hover it
    try:
        _save(panel, out_path)
    finally:
        if interactive:
            panel.set_interactive(True)


def _save(panel: QWidget, out_path: PathLike) -> None:
    path = os.fspath(out_path)
    suffix = Path(path).suffix.lower()
    if suffix == ".png":
        if not panel.grab().save(path, "PNG"):
            raise OSError(f"could not write {path}")
        return
    if suffix != ".svg":
        raise ValueError(f"{path}: charts are exported as .png or .svg, not {suffix or '?'}")
    from PySide6.QtCore import QPoint, QRect, QSize
    from PySide6.QtGui import QPainter
    from PySide6.QtSvg import QSvgGenerator

    w, h = panel.width(), panel.height()
    gen = QSvgGenerator()
    gen.setFileName(path)
    gen.setSize(QSize(w, h))
    gen.setViewBox(QRect(0, 0, w, h))
    gen.setTitle("QueueLab charts")
    painter = QPainter()
    if not painter.begin(gen):
        raise OSError(f"could not write {path}")
    try:
        painter.fillRect(0, 0, w, h, panel.palette().window())
        panel.render(painter, QPoint(0, 0))
    finally:
        painter.end()
    if not Path(path).is_file() or Path(path).stat().st_size == 0:
        raise OSError(f"could not write {path}")


def export_trace_image(
    trace_path: PathLike, out_path: PathLike, *, size: tuple[int, int] = IMAGE_SIZE
) -> None:
    """Replay ``trace_path`` to its end and save its charts to ``out_path`` (.png or .svg).

    Raises TraceError for a bad trace (warnings about a cut-off file go to stderr), ValueError
    for another suffix and OSError when the file cannot be written. No window is shown.
    """
    suffix = Path(out_path).suffix.lower()
    if suffix not in IMAGE_FORMATS:
        raise ValueError(f"{out_path}: charts are exported as .png or .svg, not {suffix or '?'}")
    from gui.trace_loader import warn_to_stderr

    trace = read_trace(trace_path, on_warning=warn_to_stderr)
    _ensure_platform()
    from PySide6.QtCore import qInstallMessageHandler

    from gui.app import make_app

    app = make_app()
    previous = qInstallMessageHandler(_quiet_platform)
    try:
        _draw(trace, out_path, size)
    finally:
        qInstallMessageHandler(previous)
        app.processEvents()


def _quiet_platform(mode: QtMsgType, context: QMessageLogContext, message: str) -> None:
    # The offscreen platform notes that it cannot resize windows; a command-line export
    # should print only its own result.
    if "propagateSizeHints" in message:
        return
    print(message, file=sys.stderr)


def _draw(trace: Trace, out_path: PathLike, size: tuple[int, int]) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    from engine.replay import replay_model
    from gui.replay_window import ReplayCharts

    model = replay_model(trace)
    panel = ReplayCharts()
    # Laid out and polished like a shown window, but never put on a screen.
    panel.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
    panel.resize(*size)
    panel.show()
    try:
        panel.set_trace_marks(trace)
        panel.set_interactive(False)  # a picture: nothing to hover
        panel.set_model(model)
        panel.set_follow(False)
        QApplication.processEvents()
        end = max(model.last_t, 0.05)
        panel.unfinished.plot.setXRange(0.0, end * 1.02, padding=0)
        panel.refresh()
        QApplication.processEvents()
        save_charts_image(panel, out_path)
    finally:
        panel.close()
        panel.deleteLater()
