"""RunStatusBar: run state, stall alert, elapsed time, counts, event rate, losses, join state."""

from __future__ import annotations

import time

from PySide6.QtCore import QEvent, QSize, Qt
from PySide6.QtWidgets import QLabel, QStatusBar, QWidget

from engine.explain import Alert, AlertLevel
from engine.model import JoinState, RunModel
from engine.runner import RunStatus

UPDATE_PERIOD_S = 0.1  # numbers that change 60 times a second cannot be read
FLASH_MS = 10_000  # how long a confirmation ("Run saved to …") stays

STATE_WORDS: dict[RunStatus, str] = {
    RunStatus.IDLE: "Ready",
    RunStatus.RUNNING: "Running",
    RunStatus.PAUSED: "Paused",
    RunStatus.STOPPING: "Stopping…",
    RunStatus.FINISHED: "Finished",
    RunStatus.STOPPED: "Stopped",
}


# (background, text) of the chip by level; light and dark palettes alike: it must shout.
_CHIP_COLOURS = {
    AlertLevel.STALLED: ("#c62828", "#ffffff"),
    AlertLevel.PROBLEM: ("#9a5b00", "#ffffff"),
}


class _FactLabel(QLabel):
    """A status bar label that never makes the window wider: the bar decides what fits."""

    def minimumSizeHint(self) -> QSize:
        return QSize(0, super().minimumSizeHint().height())


def _label(name: str, parent: QWidget, tip: str) -> QLabel:
    label = _FactLabel(parent)
    label.setObjectName(name)
    label.setToolTip(tip)
    return label


