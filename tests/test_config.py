"""Tests for engine.config and engine.distributions: validation, TOML round-trips, presets."""

from __future__ import annotations

import math
import pickle
import random
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.config import (
    FIELDS,
    PRESETS_DIR,
    ConfigError,
    FieldSpec,
    RunConfig,
    apply_overrides,
    default_start_method,
    dump_config,
    format_value,
    list_presets,
    load_config,
    load_preset,
    loads_config,
    parse_distribution,
    save_config,
)
from engine.distributions import Distribution, DistributionError

try:
    import tomllib
except ModuleNotFoundError:  # Python < 3.11
    import tomli as tomllib  # type: ignore[no-redef]

SPECS = {spec.name: spec for spec in FIELDS}
START_METHODS = SPECS["start_method"].choices

# --------------------------------------------------------------------------- defaults and fields


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


# --------------------------------------------------------------------------- invalid values

NAN = float("nan")
INF = float("inf")

INVALID: list[tuple[str, object]] = [
    ("producers", 0),
    ("producers", -1),
    ("producers", 65),
    ("producers", 1.5),
    ("producers", 2.0),
    ("producers", True),
    ("producers", "2"),
    ("producers", None),
    ("consumers", 0),
    ("consumers", False),
    ("consumers", NAN),
    ("tasks_per_producer", -1),
    ("tasks_per_producer", 10_000_001),
    ("tasks_per_producer", "ten"),
    ("tasks_per_producer", INF),
    ("maxsize", -1),
    ("maxsize", 1_000_000),
    ("maxsize", True),
    ("task_duration", -0.5),
    ("task_duration", NAN),
    ("task_duration", INF),
    ("task_duration", True),
    ("task_duration", "uniform(2, 1)"),
    ("task_duration", "uniform(0)"),
    ("task_duration", "exponential(0)"),
    ("task_duration", "normal(0.5, -1)"),
    ("task_duration", "gamma(1, 2)"),
    ("task_duration", "uniform(a, b)"),
    ("task_duration", {"kind": "uniform", "low": 0.0}),
    ("task_duration", {"kind": "uniform", "low": 0.0, "high": 1.0, "sd": 1.0}),
    ("task_duration", {"kind": "uniform", "low": True, "high": 1.0}),
    ("task_duration", {"low": 0.0, "high": 1.0}),
    ("task_duration", [0, 1]),
    ("put_interval", -1),
    ("put_interval", "constant(nan)"),
    ("put_interval", "constant(inf)"),
    ("time_scale", 0),
    ("time_scale", 0.0),
    ("time_scale", -1.0),
    ("time_scale", 1001.0),
    ("time_scale", NAN),
    ("time_scale", INF),
    ("time_scale", -INF),
    ("time_scale", True),
    ("time_scale", "fast"),
    ("time_scale", 10**400),
    ("workload", "gpu"),
    ("workload", "Sleep"),
    ("workload", 1),
    ("seed", -1),
    ("seed", 1.5),
    ("seed", True),
    ("seed", "42"),
    ("seed", 2**63),
    ("start_method", "threads"),
    ("start_method", 1),
    ("sentinels", "many"),
    ("sentinels", None),
    ("sentinel_task_done", 1),
    ("sentinel_task_done", "true"),
    ("join_order", "consumers_first"),
    ("join_delay", -0.1),
    ("join_delay", NAN),
    ("join_delay", INF),
    ("failure_rate", -0.01),
    ("failure_rate", 1.01),
    ("failure_rate", NAN),
    ("failure_rate", "0.5"),
    ("on_failure", "ignore"),
    ("max_retries", -1),
    ("max_retries", 1.0),
    ("max_retries", False),
    ("extra_task_done", 0),
    ("extra_task_done", None),
    ("trace", "yes"),
    ("title", 5),
    ("title", None),
    ("title", "\ud800"),
    ("explanation", ["a"]),
]


