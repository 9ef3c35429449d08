"""FlowClock: one time control for several flow views (the compare window's runs A and B)."""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSlider, QToolButton, QWidget

from engine.model import RunModel
from gui.flow.tabs import ViewTabs
from gui.flow.view import FlowView

TICK_MS = 33


class FlowClock(QWidget):
    """Play and scrub the flow views of finished runs together, on one run-time axis.

    Each view cuts its own run's model at the same time, so the two runs' tasks can be
    watched side by side; the tabs of the runs switch together.
    """

    def __init__(self, tabs: Sequence[ViewTabs], views: Sequence[FlowView],
                 models: Sequence[RunModel], parent: QWidget | None = None) -> None:  # fmt: skip
        super().__init__(parent)
        self.setObjectName("flow_clock")
        self.tabs, self.views, self.models = list(tabs), list(views), list(models)
        self.duration = max((m.last_t for m in models), default=0.0)
        self.t = self.duration
        self.playing = False
        row = QHBoxLayout(self)
        row.setContentsMargins(4, 0, 4, 0)
        self.play_button = QToolButton(self)
        self.play_button.setObjectName("flow_clock_play")
        self.play_button.setText("▶  Play flow")
        self.play_button.setToolTip("Play both runs' flow of tasks from the start, side by side")
        self.play_button.clicked.connect(self._on_play_button_clicked)
        self.slider = QSlider(Qt.Orientation.Horizontal, self)
        self.slider.setObjectName("flow_clock_slider")
        self.slider.setRange(0, max(1, math.ceil(self.duration * 1000)))
        self.slider.setValue(self.slider.maximum())
        self.slider.setToolTip("The time both flow views show")
        self.slider.valueChanged.connect(self._on_slider_valueChanged)
        self.label = QLabel(self)
        self.label.setMinimumWidth(140)
        row.addWidget(self.play_button)
        row.addWidget(self.slider, 1)
        row.addWidget(self.label)
        self.timer = QTimer(self)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self._on_timer_timeout)
        self._last = time.monotonic()
        self._switches: list[QToolButton] = []
        for t in self.tabs:
            t.currentChanged.connect(self._on_tabs_currentChanged)
        self.setVisible(False)
        self.seek(self.t)

    def switch_button(self, parent: QWidget | None) -> QToolButton:
        """A "Flow ▸" / "Charts ▸" button switching every run's view (Ctrl+2 / Ctrl+1 too)."""
        b = QToolButton(parent)
        b.setObjectName("flow_switch")
        b.setAutoRaise(True)
        b.setToolTip("Switch both runs between their charts and their flow of tasks")
        b.clicked.connect(lambda: self.tabs[0].show_flow(not self.tabs[0].flow_shown))
        self._switches.append(b)
        self._label_switches()
        return b

    def _label_switches(self) -> None:
        flow = bool(self.tabs) and self.tabs[0].flow_shown
        for b in self._switches:
            b.setText("Show charts" if flow else "Show flow of tasks")

    def seek(self, t: float) -> None:
        self.t = min(max(0.0, t), self.duration)
        for view, model in zip(self.views, self.models, strict=True):
            view.show_at(model, min(self.t, model.last_t))
        self.label.setText(f"{self.t:7.2f} s / {self.duration:.2f} s")
        self.slider.blockSignals(True)
        self.slider.setValue(round(self.t * 1000))
        self.slider.blockSignals(False)

    def _on_slider_valueChanged(self, value: int) -> None:
        self.seek(value / 1000.0)

    def _on_play_button_clicked(self) -> None:
        self.playing = not self.playing
        if self.playing and self.t >= self.duration:
            self.seek(0.0)
        self._last = time.monotonic()
        self.play_button.setText("❚❚  Pause" if self.playing else "▶  Play flow")
        if self.playing:
            self.timer.start()
        else:
            self.timer.stop()

    def _on_timer_timeout(self) -> None:
        now = time.monotonic()
        dt, self._last = now - self._last, now
        self.seek(self.t + dt)
        if self.t >= self.duration:
            self._on_play_button_clicked()

    def _on_tabs_currentChanged(self, index: int) -> None:
        for t in self.tabs:
            if t.currentIndex() != index:
                t.setCurrentIndex(index)
        # The clock is about the flow: shown with it only.
        self.setVisible(any(t.flow_shown for t in self.tabs))
        self._label_switches()