class RunStatusBar(QStatusBar):
    """Always-visible facts about the run; ``show_run`` refreshes them (throttled).

    Every label shows its whole text: when the bar is too narrow (a large zoom, a long alert),
    the least needed facts step aside — the event rate first, then the counts, the elapsed
    time and the join words. The state, the alert and the events lost always stay.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("run_status_bar")
        self.setSizeGripEnabled(False)
        self.state_label = _label("status_state", self, "What the run is doing.")
        self.state_label.setProperty("role", "state")
        self.alert_label = _label("status_alert", self, "")
        self.alert_label.setTextFormat(Qt.TextFormat.PlainText)
        self.alert_label.hide()
        self.elapsed_label = _label(
            "status_elapsed",
            self,
            "Seconds since the run started, paused time left out (the charts' clock).",
        )
        self.join_label = _label(
            "status_join",
            self,
            "What queue.join() in the main process is doing: it returns when the unfinished "
            "counter (tasks put but not yet marked task_done) reaches zero.",
        )
        self.join_label.setProperty("role", "join")
        self.counts_label = _label(
            "status_counts",
            self,
            "put(): items added; get(): items taken; task_done(): items marked finished.",
        )
        self.rate_label = _label("status_rate", self, "Events received per second.")
        self.lost_label = _label(
            "status_lost",
            self,
            "Events that never reached the window (a worker killed mid-send). Should be 0.",
        )
        self.addWidget(self.state_label)
        self.addWidget(self.alert_label)
        self.addWidget(self.elapsed_label)
        self.addWidget(self.join_label, 1)
        self.addPermanentWidget(self.counts_label)
        self.addPermanentWidget(self.rate_label)
        self.addPermanentWidget(self.lost_label)
        self._last = 0.0
        self._state: RunStatus | None = None
        self._counts: tuple[int, int, int] | None = None
        self._alert: Alert | None = None
        # Shown unless there is no room (see _fit): the order they give way in.
        self._optional = [self.rate_label, self.counts_label, self.elapsed_label, self.join_label]
        self.show_run(None, RunStatus.IDLE, 0.0, 0.0, force=True)
        self.messageChanged.connect(self._on_self_messageChanged)

    # ------------------------------------------------------------------ confirmations
    def flash(self, text: str, ms: int = FLASH_MS) -> None:
        """Say ``text`` where people look (a file was saved) for ``ms`` milliseconds.

        Qt's temporary message: it stands in for the run's facts on the left for a while;
        the counts on the right stay.
        """
        self.showMessage(text, ms)

    def _on_self_messageChanged(self, text: str) -> None:
        if not text:
            self._fit()  # the run's facts are back: lay them out for the width again

    # ------------------------------------------------------------------ alert
    @property
    def alert(self) -> Alert | None:
        return self._alert

    def show_alert(self, alert: Alert | None) -> None:
        """Show (or, with None, clear) the stall chip."""
        if alert == self._alert:
            return
        self._alert = alert
        if alert is None:
            self.alert_label.hide()
            self.alert_label.clear()
            self.alert_label.setToolTip("")
            self._fit()
            return
        bg, fg = _CHIP_COLOURS[alert.level]
        self.alert_label.setProperty("level", alert.level.value)
        # Colours only: a font in a style sheet would stop the zoom from reaching the chip.
        self.alert_label.setStyleSheet(
            f"QLabel#status_alert {{ background: {bg}; color: {fg}; border-radius: 4px;"
            " padding: 1px 8px; }"
        )
        font = self.font()
        font.setBold(True)
        self.alert_label.setFont(font)
        self.alert_label.setText(alert.text)
        self.alert_label.setToolTip(alert.detail or alert.text)
        self.alert_label.show()
        self._fit()

    # ------------------------------------------------------------------ run facts
    def set_state_text(self, text: str, state: str) -> None:
        """Show ``text`` in the state pill, styled by ``state`` (a RunStatus value or "invalid")."""
        self.state_label.setText(f" {text} ")
        if self.state_label.property("state") != state:
            self.state_label.setProperty("state", state)
            # Dynamic properties only restyle after an unpolish/polish cycle.
            self.state_label.style().unpolish(self.state_label)
            self.state_label.style().polish(self.state_label)
        self._fit()

    def show_run(
        self,
        model: RunModel | None,
        status: RunStatus,
        elapsed: float,
        events_per_s: float,
        *,
        force: bool = False,
    ) -> None:
        now = time.monotonic()
        # The counts are refreshed whenever they changed: the flow view beside them shows
        # every frame's counts, and the two must never disagree (only the clock is throttled).
        counts = None if model is None else (model.puts, model.gets, model.task_dones)
        if (not force and status is self._state and now - self._last < UPDATE_PERIOD_S
                and counts == self._counts):  # fmt: skip
            return
        self._last, self._state, self._counts = now, status, counts
        self.set_state_text(STATE_WORDS[status], status.value)
        self.elapsed_label.setText(f"{elapsed:7.1f} s")
        if model is None:
            self.join_label.setText("No run yet: press Start (Space).")
            self.counts_label.setText("put 0 · get 0 · task_done 0")
            self.rate_label.setText("0 events/s")
            self.lost_label.setText("0 lost")
            self._set_role(self.join_label, "join")
            self._set_role(self.lost_label, "")
            self._fit()
            return
        self.join_label.setText(model.join_words())
        if model.premature_join:
            role = "problem"
        elif model.join_state == JoinState.RETURNED:
            role = "ok"
        else:
            role = "join"
        self._set_role(self.join_label, role)
        self.counts_label.setText(
            f"put {model.puts:,} · get {model.gets:,} · task_done {model.task_dones:,}"
        )
        self.rate_label.setText(f"{events_per_s:,.0f} events/s")
        lost = model.events_lost
        # A loss is rare and means the charts miss something: it says so in words.
        self.lost_label.setText(f"⚠ {lost:,} events lost" if lost else "0 lost")
        self._set_role(self.lost_label, "problem" if lost else "")
        self._fit()

    # ------------------------------------------------------------------ fitting
    def hidden_for_room(self) -> list[QLabel]:
        """The labels that gave way because the bar is too narrow for them."""
        return [label for label in self._optional if label.isHidden()]

    def _fit(self) -> None:
        """Show as many optional labels as fit whole; a clipped number would mislead."""
        if not self.isVisible() or self.currentMessage():
            return  # a flashed message has the left side; showing labels would cover it
        margins = self.contentsMargins()
        room = self.width() - margins.left() - margins.right() - 8
        # Each item in a status bar gets a few pixels of frame and spacing around it.
        gap = 10

        def need(label: QLabel) -> int:
            return label.sizeHint().width() + gap

        used = need(self.state_label) + need(self.lost_label)
        if self._alert is not None:
            used += need(self.alert_label)
        keep = list(self._optional)
        total = used + sum(need(label) for label in keep)
        while keep and total > room:
            dropped = keep.pop(0)
            total -= need(dropped)
        for label in self._optional:
            label.setVisible(label in keep)

    def resizeEvent(self, event: object) -> None:
        super().resizeEvent(event)  # type: ignore[arg-type]
        self._fit()

    def showEvent(self, event: object) -> None:
        super().showEvent(event)  # type: ignore[arg-type]
        self._fit()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            if self._alert is not None:
                font = self.font()
                font.setBold(True)
                self.alert_label.setFont(font)
            self._fit()

    @staticmethod
    def _set_role(label: QLabel, role: str) -> None:
        if label.property("role") != role:
            label.setProperty("role", role)
            label.style().unpolish(label)
            label.style().polish(label)
