"""One editor widget per RunConfig field type, each able to show why its value is refused."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFrame,
    QGridLayout,
    QLabel,
    QLineEdit,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from engine.config import FieldSpec
from engine.distributions import PARAM_NAMES, Distribution, format_number

# Spin boxes accept values beyond a field's range on purpose: the panel then says *why* a
# value is refused instead of silently clamping it. Negative numbers are never meaningful.
INT_CEILING = 2_147_483_647
FLOAT_CEILING = 1e9
FLOAT_DECIMALS = 9  # keeps every value a config file is likely to hold exactly

_STEPS: dict[str, float] = {"time_scale": 0.1, "join_delay": 0.5, "failure_rate": 0.05}

INVALID_BORDER = "2px solid #e53935"
SPIN_MIN_WIDTH = 80  # a range up to 2**31 would otherwise make every spin box very wide
COMBO_MIN_CHARS = 7  # combos may shrink below their longest choice; the popup shows it whole

_SINGULAR: dict[str, str] = {"processes": "process", "tasks": "task", "retries": "retry"}
# Shown instead of the number when a spin box is at its special value.
_SPECIAL_TEXT: dict[str, str] = {"maxsize": "0 (unbounded)"}


def range_text(spec: FieldSpec) -> str:
    """The allowed range in words ("1 … 64 processes"), for tooltips."""
    if spec.minimum is None and spec.maximum is None:
        return ""
    integral = spec.type in ("int", "optional_int")

    def show(x: float) -> str:
        return f"{int(x):,}" if integral else format_number(float(x))

    low = "" if spec.minimum is None else show(spec.minimum)
    high = "" if spec.maximum is None else show(spec.maximum)
    op = "more than " if spec.exclusive_minimum else ""
    unit = f" {spec.unit}" if spec.unit else ""
    if low and high:
        return f"{op}{low} … {high}{unit}" if not op else f"{op}{low}, at most {high}{unit}"
    return f"at least {low}{unit}" if low else f"at most {high}{unit}"


def shrinkable(combo: QComboBox) -> None:
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(COMBO_MIN_CHARS)


class NumberSpin(QDoubleSpinBox):
    """A double spin box that shows 0.25 as "0.25", not "0.250000000"."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setDecimals(FLOAT_DECIMALS)
        self.setRange(0.0, FLOAT_CEILING)
        self.setKeyboardTracking(True)
        self.setCorrectionMode(QAbstractSpinBox.CorrectionMode.CorrectToNearestValue)

    def textFromValue(self, value: float) -> str:
        text = f"{value:.{FLOAT_DECIMALS}f}".rstrip("0")
        return text + "0" if text.endswith(".") else text


