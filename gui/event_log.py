"""EventLog: the tutorial-style lines of a run as they happen; bounded, filterable, followable."""

from __future__ import annotations

from collections import deque

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontDatabase,
    QPalette,
    QSyntaxHighlighter,
    QTextCharFormat,
    QTextDocument,
    QTextOption,
)
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from engine.applied import Applied, last
from engine.events import Kind, effect_time
from engine.explain import Narrator
from engine.model import RunModel

MAX_LINES = 5_000
# Records kept for the next flush: more than anyone reads in a tenth of a second, and
# narrating a whole flood would freeze the window. The older ones are counted, not listed.
MAX_PENDING_RECORDS = 500
# Lines appended per flush, the newest: laying out and colouring a line costs 30-40 µs, and
# under a flood 300 of them (12-30 ms) made the longest event-loop gaps. The rest is counted.
# Beyond that (a flood: over 1,000 events a second) a flush lists no more than the view
# shows at once (lines scrolled past at ten screens a second are never read), and never
# fewer than MIN_FLUSH_LINES.
MAX_FLUSH_LINES = 100
MIN_FLUSH_LINES = 8


# The charts' hues (gui/charts/palette.py), repeated here so the log does not import pyqtgraph:
# producer lines in the puts colour, consumer lines in the task_done colour, main in the join
# colour. (time stamp, producer, consumer, main, problem) for light and dark backgrounds.
LOG_COLOURS: dict[bool, tuple[str, str, str, str, str]] = {
    False: ("#555b61", "#b06d00", "#00845f", "#7b3fa0", "#d62728"),
    True: ("#a0a7b0", "#ffb84d", "#4fd1a1", "#c9a0ff", "#ff5c5c"),
}


_PARENT_NOTES: dict[int, str] = {
    Kind.PAUSE: "— Paused: every worker holds at its next queue operation or task step",
    Kind.RESUME: "— Resumed",
}


def is_dark(palette: QPalette) -> bool:
    return palette.color(QPalette.ColorRole.Window).lightnessF() < 0.45


def _stamp(t: float) -> str:
    return f"{t:7.2f} s  "


TIME_WIDTH = len(_stamp(0.0))


class _LogHighlighter(QSyntaxHighlighter):
    """Colours a line by who speaks: producers, consumers, main, GUI notes and problems."""

    def __init__(self, document: QTextDocument, dark: bool) -> None:
        super().__init__(document)
        self.set_dark(dark)

    def set_dark(self, dark: bool) -> None:
        def fmt(color: str, bold: bool = False) -> QTextCharFormat:
            f = QTextCharFormat()
            f.setForeground(QColor(color))
            if bold:
                f.setFontWeight(QFont.Weight.Bold)
            return f

        time_c, producer, consumer, main, problem = LOG_COLOURS[dark]
        self._time = fmt(time_c)
        self._producer = fmt(producer)
        self._consumer = fmt(consumer)
        self._main = fmt(main, bold=True)
        self._problem = fmt(problem, bold=True)
        self._note = fmt(time_c)
        self.rehighlight()

    def highlightBlock(self, text: str) -> None:
        if len(text) <= TIME_WIDTH:
            return
        self.setFormat(0, TIME_WIDTH, self._time)
        body = text[TIME_WIDTH:]
        if body.startswith("!"):
            f = self._problem
        elif body.startswith("Main"):
            f = self._main
        elif body.startswith("—"):
            f = self._note
        elif body.startswith((".producer", "Producer")):
            f = self._producer
        elif body.startswith((".consumer", "Consumer")):
            f = self._consumer
        else:
            return
        self.setFormat(TIME_WIDTH, len(body), f)


