"""The configuration panel: panel <-> RunConfig both ways, presets, files, invalid values marked."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
from PySide6.QtWidgets import QComboBox

from engine.config import FIELDS, ConfigError, RunConfig, load_config, load_preset
from engine.distributions import Distribution
from gui.config_panel import ConfigPanel
from gui.field_editors import INVALID_BORDER

# Every field away from its default, so a field the panel drops or mangles cannot go unseen.
CUSTOM = RunConfig(
    producers=3,
    consumers=5,
    tasks_per_producer=250,
    maxsize=7,
    task_duration=Distribution.normal(0.25, 0.05),
    put_interval=Distribution.exponential(0.125),
    time_scale=0.5,
    workload="cpu",
    seed=1234,
    start_method="spawn",
    sentinels="single",
    sentinel_task_done=False,
    join_order="queue_first",
    join_delay=1.5,
    failure_rate=0.2,
    on_failure="retry",
    max_retries=4,
    extra_task_done=True,
    trace=True,
    title="Custom title",
    explanation="Custom explanation",
)


@pytest.fixture
def panel(qtbot) -> ConfigPanel:
    p = ConfigPanel()
    qtbot.addWidget(p)
    return p


def test_custom_config_differs_from_default_in_every_edited_field() -> None:
    default = RunConfig()
    same = [s.name for s in FIELDS if getattr(CUSTOM, s.name) == getattr(default, s.name)]
    assert same == ["trace"], same  # trace=False would switch off the events the UI needs


@pytest.mark.parametrize("cfg", [CUSTOM, load_preset("tutorial"), RunConfig()], ids=str)
def test_config_to_panel_to_config_round_trip(panel: ConfigPanel, cfg: RunConfig) -> None:
    panel.set_config(cfg)
    assert panel.is_valid(), panel.errors()
    assert panel.config() == cfg


def test_panel_shows_config_values_in_widgets(panel: ConfigPanel) -> None:
    panel.set_config(CUSTOM)
    e = panel.editors
    assert e["producers"].spin.value() == 3
    assert e["producers"].spin.suffix() == " processes"
    e["producers"].spin.setValue(1)
    assert e["producers"].spin.suffix() == " process"
    assert e["maxsize"].spin.value() == 7
    assert e["time_scale"].spin.value() == pytest.approx(0.5)
    assert e["workload"].combo.currentText() == "cpu"
    assert e["seed"].edit.text() == "1234"
    assert e["sentinel_task_done"].check.isChecked() is False
    dist = e["task_duration"]
    assert dist.kind.currentText() == "normal"
    assert [s.value() for s in dist.params] == [pytest.approx(0.25), pytest.approx(0.05)]
    assert [lb.text() for lb in dist.param_labels] == ["mean", "sd"]
    assert dist.params[0].suffix() == " s"
    # Constant has one parameter: the second spin box is hidden, not left showing old data.
    put = e["put_interval"]
    put.set_value(Distribution.constant(0.0))
    assert not put.params[1].isVisibleTo(panel)


def test_editing_widgets_changes_config_and_emits(panel: ConfigPanel, qtbot) -> None:
    panel.set_config(load_preset("tutorial"), preset="tutorial")
    assert not panel.note_label.isVisibleTo(panel)
    seen: list[RunConfig | None] = []
    panel.sig_config_changed.connect(seen.append)
    e = panel.editors
    e["consumers"].spin.setValue(4)
    e["sentinels"].combo.setCurrentIndex(e["sentinels"].combo.findData("per_consumer"))
    e["seed"].edit.setText("42")
    dist = e["task_duration"]
    dist.kind.setCurrentIndex(dist.kind.findData("exponential"))
    dist.params[0].setValue(0.3)
    e["extra_task_done"].check.setChecked(True)
    cfg = panel.config()
    assert cfg.consumers == 4
    assert cfg.sentinels == "per_consumer"
    assert cfg.seed == 42
    assert cfg.task_duration == Distribution.exponential(0.3)
    assert cfg.extra_task_done is True
    # Title and explanation ride along unchanged; they are the preset's, shown as "edited".
    assert cfg.title == load_preset("tutorial").title
    assert seen and seen[-1] == cfg
    assert panel.is_modified()
    assert panel.note_label.isVisibleTo(panel)
    assert "differs from the preset" in panel.note_label.text()
    assert load_preset("tutorial").title in panel.note_label.text()


@pytest.mark.parametrize(
    ("field", "edit", "fragment"),
    [
        ("producers", lambda e: e.spin.setValue(100), "producers = 100 is not allowed"),
        ("consumers", lambda e: e.spin.setValue(0), "consumers = 0 is not allowed"),
        ("time_scale", lambda e: e.spin.setValue(0.0), "above 0"),
        ("failure_rate", lambda e: e.spin.setValue(1.5), "from 0 to 1"),
        ("seed", lambda e: e.edit.setText("abc"), 'seed = "abc" is not allowed'),
        (
            "task_duration",
            lambda e: (e.params[0].setValue(2.0), e.params[1].setValue(1.0)),
            "low end is at most its high end",
        ),
        (
            "put_interval",
            lambda e: (
                e.kind.setCurrentIndex(e.kind.findData("exponential")),
                e.params[0].setValue(0.0),
            ),
            "mean above 0 s",
        ),
    ],
)
def test_invalid_value_is_marked_in_place(panel: ConfigPanel, field, edit, fragment) -> None:
    panel.set_config(load_preset("tutorial"))
    validity: list[bool] = []
    panel.sig_validity_changed.connect(validity.append)
    editor = panel.editors[field]
    edit(editor)
    assert not panel.is_valid()
    assert validity == [False]
    message = panel.errors()[field]
    assert fragment in message
    assert list(panel.errors()) == [field]  # only the bad field is marked
    # The reason is shown in place: red border, a visible label and the tooltip.
    assert editor.error == message
    assert editor.error_label.isVisibleTo(panel)
    assert editor.error_label.text().replace("\u200b", "") == message
    assert INVALID_BORDER in editor.frame.styleSheet()
    for w in editor.inputs():
        assert w.toolTip().startswith(message)
    assert panel.problems_label.isVisibleTo(panel)
    with pytest.raises(ConfigError):
        panel.config()
    # Fixing it clears every mark.
    panel.set_config(load_preset("tutorial"))
    assert panel.is_valid() and validity == [False, True]
    assert editor.error is None and not editor.error_label.isVisibleTo(panel)
    assert INVALID_BORDER not in editor.frame.styleSheet()
    assert all(not w.toolTip().startswith(message) for w in editor.inputs())


def test_every_bad_field_is_marked_at_once(panel: ConfigPanel) -> None:
    panel.editors["producers"].spin.setValue(0)
    panel.editors["max_retries"].spin.setValue(5000)
    assert set(panel.errors()) == {"producers", "max_retries"}
    assert "2 values need fixing" in panel.problems_label.text()
    assert "Producers, Max retries" in panel.problems_label.text()


def test_long_error_fits_a_narrow_column(panel: ConfigPanel) -> None:
    panel.resize(330, 600)
    panel.show()
    panel.editors["seed"].edit.setText("abc")  # its message holds 9_223_372_036_854_775_807
    body = panel.scroll.widget()
    assert body.minimumSizeHint().width() <= panel.scroll.viewport().width()


def test_tooltips_carry_help_and_range(panel: ConfigPanel) -> None:
    tip = panel.editors["producers"].spin.toolTip()
    assert "Number of producer processes" in tip
    assert "1 … 64 processes" in tip


def test_preset_picker_loads_preset(panel: ConfigPanel, qtbot) -> None:
    panel.set_config(CUSTOM)
    combo: QComboBox = panel.preset_combo
    assert combo.currentData() == ""  # "Custom configuration"
    index = combo.findData("tutorial")
    assert index >= 0
    with qtbot.waitSignal(panel.sig_preset_changed) as blocker:
        combo.activated.emit(index)
    assert blocker.args == ["tutorial"]
    assert panel.config() == load_preset("tutorial")
    assert panel.preset == "tutorial" and not panel.is_modified()
    assert combo.findData("") == -1  # the custom entry goes once a preset is shown


def test_lock_disables_every_option(panel: ConfigPanel) -> None:
    panel.set_locked(True)
    assert not panel.preset_combo.isEnabled()
    for editor in panel.editors.values():
        assert all(not w.isEnabled() for w in editor.inputs()), editor.spec.name
    assert "locked" in panel.note_label.text()
    panel.set_locked(False)
    assert all(w.isEnabled() for e in panel.editors.values() for w in e.inputs())


def test_window_open_save_config_and_error_dialog(qtbot, tmp_path) -> None:
    from gui.main_window import MainWindow

    window = MainWindow(load_preset("tutorial"), "tutorial")
    qtbot.addWidget(window)
    path = tmp_path / "custom.toml"
    window.config_panel.set_config(CUSTOM)
    assert window.save_config_file(str(path))
    assert load_config(path) == CUSTOM
    window.config_panel.set_config(load_preset("tutorial"), preset="tutorial")
    assert window.open_config_file(str(path))
    assert window.config_panel.config() == CUSTOM
    assert window.windowTitle() == "QueueLab — Custom title"
    assert window.lesson_view.text_label.text() == "Custom explanation"

    bad = tmp_path / "bad.toml"
    bad.write_text("producers = 2\nconsumers = 999\n", encoding="utf-8")
    assert not window.open_config_file(str(bad))
    box = window.last_error_box
    assert box is not None and box.isVisible()
    assert str(bad) in box.text() and "line 2" in box.text() and "consumers" in box.text()
    box.close()
    assert window.config_panel.config() == CUSTOM  # a refused file changes nothing


def test_invalid_value_disables_start_in_window(qtbot) -> None:
    from gui.main_window import MainWindow

    window = MainWindow(load_preset("tutorial"), "tutorial")
    qtbot.addWidget(window)
    start = window.controls.start_action
    assert start.isEnabled()
    window.config_panel.editors["consumers"].spin.setValue(65)
    assert not start.isEnabled()
    assert "Fix the options" in start.toolTip()
    assert window.status_bar.state_label.text().strip() == "Invalid options"
    assert window.start_run() is False and window.driver.run is None
    window.config_panel.editors["consumers"].spin.setValue(2)
    assert start.isEnabled()
