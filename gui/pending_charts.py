"""PendingCharts: stands in for ChartsPanel while pyqtgraph loads, so the window shows at once."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from engine.model import RunModel


class PendingCharts(QWidget):
    """Takes the ChartsPanel calls the window makes and remembers what the real one needs."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model: RunModel | None = None
        self.follow = True
        self.presenter = False
        self.behind = False  # nothing to catch up with (ChartsPanel.behind)
        label = QLabel("Loading charts…", self)
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        label.setProperty("role", "muted")
        lay = QVBoxLayout(self)
        lay.addWidget(label)

    def set_model(self, model: RunModel | None) -> None:
        self.model = model

    def refresh(self) -> None:
        pass

    def set_interactive(self, on: bool) -> None:
        pass

    def note_records(self, applied: list[tuple[int, tuple]]) -> None:
        pass  # the run has just started: nothing can have failed yet

    def set_follow(self, follow: bool) -> None:
        self.follow = follow

    def set_playhead(self, t: float | None) -> None:
        pass

    def set_presenter(self, on: bool) -> None:
        self.presenter = on
