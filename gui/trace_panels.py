"""The trace window's Processes pane: the program's queues and processes, their lines.

A table of the queues (one lane per queue the program made, with its counts; the charts, log
and status show the selected one), a line saying what kind of queue it is (a
``multiprocessing.Queue`` has no unfinished counter) or that nothing is traced, and a table of
the program's processes: name, pid, what each does on each queue, whether it still runs, and
the line it is at. Clicking a row shows that line in the code pane (``sig_process_clicked``).
"""

from __future__ import annotations

import os

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from engine.trace_lanes import Lane
from engine.trace_session import TraceSession

COLUMNS = ("Process", "pid", "State", "At line", "Does")
QUEUE_COLUMNS = ("Queue", "Kind", "puts", "gets", "task_done", "unfinished")
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
        # Every queue at once, with its counts; the selected row is the one on the charts.
        self.lanes = _table(self, "trace_lanes", QUEUE_COLUMNS)
        self.lanes.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.lanes.setToolTip("Each queue the program made is its own lane: click one to chart it")
        self.lanes.cellClicked.connect(self._on_lanes_cellClicked)
        lay.addWidget(self.lanes)
        self.note = QLabel(self)
        self.note.setObjectName("trace_lane_note")
        self.note.setWordWrap(True)
        lay.addWidget(self.note)
        self.table = _table(self, "trace_processes", COLUMNS)
        self.table.setToolTip("Click a process to see its line in the Code pane")
        self.table.cellClicked.connect(self._on_table_cellClicked)
        lay.addWidget(self.table, 1)
        self._srcs: list[int] = []
        self._lane_ids: list[int] = []

    def _on_lanes_cellClicked(self, row: int, _column: int) -> None:
        if 0 <= row < len(self._lane_ids):
            self.sig_lane_chosen.emit(self._lane_ids[row])

    def _on_table_cellClicked(self, row: int, _column: int) -> None:
        if 0 <= row < len(self._srcs):
            self.sig_process_clicked.emit(self._srcs[row])

    def src_at(self, row: int) -> int:
        return self._srcs[row]

    def update_from(self, session: TraceSession, lines: dict[int, tuple[str, int] | None]) -> None:
        """Show the session's queues and processes; ``lines``: src -> (file, line) now."""
        lanes = session.lanes
        shown = session.lane
        ids = [lane.qid for lane in lanes]
        if ids != self._lane_ids:
            self._lane_ids = ids
            self.lanes.setRowCount(len(ids))
            # Room for every queue's row (a handful), no more.
            rows = len(ids) * self.lanes.verticalHeader().defaultSectionSize()
            frame = 2 * self.lanes.frameWidth()
            self.lanes.setFixedHeight(
                self.lanes.horizontalHeader().sizeHint().height() + rows + frame
            )
        for row, lane in enumerate(lanes):
            _set_row(self.lanes, row, lane_cells(lane))
        if shown is not None and self.lanes.currentRow() != ids.index(shown.qid):
            self.lanes.selectRow(ids.index(shown.qid))
        self.lanes.setVisible(bool(ids))
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
            cells = (name, str(pid), state_words(session, src), at, does_words(session, src))
            _set_row(self.table, row, cells)


def _table(parent: QWidget, name: str, columns: tuple[str, ...]) -> QTableWidget:
    table = QTableWidget(0, len(columns), parent)
    table.setObjectName(name)
    table.setHorizontalHeaderLabels(columns)
    table.verticalHeader().hide()
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    table.setWordWrap(False)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setStretchLastSection(True)
    return table


def _set_row(table: QTableWidget, row: int, cells: tuple[str, ...]) -> None:
    for col, text in enumerate(cells):
        item = table.item(row, col)
        if item is None:
            table.setItem(row, col, QTableWidgetItem(text))
        elif item.text() != text:
            item.setText(text)


def lane_cells(lane: Lane) -> tuple[str, ...]:
    """A queue's row: name, kind, puts, gets, task_done calls and unfinished (or depth)."""
    m = lane.model
    kind = ("Joinable" if lane.joinable else "Queue") + (
        f", max {lane.maxsize}" if lane.maxsize else ""
    )
    if lane.joinable:
        return (lane.name, kind, str(m.puts), str(m.gets), str(m.task_dones), str(m.unfinished))
    return (lane.name, kind, str(m.puts), str(m.gets), "—", f"{m.depth} queued")


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
    if src == 0 and session.exit_code is not None:
        return "finished" if session.exit_code == 0 else f"exit code {session.exit_code}"
    for lane in session.lanes:
        w = lane.model.workers.get(src)
        if w is not None and w.exitcode is not None:
            if w.ended_by_program:
                return f"terminated ({w.exitcode})"  # by the program itself: not a fault
            return "finished" if w.exitcode == 0 else f"exit code {w.exitcode}"
    pid = session.names.get(src, (0, ""))[0]
    if any(f"(pid {pid}) failed before" in text for text in session.early_failures):
        return "failed at start"  # before its target ran: the lesson says why
    return "ended" if session.ended else "running"
