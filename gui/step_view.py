"""StepView: step mode's pane — each process's next queue operation, the scheduler's buttons."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

# Left borders say what a row is at a glance (and in grey print): green may go, red would
# block or is blocked, grey is busy or gone. Text colours stay the palette's, for contrast.
_STYLE = """
StepRowButton { border: 1px solid palette(mid); border-left: 6px solid #9e9e9e;
                border-radius: 3px; background: palette(base); }
StepRowButton[kind="go"] { border-left-color: #2e9d4f; }
StepRowButton[kind="blocked"] { border-left-color: #d32f2f; }
StepRowButton[kind="stuck"] { border-left-color: #d32f2f; background: palette(window); }
StepRowButton[kind="busy"] { background: palette(window); }
QLabel#step_error { color: #d32f2f; font-weight: bold; }
"""


class StepRowButton(QFrame):
    """One process's row: clickable while its operation waits; the text wraps (a narrow pane)."""

    clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = QLabel(self)
        self.label.setWordWrap(True)
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 4, 8, 4)
        lay.addWidget(self.label)

    def text(self) -> str:
        return self.label.text()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self.isEnabled() and event.button() == Qt.MouseButton.LeftButton:
            self.clicked.emit()
        super().mouseReleaseEvent(event)


@dataclass(frozen=True)
class StepRow:
    """One process as the pane shows it."""

    src: int
    name: str
    waiting: bool  # an operation waits for permission: clicking it lets it go
    call: str  # the operation as the program writes it ("queue.put((3, 0.27))"), or ""
    line: int | None  # its line in the Code pane's program
    why: str | None  # why it would block (waiting) or is blocked (not waiting)
    state: str  # what it does otherwise ("working (not a queue operation)", "finished")

    def text(self) -> str:
        """Rich text: the key and name, then the call and its line, then why it would block."""
        head = f"<b>{self.src}&nbsp;&nbsp;{escape(self.name)}</b>"
        at = f" &nbsp;· line {self.line}" if self.line else ""
        red = '<span style="color:#d32f2f; font-weight:bold">'
        if self.waiting:
            call = f"<b><code>{escape(self.call)}</code></b>{at}"
            if self.why:
                return f"{head} {red}would block</span><br>{call}<br>{red}{escape(self.why)}</span>"
            return f"{head}<br>{call}"
        if self.why:
            return f"{head} {red}blocked</span><br>{escape(self.state)}"
        return f"{head}<br><i>{escape(self.state)}</i>"

    def kind(self) -> str:
        if self.waiting:
            return "blocked" if self.why else "go"
        return "stuck" if self.why else "busy"


class StepView(QWidget):
    """The pane. It only shows rows and says what was clicked; StepMode decides."""

    sig_grant = Signal(int)  # a process's number (its stream: main is 0)
    sig_next = Signal()
    sig_run = Signal()
    sig_step = Signal()
    sig_restart = Signal()
    sig_follow = Signal(str)  # a shipped schedule's name
    sig_save = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("step_view")
        self.setStyleSheet(_STYLE)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        self.status = QLabel("Step mode is off: Run ▸ Step mode (Ctrl+T), then Start.", self)
        self.status.setObjectName("step_status")
        self.status.setWordWrap(True)
        lay.addWidget(self.status)
        self.error = QLabel(self)
        self.error.setObjectName("step_error")
        self.error.setWordWrap(True)
        self.error.hide()
        lay.addWidget(self.error)

        buttons = QHBoxLayout()
        self.next_button = self._button("Next", "step_next",
                                        "Let the earliest waiting operation go (N)")  # fmt: skip
        self.run_button = self._button("Run", "step_run", "Run freely: no more waiting (R)")
        self.step_button = self._button("Step", "step_step",
                                        "Pause at every queue operation again (S)")  # fmt: skip
        for b, sig in ((self.next_button, self.sig_next), (self.run_button, self.sig_run),
                       (self.step_button, self.sig_step)):  # fmt: skip
            b.clicked.connect(sig)
            buttons.addWidget(b)
        lay.addLayout(buttons)

        self._rows_box = QWidget(self)
        self._rows = QVBoxLayout(self._rows_box)
        self._rows.setContentsMargins(0, 0, 0, 0)
        self._rows.setSpacing(4)
        self._rows.addStretch(1)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(self._rows_box)
        lay.addWidget(scroll, 1)
        self._buttons: dict[int, StepRowButton] = {}
        self._shown: tuple = ()

        bottom = QHBoxLayout()
        self.restart_button = self._button(
            "Restart with this schedule", "step_restart",
            "Run again from the start, replaying the choices made so far (undo is not possible "
            "with real processes)",
        )  # fmt: skip
        self.restart_button.clicked.connect(self.sig_restart)
        bottom.addWidget(self.restart_button, 1)
        self.save_button = self._button(
            "Save…", "step_save", "Save the schedule followed so far, for run --schedule"
        )
        self.save_button.clicked.connect(self.sig_save)
        bottom.addWidget(self.save_button)
        lay.addLayout(bottom)
        follow = QHBoxLayout()
        self.follow_label = QLabel("Follow:", self)
        self.follow_box = QComboBox(self)
        self.follow_box.setObjectName("step_follow")
        self.follow_box.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.follow_button = self._button(
            "Go", "step_follow_go", "Start again following this schedule, then step on"
        )
        self.follow_button.clicked.connect(self._on_follow_button_clicked)
        for w in (self.follow_label, self.follow_box, self.follow_button):
            follow.addWidget(w)
        lay.addLayout(follow)
        self.set_schedules([])

    def _button(self, text: str, name: str, tip: str) -> QPushButton:
        b = QPushButton(text, self)
        b.setObjectName(name)
        b.setToolTip(tip)
        b.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the number keys stay the window's
        return b

    # ------------------------------------------------------------------ showing
    def set_schedules(self, names: list[str]) -> None:
        """The schedules shipped for this preset (resources/schedules), offered to follow."""
        self.follow_box.clear()
        self.follow_box.addItems(names)
        for w in (self.follow_label, self.follow_box, self.follow_button):
            w.setVisible(bool(names))

    def show_state(self, rows: list[StepRow], status: str, error: str | None, *,
                   live: bool, stepping: bool, can_restart: bool) -> None:  # fmt: skip
        self.status.setText(status)
        self.error.setVisible(bool(error))
        self.error.setText(error or "")
        waiting = any(r.waiting for r in rows)
        self.next_button.setEnabled(live and stepping and waiting)
        self.run_button.setEnabled(live and stepping)
        self.step_button.setEnabled(live and not stepping)
        self.restart_button.setEnabled(can_restart)
        self.save_button.setEnabled(can_restart)
        shown = (*rows, live, stepping)
        if shown == self._shown:
            return
        self._shown = shown
        keep = {r.src for r in rows}
        for src in list(self._buttons):
            if src not in keep:
                self._buttons.pop(src).deleteLater()
        for i, row in enumerate(rows):
            b = self._buttons.get(row.src)
            if b is None:
                b = StepRowButton(self._rows_box)
                b.setObjectName(f"step_row_{row.src}")
                b.clicked.connect(lambda s=row.src: self.sig_grant.emit(s))
                self._rows.insertWidget(i, b)
                self._buttons[row.src] = b
            b.label.setText(row.text())
            b.setCursor(Qt.CursorShape.PointingHandCursor if row.waiting and live and stepping
                        else Qt.CursorShape.ArrowCursor)  # fmt: skip
            b.setProperty("kind", row.kind())
            b.setEnabled(live and stepping and row.waiting)
            b.setToolTip(
                f"Let {row.name} do {row.call} (key {row.src})" if row.waiting else row.state
            )
            b.style().unpolish(b)
            b.style().polish(b)

    def row_button(self, src: int) -> StepRowButton | None:
        return self._buttons.get(src)

    def _on_follow_button_clicked(self) -> None:
        name = self.follow_box.currentText()
        if name:
            self.sig_follow.emit(name)
