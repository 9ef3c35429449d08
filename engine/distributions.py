"""Random distributions for task durations and put intervals, with parsing and TOML forms."""

from __future__ import annotations

import math
import random
import re
from collections.abc import Mapping
from dataclasses import dataclass

# Parameter names per kind, in the order they appear in `params` and in the short form.
PARAM_NAMES: Mapping[str, tuple[str, ...]] = {
    "constant": ("value",),
    "uniform": ("low", "high"),
    "exponential": ("mean",),
    "normal": ("mean", "sd"),
}

# Values end up in time.sleep(); a day is far beyond any lesson and keeps sleep() from overflowing.
MAX_PARAM: float = 86_400.0

# What each kind needs, in words (messages must not make a reader decode TOML or Python).
_CONDITIONS: Mapping[str, str] = {
    "constant": "a constant from 0 s to 86400 s (one day)",
    "uniform": "a uniform range whose low end is at most its high end, both from 0 s to 86400 s",
    "exponential": "an exponential mean above 0 s and at most 86400 s",
    "normal": "a normal mean and standard deviation, each from 0 s to 86400 s",
}

_KINDS_TEXT = ", ".join(list(PARAM_NAMES)[:-1]) + " or " + list(PARAM_NAMES)[-1]

ALLOWED_TEXT = (
    "expected seconds: a number such as 0.5, or a distribution such as uniform(0, 1), "
    "constant(0.1), exponential(0.5) or normal(0.5, 0.1)"
)

_SHORT_FORM = re.compile(r"([A-Za-z_]+)\s*\((.*)\)", re.DOTALL)


class DistributionError(ValueError):
    """A distribution QueueLab refuses: ``value`` as given and ``allowed``, what it expects.

    This module is a leaf (it imports nothing of QueueLab): engine/config.py wraps this error
    into a ConfigError naming the field, in the wording of every other refused value.
    """

    def __init__(self, value: object, allowed: str) -> None:
        ValueError.__init__(self, value, allowed)
        self.value = value
        self.allowed = allowed

    def __str__(self) -> str:
        return f"{self.value!r} is not allowed: {self.allowed}"


def format_number(x: float) -> str:
    """Format a parameter the short way: integral values without '.0', others with repr."""
    if math.isfinite(x) and x.is_integer() and abs(x) < 1e16:
        return str(int(x))
    return repr(x)