@pytest.mark.parametrize(("key", "value"), INVALID, ids=[f"{k}={v!r}" for k, v in INVALID])
def test_invalid_values_raise_config_error_naming_key_and_value(key: str, value: object) -> None:
    for build in (
        lambda: RunConfig(**{key: value}),  # type: ignore[arg-type]
        lambda: RunConfig.from_mapping({key: value}),
        lambda: RunConfig().replace(**{key: value}),
    ):
        with pytest.raises(ConfigError) as info:
            build()
        error = info.value
        message = str(error)
        assert error.key == key
        assert error.value is value
        # The value as written, or, for a distribution that can be read, in words.
        shown = format_value(value) if error.message is None else message.split(" is not ")[0][
            len(key) + 3 :
        ]
        assert message.startswith(f"{key} = {shown} is not allowed: expected ")
        assert error.allowed and error.allowed in message
        assert not re.search(r"\d_\d|[{}]|<=|>=", message), message  # words, not TOML/Python
        assert "\n" not in message


@pytest.mark.parametrize(
    ("key", "value", "shown"),
    [
        ("producers", True, "true"),
        ("producers", 1.5, "1.5"),
        ("time_scale", NAN, "nan"),
        ("time_scale", INF, "inf"),
        ("workload", "gpu", '"gpu"'),
        ("workload", "a\nb", '"a\\nb"'),
    ],
)
def test_offending_value_is_shown_literally(key: str, value: object, shown: str) -> None:
    with pytest.raises(ConfigError) as info:
        RunConfig(**{key: value})  # type: ignore[arg-type]
    assert f"{key} = {shown} is not allowed" in str(info.value)


