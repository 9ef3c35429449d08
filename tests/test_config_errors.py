"""Invalid config values: a ConfigError naming key, value and what is allowed, in words."""

from __future__ import annotations

import pickle
import re

import pytest

from engine.config import ConfigError, RunConfig, format_value
from tests.config_values import INF, NAN, tomllib

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
