"""SweepView: a sweep's live plot, results table, recommendation, progress, Stop and exports."""

from __future__ import annotations

import json
import os
from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from engine.config import RunConfig
from engine.distributions import format_number
from engine.sweep import Param, Point
from engine.sweep_report import fits, point_stats, recommend, to_json, write_csv
from engine.sweep_svg import sweep_svg
from engine.theory import is_open
from gui.sweep_plot import SweepPlot, unit_of

FIXED = ("runs", "throughput/s", "95 % interval", "makespan", "speed-up", "efficiency",
         "mean wait", "mean service")  # fmt: skip
EXPORTS = (("png", "Chart as &PNG…"), ("svg", "Chart as &SVG…"), ("csv", "Table as &CSV…"),
           ("json", "Everything as &JSON…"))  # fmt: skip


def clock(s: float | None) -> str:
    """0:07, 1:02:03; "?" when unknown."""
    if s is None:
        return "?"
    s = round(s)
    h, rest = divmod(s, 3600)
    return f"{h}:{rest // 60:02d}:{rest % 60:02d}" if h else f"{rest // 60}:{rest % 60:02d}"


def _ms(s: float | None) -> str:
    if s is None:
        return "—"
    return f"{s:.2f} s" if s >= 1 else f"{s * 1000:.1f} ms"