def _as_float(value: object) -> float | None:
    """Return value as a float, or None when it is not a number (bools do not count)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        return float(value)
    except OverflowError:
        # An int too large for a float is out of range anyway; inf makes the range check refuse it.
        return math.inf


def _describe(kind: object, params: object) -> str:
    """Short form of a possibly invalid distribution, for error messages."""
    try:
        parts = [
            format_number(p) if (p := _as_float(item)) is not None else repr(item)
            for item in params  # type: ignore[attr-defined]
        ]
        return f"{kind}({', '.join(parts)})"
    except Exception:  # why: describing junk must never fail while reporting another error
        return f"{kind!r} {params!r}"


def words(kind: str, params: tuple[float, ...]) -> str:
    """A distribution in words, for messages: "uniform from 0 s to 1 s"."""
    p = [f"{format_number(x)} s" for x in params]
    if kind == "constant" and len(p) == 1:
        return f"constant {p[0]}"
    if kind == "uniform" and len(p) == 2:
        return f"uniform from {p[0]} to {p[1]}"
    if kind == "exponential" and len(p) == 1:
        return f"exponential with a mean of {p[0]}"
    if kind == "normal" and len(p) == 2:
        return f"normal with a mean of {p[0]} and a standard deviation of {p[1]}"
    return f"{kind} of {' and '.join(p)}" if p else kind


def words_of(value: object) -> str | None:
    """The user's distribution value in words, when its kind and numbers can be made out.

    None for a plain number (already words) and for what cannot be read as a distribution.
    """
    kind: object = None
    raw: object = ()
    if isinstance(value, str):
        match = _SHORT_FORM.fullmatch(value.strip())
        if match is not None:
            kind = match.group(1).lower()
            inner = match.group(2).strip()
            raw = tuple(inner.split(",")) if inner else ()
    elif isinstance(value, Mapping):
        kind = value.get("kind")
        if not isinstance(kind, str):
            return None
        kind = kind.lower()
        names = PARAM_NAMES.get(kind, ())
        if set(value) != {"kind", *names}:
            return None  # a missing or unknown key is the problem: show the table as it is
        raw = tuple(value[n] for n in names)
    if kind not in PARAM_NAMES or len(raw) != len(PARAM_NAMES[kind]):  # type: ignore[arg-type]
        return None
    numbers = []
    for item in raw:  # type: ignore[union-attr]
        try:
            number = _as_float(item) if not isinstance(item, str) else float(item)
        except ValueError:
            return None
        if number is None or not math.isfinite(number):
            return None
        numbers.append(number)
    return words(kind, tuple(numbers))  # type: ignore[arg-type]


def _problem(kind: str, params: tuple[float, ...]) -> str | None:
    """Return what is wrong with (kind, params), or None when they are valid."""
    names = PARAM_NAMES.get(kind)
    if names is None:
        return f"expected one of the kinds {_KINDS_TEXT}"
    if len(params) != len(names):
        count = "1 number" if len(names) == 1 else f"{len(names)} numbers"
        return f"expected {kind} with {count}: {' and '.join(names)}"
    condition = _CONDITIONS[kind]
    if not all(math.isfinite(p) for p in params):
        return f"expected {condition}"
    in_range = all(0.0 <= p <= MAX_PARAM for p in params)
    if kind == "uniform":
        in_range = in_range and params[0] <= params[1]
    elif kind == "exponential":
        in_range = in_range and params[0] > 0.0
    if not in_range:
        return f"expected {condition}"
    return None


@dataclass(frozen=True, slots=True)
class Distribution:
    """A validated distribution of non-negative values (seconds, before time_scale)."""

    kind: str
    params: tuple[float, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.kind, str):
            raise DistributionError(self.kind, f"expected one of the kinds {_KINDS_TEXT}")
        try:
            raw = tuple(self.params)
        except TypeError:
            raise DistributionError(self.params, "expected a tuple of numbers") from None
        numbers = [_as_float(p) for p in raw]
        if any(n is None for n in numbers):
            raise DistributionError(
                _describe(self.kind, raw), f"expected numbers as parameters of {self.kind}"
            )
        # Adding 0.0 turns -0.0 into 0.0 so equal-looking distributions compare and print the same.
        params = tuple(n + 0.0 for n in numbers if n is not None)
        problem = _problem(self.kind, params)
        if problem is not None:
            raise DistributionError(_describe(self.kind, params), problem)
        object.__setattr__(self, "params", params)

    @classmethod
    def constant(cls, value: float) -> Distribution:
        """Always the same value."""
        return cls("constant", (value,))

    @classmethod
    def uniform(cls, low: float, high: float) -> Distribution:
        """Uniform between low and high; uniform(0, 1) reproduces random.random() exactly."""
        return cls("uniform", (low, high))

    @classmethod
    def exponential(cls, mean: float) -> Distribution:
        """Exponential with the given mean (> 0)."""
        return cls("exponential", (mean,))

    @classmethod
    def normal(cls, mean: float, sd: float) -> Distribution:
        """Normal with the given mean and standard deviation; samples below 0 become 0."""
        return cls("normal", (mean, sd))

    def sample(self, rng: random.Random) -> float:
        """Draw one value (always >= 0) from rng."""
        p = self.params
        if self.kind == "constant":
            # Consumes no randomness, so adding a constant pause never shifts other draws.
            return p[0]
        if self.kind == "uniform":
            # Exactly this expression so uniform(0, 1) yields rng.random() bit for bit.
            return p[0] + (p[1] - p[0]) * rng.random()
        if self.kind == "exponential":
            # mean * Exp(1) avoids 1/mean overflowing for tiny means; +0.0 drops a -0.0.
            return p[0] * rng.expovariate(1.0) + 0.0
        # normalvariate keeps no hidden state between calls, unlike gauss(), so seeded runs
        # stay reproducible draw by draw.
        return max(0.0, rng.normalvariate(p[0], p[1]))

    @property
    def mean(self) -> float:
        """Expected value (ignoring the clipping at 0 of the normal distribution)."""
        if self.kind == "uniform":
            return (self.params[0] + self.params[1]) / 2.0
        return self.params[0]

    def to_toml_value(self) -> dict[str, object]:
        """The inline-table form, e.g. {"kind": "uniform", "low": 0.0, "high": 1.0}."""
        table: dict[str, object] = {"kind": self.kind}
        table.update(zip(PARAM_NAMES[self.kind], self.params, strict=True))
        return table

    def __str__(self) -> str:
        return f"{self.kind}({', '.join(format_number(p) for p in self.params)})"


def _type_phrase(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (list, tuple)):
        return "an array"
    if isinstance(value, Mapping):
        return "a table"
    return f"a {type(value).__name__}"


def _from_text(text: str) -> Distribution:
    stripped = text.strip()
    try:
        return Distribution.constant(float(stripped))
    except ValueError:
        pass
    match = _SHORT_FORM.fullmatch(stripped)
    if match is None:
        raise DistributionError(text, ALLOWED_TEXT)
    kind = match.group(1).lower()
    inner = match.group(2).strip()
    try:
        params = tuple(float(part) for part in inner.split(",")) if inner else ()
    except ValueError:
        raise DistributionError(text, ALLOWED_TEXT) from None
    return Distribution(kind, params)


def _from_table(table: Mapping[object, object]) -> Distribution:
    kind = table.get("kind")
    if not isinstance(kind, str) or kind.lower() not in PARAM_NAMES:
        raise DistributionError(table, f"expected a table whose kind is {_KINDS_TEXT}")
    kind = kind.lower()
    names = PARAM_NAMES[kind]
    expected = ", ".join(("kind", *names[:-1])) + f" and {names[-1]}"
    extra = [k for k in table if k not in ("kind", *names)]
    wanted = f"expected a {kind} table with the keys {expected}"
    if extra:
        raise DistributionError(table, f"{wanted} (unknown key {str(extra[0])!r})")
    missing = [name for name in names if name not in table]
    if missing:
        raise DistributionError(table, f"{wanted} ({missing[0]} is missing)")
    return Distribution(kind, tuple(table[name] for name in names))  # type: ignore[arg-type]


def parse(value: object) -> Distribution:
    """Parse a number, a short-form string such as "uniform(0, 1)", or a table into a Distribution.

    Raises DistributionError with the value and the accepted forms (engine/config.py's
    parse_distribution names the field).
    """
    if isinstance(value, Distribution):
        return value
    if isinstance(value, bool):
        raise DistributionError(value, f"{ALLOWED_TEXT} (got true or false)")
    if isinstance(value, (int, float)):
        return Distribution.constant(value)
    if isinstance(value, str):
        return _from_text(value)
    if isinstance(value, Mapping):
        return _from_table(value)
    raise DistributionError(value, f"{ALLOWED_TEXT} (got {_type_phrase(value)})")
