"""TheoryView: a compact "theory vs measured" table for a run, live or replayed (engine/theory)."""

from __future__ import annotations

import math
import os

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from engine.config import RunConfig
from engine.model import RunModel
from engine.theory import DISAGREE_REL, LITTLE_REL, theory_json

COLUMNS = ("Quantity", "Predicted", "Measured", "Error")
# (row words, predicted, measured, relative error or None, the error is beyond the threshold)
Row = tuple[str, str, str, float | None, bool]
_BAD = {False: "#b3261e", True: "#ff8a80"}  # by dark theme


def _num(x: float | None, unit: str = "", digits: int = 3) -> str:
    if x is None:
        return "—"
    if not math.isfinite(x):
        return "∞"
    return f"{x:.{digits}g}{(' ' + unit) if unit else ''}"


def _time(s: float | None) -> str:
    if s is None:
        return "—"
    if not math.isfinite(s):
        return "∞"
    return f"{s * 1000:.3g} ms" if abs(s) < 1 else f"{s:.3g} s"


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{x:.0%}"


def theory_rows(doc: dict) -> list[Row]:
    """The table's rows for ``doc`` (engine.theory.theory_json's object), in reading order."""
    rows: list[Row] = []
    little = doc.get("little")
    if little:
        lw = little["throughput_per_s"] * little["mean_time_in_system_s"]
        ratio = little["ratio"]
        rel = None if ratio is None else ratio - 1.0
        rows.append(("Little's law: L vs λ·W", f"λ·W = {_num(lw)}",
                     f"L = {_num(little['mean_in_system'])}", rel,
                     rel is not None and abs(rel) > LITTLE_REL))  # fmt: skip
    pred = doc.get("prediction")
    if pred is not None:
        compare = doc.get("compare", {})
        if pred["stable"]:
            for key, words, fmt in (
                ("arrival_rate", "arrival rate λ", lambda v: _num(v, "/s")),
                ("mean_wait_s", "mean wait in queue Wq", _time),
                ("utilisation", "utilisation ρ", _pct),
            ):
                c = compare.get(key)
                if c is None:
                    continue
                rel = c["relative_error"]
                rows.append((words, fmt(c["predicted"]), fmt(c["measured"]), rel,
                             rel is not None and abs(rel) > DISAGREE_REL))  # fmt: skip
            measured_l = little["mean_in_system"] if little else None
            p_l = pred["mean_in_system"]
            rel = (measured_l - p_l) / p_l if measured_l is not None and p_l else None
            rows.append(("mean unfinished L", _num(p_l), _num(measured_l), rel,
                         rel is not None and abs(rel) > DISAGREE_REL))  # fmt: skip
            rows.append(("probability of waiting", _pct(pred["p_wait"]), "—", None, False))
            if pred.get("p_blocked") is not None:
                rows.append(("puts that find it full", _pct(pred["p_blocked"]), "—", None, False))
        else:
            rows.append(("utilisation ρ", f"{pred['utilisation']:.2f} ≥ 1", "—", None, True))
            rows.append(("queue growth", f"+{_num(pred['growth_per_s'])} tasks/s", "—", None,
                         True))  # fmt: skip
            wait = compare.get("mean_wait_s", {}).get("measured")
            rows.append(("mean wait in queue Wq", "grows without bound", _time(wait), None, True))
    batch = doc.get("batch")
    if batch is not None:
        bound, span = batch["makespan_lower_bound_s"], batch["makespan_s"]
        rel = span / bound - 1.0 if bound else None
        rows.append(("makespan (batch)", f"≥ {_time(bound)}", _time(span), rel,
                     rel is not None and rel > DISAGREE_REL / (1 - DISAGREE_REL)))  # fmt: skip
        rows.append(("efficiency: bound ÷ makespan", "100%", _pct(batch["efficiency"]), None,
                     False))  # fmt: skip
    return rows


def theory_applies(cfg: RunConfig | None) -> bool:
    """False for no config and for a traced program's (``main.py trace``): that header config
    is a placeholder (defaults, the program's title), and the items are not task durations."""
    return cfg is not None and not cfg.explanation.endswith("recorded by python main.py trace.")


def model_words(doc: dict, cfg: RunConfig) -> str:
    """One line above the table: which model applies, with its parameters."""
    pred = doc.get("prediction")
    if pred is not None:
        c = pred["servers"]
        cpu = " (no more than the CPUs, for cpu work)" if c < cfg.consumers else ""
        return (f"<b>Open arrivals — {pred['model']}</b>: λ = {pred['arrival_rate']:.3g}/s, "
                f"μ = {pred['service_rate']:.3g}/s per consumer, c = {c}{cpu}, "
                f"ρ = {pred['utilisation']:.2f}")  # fmt: skip
    if doc.get("batch") is not None:
        servers = cfg.consumers
        if cfg.workload == "cpu" and doc.get("cpus"):
            servers = min(servers, doc["cpus"])
        return (f"<b>A batch</b> (everything put at once): the makespan's lower bound is "
                f"total work ÷ {servers} server(s), or the longest task")  # fmt: skip
    return "<b>Little's law</b>"


