"""StepView: step mode's pane — each process's next queue operation, the scheduler's buttons."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QGridLayout,
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
_NO_MAX = 16_777_215  # QWIDGETSIZE_MAX: no maximum height
STRIP_MAX_SHARE = 0.4  # of the window's height, at most, for the strip's minimum


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
        # Two blocks of controls and the rows; tall (a side column) or a strip (see set_strip).
        self._top = QWidget(self)
        lay = QVBoxLayout(self._top)
        lay.setContentsMargins(0, 0, 0, 0)
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
        self._rows = QGridLayout(self._rows_box)
        self._rows.setContentsMargins(0, 0, 0, 0)
        self._rows.setSpacing(4)
        self.scroll = QScrollArea(self)
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        self.scroll.setWidget(self._rows_box)
        self._rows_box.installEventFilter(self)
        self._buttons: dict[int, StepRowButton] = {}
        self._order: list[int] = []  # the rows' processes, in the order shown
        self._shown: tuple = ()
        self.strip = False

        self._bottom = QWidget(self)
        lay = QVBoxLayout(self._bottom)
        lay.setContentsMargins(0, 0, 0, 0)
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
        self._top.installEventFilter(self)
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(6, 6, 6, 6)
        self._lay_out()
        self.set_schedules([])

    def set_strip(self, on: bool) -> None:
        """A strip (docked below a view in presenter mode): the controls in a column on the
        left, the rows side by side on the right, so the pane is short and the view keeps the
        window's width. Otherwise a tall column: controls, rows, then restart and follow."""
        if on != self.strip:
            self.strip = on
            self._lay_out()
            self._place_rows()

    def _fit_height(self) -> None:
        """A strip is as tall as its taller side needs at its width, no more, no less: the views
        above it keep the rest (Qt would otherwise share the height out by size hints, and a
        window that swaps its central widget gave the strip most of it)."""
        if not self.strip:
            self.setMinimumHeight(0)
            self.setMaximumHeight(_NO_MAX)
            return
        g = self._grid
        # The controls sit in rows 0 and 2 beside the rows' span of three: two spacings.
        left = (self._top.heightForWidth(self._top.width()) + 2 * g.verticalSpacing()
                + self._bottom.sizeHint().height())  # fmt: skip
        # The rows' own heights at the widths the grid gave them (their words wrap there).
        cols = 2 if len(self._order) > 1 else 1
        heights: dict[int, int] = {}
        for i, src in enumerate(self._order):
            b = self._buttons[src]
            h = b.heightForWidth(b.width()) if b.width() > 0 else -1
            h = h if h > 0 else b.sizeHint().height()
            heights[i // cols] = max(heights.get(i // cols, 0), h)
        rows = sum(heights.values()) + self._rows.verticalSpacing() * max(0, len(heights) - 1)
        m = g.contentsMargins()
        need = max(left, rows) + m.top() + m.bottom()
        # Whole, unless that would take more than 40 % of the window (then the rows scroll).
        self.setMinimumHeight(min(need, int(self.window().height() * STRIP_MAX_SHARE)))
        self.setMaximumHeight(need)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # A row, the rows or the controls got a new size (a layout pass after the words
        # changed): they may wrap to another number of lines.
        if event.type() == QEvent.Type.Resize and self.strip:
            self._fit_height()
        return False

    def _lay_out(self) -> None:
        g = self._grid
        for w in (self._top, self.scroll, self._bottom):
            g.removeWidget(w)
        for i in range(3):
            g.setRowStretch(i, 0)
            g.setColumnStretch(i, 0)
        if self.strip:
            g.addWidget(self._top, 0, 0)
            g.addWidget(self._bottom, 2, 0)
            g.addWidget(self.scroll, 0, 1, 3, 1)
            g.setRowStretch(1, 1)
            g.setColumnStretch(0, 2)
            g.setColumnStretch(1, 3)
        else:
            g.addWidget(self._top, 0, 0)
            g.addWidget(self.scroll, 1, 0)
            g.addWidget(self._bottom, 2, 0)
            g.setRowStretch(1, 1)
        self._fit_height()

    def _place_rows(self) -> None:
        """The rows in order: one column, or two side by side in a strip."""
        rows = self._rows
        for b in self._buttons.values():
            rows.removeWidget(b)
        cols = 2 if self.strip and len(self._order) > 1 else 1
        for i in range(rows.rowCount() + 1):
            rows.setRowStretch(i, 0)
        for i, src in enumerate(self._order):
            rows.addWidget(self._buttons[src], i // cols, i % cols)
        rows.setRowStretch((len(self._order) + cols - 1) // cols, 1)  # rows stay at the top
        self._fit_height()

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
                b = self._buttons.pop(src)
                self._rows.removeWidget(b)
                b.deleteLater()
        for row in rows:
            b = self._buttons.get(row.src)
            if b is None:
                b = StepRowButton(self._rows_box)
                b.setObjectName(f"step_row_{row.src}")
                b.clicked.connect(lambda s=row.src: self.sig_grant.emit(s))
                b.installEventFilter(self)  # its width decides how many lines its words take
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
        order = [r.src for r in rows]
        if order != self._order:
            self._order = order
            self._place_rows()
        elif self.strip:
            self._fit_height()  # a row's words changed: it may wrap to more lines

    def row_button(self, src: int) -> StepRowButton | None:
        return self._buttons.get(src)

    def _on_follow_button_clicked(self) -> None:
        name = self.follow_box.currentText()
        if name:
            self.sig_follow.emit(name)
