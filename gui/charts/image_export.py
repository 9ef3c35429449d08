"""save_charts_image(): the one image exporter of the charts, PNG pixels or SVG vectors."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QPoint, QRect, QSize
from PySide6.QtGui import QPainter
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import QWidget

IMAGE_FORMATS = (".png", ".svg")


def save_charts_image(panel: QWidget, out_path: str | os.PathLike[str]) -> None:
    """Save what ``panel`` shows: PNG pixels, or SVG vectors (chosen by the suffix).

    SVG is painted through the widget itself, so it holds exactly the visible area; a
    scene-wide SVG export would also take in items far outside it (a huge, mostly empty page).
    Raises ValueError for another suffix and OSError when the file cannot be written.
    """
    interactive = getattr(panel, "interactive", None)
    if interactive:
        panel.set_interactive(False)  # a picture cannot be hovered: no hint to hover it
    try:
        _save(panel, out_path)
    finally:
        if interactive:
            panel.set_interactive(True)


def _save(panel: QWidget, out_path: str | os.PathLike[str]) -> None:
    path = os.fspath(out_path)
    suffix = Path(path).suffix.lower()
    if suffix == ".png":
        if not panel.grab().save(path, "PNG"):
            raise OSError(f"could not write {path}")
        return
    if suffix != ".svg":
        raise ValueError(f"{path}: charts are exported as .png or .svg, not {suffix or '?'}")
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
