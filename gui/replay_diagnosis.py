"""ReplayDiagnosis: a replayed run's diagnosis at the playhead, and the whole run's at its end."""

from __future__ import annotations

import time

from PySide6.QtWidgets import QVBoxLayout, QWidget

from engine.explain import Alert, explain
from engine.model import RunModel
from gui.diagnosis_view import DiagnosisView
from gui.run_ending import ended_cleanly, ending_words

# While playing, the diagnosis is worked out at most this often (it walks every worker).
PERIOD_S = 0.5


class ReplayDiagnosis(QWidget):
    """The live window's diagnosis panel, fed from the replay's model.

    At the end of the recording it says what ``replay --json`` says (the model as a whole,
    judged at its last event); before that, what the live window said at that moment.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("replay_diagnosis")
        self.view = DiagnosisView(self)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 4)
        lay.addWidget(self.view)
        self._key: tuple | None = None
        self._next = 0.0
        self.found: list[str] = []
        self.alert: Alert | None = None  # the status bar chip, from the same explanation

    def reset(self) -> None:
        self._key = None
        self._next = 0.0
        self.found = []
        self.alert = None
        self.view.show_idle()

    def update_at(self, model: RunModel, t_s: float, *, at_end: bool, playing: bool) -> bool:
        """Diagnose ``model`` as of ``t_s``; True when the sentences changed."""
        key = (id(model), model.events, round(t_s, 3), at_end)
        now = time.monotonic()
        if key == self._key or (playing and not at_end and now < self._next):
            return False
        self._key, self._next = key, now + PERIOD_S
        if model.t0 is None:
            found: list[str] = []
            self.alert = None
        else:
            said = explain(model, None if at_end else t_s)
            found, self.alert = list(said.findings), said.alert
        changed = found != self.found
        self.found = found
        shown = list(found)
        if at_end and model.t0 is not None and not ended_cleanly(model):
            # A run stopped while join() still waited is no healthy run, whatever the
            # findings say (a slow run stopped by the hang timeout has none).
            words = ending_words(model)
            shown.append(f"The run ended badly: {words}.")
        self.view.show_findings(shown, ended=at_end)
        return changed