def test_message_examples() -> None:
    with pytest.raises(ConfigError) as info:
        RunConfig(tasks_per_producer=-1)
    assert str(info.value) == (
        "tasks_per_producer = -1 is not allowed: expected a whole number from 0 to 10000000"
    )
    with pytest.raises(ConfigError) as info:
        RunConfig(maxsize=40_000)
    assert str(info.value) == (
        "maxsize = 40000 is not allowed: expected a whole number from 0 to 32767"
    )
    with pytest.raises(ConfigError) as info:
        RunConfig(producers=1.5)  # type: ignore[arg-type]
    assert str(info.value) == (
        "producers = 1.5 is not allowed: expected a whole number from 1 to 64 "
        "(got a decimal number)"
    )
    with pytest.raises(ConfigError, match="got a boolean"):
        RunConfig(consumers=True)
    with pytest.raises(ConfigError, match=r"\(got text\)$"):
        RunConfig(consumers="3")  # type: ignore[arg-type]
    for bad in (NAN, INF):
        with pytest.raises(ConfigError, match=r"expected a number above 0 and at most 1000$"):
            RunConfig(time_scale=bad)
    with pytest.raises(ConfigError, match=r"join_delay = -1 is not allowed: expected a number from "
                       r"0 s to 3600 s$"):  # fmt: skip
        RunConfig(join_delay=-1)
    with pytest.raises(ConfigError, match=r'expected "sleep", "cpu", or your own function as '
                       r'"module:function" or "path/to/file.py:function"$'):  # fmt: skip
        RunConfig(workload="gpu")
    with pytest.raises(ConfigError, match=r'expected "per_consumer", "single" or "none"$'):
        RunConfig(sentinels="two")
    with pytest.raises(ConfigError, match=r"expected a whole number from 0 to 9223372036854775807, "
                       r"or no value for fresh randomness$"):  # fmt: skip
        RunConfig(seed=-1)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("uniform(2, 1)", "task_duration = uniform from 2 s to 1 s is not allowed: expected a "
         "uniform range whose low end is at most its high end, both from 0 s to 86400 s"),
        ({"kind": "uniform", "low": 2.0, "high": 1.0}, "task_duration = uniform from 2 s to 1 s "
         "is not allowed: expected a uniform range whose low end is at most its high end, both "
         "from 0 s to 86400 s"),
        ("exponential(0)", "task_duration = exponential with a mean of 0 s is not allowed: "
         "expected an exponential mean above 0 s and at most 86400 s"),
        ("normal(1, -1)", "task_duration = normal with a mean of 1 s and a standard deviation of "
         "-1 s is not allowed: expected a normal mean and standard deviation, each from 0 s to "
         "86400 s"),
        (-1, "task_duration = -1 is not allowed: expected a constant from 0 s to 86400 s "
         "(one day)"),
        ({"kind": "gauss", "mean": 1}, 'task_duration = a table with kind "gauss" and mean 1 is '
         "not allowed: expected a table whose kind is constant, uniform, exponential or normal"),
        ({"kind": "uniform", "low": 1}, 'task_duration = a table with kind "uniform" and low 1 '
         "is not allowed: expected a uniform table with the keys kind, low and high (high is "
         "missing)"),
        ("uniform(1)", 'task_duration = "uniform(1)" is not allowed: expected uniform with 2 '
         "numbers: low and high"),
    ],
)  # fmt: skip
def test_distribution_messages_are_in_words(value: object, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        RunConfig.from_mapping({"task_duration": value})
    assert str(info.value) == message


def test_first_problem_in_field_order_is_reported() -> None:
    with pytest.raises(ConfigError) as info:
        RunConfig.from_mapping({"trace": "no", "consumers": 0, "workload": "gpu"})
    assert info.value.key == "consumers"


def test_unknown_key_with_suggestion() -> None:
    with pytest.raises(ConfigError) as info:
        RunConfig.from_mapping({"producers": 2, "consumer": 3})
    message = str(info.value)
    assert info.value.key == "consumer"
    assert message.startswith("unknown key 'consumer' (did you mean 'consumers'?); allowed keys: ")
    assert "producers, consumers, tasks_per_producer" in message
    with pytest.raises(ConfigError, match="unknown key 'zzz'; allowed keys"):
        RunConfig.from_mapping({"zzz": 1})
    with pytest.raises(ConfigError, match=r"did you mean 'time_scale'"):
        RunConfig().replace(timescale=2.0)


def test_from_mapping_refuses_non_mappings() -> None:
    for junk in (None, [1, 2], "producers = 1", 3):
        with pytest.raises(ConfigError, match="expected a table"):
            RunConfig.from_mapping(junk)  # type: ignore[arg-type]


def test_from_mapping_finds_the_line_of_the_offending_key() -> None:
    text = 'title = "x"\n\n  consumers = 0\n'
    with pytest.raises(ConfigError) as info:
        RunConfig.from_mapping(tomllib.loads(text), source="my.toml", text=text)
    assert info.value.line == 3
    assert info.value.source == "my.toml"
    assert str(info.value).startswith("my.toml: line 3: consumers = 0 is not allowed")


def test_config_error_is_a_value_error_and_pickles() -> None:
    error = ConfigError("producers", 0, "expected an integer >= 1", line=4, source="a.toml")
    assert isinstance(error, ValueError)
    copy = pickle.loads(pickle.dumps(error))
    assert isinstance(copy, ConfigError)
    expected = "a.toml: line 4: producers = 0 is not allowed: expected an integer >= 1"
    assert str(copy) == str(error) == expected
    assert (copy.key, copy.value, copy.line, copy.source) == ("producers", 0, 4, "a.toml")


def test_format_value_is_short_and_never_fails() -> None:
    assert len(format_value("x" * 1000)) <= 60
    assert format_value(10**5000)  # more digits than str() converts by default
    nested: list[object] = []
    nested.append(nested)
    assert format_value(nested)


# --------------------------------------------------------------------------- distributions


def test_uniform_0_1_reproduces_random() -> None:
    assert Distribution.uniform(0, 1).sample(random.Random(5)) == random.Random(5).random()
    a, b = random.Random(123), random.Random(123)
    dist = Distribution.uniform(0, 1)
    assert [dist.sample(a) for _ in range(50)] == [b.random() for _ in range(50)]


def test_constant_consumes_no_randomness() -> None:
    rng = random.Random(1)
    assert Distribution.constant(0.1).sample(rng) == 0.1
    assert rng.random() == random.Random(1).random()


@pytest.mark.parametrize(
    ("dist", "text", "table", "mean"),
    [
        (Distribution.constant(0.1), "constant(0.1)", {"kind": "constant", "value": 0.1}, 0.1),
        (
            Distribution.uniform(0, 1),
            "uniform(0, 1)",
            {"kind": "uniform", "low": 0.0, "high": 1.0},
            0.5,
        ),
        (
            Distribution.exponential(0.5),
            "exponential(0.5)",
            {"kind": "exponential", "mean": 0.5},
            0.5,
        ),
        (
            Distribution.normal(0.5, 0.1),
            "normal(0.5, 0.1)",
            {"kind": "normal", "mean": 0.5, "sd": 0.1},
            0.5,
        ),
    ],
)
def test_distribution_forms(dist: Distribution, text: str, table: dict, mean: float) -> None:
    assert str(dist) == text
    assert dist.to_toml_value() == table
    assert dist.mean == pytest.approx(mean)
    assert parse_distribution(text, "k") == dist
    assert parse_distribution(table, "k") == dist
    assert parse_distribution(dist, "k") is dist


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0.25, Distribution.constant(0.25)),
        (2, Distribution.constant(2.0)),
        ("0.25", Distribution.constant(0.25)),
        (" 3 ", Distribution.constant(3.0)),
        ("uniform(0,1)", Distribution.uniform(0, 1)),
        ("Uniform( 0.5 , 2 )", Distribution.uniform(0.5, 2)),
        ("normal(1, 0)", Distribution.normal(1, 0)),
    ],
)
def test_parse_distribution_accepts(value: object, expected: Distribution) -> None:
    assert parse_distribution(value, "task_duration") == expected


