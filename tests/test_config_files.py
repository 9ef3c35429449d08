"""Config files: TOML round trips, saving and loading, and each way a file can be wrong."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.config import (
    FIELDS,
    ConfigError,
    RunConfig,
    dump_config,
    load_config,
    loads_config,
    save_config,
)
from engine.distributions import Distribution
from tests.config_values import distributions, tomllib

SPECS = {spec.name: spec for spec in FIELDS}
START_METHODS = SPECS["start_method"].choices

# --------------------------------------------------------------------------- round trips


@st.composite
def run_configs(draw: st.DrawFn) -> RunConfig:
    return RunConfig(
        producers=draw(st.integers(1, 64)),
        consumers=draw(st.integers(1, 64)),
        tasks_per_producer=draw(st.integers(0, 10_000_000)),
        maxsize=draw(st.integers(0, 32_767)),
        task_duration=draw(distributions()),
        put_interval=draw(distributions()),
        time_scale=draw(
            st.floats(min_value=0.0, max_value=1000.0, exclude_min=True, allow_nan=False)
        ),
        workload=draw(st.sampled_from(["sleep", "cpu"])),
        seed=draw(st.none() | st.integers(0, 2**63 - 1)),
        start_method=draw(st.sampled_from(START_METHODS)),
        sentinels=draw(st.sampled_from(["per_consumer", "single", "none"])),
        sentinel_task_done=draw(st.booleans()),
        join_order=draw(st.sampled_from(["producers_first", "queue_first"])),
        join_delay=draw(st.floats(min_value=0.0, max_value=3600.0)),
        failure_rate=draw(st.floats(min_value=0.0, max_value=1.0)),
        on_failure=draw(st.sampled_from(["task_done", "retry", "skip_task_done"])),
        max_retries=draw(st.integers(0, 1000)),
        extra_task_done=draw(st.booleans()),
        trace=draw(st.booleans()),
        title=draw(st.text()),
        explanation=draw(st.text()),
    )


@settings(max_examples=200)
@given(run_configs())
def test_toml_round_trip(cfg: RunConfig) -> None:
    text = dump_config(cfg)
    assert loads_config(text) == cfg
    assert RunConfig.from_mapping(tomllib.loads(text)) == cfg
    assert RunConfig.from_mapping(cfg.to_mapping()) == cfg


@given(run_configs())
def test_to_mapping_is_toml_ready(cfg: RunConfig) -> None:
    data = cfg.to_mapping()
    assert ("seed" in data) == (cfg.seed is not None)
    assert data["task_duration"] == cfg.task_duration.to_toml_value()
    for value in data.values():
        assert isinstance(value, (bool, int, float, str, dict))


def test_dump_escapes_strings() -> None:
    title = 'quote " backslash \\ newline \n tab \t nul \x00 del \x7f ünï 😀 """'
    cfg = RunConfig(title=title, explanation="line 1\r\nline 2")
    text = dump_config(cfg)
    assert len(text.splitlines()) == len(cfg.to_mapping()) + 1  # one comment line
    assert loads_config(text).title == title
    assert loads_config(text).explanation == "line 1\r\nline 2"
    assert 'task_duration = { kind = "uniform", low = 0.0, high = 1.0 }' in text


def test_save_and_load_file(tmp_path: Path) -> None:
    cfg = RunConfig(producers=3, seed=7, title="Drei Erzeuger", task_duration="normal(0.2, 0.05)")  # type: ignore[arg-type]
    path = tmp_path / "run.toml"
    save_config(cfg, path)
    assert load_config(path) == cfg
    assert load_config(str(path)) == cfg
    assert [p.name for p in tmp_path.iterdir()] == ["run.toml"]


JUNK = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats()
    | st.text()
    | st.sampled_from(["sleep", "cpu", "uniform(0, 1)", "single", "spawn", "1e999", "nan"]),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.text(max_size=5) | st.sampled_from(["kind", "low", "high"]), inner, max_size=3
        )
    ),
    max_leaves=8,
)
KEYS = st.sampled_from([spec.name for spec in FIELDS]) | st.text(max_size=12)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(KEYS, JUNK, max_size=6))
def test_junk_mappings_give_a_config_or_config_error(data: dict) -> None:
    try:
        cfg = RunConfig.from_mapping(data, source="junk.toml", text="")
    except ConfigError as error:
        assert str(error).startswith("junk.toml: ")
        assert "\n" not in str(error)
    else:
        assert RunConfig.from_mapping(cfg.to_mapping()) == cfg


@settings(max_examples=200)
@given(st.text(max_size=200))
def test_junk_toml_text_gives_a_config_or_config_error(text: str) -> None:
    try:
        loads_config(text, source="x.toml")
    except ConfigError as error:
        assert str(error).startswith("x.toml: ")


# --------------------------------------------------------------------------- load_config errors


def test_load_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.toml"
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.source == str(path)
    assert str(info.value) == f"{path}: file not found"


def test_load_directory(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is a directory"):
        load_config(tmp_path)


def test_load_syntax_error_reports_line(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("producers = 2\nconsumers = 2\nworkload sleep\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.line == 3
    assert str(info.value).startswith(f"{path}: line 3: TOML syntax error: Expected '='")
    assert "(at line" not in str(info.value)


def test_load_syntax_error_at_end_of_file(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("producers = 2\ntask_duration = [1,\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"line \d+: TOML syntax error"):
        load_config(path)


def test_load_non_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes('producers = 1\ntitle = "Café"\n'.encode("latin-1"))
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.line == 2
    assert "UTF-8" in str(info.value)
    assert str(info.value).startswith(f"{path}: line 2: ")


def test_load_invalid_value_names_file_line_and_key(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('title = "t"\nproducers = 2\nfailure_rate = 1.5\n', encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value).startswith(
        f"{path}: line 3: failure_rate = 1.5 is not allowed: expected a number from 0 to 1"
    )
    path.write_text("producers = 2\n[task_duration]\nkind = 'uniform'\nlow = 3\nhigh = 1\n")
    with pytest.raises(ConfigError, match=r"line 2: task_duration = "):
        load_config(path)


def test_load_unknown_key_in_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("producers = 2\n\nconsumer = 3\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value).startswith(
        f"{path}: line 3: unknown key 'consumer' (did you mean 'consumers'?)"
    )


def test_load_valid_file_with_short_forms_and_bom(tmp_path: Path) -> None:
    path = tmp_path / "ok.toml"
    text = (
        'producers = 2\nconsumers = 3\ntask_duration = "exponential(0.2)"\n'
        "put_interval = 0.05\nseed = 11\ntime_scale = 2\n"
    )
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    cfg = load_config(path)
    assert cfg == RunConfig(
        producers=2,
        consumers=3,
        task_duration=Distribution.exponential(0.2),
        put_interval=Distribution.constant(0.05),
        seed=11,
        time_scale=2.0,
    )
