"""SweepDialog: Experiment ▸ Sweep…: what to vary, over which values, how many runs each."""

from __future__ import annotations

import os

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from engine.config import RunConfig
from engine.distributions import format_number
from engine.sweep import Param, SweepError, numeric_keys, parse_params

MAX_RUNS_WITHOUT_WARNING = 60
SPEC_HELP = ("A list (1,2,4), a range (1..8, 1..16:2, 0.5..2:0.5) or <i>cores</i> "
             "(1 … this machine's CPUs + 2).")  # fmt: skip


def suggested_values(cfg: RunConfig, key: str, cpus: int | None) -> str:
    """Values worth trying for ``key`` around ``cfg``'s own."""
    if key == "consumers":
        return "cores" if cpus and cpus <= 6 else "1,2,4,8"
    name, _, part = key.partition(".")
    value = getattr(cfg, name, None)
    if part:
        value = getattr(value, "mean", None) if part == "mean" else None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return ""
    if isinstance(value, int):
        base = max(1, value)
        return ",".join(str(v) for v in sorted({max(1, base // 2), base, base * 2}))
    if value <= 0:
        return "0.01,0.02,0.04"
    return ",".join(format_number(value * f) for f in (0.5, 1.0, 2.0))


class _ParamRow(QWidget):
    """A key to vary and its values."""

    def __init__(self, cfg: RunConfig, key: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.cfg = cfg
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.key = QComboBox(self)
        self.key.addItems(numeric_keys())
        self.key.setCurrentText(key)
        self.values = QLineEdit(self)
        self.values.setPlaceholderText("e.g. 1,2,4 or 1..8 or cores")
        self.values.setMinimumWidth(220)
        lay.addWidget(self.key)
        lay.addWidget(QLabel("=", self))
        lay.addWidget(self.values, 1)
        self.key.currentTextChanged.connect(self._on_key_currentTextChanged)
        self._on_key_currentTextChanged(key)

    def _on_key_currentTextChanged(self, key: str) -> None:
        self.values.setText(suggested_values(self.cfg, key, os.cpu_count()))

    def text(self) -> str:
        return f"{self.key.currentText()}={self.values.text()}"


class SweepDialog(QDialog):
    """Asks for the parameter(s), values, repeats and warm-ups; validated as `sweep` does."""

    def __init__(self, cfg: RunConfig, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sweep_dialog")
        self.setWindowTitle("Sweep — run the configuration over a range of values")
        self.cfg = cfg
        self._options_sentinels = cfg.sentinels  # the window's, before a fix for this sweep
        self.params: list[Param] = []
        lay = QVBoxLayout(self)
        intro = QLabel(
            f"Runs <b>{cfg.title or 'the current configuration'}</b> once per value (and "
            "per repeat), each shown live in the main window, and measures throughput, "
            "makespan, waits, speed-up and efficiency for each value.", self)
        intro.setWordWrap(True)
        lay.addWidget(intro)
        form = QFormLayout()
        self.first = _ParamRow(cfg, "consumers", self)
        form.addRow("Vary", self.first)
        self.grid_box = QCheckBox("and a second parameter (a grid)", self)
        form.addRow("", self.grid_box)
        self.second = _ParamRow(cfg, "producers", self)
        self.second.setEnabled(False)
        form.addRow("by", self.second)
        help_label = QLabel(SPEC_HELP, self)
        help_label.setWordWrap(True)
        form.addRow("", help_label)
        self.repeats = QSpinBox(self)
        self.repeats.setRange(1, 50)
        self.repeats.setValue(3)
        self.repeats.setToolTip("Runs per value: their median and 95 % interval are shown.")
        form.addRow("Runs per value", self.repeats)
        self.warmup = QSpinBox(self)
        self.warmup.setRange(0, 10)
        self.warmup.setValue(1)
        self.warmup.setToolTip("Runs of the first value before measuring, not counted "
                               "(process start-up, caches).")  # fmt: skip
        form.addRow("Warm-up runs", self.warmup)
        lay.addLayout(form)
        self.summary = QLabel(self)
        self.summary.setObjectName("sweep_dialog_summary")
        self.summary.setWordWrap(True)
        lay.addWidget(self.summary)
        # The tutorial's single None cannot end more than one consumer: offered in one click
        # (the sweep's copy of the options changes, not the window's).
        self.fix_sentinels = QPushButton("Sweep with one None per consumer", self)
        self.fix_sentinels.setObjectName("sweep_fix_sentinels")
        self.fix_sentinels.setToolTip('Sets sentinels = "per_consumer" for this sweep only.')
        self.fix_sentinels.clicked.connect(self._on_fix_sentinels_clicked)
        self.fix_sentinels.hide()
        lay.addWidget(self.fix_sentinels)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Start sweep")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        lay.addWidget(self.buttons)
        for row in (self.first, self.second):
            row.values.textChanged.connect(self._validate)
            row.key.currentTextChanged.connect(self._validate)
        self.grid_box.toggled.connect(self._on_grid_box_toggled)
        self.repeats.valueChanged.connect(self._validate)
        self.warmup.valueChanged.connect(self._validate)
        self._validate()

    def _on_grid_box_toggled(self, on: bool) -> None:
        self.second.setEnabled(on)
        self._validate()

    def param_texts(self) -> list[str]:
        rows = [self.first] + ([self.second] if self.grid_box.isChecked() else [])
        return [r.text() for r in rows]

    def _validate(self) -> bool:
        ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        try:
            self.params = parse_params(self.param_texts(), self.cfg, os.cpu_count())
        except SweepError as error:
            self.params = []
            self.summary.setText(f"<span style='color:#c62828'>{error}</span>")
            self.fix_sentinels.setVisible(self._sentinels_would_do())
            ok_button.setEnabled(False)
            return False
        self.fix_sentinels.hide()
        points = 1
        for p in self.params:
            points *= len(p.values)
        runs = points * self.repeats.value()
        warm = self.warmup.value()
        words = (f"{points} point(s) × {self.repeats.value()} run(s)"
                 f"{f' + {warm} warm-up' if warm else ''} = {runs + warm} runs.")  # fmt: skip
        if runs + warm > MAX_RUNS_WITHOUT_WARNING:
            words += " That is many runs: it may take a while (Stop keeps what was measured)."
        if self.cfg.sentinels != self._options_sentinels:
            words += " Each run puts one None per consumer (sentinels = per_consumer)."
        self.summary.setText(words)
        ok_button.setEnabled(True)
        return True

    def _sentinels_would_do(self) -> bool:
        if self.cfg.sentinels == "per_consumer":
            return False
        try:
            parse_params(self.param_texts(), self.cfg.replace(sentinels="per_consumer"))
        except SweepError:
            return False
        return True

    def _on_fix_sentinels_clicked(self) -> None:
        self.cfg = self.cfg.replace(sentinels="per_consumer")
        self._validate()

    def choice(self) -> tuple[list[Param], int, int]:
        """(params, repeats, warm-up runs) as accepted."""
        return self.params, self.repeats.value(), self.warmup.value()