def test_parse_distribution_error_names_key_value_and_allowed() -> None:
    with pytest.raises(ConfigError) as info:
        parse_distribution("triangle(0, 1)", "put_interval")
    error = info.value
    assert error.key == "put_interval"
    assert error.value == "triangle(0, 1)"
    assert str(error).startswith('put_interval = "triangle(0, 1)" is not allowed: expected')
    with pytest.raises(ConfigError, match=r"uniform\(0, 1\)"):
        parse_distribution("nonsense", "task_duration")
    with pytest.raises(ConfigError, match=r"low end is at most its high end"):
        parse_distribution("uniform(2, 1)", "task_duration")


def test_invalid_distribution_cannot_be_constructed() -> None:
    for build in (
        lambda: Distribution.uniform(1, 0),
        lambda: Distribution.exponential(0),
        lambda: Distribution.normal(0.5, -0.1),
        lambda: Distribution.constant(NAN),
        lambda: Distribution("poisson", (1.0,)),
        lambda: Distribution("constant", (1.0, 2.0)),
        lambda: Distribution("constant", ("1",)),  # type: ignore[arg-type]
    ):
        with pytest.raises(DistributionError):
            build()


finite_param = st.floats(min_value=0.0, max_value=86_400.0, allow_nan=False, allow_infinity=False)


@st.composite
def distributions(draw: st.DrawFn) -> Distribution:
    kind = draw(st.sampled_from(["constant", "uniform", "exponential", "normal"]))
    if kind == "constant":
        return Distribution.constant(draw(finite_param))
    if kind == "uniform":
        low, high = sorted((draw(finite_param), draw(finite_param)))
        return Distribution.uniform(low, high)
    if kind == "exponential":
        return Distribution.exponential(draw(finite_param.filter(lambda x: x > 0)))
    return Distribution.normal(draw(finite_param), draw(finite_param))


@given(distributions(), st.integers(min_value=0, max_value=2**32))
def test_distribution_round_trips_and_samples_are_non_negative(
    dist: Distribution, seed: int
) -> None:
    assert parse_distribution(str(dist), "k") == dist
    assert parse_distribution(dist.to_toml_value(), "k") == dist
    rng = random.Random(seed)
    for _ in range(5):
        value = dist.sample(rng)
        assert value >= 0.0 and math.isfinite(value)
    if dist.kind == "uniform":
        assert dist.params[0] <= dist.sample(rng) <= dist.params[1]


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


# --------------------------------------------------------------------------- overrides


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


# --------------------------------------------------------------------------- presets


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