class EventLog(QWidget):
    """Shows the last MAX_LINES narrated lines; a text filter and a follow toggle on top."""

    sig_follow_changed = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("event_log")
        self._model: RunModel | None = None
        self._narrator: Narrator | None = None
        self._pending: deque[tuple[int, tuple]] = deque(maxlen=MAX_PENDING_RECORDS)
        self._skipped = 0
        self._lines: deque[str] = deque(maxlen=MAX_LINES)
        self._unseen = 0
        self._filter = ""

        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 2, 4, 4)
        lay.setSpacing(3)
        bar = QHBoxLayout()
        bar.setSpacing(6)
        self.filter_edit = QLineEdit(self)
        self.filter_edit.setObjectName("log_filter")
        self.filter_edit.setPlaceholderText("Filter lines…")
        self.filter_edit.setToolTip(
            "Show only lines containing this text, e.g. consumer-1, (3, or Main."
        )
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.textChanged.connect(self._on_filter_edit_textChanged)
        self.follow_button = QToolButton(self)
        self.follow_button.setObjectName("log_follow")
        self.follow_button.setCheckable(True)
        self.follow_button.setChecked(True)
        self.follow_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.follow_button.setToolTip(
            "Follow: show new lines as they come. Off: hold the view still to read it."
        )
        self.follow_button.toggled.connect(self._on_follow_button_toggled)
        self.count_label = QLabel(self)
        self.count_label.setObjectName("log_count")
        self.count_label.setProperty("role", "muted")
        bar.addWidget(self.filter_edit, 1)
        bar.addWidget(self.count_label)
        bar.addWidget(self.follow_button)
        lay.addLayout(bar)

        # QPlainTextEdit lays out a flood of lines about five times faster than QTextEdit
        # (measured: 2-9 ms against 11-40 ms per 250 lines), at the price of wrapped lines
        # starting under the time column instead of a hanging indent.
        self.view = QPlainTextEdit(self)
        self.view.setObjectName("log_view")
        self.view.setReadOnly(True)
        self.view.setUndoRedoEnabled(False)
        self.view.setMaximumBlockCount(MAX_LINES)
        # Narrow columns (1280-pixel screens) would cut "Main found that ..." off otherwise.
        self.view.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.view.setWordWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
        self.set_font_scale(1.0)
        self._highlighter = _LogHighlighter(self.view.document(), is_dark(self.palette()))
        lay.addWidget(self.view, 1)
        self._update_follow_text()
        self._update_count()

    # ------------------------------------------------------------------ public API
    def set_model(self, model: RunModel | None) -> None:
        """Start over for a new run (or none): clears every line."""
        self._model = model
        self._narrator = Narrator(model) if model is not None else None
        self._pending.clear()
        self._skipped = 0
        self._lines.clear()
        self._unseen = 0
        self.view.clear()
        self._update_count()

    def add_records(self, applied: Applied | list[tuple[int, tuple]]) -> None:
        """Queue applied records; they are narrated on the next flush.

        Only the newest MAX_PENDING_RECORDS are kept, so only those pairs are made."""
        overflow = len(self._pending) + len(applied) - MAX_PENDING_RECORDS
        if overflow > 0:
            self._skipped += min(overflow, len(self._pending) + len(applied))
        self._pending.extend(last(applied, MAX_PENDING_RECORDS))

    @property
    def pending(self) -> int:
        """Records waiting for the next flush."""
        return len(self._pending)

    def add_note(self, text: str, t: float | None = None) -> None:
        """A line from the window itself (run started, summary, warnings)."""
        self.flush()
        self._append([(_stamp(t) if t is not None else " " * TIME_WIDTH) + text])

    def flush(self) -> None:
        """Narrate what is pending. When is the caller's frame clock's to say (at most ~10
        times a second within a share of the time: gui/frame_clock.py)."""
        self._flush()

    def _flush(self) -> None:
        if not self._pending or self._narrator is None or self._model is None:
            return
        lines: list[str] = []  # newest first, until the view is full
        rel, line_of = self._model.rel, self._narrator.line
        pending = self._pending
        limit = MAX_FLUSH_LINES if len(pending) <= MAX_FLUSH_LINES else self.lines_per_flush()
        while pending and len(lines) < limit:
            src, r = pending.pop()
            text = line_of(src, r)
            if text is None and src == 0:
                # Written here, not when the button is pressed, so the line sits after the
                # events that happened before the pause, in the order of the charts.
                text = _PARENT_NOTES.get(r[0])
            elif text is None:
                text = self._narrator.unprinted(src, r)
            if text is not None:
                lines.append(_stamp(rel(effect_time(r))) + text)
        self._skipped += len(pending)
        pending.clear()
        if self._skipped:
            lines.append(" " * TIME_WIDTH + f"— {self._skipped:,} events came too fast to list —")
            self._skipped = 0
        lines.reverse()
        self._append(lines)

    def lines_per_flush(self) -> int:
        """How many narrated lines a flush lists of a flood: what the view shows at once."""
        spacing = max(1, self.view.fontMetrics().lineSpacing())
        fits = self.view.viewport().height() // spacing
        return max(MIN_FLUSH_LINES, min(MAX_FLUSH_LINES, fits))

    def lines(self) -> list[str]:
        """Every kept line, filter or not (for tests and copy)."""
        return list(self._lines)

    def shown_lines(self) -> list[str]:
        text = self.view.toPlainText()
        return text.split("\n") if text else []

    @property
    def following(self) -> bool:
        return self.follow_button.isChecked()

    def set_following(self, on: bool) -> None:
        self.follow_button.setChecked(on)

    def set_filter(self, text: str) -> None:
        self.filter_edit.setText(text)

    def set_font_scale(self, scale: float) -> None:
        """Presenter mode: the fixed-width log font follows the application's scale."""
        font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        font.setPointSizeF(font.pointSizeF() * scale)
        self.view.setFont(font)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            # The system switched between light and dark: keep every line readable.
            self._highlighter.set_dark(is_dark(self.palette()))

    # ------------------------------------------------------------------ internals
    def _matches(self, line: str) -> bool:
        return not self._filter or self._filter in line.casefold()

    def _append(self, lines: list[str]) -> None:
        if not lines:
            return
        self._lines.extend(lines)
        shown = [ln for ln in lines if self._matches(ln)][-MAX_LINES:]
        if not shown:
            self._update_count()
            return
        if not self.following:
            # Appending would shift the text under the reader; catch up on resume instead.
            self._unseen += len(shown)
            self._update_follow_text()
            self._update_count()
            return
        self.view.appendPlainText("\n".join(shown))
        bar = self.view.verticalScrollBar()
        bar.setValue(bar.maximum())
        self._update_count()

    def _rebuild(self) -> None:
        shown = [ln for ln in self._lines if self._matches(ln)]
        self.view.setPlainText("\n".join(shown))
        bar = self.view.verticalScrollBar()
        bar.setValue(bar.maximum())
        self._unseen = 0
        self._update_follow_text()
        self._update_count()

    def _update_count(self) -> None:
        total = len(self._lines)
        if self._filter:
            shown = sum(1 for ln in self._lines if self._matches(ln))
            self.count_label.setText(f"{shown:,} of {total:,} lines")
        else:
            self.count_label.setText(f"{total:,} lines" if total != 1 else "1 line")

    def _update_follow_text(self) -> None:
        if self.following:
            self.follow_button.setText("Following")
        elif self._unseen:
            self.follow_button.setText(f"Paused (+{self._unseen:,} new)")
        else:
            self.follow_button.setText("Paused")

    def _on_filter_edit_textChanged(self, text: str) -> None:
        self._filter = text.strip().casefold()
        self._rebuild()

    def _on_follow_button_toggled(self, on: bool) -> None:
        if on:
            self._rebuild()
        else:
            self._update_follow_text()
        self.sig_follow_changed.emit(on)
