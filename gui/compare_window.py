"""CompareWindow: two recorded runs side by side on one time axis, with their figures compared."""

from __future__ import annotations

import math
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QKeySequence, QPalette, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMainWindow,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from engine.explain import summary_json
from engine.model import RunModel
from engine.replay import replay_model
from engine.tracefile import Trace
from gui.flow import FlowView
from gui.flow.clock import FlowClock
from gui.flow.tabs import ViewTabs
from gui.replay_playback import ReplayCharts
from gui.run_ending import ended_cleanly, ending_words
from gui.theory_view import theory_applies

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
ENDED_ROW = "how it ended"
PROBLEMS_ROW = "problems found"
# Verdict colours (foreground) for light and dark windows: fine, then a problem.
_VERDICT = {False: ("#00704f", "#c62828"), True: ("#5fe0b0", "#ff6b6b")}


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


def ended_short(m: RunModel) -> str:
    """How a run ended, in a few words for a table cell (the full sentence is its tooltip)."""
    if m.join_returned_t is not None:
        words = "join() returned early" if m.premature_join else "join() returned"
        return words + (", a worker died" if m.dead_workers() else "")
    if m.dead_workers():
        return "a worker died; join() waiting"
    if m.stop_t is not None:
        return "stopped; join() waiting"  # why it was stopped: the tooltip and the title say
    return f"ended ({m.end_reason}); join() waiting" if m.end_reason else "not ended"


def problems_short(found: list[str]) -> str:
    """``none``, or how many problems and the first one's name ("task_done() missing")."""
    if not found:
        return "none"
    head = found[0].split(":", 1)[0] if ":" in found[0][:60] else found[0][:40] + "…"
    more = f" (+{len(found) - 1} more)" if len(found) > 1 else ""
    return f"{head}{more}"


def verdict(m: RunModel, found: list[str]) -> tuple[bool, str]:
    """(healthy, one line for the run's title): how it ended and what went wrong."""
    healthy = ended_cleanly(m) and not found
    words = ending_words(m)
    if found:
        n = len(found)
        words += f"; {n} problem{'s' if n != 1 else ''} found: {problems_short(found)}"
    elif healthy:
        words += "; no problem found"
    return healthy, ("✔ " if healthy else "⚠ ") + words