class FieldEditor(QWidget):
    """Base: an input plus an error line under it; ``value()`` may return an invalid value."""

    sig_edited = Signal()

    def __init__(self, spec: FieldSpec, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.spec = spec
        self.setObjectName(f"field_{spec.name}")
        self._error: str | None = None
        self._box = QVBoxLayout(self)
        self._box.setContentsMargins(0, 0, 0, 0)
        self._box.setSpacing(2)
        self.error_label = QLabel(self)
        self.error_label.setObjectName(f"error_{spec.name}")
        self.error_label.setWordWrap(True)
        self.error_label.setProperty("role", "error")
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_label.hide()

    def _finish_layout(self, editor: QWidget) -> None:
        # The red border goes on a frame around the inputs: styling the inputs themselves
        # would replace the Fusion look of spin boxes and combos with bare stylesheet boxes.
        self.frame = QFrame(self)
        self.frame.setObjectName(f"frame_{self.spec.name}")
        inner = QVBoxLayout(self.frame)
        inner.setContentsMargins(2, 2, 2, 2)
        inner.addWidget(editor)
        self._valid_style = f"QFrame#{self.frame.objectName()} {{ border: 2px solid transparent; }}"
        self._invalid_style = (
            f"QFrame#{self.frame.objectName()} {{ border: {INVALID_BORDER}; border-radius: 4px; }}"
        )
        self.frame.setStyleSheet(self._valid_style)
        self._box.addWidget(self.frame)
        self._box.addWidget(self.error_label)
        tip = self.spec.help
        rng = range_text(self.spec)
        if rng:
            tip += f"\nAllowed: {rng}."
        self.help_tip = tip
        self._apply_tooltips()

    def inputs(self) -> list[QWidget]:
        """The widgets that get the red border."""
        raise NotImplementedError

    def value(self) -> object:
        raise NotImplementedError

    def set_value(self, value: object) -> None:
        raise NotImplementedError

    @property
    def error(self) -> str | None:
        return self._error

    def set_error(self, message: str | None) -> None:
        if message == self._error:
            return
        self._error = message
        self.frame.setStyleSheet(self._invalid_style if message else self._valid_style)
        self.frame.setProperty("invalid", bool(message))
        # Zero-width spaces let a narrow column break 9_223_372_036_854_775_807 and the like.
        self.error_label.setText((message or "").replace("_", "_\u200b"))
        self.error_label.setVisible(bool(message))
        self._apply_tooltips()

    def _apply_tooltips(self) -> None:
        tip = self.help_tip if not self._error else f"{self._error}\n\n{self.help_tip}"
        for w in self.inputs():
            w.setToolTip(tip)


class IntEditor(FieldEditor):
    def __init__(self, spec: FieldSpec, parent: QWidget | None = None) -> None:
        super().__init__(spec, parent)
        self.spin = QSpinBox(self)
        self.spin.setRange(0, INT_CEILING)
        self.spin.setMinimumWidth(SPIN_MIN_WIDTH)
        self.spin.setGroupSeparatorShown(False)
        special = _SPECIAL_TEXT.get(spec.name)
        if special:
            self.spin.setSpecialValueText(special)
        self.spin.valueChanged.connect(self._on_spin_valueChanged)
        self._update_suffix()
        self._finish_layout(self.spin)

    def _update_suffix(self) -> None:
        unit = self.spec.unit
        if unit and self.spin.value() == 1:
            unit = _SINGULAR.get(unit, unit)
        self.spin.setSuffix(f" {unit}" if unit else "")

    def _on_spin_valueChanged(self, _value: int) -> None:
        self._update_suffix()
        self.sig_edited.emit()

    def inputs(self) -> list[QWidget]:
        return [self.spin]

    def value(self) -> object:
        return self.spin.value()

    def set_value(self, value: object) -> None:
        self.spin.setValue(int(value))  # type: ignore[call-overload]


class FloatEditor(FieldEditor):
    def __init__(self, spec: FieldSpec, parent: QWidget | None = None) -> None:
        super().__init__(spec, parent)
        self.spin = NumberSpin(self)
        self.spin.setMinimumWidth(SPIN_MIN_WIDTH)
        self.spin.setSingleStep(_STEPS.get(spec.name, 0.1))
        if spec.unit:
            self.spin.setSuffix(f" {spec.unit}")
        self.spin.valueChanged.connect(self.sig_edited)
        self._finish_layout(self.spin)

    def inputs(self) -> list[QWidget]:
        return [self.spin]

    def value(self) -> object:
        return self.spin.value()

    def set_value(self, value: object) -> None:
        self.spin.setValue(float(value))  # type: ignore[arg-type]


class BoolEditor(FieldEditor):
    def __init__(self, spec: FieldSpec, parent: QWidget | None = None) -> None:
        super().__init__(spec, parent)
        self.check = QCheckBox(self)
        self.check.toggled.connect(self.sig_edited)
        self._finish_layout(self.check)

    def inputs(self) -> list[QWidget]:
        return [self.check]

    def value(self) -> object:
        return self.check.isChecked()

    def set_value(self, value: object) -> None:
        self.check.setChecked(bool(value))


class ChoiceEditor(FieldEditor):
    def __init__(self, spec: FieldSpec, parent: QWidget | None = None) -> None:
        super().__init__(spec, parent)
        self.combo = QComboBox(self)
        shrinkable(self.combo)
        for choice in spec.choices:
            self.combo.addItem(choice, choice)
        self.combo.currentIndexChanged.connect(self.sig_edited)
        if spec.typed:
            # The choices, or a typed value (workload: "path/to/file.py:function").
            self.combo.setEditable(True)
            self.combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
            self.combo.lineEdit().setPlaceholderText(spec.typed.replace("function as ", ""))
            self.combo.editTextChanged.connect(self.sig_edited)
        self._finish_layout(self.combo)

    def inputs(self) -> list[QWidget]:
        return [self.combo]

    def value(self) -> object:
        if self.spec.typed:
            return self.combo.currentText().strip()
        return self.combo.currentData()

    def set_value(self, value: object) -> None:
        i = self.combo.findData(value)
        if self.spec.typed and i < 0 and isinstance(value, str):
            self.combo.setEditText(value)
            return
        if i < 0:
            # Shown, so a value this platform lacks (e.g. "fork") is refused visibly.
            self.combo.addItem(str(value), value)
            i = self.combo.count() - 1
        self.combo.setCurrentIndex(i)


class OptionalIntEditor(FieldEditor):
    """An integer that may be left empty (the seed: empty means fresh randomness)."""

    def __init__(self, spec: FieldSpec, parent: QWidget | None = None) -> None:
        super().__init__(spec, parent)
        self.edit = QLineEdit(self)
        self.edit.setPlaceholderText("empty: random each run")
        self.edit.setClearButtonEnabled(True)
        self.edit.textChanged.connect(self.sig_edited)
        self._finish_layout(self.edit)

    def inputs(self) -> list[QWidget]:
        return [self.edit]

    def value(self) -> object:
        text = self.edit.text().strip().replace("_", "")
        if not text:
            return None
        try:
            return int(text)
        except ValueError:
            return self.edit.text().strip()  # refused by validation, with the reason

    def set_value(self, value: object) -> None:
        self.edit.setText("" if value is None else str(value))


class DistributionEditor(FieldEditor):
    """Kind combo plus one spin box per parameter of that kind (low/high, mean/sd, ...)."""

    def __init__(self, spec: FieldSpec, parent: QWidget | None = None) -> None:
        super().__init__(spec, parent)
        holder = QWidget(self)
        grid = QGridLayout(holder)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(6)
        grid.setVerticalSpacing(3)
        self.kind = QComboBox(holder)
        shrinkable(self.kind)
        for kind in PARAM_NAMES:
            self.kind.addItem(kind, kind)
        grid.addWidget(self.kind, 0, 0, 1, 2)
        self.param_labels: list[QLabel] = []
        self.params: list[NumberSpin] = []
        for i in range(2):
            label = QLabel(holder)
            label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            spin = NumberSpin(holder)
            spin.setMinimumWidth(SPIN_MIN_WIDTH)
            spin.setSingleStep(0.1)
            if spec.unit:
                spin.setSuffix(f" {spec.unit}")
            spin.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            spin.valueChanged.connect(self.sig_edited)
            grid.addWidget(label, 1 + i, 0)
            grid.addWidget(spin, 1 + i, 1)
            self.param_labels.append(label)
            self.params.append(spin)
        grid.setColumnStretch(1, 1)
        self.kind.currentIndexChanged.connect(self._on_kind_currentIndexChanged)
        self._show_params()
        self._finish_layout(holder)

    def _show_params(self) -> None:
        names = PARAM_NAMES[self.kind.currentData()]
        for i, (label, spin) in enumerate(zip(self.param_labels, self.params, strict=True)):
            visible = i < len(names)
            label.setVisible(visible)
            spin.setVisible(visible)
            if visible:
                label.setText(names[i])

    def _on_kind_currentIndexChanged(self, _index: int) -> None:
        self._show_params()
        self.sig_edited.emit()

    def inputs(self) -> list[QWidget]:
        return [self.kind, *self.params]

    def value(self) -> object:
        kind = self.kind.currentData()
        names = PARAM_NAMES[kind]
        table: dict[str, object] = {"kind": kind}
        table.update((n, s.value()) for n, s in zip(names, self.params, strict=False))
        return table

    def set_value(self, value: object) -> None:
        dist = value if isinstance(value, Distribution) else None
        if dist is None:
            return
        blockers = [w.blockSignals(True) for w in (self.kind, *self.params)]
        try:
            self.kind.setCurrentIndex(self.kind.findData(dist.kind))
            for spin, p in zip(self.params, dist.params, strict=False):
                spin.setValue(p)
            self._show_params()
        finally:
            for w, was in zip((self.kind, *self.params), blockers, strict=True):
                w.blockSignals(was)
        self.sig_edited.emit()


def make_editor(spec: FieldSpec, parent: QWidget | None = None) -> FieldEditor:
    """The editor for a field's type; "str" fields (title, explanation) have none here."""
    editors: dict[str, type[FieldEditor]] = {
        "int": IntEditor,
        "float": FloatEditor,
        "bool": BoolEditor,
        "choice": ChoiceEditor,
        "optional_int": OptionalIntEditor,
        "distribution": DistributionEditor,
    }
    return editors[spec.type](spec, parent)
