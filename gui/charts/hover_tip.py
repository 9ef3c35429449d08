"""place_tip(): the timeline's hover tip, beside the cursor and inside the plot."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QPointF

from gui.charts.plotkit import hide_from, show_on

GAP_PX = 8.0  # between the cursor and the tip


def place_tip(
    tip: pg.TextItem, plot: pg.PlotItem, t: float, row: int, words: str | None
) -> None:
    """Show ``words`` at the hovered bar (time ``t``, timeline ``row``); hide the tip if None.

    Placed in pixels, then clamped into the plot: beside the cursor on the side with room,
    above the hovered bar (below it on the top row); the view box clips the rest.
    """
    if not words:
        hide_from(plot, tip)
        return
    # Shown first: TextItem skips its transform update while hidden.
    show_on(plot, tip)
    tip.setText(words)
    vb = plot.getViewBox()
    box = vb.sceneBoundingRect()
    size = tip.boundingRect()  # pixels: the text ignores the view's scale
    w, h = size.width(), size.height()
    at = vb.mapViewToScene(QPointF(t, row))
    half_bar = abs(vb.mapViewToScene(QPointF(t, row + 0.36)).y() - at.y())
    x = at.x() + GAP_PX if at.x() + GAP_PX + w <= box.right() - 1 else at.x() - GAP_PX - w
    y = at.y() - half_bar - h
    if y < box.top() + 1:
        y = at.y() + half_bar
    x = max(box.left() + 1, min(x, box.right() - 1 - w))
    y = max(box.top() + 1, min(y, box.bottom() - 1 - h))
    tip.setAnchor((0.0, 0.0))
    tip.setPos(vb.mapSceneToView(QPointF(x, y)))
    tip.updateTransform(force=True)
