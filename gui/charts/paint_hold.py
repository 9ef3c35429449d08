"""PaintHold: a widget's repaint held until the event loop's next turn, so a frame is two turns."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QWidget


class PaintHold:
    """Holds the repaint that a live frame's refresh asks for until the next turn of the event
    loop: under a flood the refresh (taking a slice of the model, decimating) and the repaint
    each cost 5-15 ms of the window's CPU, and in one turn they were its longest gaps
    (benchmarks/gui_flood.py), input waiting behind both. The driver gives the repaint a tick
    of its own (RunDriver: the tick after a live frame does nothing else)."""

    def __init__(self, widget: QWidget) -> None:
        self.widget = widget
        self.held = False

    def hold(self, when: bool = True) -> None:
        """Paint nothing of ``widget`` before the event loop's next turn; then all of it."""
        if not when or self.held or not self.widget.updatesEnabled():
            return
        self.held = True
        self.widget.setUpdatesEnabled(False)
        QTimer.singleShot(0, self.widget, self.release)  # (dropped if the widget goes first)

    def release(self) -> None:
        if self.held:
            self.held = False
            self.widget.setUpdatesEnabled(True)  # (and asks for the repaint it held)
