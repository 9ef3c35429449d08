"""CompareWindow: two recorded runs side by side on one time axis, with their figures compared."""

from __future__ import annotations

import math
import signal
import sys
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QMainWindow,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from engine.model import RunModel
from engine.replay import replay_model, summary_json
from engine.tracefile import Trace
from gui.replay_window import ReplayCharts
from gui.trace_loader import warn_to_stderr

# (summary key, row label, unit); the rows the table shows, in this order.
FIGURES: tuple[tuple[str, str, str], ...] = (
    ("makespan_s", "makespan", "s"),
    ("throughput_per_s", "throughput", "tasks/s"),
    ("mean_wait_s", "mean wait in queue", "ms"),
    ("mean_service_s", "mean service time", "ms"),
    ("join_returned_at_s", "queue.join() returned at", "s"),
    ("puts", "puts", ""),
    ("gets", "gets", ""),
    ("task_dones", "task_done calls", ""),
    ("unfinished", "unfinished at the end", ""),
    ("failures", "task failures", ""),
    ("retries", "retries", ""),
    ("events", "events", ""),
    ("events_lost", "events lost", ""),
)
COLUMNS = ("figure", "A", "B", "B − A", "B ÷ A")


def _scaled(key: str, v: object) -> float | None:
    if v is None or isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    return float(v) * 1000.0 if key in ("mean_wait_s", "mean_service_s") else float(v)


def _fmt(x: float | None, unit: str, *, signed: bool = False) -> str:
    if x is None or not math.isfinite(x):
        return "—"
    sign = "+" if signed else ""
    if unit == "":
        text = f"{x:{sign},.0f}"
    elif abs(x) >= 100:
        text = f"{x:{sign},.1f}"
    else:
        text = f"{x:{sign}.3f}"
    return f"{text} {unit}".rstrip()


def compare_rows(a: dict, b: dict) -> list[tuple[str, str, str, str, str]]:
    """The table's text: figure, A, B, B − A, B ÷ A (— where a figure is missing or A is 0)."""
    rows = []
    for key, label, unit in FIGURES:
        va, vb = _scaled(key, a.get(key)), _scaled(key, b.get(key))
        diff = vb - va if va is not None and vb is not None else None
        ratio = vb / va if va not in (None, 0.0) and vb is not None else None
        rows.append(
            (
                f"{label} ({unit})" if unit else label,
                _fmt(va, unit),
                _fmt(vb, unit),
                _fmt(diff, unit, signed=True),
                f"{ratio:.2f}×" if ratio is not None and math.isfinite(ratio) else "—",
            )
        )
    return rows


def _describe(trace: Trace) -> str:
    c = trace.config
    return (
        f"{Path(trace.path).name}: {c.producers} producer{'s' * (c.producers != 1)}, "
        f"{c.consumers} consumer{'s' * (c.consumers != 1)}, "
        f"{c.tasks_per_producer} tasks each"
    )


def hide_legends(panel: ReplayCharts) -> None:
    """Give the plots the legends' column: two panels side by side have little width to spare
    and the table below names what matters."""
    for legend in panel.legends:
        legend.hide()
        legend.setMinimumWidth(0)
        legend.setMaximumWidth(0)