class SweepView(QWidget):
    """What a sweep measured so far, redrawn after each run; knows nothing of how runs run.

    ``sig_stop`` asks to stop after the run in progress; ``sig_replay(path)`` to open a kept
    run in the replay window; ``sig_export(fmt)`` to export (the window asks where).
    """

    sig_stop = Signal()
    sig_replay = Signal(str)
    sig_export = Signal(str)

    def __init__(self, base: RunConfig, params: list[Param], repeats: int,
                 parent: QWidget | None = None) -> None:  # fmt: skip
        super().__init__(parent)
        self.setObjectName("sweep_view")
        self.base, self.params, self.repeats = base, params, repeats
        self.cpus = os.cpu_count()
        self.doc: dict | None = None
        self.fit_list: list = []
        self.rows: list[dict] = []
        self.points: list[Point] = []
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 6, 8, 6)
        lay.setSpacing(6)
        self.title = QLabel(self)
        self.title.setObjectName("sweep_title")
        self.title.setWordWrap(True)
        self.title.setTextFormat(Qt.TextFormat.RichText)
        lay.addWidget(self.title)
        self.recommendation = QLabel(self)
        self.recommendation.setObjectName("sweep_recommendation")
        self.recommendation.setWordWrap(True)
        self.recommendation.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        font = QFont(self.font())
        font.setPointSizeF(font.pointSizeF() * 1.15)
        font.setBold(True)
        self.recommendation.setFont(font)
        lay.addWidget(self.recommendation)

        self.plot = SweepPlot(self)
        self.table = QTableWidget(0, len(params) + len(FIXED), self)
        self.table.setObjectName("sweep_table")
        self.table.setHorizontalHeaderLabels([self._key_header(p.key) for p in params]
                                             + list(FIXED))  # fmt: skip
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setToolTip("Double-click a row to replay its median run.")
        self.table.cellDoubleClicked.connect(self._on_table_cellDoubleClicked)
        self.table.itemSelectionChanged.connect(self._on_table_itemSelectionChanged)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        lay.addWidget(self.plot, 1)
        lay.addWidget(self.table)

        row = QHBoxLayout()
        row.setSpacing(8)
        self.progress = QProgressBar(self)
        self.progress.setObjectName("sweep_progress")
        self.progress.setTextVisible(True)
        self.progress_label = QLabel(self)
        self.progress_label.setObjectName("sweep_progress_label")
        self.stop_button = QPushButton("Stop after this run", self)
        self.stop_button.setObjectName("sweep_stop")
        self.stop_button.setToolTip("Finish the run in progress, keep every result, stop there.")
        self.stop_button.clicked.connect(self.sig_stop)
        self.replay_button = QToolButton(self)
        self.replay_button.setObjectName("sweep_replay")
        self.replay_button.setText("Replay run")
        self.replay_button.setToolTip("Open one of the selected point's runs in the replay "
                                      "window.")  # fmt: skip
        self.replay_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.replay_menu = QMenu(self.replay_button)
        self.replay_button.setMenu(self.replay_menu)
        self.replay_button.setEnabled(False)
        self.export_button = QToolButton(self)
        self.export_button.setObjectName("sweep_export")
        self.export_button.setText("Export")
        self.export_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.export_button)
        for fmt, text in EXPORTS:
            menu.addAction(text).triggered.connect(lambda _=False, f=fmt: self.sig_export.emit(f))
        self.export_button.setMenu(menu)
        row.addWidget(self.progress, 1)
        row.addWidget(self.progress_label, 2)
        row.addWidget(self.replay_button)
        row.addWidget(self.export_button)
        row.addWidget(self.stop_button)
        lay.addLayout(row)
        self.note = QLabel(self)
        self.note.setObjectName("sweep_note")
        self.note.setWordWrap(True)
        self.note.setStyleSheet("QLabel { color: palette(placeholder-text); }")
        self.note.setText(
            "Each run is shown live in the main window while it goes on; drawing it takes some "
            "CPU from the runs it measures. For the cleanest numbers on a small machine run the "
            "same sweep headless: " + self.command_line())  # fmt: skip
        self.note.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(self.note)
        self._title_text("")

    # ------------------------------------------------------------------ words
    def _key_header(self, key: str) -> str:
        unit = unit_of(key)
        return f"{key} ({unit})" if unit else key

    def command_line(self) -> str:
        p = " ".join(f"--param {q.key}={','.join(format_number(v) for v in q.values)}"
                     for q in self.params)  # fmt: skip
        return f"python main.py sweep --config FILE {p} --repeats {self.repeats}"

    def _title_text(self, state: str) -> None:
        what = " × ".join(f"<b>{p.key}</b> = {', '.join(format_number(v) for v in p.values)}"
                          for p in self.params)  # fmt: skip
        base = self.base.title or "the current configuration"
        self.title.setText(f"Sweep of {what} — {self.repeats} run(s) each, from {base}"
                           f"{' — ' + state if state else ''}")  # fmt: skip

    # ------------------------------------------------------------------ updates
    def show_points(self, points: list[Point], *, complete: bool, finished: bool) -> None:
        """Recompute statistics, fit and recommendation (engine/sweep_report) and redraw."""
        params = self.params
        self.points = points
        self.rows = point_stats(points, params)
        self.fit_list = fits(self.rows, params)
        lam = None
        if is_open(self.base):
            lam = self.base.producers / (self.base.put_interval.mean * self.base.time_scale)
        sentence, bottleneck = recommend(self.rows, params, self.base.workload, lam, self.cpus)
        self.doc = to_json(params, self.rows, self.fit_list, sentence, bottleneck, complete,
                           extra={"repeats": self.repeats,
                                  "throughput_basis": "tasks done ÷ (last task_done − "
                                                      "first put)"})  # fmt: skip
        other = params[1].key if len(params) > 1 else None
        self.plot.show_rows(params[0].key, other, self.rows, self.fit_list, self.cpus,
                            list(params[0].values))  # fmt: skip
        self._fill_table()
        measured = any(r["throughput_median"] for r in self.rows)
        if finished:
            self.recommendation.setText(sentence if measured else "Nothing was measured.")
        elif sum(1 for r in self.rows if r["throughput_median"]) >= 2:
            self.recommendation.setText(f"So far: {sentence}")
        else:
            self.recommendation.setText("The recommendation comes once two points have a run.")

    def _fill_table(self) -> None:
        right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        self.table.setRowCount(len(self.rows))
        # The table as tall as its rows (up to ten, then it scrolls): the plot takes the rest.
        h = self.table.verticalHeader().defaultSectionSize()
        need = (min(10, len(self.rows)) * h + self.table.horizontalHeader().sizeHint().height()
                + 2 * self.table.frameWidth() + 2)
        self.table.setMaximumHeight(need + (h if len(self.rows) > 10 else 0))
        self.table.setMinimumHeight(min(need, 4 * h))
        for i, r in enumerate(self.rows):
            ci = r["throughput_ci"]
            runs = f"{r['runs']}/{self.repeats}"
            if r["failed_runs"]:
                runs += f" ({r['failed_runs']} failed)"
            cells = [format_number(float(r["values"][p.key])) for p in self.params] + [
                runs,
                "—" if r["throughput_median"] is None else f"{r['throughput_median']:.1f}",
                f"{ci[0]:.1f} – {ci[1]:.1f}" if ci else "—",
                "—" if r["makespan_median"] is None else f"{r['makespan_median']:.2f} s",
                "—" if r["speedup"] is None else f"{r['speedup']:.2f}×",
                "—" if r["efficiency"] is None else f"{r['efficiency']:.0%}",
                _ms(r["mean_wait_s"]),
                _ms(r["mean_service_s"]),
            ]
            for c, text in enumerate(cells):
                item = self.table.item(i, c)
                if item is None:
                    item = QTableWidgetItem()
                    item.setTextAlignment(right)
                    self.table.setItem(i, c, item)
                item.setText(text)
                item.setToolTip("\n".join(r["problems"]))
        self._on_table_itemSelectionChanged()

    def show_progress(self, progress: tuple, *, running: bool, stopping: bool,
                      finished: bool, complete: bool) -> None:  # fmt: skip
        p_done, p_all, r_done, r_all, elapsed, eta, warm = progress
        self.progress.setRange(0, max(1, r_all))
        self.progress.setValue(r_done)
        self.progress.setFormat(f"runs {r_done}/{r_all}")
        if finished:
            words = (f"Done: {p_all} points, {r_done} runs in {clock(elapsed)}" if complete else
                     f"Stopped: {r_done} of {r_all} runs measured in {clock(elapsed)}; "
                     "the results are what was measured")  # fmt: skip
        elif warm:
            words = f"Warm-up run ({warm} left, not counted) · {clock(elapsed)} elapsed"
        else:
            point = min(p_done + 1, p_all)
            words = (f"Point {point}/{p_all} · runs {r_done}/{r_all} · {clock(elapsed)} "
                     f"elapsed · ~{clock(eta)} left")  # fmt: skip
            if stopping:
                words += " · stopping after this run"
        self.progress_label.setText(words)
        self.stop_button.setEnabled(running and not stopping and not finished)
        self._title_text("finished" if finished and complete else "stopped" if finished
                         else "running")  # fmt: skip

    # ------------------------------------------------------------------ replay
    def _selected_row(self) -> int | None:
        rows = self.table.selectionModel().selectedRows()
        return rows[0].row() if rows else None

    def _on_table_itemSelectionChanged(self) -> None:
        i = self._selected_row()
        traces = self.rows[i]["traces"] if i is not None and i < len(self.rows) else []
        self.replay_menu.clear()
        for k, path in enumerate(traces, start=1):
            act = self.replay_menu.addAction(f"Run {k}: {os.path.basename(path)}")
            act.triggered.connect(lambda _=False, p=path: self.sig_replay.emit(p))
        self.replay_button.setEnabled(bool(traces))

    def median_trace(self, i: int) -> str | None:
        """The kept run of row ``i`` whose throughput is nearest its median."""
        if not 0 <= i < len(self.points):
            return None
        runs = [r for r in self.points[i].runs if r.trace]
        ok = [r for r in runs if r.code == 0] or runs
        if not ok:
            return None
        ok.sort(key=lambda r: r.throughput)
        return ok[(len(ok) - 1) // 2].trace

    def _on_table_cellDoubleClicked(self, row: int, _col: int) -> None:
        path = self.median_trace(row)
        if path is not None:
            self.sig_replay.emit(path)

    # ------------------------------------------------------------------ exports
    def export_to(self, fmt: str, path: str, png_writer: Callable[[str, str], None]) -> None:
        """Write the sweep as ``fmt`` (png, svg, csv, json) to ``path``; raises OSError."""
        if self.doc is None:
            raise OSError("nothing measured yet")
        if fmt == "csv":
            write_csv(path, self.params, self.rows)
        elif fmt == "json":
            with open(path, "w", encoding="utf-8") as f:
                json.dump(self.doc, f, indent=1)
        else:
            svg = sweep_svg(self.doc, self.params, self.fit_list)
            if fmt == "svg":
                with open(path, "w", encoding="utf-8") as f:
                    f.write(svg)
            else:
                png_writer(svg, path)
