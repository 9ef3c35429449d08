"""RunStatusBar: run state, elapsed time, counts, event rate, losses and the join state in words."""

from __future__ import annotations

import time

from PySide6.QtWidgets import QLabel, QStatusBar, QWidget

from engine.model import JoinState, RunModel
from engine.runner import RunStatus

UPDATE_PERIOD_S = 0.1  # numbers that change 60 times a second cannot be read

STATE_WORDS: dict[RunStatus, str] = {
    RunStatus.IDLE: "Ready",
    RunStatus.RUNNING: "Running",
    RunStatus.PAUSED: "Paused",
    RunStatus.STOPPING: "Stopping…",
    RunStatus.FINISHED: "Finished",
    RunStatus.STOPPED: "Stopped",
}


def _label(name: str, parent: QWidget, tip: str) -> QLabel:
    label = QLabel(parent)
    label.setObjectName(name)
    label.setToolTip(tip)
    return label


class RunStatusBar(QStatusBar):
    """Always-visible facts about the run; ``show_run`` refreshes them (throttled)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("run_status_bar")
        self.setSizeGripEnabled(False)
        self.state_label = _label("status_state", self, "What the run is doing.")
        self.state_label.setProperty("role", "state")
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
        self.addWidget(self.elapsed_label)
        self.addWidget(self.join_label, 1)
        self.addPermanentWidget(self.counts_label)
        self.addPermanentWidget(self.rate_label)
        self.addPermanentWidget(self.lost_label)
        self._last = 0.0
        self._state: RunStatus | None = None
        self.show_run(None, RunStatus.IDLE, 0.0, 0.0, force=True)

    def set_state_text(self, text: str, state: str) -> None:
        """Show ``text`` in the state pill, styled by ``state`` (a RunStatus value or "invalid")."""
        self.state_label.setText(f" {text} ")
        if self.state_label.property("state") != state:
            self.state_label.setProperty("state", state)
            # Dynamic properties only restyle after an unpolish/polish cycle.
            self.state_label.style().unpolish(self.state_label)
            self.state_label.style().polish(self.state_label)

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
        if not force and status is self._state and now - self._last < UPDATE_PERIOD_S:
            return
        self._last, self._state = now, status
        self.set_state_text(STATE_WORDS[status], status.value)
        self.elapsed_label.setText(f"{elapsed:7.1f} s")
        if model is None:
            self.join_label.setText("No run yet: press Start (Space).")
            self.counts_label.setText("put 0 · get 0 · task_done 0")
            self.rate_label.setText("0 events/s")
            self.lost_label.setText("0 lost")
            self._set_role(self.join_label, "join")
            self._set_role(self.lost_label, "")
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
        self.lost_label.setText(f"{lost:,} lost")
        self._set_role(self.lost_label, "problem" if lost else "")

    @staticmethod
    def _set_role(label: QLabel, role: str) -> None:
        if label.property("role") != role:
            label.setProperty("role", role)
            label.style().unpolish(label)
            label.style().polish(label)
