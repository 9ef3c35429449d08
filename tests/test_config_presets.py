"""Presets: the folder, the list with the tutorial first, loading each, unknown names."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from engine.config import PRESETS_DIR, ConfigError, default_start_method, list_presets, load_preset
from engine.distributions import Distribution
from tests.config_values import tomllib


def test_presets_dir_is_in_the_repo() -> None:
    expected = Path(__file__).resolve().parent.parent / "resources" / "presets"
    assert expected == PRESETS_DIR


def test_list_presets_has_tutorial_first() -> None:
    presets = list_presets()
    assert presets[0] == ("tutorial", "The tutorial's complete example")
    names = [name for name, _ in presets]
    assert names[1:] == sorted(names[1:])
    assert len(set(names)) == len(names)


def test_every_preset_loads() -> None:
    for name, title in list_presets():
        cfg = load_preset(name)
        assert cfg.title == title


def test_tutorial_preset_values() -> None:
    cfg = load_preset("tutorial")
    assert cfg.producers == 1
    assert cfg.consumers == 1
    assert cfg.tasks_per_producer == 10
    assert cfg.task_duration == Distribution.uniform(0, 1)
    assert cfg.put_interval == Distribution.constant(0)
    assert cfg.workload == "sleep"
    assert cfg.sentinels == "single"
    assert cfg.sentinel_task_done is True
    assert cfg.join_order == "producers_first"
    assert cfg.maxsize == 0
    assert cfg.failure_rate == 0.0
    assert cfg.time_scale == 1.0
    assert cfg.extra_task_done is False
    assert cfg.title == "The tutorial's complete example"
    assert 2 <= len(re.findall(r"[.!?](?:\s|$)", cfg.explanation)) <= 4
    # The file leaves these to the platform and to fresh randomness.
    assert cfg.seed is None
    assert cfg.start_method == default_start_method()
    raw = tomllib.loads((PRESETS_DIR / "tutorial.toml").read_text(encoding="utf-8"))
    assert "seed" not in raw and "start_method" not in raw


def test_unknown_preset_lists_available() -> None:
    with pytest.raises(ConfigError) as info:
        load_preset("tutorail")
    message = str(info.value)
    assert "'tutorail'" in message and "did you mean 'tutorial'" in message
    assert "available presets: tutorial" in message
    with pytest.raises(ConfigError, match="unknown preset"):
        load_preset("../config")
