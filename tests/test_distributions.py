"""Distributions: text and table forms, parsing, sampling, and the ones that cannot be built."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.config import ConfigError, parse_distribution
from engine.distributions import Distribution, DistributionError
from tests.config_values import NAN, distributions


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
