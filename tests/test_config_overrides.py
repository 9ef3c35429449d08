"""KEY=VALUE overrides (the command line's --set): what they accept and how they refuse."""

from __future__ import annotations

import pytest

from engine.config import ConfigError, RunConfig, apply_overrides
from engine.distributions import Distribution


def test_apply_overrides_examples() -> None:
    cfg = apply_overrides(
        RunConfig(),
        [
            "workload=cpu",
            "task_duration=uniform(0,1)",
            "seed=3",
            "sentinel_task_done=false",
            "put_interval = 0.5",
            "title=Hello, world",
            "explanation=2024",
            'sentinels="single"',
            "task_duration={ kind = 'normal', mean = 0.3, sd = 0.1 }",
        ],
    )
    assert cfg.workload == "cpu"
    assert cfg.seed == 3
    assert cfg.sentinel_task_done is False
    assert cfg.put_interval == Distribution.constant(0.5)
    assert cfg.title == "Hello, world"
    assert cfg.explanation == "2024"
    assert cfg.sentinels == "single"
    assert cfg.task_duration == Distribution.normal(0.3, 0.1)
    assert apply_overrides(cfg, []) is cfg
    assert apply_overrides(RunConfig(), ["task_duration=uniform(0,1)"]).task_duration == (
        Distribution.uniform(0, 1)
    )


def test_apply_overrides_errors() -> None:
    with pytest.raises(ConfigError, match=r"did you mean 'consumers'"):
        apply_overrides(RunConfig(), ["consumer=2"])
    with pytest.raises(ConfigError) as info:
        apply_overrides(RunConfig(), ["producers"])
    assert "producers" in str(info.value) and "KEY=VALUE" in str(info.value)
    with pytest.raises(ConfigError, match="KEY=VALUE"):
        apply_overrides(RunConfig(), ["=3"])
    with pytest.raises(ConfigError, match=r'^workload = "gpu" is not allowed'):
        apply_overrides(RunConfig(), ["workload=gpu"])
    with pytest.raises(ConfigError, match=r"^producers = 0 is not allowed"):
        apply_overrides(RunConfig(), ["producers=0"])
    with pytest.raises(ConfigError, match=r"^seed = true is not allowed"):
        apply_overrides(RunConfig(), ["seed=true"])
