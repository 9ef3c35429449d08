"""ConfigPanel: every RunConfig field as a grouped editor, a preset picker and in-place errors."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QComboBox,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from engine.config import FIELDS, ConfigError, RunConfig, list_presets, load_preset
from gui.field_editors import FieldEditor, make_editor

GROUPS: tuple[tuple[str, str], ...] = (
    ("workers", "Workers"),
    ("tasks", "Tasks"),
    ("timing", "Timing"),
    ("protocol", "Protocol"),
    ("advanced", "Advanced"),
)
META_FIELDS = ("title", "explanation")  # shown in the lesson pane, carried along unchanged

# Each field is checked alone against an otherwise valid config, so every bad value is marked
# at once, not only the first one RunConfig meets.
_BASE = RunConfig()


class ConfigPanel(QWidget):
    """Edits a RunConfig. ``config()`` and ``set_config()`` keep panel and object in sync."""

    sig_config_changed = Signal(object)  # the new RunConfig, or None while a value is invalid
    sig_validity_changed = Signal(bool)
    sig_preset_changed = Signal(str)  # preset name, "" when the config did not come from one
    sig_preset_failed = Signal(str)  # the ConfigError text of a preset that would not load

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("config_panel")
        self.editors: dict[str, FieldEditor] = {}
        self._meta: dict[str, str] = {name: "" for name in META_FIELDS}
        self._cfg: RunConfig | None = None
        self._errors: dict[str, str] = {}
        self._reference: RunConfig | None = None
        self._preset = ""
        self._loading = False
        self._locked = False
        self.last_discard_box: QMessageBox | None = None  # while asking (tests answer it)

        outer = QVBoxLayout(self)
        outer.setContentsMargins(6, 6, 6, 6)
        outer.setSpacing(6)

        top = QHBoxLayout()
        preset_label = QLabel("&Preset", self)
        self.preset_combo = QComboBox(self)
        self.preset_combo.setObjectName("preset_combo")
        self.preset_combo.setToolTip("Ready-made configurations, each showing one lesson.")
        self.preset_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.preset_combo.setMinimumContentsLength(12)
        preset_label.setBuddy(self.preset_combo)
        for name, title in list_presets():
            self.preset_combo.addItem(title, name)
            self.preset_combo.setItemData(
                self.preset_combo.count() - 1,
                f"resources/presets/{name}.toml",
                Qt.ItemDataRole.ToolTipRole,
            )
        self.preset_combo.activated.connect(self._on_preset_combo_activated)
        top.addWidget(preset_label)
        top.addWidget(self.preset_combo, 1)
        outer.addLayout(top)

        self.note_label = QLabel(self)
        self.note_label.setObjectName("config_note")
        self.note_label.setWordWrap(True)
        self.note_label.setProperty("role", "note")
        self.note_label.hide()
        outer.addWidget(self.note_label)

        body = QWidget(self)
        body_lay = QVBoxLayout(body)
        body_lay.setContentsMargins(0, 0, 4, 0)
        body_lay.setSpacing(8)
        specs_by_group: dict[str, list] = {}
        for spec in FIELDS:
            specs_by_group.setdefault(spec.group, []).append(spec)
        self.groups: dict[str, QGroupBox] = {}
        self._labels: list[QLabel] = []
        for group, title in GROUPS:
            box = QGroupBox(title, body)
            box.setObjectName(f"group_{group}")
            form = QFormLayout(box)
            form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
            form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
            form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
            form.setVerticalSpacing(6)
            for spec in specs_by_group.get(group, []):
                editor = make_editor(spec, box)
                editor.sig_edited.connect(self._on_editor_edited)
                label = QLabel(spec.label, box)
                label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
                label.setWordWrap(True)
                # Top-aligned (a distribution takes three rows) but level with the first input.
                label.setContentsMargins(0, 6, 0, 0)
                self._labels.append(label)
                label.setToolTip(editor.help_tip)
                label.setBuddy(editor.inputs()[0])
                for w in editor.inputs():
                    if isinstance(w, QAbstractSpinBox):
                        w.installEventFilter(self)
                form.addRow(label, editor)
                self.editors[spec.name] = editor
            self.groups[group] = box
            body_lay.addWidget(box)
        body_lay.addStretch(1)
        missing = [
            s.name for s in FIELDS if s.name not in self.editors and s.name not in META_FIELDS
        ]
        if missing:  # pragma: no cover - guards a new field group nobody placed
            raise RuntimeError(f"config fields without an editor group: {missing}")

        self.scroll = QScrollArea(self)
        self.scroll.setObjectName("config_scroll")
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll.setWidget(body)
        outer.addWidget(self.scroll, 1)

        self.problems_label = QLabel(self)
        self.problems_label.setObjectName("config_problems")
        self.problems_label.setWordWrap(True)
        self.problems_label.setProperty("role", "error")
        self.problems_label.hide()
        outer.addWidget(self.problems_label)

        self._align_labels()
        self.set_config(RunConfig())

    def _align_labels(self) -> None:
        # Each group has its own form layout; one label width for all keeps the fields of
        # every group in a single straight column.
        # Capped, so a long label wraps instead of pushing the inputs out of a narrow column.
        cap = self.fontMetrics().horizontalAdvance("Tasks per producer") + 4
        # (A word-wrapped label's sizeHint is already wrapped, so measure the text itself.)
        widest = max(lb.fontMetrics().horizontalAdvance(lb.text()) for lb in self._labels)
        width = min(cap, widest + 4)
        for label in self._labels:
            label.setFixedWidth(width)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange) and self._labels:
            # The labels get the new font after their parent: measure them on the next turn.
            QTimer.singleShot(0, self, self._align_labels)

    # ------------------------------------------------------------------ public API
    def config(self) -> RunConfig:
        """The RunConfig the panel shows; ConfigError (the first problem) while one is invalid."""
        if self._cfg is None:
            name, message = next(iter(self._errors.items()))
            raise ConfigError(name, self.editors[name].value(), "", message=message)
        return self._cfg

    def is_valid(self) -> bool:
        return self._cfg is not None

    def errors(self) -> dict[str, str]:
        """Field name -> why its current value is refused."""
        return dict(self._errors)

    @property
    def preset(self) -> str:
        """Name of the preset the current config came from ("" for a file or defaults)."""
        return self._preset

    def is_modified(self) -> bool:
        return self._reference is not None and self._cfg != self._reference

    def has_edits(self) -> bool:
        """Anything typed since the config was loaded, valid or not (what a new one discards)."""
        return self.is_modified() or (self._reference is not None and self._cfg is None)

    @property
    def modified_from(self) -> str | None:
        """The preset the options were loaded from, once they differ from it (else None)."""
        return self._preset if self._preset and self.has_edits() else None

    @property
    def preset_title(self) -> str:
        """The preset's title as the list shows it ("" when the options came from no preset)."""
        index = self.preset_combo.findData(self._preset) if self._preset else -1
        return self.preset_combo.itemText(index) if index >= 0 else ""

    def changes(self) -> list[str]:
        """What differs from the loaded config, one "label: old → new" per field."""
        ref = self._reference
        if ref is None:
            return []
        out = []
        for name, editor in self.editors.items():
            old = getattr(ref, name)
            try:  # the editor's raw value (a distribution's table) as the config holds it
                new = getattr(_BASE.replace(**{name: editor.value()}), name)
            except ConfigError:
                out.append(f"{editor.spec.label or name}: {_words(old)} → (invalid)")
                continue
            if new != old:
                out.append(f"{editor.spec.label or name}: {_words(old)} → {_words(new)}")
        return out

    def confirm_discard(self, what: str) -> bool:
        """Ask before edits are thrown away (True: go on). No edits: nothing to ask."""
        if not self.has_edits():
            return True
        origin = (
            f"the preset \u201c{self.preset_title}\u201d" if self._preset else "the loaded options"
        )
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Discard your edits?",
            f"You changed options of {origin}. {what} replaces them.",
            QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
            self,
        )
        box.setObjectName("discard_edits_box")
        box.setInformativeText("\n".join(self.changes()[:8]))
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        self.last_discard_box = box
        try:
            return box.exec() == QMessageBox.StandardButton.Discard
        finally:
            self.last_discard_box = None
            box.deleteLater()

    def set_config(self, cfg: RunConfig, preset: str | None = None) -> None:
        """Show ``cfg`` in every editor; ``preset`` names where it came from, if a preset."""
        self._loading = True
        try:
            for name, editor in self.editors.items():
                editor.set_value(getattr(cfg, name))
        finally:
            self._loading = False
        self._meta = {name: getattr(cfg, name) for name in META_FIELDS}
        self._reference = cfg
        self._preset = preset or ""
        self._select_preset_item(self._preset)
        self._revalidate()

    def load_preset(self, name: str) -> bool:
        """Load a preset by name into the panel; False (and sig_preset_failed) if it fails."""
        try:
            cfg = load_preset(name)
        except ConfigError as error:
            self._select_preset_item(self._preset)
            self.sig_preset_failed.emit(str(error))
            return False
        self.set_config(cfg, preset=name)
        self.sig_preset_changed.emit(name)
        return True

    def set_locked(self, locked: bool) -> None:
        """Lock every option while a run is in progress (none of them can change live)."""
        self._locked = locked
        self.preset_combo.setEnabled(not locked)
        for box in self.groups.values():
            box.setEnabled(not locked)
        self._update_note()

    @property
    def locked(self) -> bool:
        return self._locked

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # A spin box claims Space as text it then refuses; leaving it unclaimed lets the
        # window's Space shortcut (start/pause) work right after a value was typed.
        if (
            event.type() == QEvent.Type.ShortcutOverride
            and isinstance(event, QKeyEvent)
            and event.key() == Qt.Key.Key_Space
            and event.modifiers() == Qt.KeyboardModifier.NoModifier
        ):
            return True
        return super().eventFilter(watched, event)

    # ------------------------------------------------------------------ internals
    def _select_preset_item(self, name: str) -> None:
        combo = self.preset_combo
        custom = combo.findData("")
        if name:
            if custom >= 0:
                combo.removeItem(custom)
            combo.setCurrentIndex(combo.findData(name))
            return
        if custom < 0:
            combo.addItem("Custom configuration", "")
            custom = combo.count() - 1
        combo.setCurrentIndex(custom)

    def _on_preset_combo_activated(self, index: int) -> None:
        name = self.preset_combo.itemData(index)
        if not name:
            return
        title = self.preset_combo.itemText(index)
        if not self.confirm_discard(f"Loading the preset \u201c{title}\u201d"):
            self._select_preset_item(self._preset)  # the list shows what is still loaded
            return
        self.load_preset(name)

    def _on_editor_edited(self) -> None:
        if not self._loading:
            self._revalidate()

    def _revalidate(self) -> None:
        values = {name: editor.value() for name, editor in self.editors.items()}
        errors: dict[str, str] = {}
        for name, value in values.items():
            try:
                _BASE.replace(**{name: value})
            except ConfigError as error:
                errors[name] = str(error)
        cfg: RunConfig | None = None
        if not errors:
            try:
                cfg = RunConfig(**values, **self._meta)  # type: ignore[arg-type]
            except ConfigError as error:  # a rule spanning fields: mark the field it names
                errors[error.key if error.key in self.editors else "producers"] = str(error)
        for name, editor in self.editors.items():
            editor.set_error(errors.get(name))
        was_valid = self._cfg is not None
        self._errors, self._cfg = errors, cfg
        if errors:
            n = len(errors)
            what = "value needs" if n == 1 else "values need"
            names = ", ".join(self.editors[name].spec.label for name in errors)
            self.problems_label.setText(f"{n} {what} fixing before a run can start: {names}.")
        self.problems_label.setVisible(bool(errors))
        self._update_note()
        if was_valid != (cfg is not None):
            self.sig_validity_changed.emit(cfg is not None)
        self.sig_config_changed.emit(cfg)

    def _update_note(self) -> None:
        if self._locked:
            text = "Options are locked while the run is in progress. Reset (Ctrl+R) to edit them."
        elif self._preset and self.is_modified():
            text = f"Edited: differs from the preset \u201c{self.preset_combo.currentText()}\u201d."
        elif self.is_modified():
            text = "Edited since it was loaded."
        else:
            text = ""
        self.note_label.setText(text)
        self.note_label.setVisible(bool(text))


def _words(value: object) -> str:
    """A field's value as the editors show it (a distribution in words, not as TOML)."""
    if isinstance(value, str):
        return value.replace("_", " ")
    return str(value)
