"""The trace window's Processes pane: which queue the charts show, and every traced process.

A queue chooser (one lane per queue the program made: the charts, log and status show one at
a time), a line saying what kind of queue it is (a ``multiprocessing.Queue`` has no
unfinished counter) or that nothing is traced, and a table of the program's processes: name,
pid, what each does on each queue, whether it still runs, and the line it is at. Clicking a
row shows that line in the code pane (``sig_process_clicked``).
"""

from __future__ import annotations

import os

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from engine.trace_lanes import Lane
from engine.trace_session import TraceSession

COLUMNS = ("Process", "pid", "Does", "State", "At line")
PLAIN_QUEUE_WORDS = (
    "a multiprocessing.Queue: puts and gets only — it has no task_done() and no unfinished "
    "counter, so an item counts as done once taken (the Unfinished chart shows its depth)"
)


class TracePanel(QWidget):
    """Queue chooser, queue note and the processes table; :meth:`update_from` refreshes."""

    sig_lane_chosen = Signal(int)  # the queue id to show
    sig_process_clicked = Signal(int)  # the stream (process) whose line to show

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("trace_panel")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        row = QHBoxLayout()
        label = QLabel("Queue on the charts:", self)
        self.lane_combo = QComboBox(self)
        self.lane_combo.setObjectName("trace_lane_combo")
        self.lane_combo.setToolTip("Each queue the program made is its own lane: pick one")
        self.lane_combo.activated.connect(self._on_lane_combo_activated)
        row.addWidget(label)
        row.addWidget(self.lane_combo, 1)
        lay.addLayout(row)
        self.note = QLabel(self)
        self.note.setObjectName("trace_lane_note")
        self.note.setWordWrap(True)
        lay.addWidget(self.note)
        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setObjectName("trace_processes")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setToolTip("Click a process to see its line in the Code pane")
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.table.cellClicked.connect(self._on_table_cellClicked)
        lay.addWidget(self.table, 1)
        self._srcs: list[int] = []
        self._lane_ids: list[int] = []

    def _on_lane_combo_activated(self, index: int) -> None:
        if 0 <= index < len(self._lane_ids):
            self.sig_lane_chosen.emit(self._lane_ids[index])

    def _on_table_cellClicked(self, row: int, _column: int) -> None:
        if 0 <= row < len(self._srcs):
            self.sig_process_clicked.emit(self._srcs[row])

    def src_at(self, row: int) -> int:
        return self._srcs[row]

    def update_from(
        self, session: TraceSession, lines: dict[int, tuple[str, int] | None]
    ) -> None:
        """Show the session's queues and processes; ``lines``: src -> (file, line) now."""
        lanes = session.lanes
        shown = session.lane
        ids = [lane.qid for lane in lanes]
        if ids != self._lane_ids or self.lane_combo.count() != len(ids):
            self._lane_ids = ids
            self.lane_combo.clear()
            for lane in lanes:
                self.lane_combo.addItem(lane_title(lane))
        for i, lane in enumerate(lanes):
            title = lane_title(lane)
            if self.lane_combo.itemText(i) != title:
                self.lane_combo.setItemText(i, title)
        if shown is not None and self.lane_combo.currentIndex() != ids.index(shown.qid):
            self.lane_combo.setCurrentIndex(ids.index(shown.qid))
        self.lane_combo.setEnabled(len(ids) > 1)
        self.note.setText(lane_note(session, shown))
        self._fill(session, lines)

    def _fill(self, session: TraceSession, lines: dict[int, tuple[str, int] | None]) -> None:
        srcs = sorted(session.names)
        if srcs != self._srcs:
            self._srcs = srcs
            self.table.setRowCount(len(srcs))
        for row, src in enumerate(srcs):
            pid, name = session.names[src]
            site = lines.get(src)
            at = "" if site is None else f"{os.path.basename(site[0])}:{site[1]}"
            cells = (name, str(pid), does_words(session, src), state_words(session, src), at)
            for col, text in enumerate(cells):
                item = self.table.item(row, col)
                if item is None:
                    self.table.setItem(row, col, QTableWidgetItem(text))
                elif item.text() != text:
                    item.setText(text)


def lane_title(lane: Lane) -> str:
    m = lane.model
    bound = f", maxsize {lane.maxsize}" if lane.maxsize else ""
    return f"{lane.name} — {lane.kind_words}{bound} ({m.puts} puts, {m.gets} gets)"


def lane_note(session: TraceSession, lane: Lane | None) -> str:
    """What the chosen lane is, or why there is none (the program is not idle: untraced)."""
    if lane is None:
        if session.notes:
            return "No queue of this program is traced: " + "; ".join(session.notes) + "."
        return "The program has made no JoinableQueue or Queue yet."
    where = f" (made at {os.path.basename(lane.file)}:{lane.line})" if lane.line else ""
    text = f"{lane.name}{where}: " + (
        "a multiprocessing.JoinableQueue" if lane.joinable else PLAIN_QUEUE_WORDS
    )
    if session.notes:
        text += ". Not traced: " + "; ".join(session.notes)
    return text + "."


def does_words(session: TraceSession, src: int) -> str:
    """ "producer", or per queue "first: consumer · second: producer" with several."""
    parts = []
    for lane in session.lanes:
        words = lane.role_words(src)
        if words is not None:
            parts.append(words if len(session.lanes) == 1 else f"{lane.name}: {words}")
    return " · ".join(parts) if parts else "no queue yet"


def state_words(session: TraceSession, src: int) -> str:
    for lane in session.lanes:
        w = lane.model.workers.get(src)
        if w is not None and w.exitcode is not None:
            return "finished" if w.exitcode == 0 else f"exit code {w.exitcode}"
    return "ended" if session.ended else "running"