class CompareWindow(QMainWindow):
    """Runs A and B: their charts side by side (x axes linked) above a table of figures."""

    def __init__(self, trace_a: Trace, trace_b: Trace, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("compare_window")
        self.setWindowTitle(
            f"QueueLab — compare {Path(trace_a.path).name} and {Path(trace_b.path).name}"
        )
        self.resize(1280, 800)
        self.traces = (trace_a, trace_b)
        self.models: tuple[RunModel, RunModel] = (replay_model(trace_a), replay_model(trace_b))
        self.summaries = (summary_json(self.models[0]), summary_json(self.models[1]))

        split = QSplitter(Qt.Orientation.Vertical, self)
        sides = QSplitter(Qt.Orientation.Horizontal, split)
        self.panels: list[ReplayCharts] = []
        for name, trace, model in zip("AB", self.traces, self.models, strict=True):
            box = QWidget(sides)
            lay = QVBoxLayout(box)
            lay.setContentsMargins(4, 4, 4, 0)
            lay.setSpacing(2)
            title = QLabel(f"<b>{name}</b> — {_describe(trace)}", box)
            title.setObjectName(f"compare_title_{name.lower()}")
            panel = ReplayCharts(box)
            hide_legends(panel)
            panel.set_trace_marks(trace)
            panel.set_model(model)
            panel.set_follow(False)
            lay.addWidget(title)
            lay.addWidget(panel, 1)
            sides.addWidget(box)
            self.panels.append(panel)
        # One time axis: linking the two master plots links all eight (each panel links its own).
        self.panels[1].unfinished.plot.setXLink(self.panels[0].unfinished.plot)
        longest = max(m.last_t for m in self.models)
        self.panels[0].unfinished.plot.setXRange(0.0, max(longest, 0.05) * 1.02, padding=0)

        # Two blocks of figures side by side: the table stays short and the charts keep
        # their height on a 800-pixel screen.
        self._rows = compare_rows(*self.summaries)
        self._per_block = math.ceil(len(self._rows) / 2)
        width = len(COLUMNS)
        self.table = QTableWidget(self._per_block, 2 * width, split)
        self.table.setObjectName("compare_table")
        names = (f"A ({Path(trace_a.path).name})", f"B ({Path(trace_b.path).name})")
        self.table.setHorizontalHeaderLabels(["figure", *names, "B − A", "B ÷ A"] * 2)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        for i, row in enumerate(self._rows):
            r, block = i % self._per_block, i // self._per_block
            for c, text in enumerate(row):
                item = QTableWidgetItem(text)
                if c:
                    item.setTextAlignment(right)
                self.table.setItem(r, block * width + c, item)
        header = self.table.horizontalHeader()
        for c in range(2 * width):
            mode = QHeaderView.ResizeMode
            header.setSectionResizeMode(
                c, mode.ResizeToContents if c % width == 0 else mode.Stretch
            )
        rows_h = self._per_block * self.table.verticalHeader().defaultSectionSize()
        self.table.setMinimumHeight(rows_h + header.sizeHint().height() + 4)
        split.addWidget(sides)
        split.addWidget(self.table)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        split.setSizes([620, 180])
        self.setCentralWidget(split)
        QShortcut(QKeySequence.StandardKey.Close, self).activated.connect(self.close)
        for p in self.panels:
            p.refresh()

    def table_text(self) -> list[list[str]]:
        """Each figure's cells as shown: figure, A, B, B − A, B ÷ A (for tests and copying)."""
        width = len(COLUMNS)
        out = []
        for i in range(len(self._rows)):
            r, c0 = i % self._per_block, (i // self._per_block) * width
            out.append([self.table.item(r, c0 + c).text() for c in range(width)])
        return out


def run_compare(path_a: str, path_b: str) -> int:
    """``main.py compare A B``: show the CompareWindow until it closes. Raises TraceError."""
    from engine.tracefile import read_trace
    from gui.app import make_app

    trace_a = read_trace(path_a, on_warning=warn_to_stderr)
    trace_b = read_trace(path_b, on_warning=warn_to_stderr)
    app = make_app()
    window = CompareWindow(trace_a, trace_b)
    window.show()
    # Ctrl+C in the terminal closes the window: Python runs handlers only between slots.
    wake = QTimer(app)
    wake.timeout.connect(lambda: None)
    wake.start(200)
    previous = signal.signal(signal.SIGINT, lambda *_: window.close())
    try:
        app.exec()
    finally:
        signal.signal(signal.SIGINT, previous)
        wake.stop()
    window.deleteLater()
    return 0


if __name__ == "__main__":  # pragma: no cover - manual use
    sys.exit(run_compare(sys.argv[1], sys.argv[2]))