class TheoryView(QWidget):
    """Theory beside the measurement: which model, a four-column table, one sentence.

    ``show_run`` recomputes everything with :func:`engine.theory.theory_json` (the object
    ``run --json`` prints under ``theory``); the window calls it twice a second while a run
    goes on, once at its end, and at the playhead of a replay.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("theory_view")
        self.doc: dict | None = None
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.setSpacing(4)
        self.model_label = QLabel(self)
        self.model_label.setObjectName("theory_model")
        self.model_label.setWordWrap(True)
        self.model_label.setTextFormat(Qt.TextFormat.RichText)
        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setObjectName("theory_table")
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for c in range(1, len(COLUMNS)):
            header.setSectionResizeMode(c, QHeaderView.ResizeMode.ResizeToContents)
        self.sentence = QLabel(self)
        self.sentence.setObjectName("theory_sentence")
        self.sentence.setWordWrap(True)
        self.note = QLabel(self)
        self.note.setObjectName("theory_note")
        self.note.setWordWrap(True)
        self.note.setStyleSheet("QLabel { color: palette(placeholder-text); }")
        lay.addWidget(self.model_label)
        lay.addWidget(self.table, 1)
        lay.addWidget(self.sentence)
        lay.addWidget(self.note)
        self.show_run(None, None)

    def show_run(self, model: RunModel | None, cfg: RunConfig | None, *,
                 live: bool = False, cpus: int | None = None) -> None:  # fmt: skip
        """The theory of ``model`` run with ``cfg`` (None: no run yet)."""
        if model is not None and not theory_applies(cfg):
            self.doc = None
            self.model_label.setText("<b>Theory vs measured</b>")
            self._fill([])
            self.sentence.setText("A traced program has no QueueLab configuration to predict "
                                  "from: no theory for this run.")  # fmt: skip
            self.note.setText("")
            return
        if model is None or cfg is None or model.t0 is None:
            self.doc = None
            self.model_label.setText("<b>Theory vs measured</b>")
            self._fill([])
            self.sentence.setText("Start a run: queueing theory's prediction appears here "
                                  "beside what the run measures.")  # fmt: skip
            self.note.setText("")
            return
        try:
            doc = theory_json(model, cfg, cpus if cpus is not None else os.cpu_count())
        except Exception as exc:  # why: the run's other views must go on if this fails
            self.doc = None
            self._fill([])
            self.sentence.setText(f"Theory could not be computed: {type(exc).__name__}: {exc}")
            return
        self.doc = doc
        self.model_label.setText(model_words(doc, cfg))
        self._fill(theory_rows(doc))
        pred = doc.get("prediction")
        if pred is not None and not pred["stable"]:
            words = pred["note"][0].upper() + pred["note"][1:] + "."
        elif doc.get("disagreement"):
            words = doc["disagreement"]
        elif not len(model.done_t):
            words = "No task done yet: nothing measured to compare."
        else:
            words = (f"Theory and measurement agree (within {DISAGREE_REL:.0%}; Little's law "
                     f"within {LITTLE_REL:.0%}).")  # fmt: skip
        if live:
            words = f"So far ({len(model.done_t)} tasks done): {words}"
        self.sentence.setText(words)
        self.note.setText(pred["note"] if pred is not None and pred["stable"] and pred["note"]
                          else "")  # fmt: skip

    def _fill(self, rows: list[Row]) -> None:
        dark = self.palette().color(QPalette.ColorRole.Window).lightnessF() < 0.45
        bad = QColor(_BAD[dark])
        right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        self.table.setRowCount(len(rows))
        for r, (words, predicted, measured, rel, off) in enumerate(rows):
            err = "—" if rel is None else f"{rel:+.0%}"
            for c, text in enumerate((words, predicted, measured, err)):
                item = self.table.item(r, c)
                if item is None:
                    item = QTableWidgetItem()
                    self.table.setItem(r, c, item)
                item.setText(text)
                if c:
                    item.setTextAlignment(right)
                if c == 3:
                    item.setForeground(bad if off else self.palette().color(
                        QPalette.ColorRole.Text))  # fmt: skip
        h = self.table.verticalHeader().defaultSectionSize()
        self.table.setMinimumHeight(min(8, max(3, len(rows))) * h
                                    + self.table.horizontalHeader().sizeHint().height() + 4)

    def cells(self) -> list[list[str]]:
        """The table as shown (for tests and copying)."""
        return [[self.table.item(r, c).text() for c in range(len(COLUMNS))]
                for r in range(self.table.rowCount())]  # fmt: skip