def _describe(trace: Trace) -> str:
    c = trace.config
    return (
        f"{Path(trace.path).name}: {c.producers} producer{'s' * (c.producers != 1)}, "
        f"{c.consumers} consumer{'s' * (c.consumers != 1)}, "
        f"{c.tasks_per_producer} tasks each"
    )


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
        self.findings = tuple(list(sm["diagnosis"]) for sm in self.summaries)
        dark = self.palette().color(QPalette.ColorRole.Window).lightnessF() < 0.45
        ok_colour, bad_colour = _VERDICT[dark]

        split = QSplitter(Qt.Orientation.Vertical, self)
        top = QWidget(split)  # the flow views' clock (shown with them) above the two runs
        top_lay = QVBoxLayout(top)
        top_lay.setContentsMargins(0, 0, 0, 0)
        sides = QSplitter(Qt.Orientation.Horizontal, top)
        self.panels: list[ReplayCharts] = []
        self.flow_views: list[FlowView] = []
        self.view_tabs: list[ViewTabs] = []
        title_rows: list[QHBoxLayout] = []
        for name, trace, model in zip("AB", self.traces, self.models, strict=True):
            box = QWidget(sides)
            lay = QVBoxLayout(box)
            lay.setContentsMargins(4, 4, 4, 0)
            lay.setSpacing(2)
            title = QLabel(f"<b>{name}</b> — {_describe(trace)}", box)
            title.setObjectName(f"compare_title_{name.lower()}")
            # How the run ended and what went wrong, where the eye lands first: a run stopped
            # while join() still waited must not pass for a healthy one.
            found = self.findings[0 if name == "A" else 1]
            healthy, words = verdict(model, found)
            status = QLabel(words, box)
            status.setObjectName(f"compare_verdict_{name.lower()}")
            status.setWordWrap(True)
            status.setToolTip("\n".join([ending_words(model), *found]))
            status.setStyleSheet(
                f"QLabel {{ color: {ok_colour if healthy else bad_colour}; font-weight: bold; }}"
            )
            status.setProperty("healthy", healthy)
            # The legends take the strip form over each chart at this width (see ChartsPanel).
            panel = ReplayCharts(box)
            panel.set_trace_marks(trace)
            # Queueing theory's reference lines (none for a traced program's placeholder config).
            panel.theory.set_config(trace.config if theory_applies(trace.config) else None)
            panel.set_model(model)
            panel.set_follow(False)
            title_row = QHBoxLayout()  # the title, and (below) the charts/flow switch
            title_row.addWidget(title, 1)
            title_rows.append(title_row)
            lay.addLayout(title_row)
            lay.addWidget(status)
            flow = FlowView(box)  # issue 16: each run's tasks as tokens, a tab beside its charts
            tabs = ViewTabs(panel, flow, box)
            tabs.tabBar().hide()  # one switch in each title row: the charts keep the height
            lay.addWidget(tabs, 1)
            sides.addWidget(box)
            self.panels.append(panel)
            self.flow_views.append(flow)
            self.view_tabs.append(tabs)
        self.flow_clock = FlowClock(self.view_tabs, self.flow_views, self.models, top)
        for row in title_rows:
            row.addWidget(self.flow_clock.switch_button(row.parentWidget()))
        top_lay.addWidget(self.flow_clock)
        top_lay.addWidget(sides, 1)
        # One time axis: linking the two master plots links all eight (each panel links its own).
        self.panels[1].unfinished.plot.setXLink(self.panels[0].unfinished.plot)
        longest = max(m.last_t for m in self.models)
        self.panels[0].unfinished.plot.setXRange(0.0, max(longest, 0.05) * 1.02, padding=0)

        # Two blocks of figures side by side: the table stays short and the charts keep
        # their height on a 800-pixel screen.
        ma, mb = self.models
        fa, fb = self.findings
        self._rows = [
            (ENDED_ROW, ended_short(ma), ended_short(mb), "—", "—"),
            (PROBLEMS_ROW, problems_short(fa), problems_short(fb), "—", "—"),
            *compare_rows(*self.summaries),
        ]
        tips = {
            (0, 1): ending_words(ma), (0, 2): ending_words(mb),
            (1, 1): "\n".join(fa) or "No problem found.",
            (1, 2): "\n".join(fb) or "No problem found.",
        }
        bad = {(0, 1): not ended_cleanly(ma), (0, 2): not ended_cleanly(mb),
               (1, 1): bool(fa), (1, 2): bool(fb)}
        self._per_block = math.ceil(len(self._rows) / 2)
        width = len(COLUMNS)
        self.table = QTableWidget(self._per_block, 2 * width, split)
        self.table.setObjectName("compare_table")
        # Short headers (the file names are in the titles above the charts, and in the
        # headers' tooltips): "A (long-name.qltrace)" was cut off in a stretched column.
        self.table.setHorizontalHeaderLabels(list(COLUMNS) * 2)
        for block in range(2):
            for c, path in ((1, trace_a.path), (2, trace_b.path)):
                self.table.horizontalHeaderItem(block * width + c).setToolTip(Path(path).name)
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
                if (i, c) in tips:
                    item.setToolTip(tips[(i, c)])
                    item.setForeground(QColor(bad_colour if bad[(i, c)] else ok_colour))
                self.table.setItem(r, block * width + c, item)
        header = self.table.horizontalHeader()
        for c in range(2 * width):
            mode = QHeaderView.ResizeMode
            # A and B take the room (their words say how each run ended); the figure's
            # name and the differences only what they need.
            header.setSectionResizeMode(
                c, mode.Stretch if c % width in (1, 2) else mode.ResizeToContents
            )
        rows_h = self._per_block * self.table.verticalHeader().defaultSectionSize()
        self.table.setMinimumHeight(rows_h + header.sizeHint().height() + 4)
        split.addWidget(top)
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

