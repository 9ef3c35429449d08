"""RunConfig's fields: defaults, their specs, the value forms they accept, consumers = "auto"."""

from __future__ import annotations

import pytest

from engine.config import FIELDS, FieldSpec, RunConfig, default_start_method
from engine.distributions import Distribution


def test_defaults_are_valid_and_match_the_spec() -> None:
    cfg = RunConfig()
    assert cfg.producers == 1
    assert cfg.consumers == 1
    assert cfg.tasks_per_producer == 10
    assert cfg.maxsize == 0
    assert cfg.task_duration == Distribution.uniform(0, 1)
    assert cfg.put_interval == Distribution.constant(0)
    assert cfg.time_scale == 1.0
    assert cfg.workload == "sleep"
    assert cfg.seed is None
    assert cfg.start_method == default_start_method()
    assert cfg.sentinels == "per_consumer"
    assert cfg.sentinel_task_done is True
    assert cfg.join_order == "producers_first"
    assert cfg.join_delay == 0.0
    assert cfg.failure_rate == 0.0
    assert cfg.on_failure == "task_done"
    assert cfg.max_retries == 3
    assert cfg.extra_task_done is False
    assert cfg.trace is True
    assert cfg.title == ""
    assert cfg.explanation == ""


def test_fields_describe_every_runconfig_field_in_order() -> None:
    import dataclasses

    names = [f.name for f in dataclasses.fields(RunConfig)]
    assert [spec.name for spec in FIELDS] == names
    cfg = RunConfig()
    for spec in FIELDS:
        assert isinstance(spec, FieldSpec)
        assert spec.default == getattr(cfg, spec.name)
        assert spec.type in {
            "int", "float", "bool", "choice", "distribution", "str", "optional_int"
        }  # fmt: skip
        assert spec.group in {"workers", "tasks", "timing", "protocol", "advanced", "meta"}
        assert spec.help.endswith(".") and "\n" not in spec.help
        if spec.type == "choice":
            assert spec.default in spec.choices


def test_default_start_method_prefers_forkserver() -> None:
    import multiprocessing

    expected = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    assert default_start_method() == expected


def test_runconfig_is_frozen() -> None:
    cfg = RunConfig()
    with pytest.raises(AttributeError):
        cfg.producers = 2  # type: ignore[misc]


def test_ints_given_for_floats_become_floats() -> None:
    cfg = RunConfig(time_scale=2, join_delay=0, failure_rate=1)
    assert type(cfg.time_scale) is float and cfg.time_scale == 2.0
    assert type(cfg.failure_rate) is float


def test_distribution_fields_accept_the_short_forms() -> None:
    cfg = RunConfig(task_duration="exponential(0.5)", put_interval=0.25)  # type: ignore[arg-type]
    assert cfg.task_duration == Distribution.exponential(0.5)
    assert cfg.put_interval == Distribution.constant(0.25)


@pytest.mark.parametrize(
    "cpus, want",
    # os.cpu_count() - 1, but at least 3 and at most the limit of 64; None: unknown.
    [(1, 3), (2, 3), (4, 3), (5, 4), (8, 7), (64, 63), (65, 64), (66, 64), (512, 64), (None, 3)],
)
def test_auto_consumers_follows_the_cpus_within_3_and_64(
    monkeypatch: pytest.MonkeyPatch, cpus: int | None, want: int
) -> None:
    import os

    from engine.config import apply_overrides, load_preset

    monkeypatch.setattr(os, "cpu_count", lambda: cpus)
    assert apply_overrides(RunConfig(), ["consumers=auto"]).consumers == want
    assert load_preset("many-consumers").consumers == want  # never a ConfigError
    assert RunConfig().replace(consumers="auto").consumers == want
    assert RunConfig.from_mapping({"consumers": "auto"}).consumers == want


def test_auto_note_is_written_once_whatever_resolves_it(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    monkeypatch.setattr(os, "cpu_count", lambda: 6)
    cfg = RunConfig(explanation="The lesson.").replace(consumers="auto")
    again = cfg.replace(consumers="auto")
    assert again.consumers == 5
    assert again.explanation == (
        'The lesson.\n\nconsumers = "auto" on this machine: 5 consumers, one per CPU but one, '
        "since os.cpu_count() found 6 CPUs."
    )
    # A number chosen by hand leaves the explanation alone.
    assert RunConfig(explanation="The lesson.").replace(consumers=2).explanation == "The lesson."
