"""The charts and the flow view as two tabs of one place, and how a replay feeds the flow view."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QSize, Qt
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import QMainWindow, QTabWidget, QWidget

from engine.model import RunModel
from engine.tracefile import Trace
from gui.flow.full_model import FullModelBuilder
from gui.flow.view import FlowView

if TYPE_CHECKING:
    from gui.replay_playback import Playback

CHARTS_TAB = 0
FLOW_TAB = 1


class ViewTabs(QTabWidget):
    """"Charts" and "Flow" tabs (Ctrl+1, Ctrl+2); the flow view draws only while it shows."""

    def __init__(self, charts: QWidget, flow: FlowView, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("view_tabs")
        self.setDocumentMode(True)
        self.charts = charts
        self.flow = flow
        self.addTab(charts, "Charts")
        self.addTab(flow, "Flow")
        self.setTabToolTip(CHARTS_TAB, "Counters and timelines of the run (Ctrl+1)")
        self.setTabToolTip(FLOW_TAB, "Every task as a token: producer → queue → consumer → done "
                                     "(Ctrl+2)")  # fmt: skip
        for key, index in (("Ctrl+1", CHARTS_TAB), ("Ctrl+2", FLOW_TAB)):
            sc = QShortcut(QKeySequence(key), self)
            sc.setContext(Qt.ShortcutContext.WindowShortcut)
            sc.activated.connect(lambda i=index: self.setCurrentIndex(i))
        self.currentChanged.connect(self._on_self_currentChanged)

    def minimumSizeHint(self) -> QSize:
        # The charts' own hint, as when they were the central widget: the window shares its
        # height and width out among the docks exactly as before the tabs came.
        hint = self.charts.minimumSizeHint()
        return QSize(max(hint.width(), self.charts.minimumWidth()), hint.height())

    def show_flow(self, on: bool = True) -> None:
        self.setCurrentIndex(FLOW_TAB if on else CHARTS_TAB)

    @property
    def flow_shown(self) -> bool:
        return self.currentIndex() == FLOW_TAB

    def _on_self_currentChanged(self, index: int) -> None:
        if index == FLOW_TAB:
            self.flow.refresh(snap=True)


class ReplayFollower(QObject):
    """Which model the flow view cuts at the playhead in a replay.

    A model fed up to time T knows every task's times up to T, so the flow view can show any
    t <= T from it at once. Going back, the replay rebuilds a fresh model from the start (the
    charts wait for it); the flow view keeps cutting the furthest-fed model instead, so a seek
    backwards is one cut through its columns, never a rebuild. Once the flow view is shown, a
    model of the whole run is fed on a thread (gui/flow/full_model.py); from then on any seek,
    forwards too, is one cut.
    """

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.model: RunModel | None = None
        self.fed_to = -1.0
        self.trace: Trace | None = None
        self.builder = FullModelBuilder(self)
        self.builder.sig_ready.connect(self._on_builder_sig_ready)
        self.builder.sig_progress.connect(self._on_builder_sig_progress)
        self._started = False
        self._last: tuple[FlowView, Playback, float] | None = None

    def reset(self, trace: Trace | None = None) -> None:
        self.builder.cancel()
        self.model, self.fed_to = None, -1.0
        self.trace, self._started = trace, False

    def close(self) -> None:
        self.builder.cancel()
        self.builder.wait(2.0)

    def _on_builder_sig_progress(self, f: float) -> None:
        if self._last is not None:
            self._last[0].set_note(f"preparing to seek anywhere: {f:.0%}")

    def _on_builder_sig_ready(self, result: tuple[Trace, RunModel]) -> None:
        trace, model = result
        if trace is not self.trace:
            return
        self.model, self.fed_to = model, math.inf
        if self._last is not None:
            view, playback, speed = self._last
            view.set_note("")
            self.show(view, playback, speed)

    def offer(self, model: RunModel, fed_to: float) -> RunModel:
        """The playback's model fed up to ``fed_to``; returns the one to cut."""
        if model is self.model:
            self.fed_to = max(self.fed_to, fed_to)
        elif self.model is None or fed_to >= self.fed_to:
            self.model, self.fed_to = model, fed_to
        return self.model

    def show(self, view: FlowView, playback: Playback, speed: float,
             playing: bool = False) -> None:  # fmt: skip
        """``view`` at the playhead, never past what its model has been fed."""
        self._last = (view, playback, speed)
        if not self._started and self.trace is not None and view.isVisible():
            self._started = True
            self.builder.start(self.trace)
        r = playback.replayer
        model = self.offer(r.model, r.playhead_s)
        view.show_at(model, max(0.0, min(playback.target, self.fed_to)), speed, playing=playing)


def presenter_menu(window: QMainWindow) -> QAction:
    """View ▸ Presenter mode (F5) of a replay window: its charts' and flow view's large size."""
    action = QAction("&Presenter mode", window)
    action.setCheckable(True)
    action.setShortcut(QKeySequence("F5"))

    def toggled(on: bool) -> None:
        window.charts.set_presenter(on)  # type: ignore[attr-defined]
        window.flow_view.set_presenter(on)  # type: ignore[attr-defined]

    action.toggled.connect(toggled)
    window.menuBar().addMenu("&View").addAction(action)
    return action
