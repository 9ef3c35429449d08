"""The charts and the flow view as two tabs of one place, and how a replay feeds the flow view."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QSize, Qt
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import QMainWindow, QTabWidget, QWidget

from engine.model import RunModel
from engine.tracefile import Trace
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
    t <= T from it at once. The replay window hands it the whole-run model its loader fed
    (gui/trace_loader.py), so from the moment a trace is loaded any seek, forwards or
    backwards, is one cut through its columns, never a feed or a rebuild. Without one it cuts
    the furthest model the playback has fed (going back, the playback rebuilds a fresh one
    from the start; the flow view keeps the furthest until the new one gets further).
    """

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.model: RunModel | None = None
        self.fed_to = -1.0
        self.trace: Trace | None = None

    def reset(self, trace: Trace | None = None, whole: RunModel | None = None) -> None:
        """A new recording; ``whole``: its whole-run model, cut at every playhead."""
        self.model, self.fed_to = (whole, math.inf) if whole is not None else (None, -1.0)
        self.trace = trace

    def close(self) -> None:
        """Nothing runs on its own any more (the loader feeds the whole-run model)."""

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
        r = playback.replayer
        model = self.offer(r.model, r.playhead_s)
        # The playback's run time: held time (pauses, step choices) taken out, as the model's.
        view.show_at(model, max(0.0, min(playback.run_time, self.fed_to)), speed,
                     playing=playing)  # fmt: skip


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
