"""svg_to_png(): an SVG document (a sweep's chart) rendered offscreen to a PNG, twice its size."""

from __future__ import annotations

import os
import sys


def svg_to_png(svg: str, path: str, scale: float = 2.0) -> None:
    """Render ``svg`` to ``path``; needs no display (QGuiApplication on the offscreen platform)."""
    if not os.environ.get("QT_QPA_PLATFORM") and sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"  # before Qt loads, or it aborts
    from PySide6.QtCore import QByteArray
    from PySide6.QtGui import QColor, QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    _app = QGuiApplication.instance() or QGuiApplication([])  # kept alive while painting
    renderer = QSvgRenderer(QByteArray(svg.encode("utf-8")))
    if not renderer.isValid():
        raise ValueError("the sweep's chart is not valid SVG")
    size = renderer.defaultSize() * scale
    image = QImage(size, QImage.Format.Format_ARGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    if not image.save(path, "PNG"):
        raise OSError(f"cannot write {path}")
