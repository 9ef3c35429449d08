"""DiagnosisView: the hang diagnosis of the live run, in warning colours, one sentence a line."""

from __future__ import annotations

from enum import Enum

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication, QFrame, QLabel, QVBoxLayout, QWidget

NO_RUN_TEXT = "Start the run: problems that hold it up are explained here as they happen."
OK_TEXT = "No problem found so far."
OK_END_TEXT = "No problem found."


class DiagnosisState(Enum):
    IDLE = "idle"  # no run
    OK = "ok"  # a run, nothing wrong (yet)
    PROBLEM = "problem"


# (frame background, frame border, heading colour, text colour) by state, light then dark.
_LOOK = {
    False: {
        DiagnosisState.IDLE: ("transparent", "#c9ced4", "#5f6870", "#5f6870"),
        DiagnosisState.OK: ("#e7f5ee", "#2e8b57", "#00704f", "#1f2328"),
        DiagnosisState.PROBLEM: ("#fdecea", "#c62828", "#b71c1c", "#3b0d0d"),
    },
    True: {
        DiagnosisState.IDLE: ("transparent", "#3a4048", "#8b949e", "#8b949e"),
        DiagnosisState.OK: ("#16311f", "#3fb37f", "#7ee2b8", "#e3e7ec"),
        DiagnosisState.PROBLEM: ("#3d1414", "#ff6b6b", "#ff8a80", "#ffe3e0"),
    },
}
_HEADINGS = {
    DiagnosisState.IDLE: "Diagnosis",
    DiagnosisState.OK: "✔ Diagnosis",
    DiagnosisState.PROBLEM: "⚠ Problem found",
}
# Nothing wrong fits on the heading's line: the lesson's height goes to what matters.
_OK_HEADINGS = {False: f"✔ {OK_TEXT}", True: f"✔ {OK_END_TEXT}"}


class DiagnosisView(QFrame):
    """Shows what :func:`engine.explain.explain` says; the window feeds it twice a second."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("diagnosis_view")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(10, 8, 10, 10)
        lay.setSpacing(4)
        self.heading = QLabel(self)
        self.heading.setObjectName("diagnosis_heading")
        self.body = QLabel(self)
        self.body.setObjectName("diagnosis_text")
        self.body.setWordWrap(True)
        self.body.setTextFormat(Qt.TextFormat.RichText)
        self.body.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.body.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        lay.addWidget(self.heading)
        lay.addWidget(self.body)
        self._state = DiagnosisState.IDLE
        self._sentences: tuple[str, ...] = ()
        self._ended = False
        self._restyling = False
        self.update_fonts()
        self.show_idle()

    # ------------------------------------------------------------------ content
    @property
    def state(self) -> DiagnosisState:
        return self._state

    def sentences(self) -> list[str]:
        return list(self._sentences)

    def text(self) -> str:
        """The heading and the plain text shown, for tests and the clipboard."""
        if self._sentences:
            return self.heading.text() + "\n" + "\n".join(self._sentences)
        if self._state is DiagnosisState.OK:
            return self.heading.text()
        return self.heading.text() + "\n" + self.body.text()

    def show_idle(self) -> bool:
        """No run: say what the panel is for. True when that changed what is shown."""
        changed = self._state is not DiagnosisState.IDLE
        self._state = DiagnosisState.IDLE
        self._sentences = ()
        self._ended = False
        self.body.setText(NO_RUN_TEXT)
        self._restyle()
        return changed

    def show_findings(self, sentences: list[str], *, ended: bool = False) -> bool:
        """Show a run's diagnosis ([] = nothing wrong). True when the text shown changed."""
        found = tuple(sentences)
        state = DiagnosisState.PROBLEM if found else DiagnosisState.OK
        if found == self._sentences and state is self._state and ended == self._ended:
            return False
        self._sentences, self._state, self._ended = found, state, ended
        if found:
            items = "".join(f"<li style='margin-bottom:4px'>{_escape(s)}</li>" for s in found)
            self.body.setText(f"<ul style='margin-left:-24px'>{items}</ul>")
        else:
            self.body.setText(_escape(OK_END_TEXT if ended else OK_TEXT))
        self._restyle()
        return True

    # ------------------------------------------------------------------ looks
    def update_fonts(self) -> None:
        """Heading 1.15 times the application font, bold; the text at the application size."""
        font = QApplication.font()
        self.body.setFont(font)
        big = QApplication.font()
        big.setPointSizeF(big.pointSizeF() * 1.15)
        big.setBold(True)
        self.heading.setFont(big)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        # A new style sheet sends a palette change of its own: react to the system's only.
        if event.type() == QEvent.Type.PaletteChange and not self._restyling:
            self._restyle()

    def _restyle(self) -> None:
        # The window's palette, not this frame's: the frame's own style sheet sets its
        # background (transparent when idle, which reads as black), and the next restyle
        # would take the look of that for the theme's.
        dark = self.window().palette().color(QPalette.ColorRole.Window).lightnessF() < 0.45
        bg, border, head, text = _LOOK[dark][self._state]
        ok = self._state is DiagnosisState.OK
        self.heading.setText(_OK_HEADINGS[self._ended] if ok else _HEADINGS[self._state])
        self.body.setVisible(not ok)
        width = 1 if self._state is DiagnosisState.IDLE else 2
        # Colours only: a font in a style sheet would stop the zoom from reaching these labels.
        sheet = (
            f"QFrame#diagnosis_view {{ background: {bg}; border: {width}px solid {border};"
            " border-radius: 6px; }"
            f" QLabel#diagnosis_heading {{ color: {head}; background: transparent; }}"
            f" QLabel#diagnosis_text {{ color: {text}; background: transparent; }}"
        )
        self.setProperty("state", self._state.value)
        if sheet != self.styleSheet():
            self._restyling = True
            try:
                self.setStyleSheet(sheet)
            finally:
                self._restyling = False


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
