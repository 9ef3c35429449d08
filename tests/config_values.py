"""What the config tests share: NaN and infinity, a TOML reader, random distributions."""

from __future__ import annotations

from hypothesis import strategies as st

from engine.distributions import Distribution

try:
    import tomllib
except ModuleNotFoundError:  # Python < 3.11
    import tomli as tomllib  # type: ignore[no-redef]

__all__ = ["INF", "NAN", "distributions", "finite_param", "tomllib"]

NAN = float("nan")
INF = float("inf")

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
