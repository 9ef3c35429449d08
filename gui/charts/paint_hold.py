"""PaintHold: a view's repaint held until the event loop's next turn, so a frame is two turns."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QGraphicsView


class PaintHold:
    """Holds the repaint that a live frame's refresh asks for until the next turn of the event
    loop: under a flood the refresh (taking a slice of the model, decimating) and the repaint
    each cost 5-15 ms of the window's CPU, and in one turn they were its longest gaps
    (benchmarks/gui_flood.py), input waiting behind both. The driver gives the repaint a tick
    of its own (RunDriver: the tick after a live frame does nothing else).

    The view stops following its scene's changes meanwhile (NoViewportUpdate) rather than
    having its updates switched off: a picture taken in between (grab, render) still paints.
    """

    def __init__(self, view: QGraphicsView) -> None:
        self.view = view
        self.held = False
        self._mode = view.viewportUpdateMode()

    def hold(self, when: bool = True) -> None:
        """Repaint nothing of ``view`` before the event loop's next turn; then all of it."""
        if not when or self.held:
            return
        self.held = True
        self._mode = self.view.viewportUpdateMode()
        self.view.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.NoViewportUpdate)
        # A timer, not a posted call: it comes after the driver's next tick (already due),
        # which does nothing else, so the repaint has a turn of its own.
        QTimer.singleShot(1, self.view, self.release)  # (dropped if the view goes first)

    def release(self) -> None:
        if self.held:
            self.held = False
            self.view.setViewportUpdateMode(self._mode)
            self.view.viewport().update()  # the repaint it held
