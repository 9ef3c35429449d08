"""Validated run configuration: field metadata, TOML load/save, CLI overrides and presets."""

from __future__ import annotations

import dataclasses
import difflib
import math
import multiprocessing
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

try:
    import tomllib
except ModuleNotFoundError:  # Python < 3.11 has no tomllib; tomli is the same parser.
    import tomli as tomllib  # type: ignore[no-redef]

from .auto_consumers import (
    AUTO_CONSUMERS,
    MAX_WORKERS,
    auto_consumers,
    with_auto_note,
)
from .config_errors import ConfigError, format_value, toml_string
from .config_files import (
    PRESETS_DIR,
    dump_config,
    list_presets,
    load_config,
    load_preset,
    loads_config,
    save_config,
)
from .distributions import Distribution, DistributionError, format_number, parse, words_of
from .own_function import FORMS, form_error

__all__ = [
    "FIELDS",
    "PRESETS_DIR",
    "START_METHODS",
    "ConfigError",
    "FieldSpec",
    "RunConfig",
    "apply_overrides",
    "default_start_method",
    "dump_config",
    "format_value",
    "list_presets",
    "load_config",
    "load_preset",
    "loads_config",
    "parse_distribution",
    "save_config",
]

# All start methods QueueLab knows, in order of preference.
START_METHODS: tuple[str, ...] = ("forkserver", "spawn", "fork")

# TOML integers are 64-bit signed; a larger seed could be saved but not loaded back.
_MAX_SEED = 2**63 - 1

# multiprocessing queues bound themselves with a semaphore; 32767 is SEM_VALUE_MAX on macOS,
# the smallest among supported platforms, so a saved config runs everywhere.
_MAX_QUEUE_SIZE = 32_767

# Distributions are frozen, so sharing one instance as a dataclass default is safe.
_DEFAULT_TASK_DURATION = Distribution.uniform(0, 1)
_DEFAULT_PUT_INTERVAL = Distribution.constant(0)


def parse_distribution(value: object, key: str) -> Distribution:
    """parse() for the field ``key``: a DistributionError becomes a ConfigError naming it.

    The value is shown in words when it can be read as one ("uniform from 2 s to 1 s"),
    not as TOML, with the specific reason kept.
    """
    try:
        return parse(value)
    except DistributionError as error:
        shown = words_of(value)
        if shown is None:
            raise ConfigError(key, value, error.allowed) from None
        message = f"{key} = {shown} is not allowed: {error.allowed}"
        raise ConfigError(key, value, error.allowed, message=message) from None


def default_start_method() -> str:
    """ "forkserver" where the platform has it (safe with threads and Qt), otherwise "spawn"."""
    return "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"


# ---------------------------------------------------------------------------- fields


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """Everything a UI or CLI needs to present and check one RunConfig field."""

    name: str
    type: str  # "int", "float", "bool", "choice", "distribution", "str" or "optional_int"
    default: object
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    unit: str = ""
    group: str = ""
    help: str = ""
    label: str = ""
    exclusive_minimum: bool = False  # True when the value must be strictly greater than minimum
    # A choice that also takes a typed value: workload's "module:function" (engine/own_function)
    typed: str = ""


@dataclass(frozen=True, slots=True)
class RunConfig:
    """Every setting of one run; validated on construction, so an invalid RunConfig cannot exist."""

    producers: int = 1
    consumers: int = 1
    tasks_per_producer: int = 10
    maxsize: int = 0
    task_duration: Distribution = _DEFAULT_TASK_DURATION
    put_interval: Distribution = _DEFAULT_PUT_INTERVAL
    time_scale: float = 1.0
    workload: str = "sleep"
    seed: int | None = None
    start_method: str = default_start_method()
    sentinels: str = "per_consumer"
    sentinel_task_done: bool = True
    join_order: str = "producers_first"
    join_delay: float = 0.0
    failure_rate: float = 0.0
    on_failure: str = "task_done"
    max_retries: int = 3
    extra_task_done: bool = False
    trace: bool = True
    title: str = ""
    explanation: str = ""

    def __post_init__(self) -> None:
        # Field order, so the first problem reported is the first one a reader meets.
        for spec in FIELDS:
            raw = getattr(self, spec.name)
            value = _validate(spec, raw)
            if value is not raw:
                object.__setattr__(self, spec.name, value)

    @classmethod
    def from_mapping(
        cls,
        data: Mapping[str, object],
        *,
        source: str | None = None,
        text: str | None = None,
    ) -> RunConfig:
        """Build from a TOML-like mapping; missing keys take defaults, unknown keys are refused.

        `source` (a file path) and `text` (that file's contents) only improve error messages.
        """
        try:
            if not isinstance(data, Mapping):
                raise ConfigError(
                    None,
                    data,
                    "expected a table of key = value pairs",
                    message=f"expected a table of key = value pairs, got {_type_phrase(data)}",
                )
            for key in data:
                if key not in _SPEC_BY_NAME:
                    raise _unknown_key_error(key)
            if data.get("consumers") == AUTO_CONSUMERS:
                cpus = os.cpu_count()
                data = {
                    **data,
                    "consumers": auto_consumers(cpus),
                    "explanation": with_auto_note(data.get("explanation", ""), cpus),
                }
            return cls(**data)
        except ConfigError as error:
            line = _find_line(text, error.key) if text is not None else None
            raise error.located(source, line) from None

    def to_mapping(self) -> dict[str, object]:
        """TOML-ready mapping: distributions as tables, seed left out when it is None."""
        data: dict[str, object] = {}
        for spec in FIELDS:
            value = getattr(self, spec.name)
            if value is None:
                continue
            data[spec.name] = value.to_toml_value() if isinstance(value, Distribution) else value
        return data

    def replace(self, **changes: object) -> RunConfig:
        """A validated copy with some fields changed."""
        if changes.get("consumers") == AUTO_CONSUMERS:
            cpus = os.cpu_count()
            changes["consumers"] = auto_consumers(cpus)
            changes.setdefault("explanation", self.explanation)
            changes["explanation"] = with_auto_note(changes["explanation"], cpus)
        for key in changes:
            if key not in _SPEC_BY_NAME:
                raise _unknown_key_error(key)
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]


def _spec(name: str, type_: str, label: str, group: str, help_: str, **extra: object) -> FieldSpec:
    default = _DEFAULTS[name]
    return FieldSpec(name, type_, default, label=label, group=group, help=help_, **extra)  # type: ignore[arg-type]


_DEFAULTS: dict[str, object] = {f.name: f.default for f in dataclasses.fields(RunConfig)}

_AVAILABLE_START_METHODS: tuple[str, ...] = tuple(
    m for m in START_METHODS if m in multiprocessing.get_all_start_methods()
)

FIELDS: tuple[FieldSpec, ...] = (
    _spec("producers", "int", "Producers", "workers",
          "Number of producer processes, each putting its own tasks on the queue.",
          minimum=1, maximum=MAX_WORKERS, unit="processes"),
    _spec("consumers", "int", "Consumers", "workers",
          "Number of consumer processes taking tasks off the queue.",
          minimum=1, maximum=MAX_WORKERS, unit="processes"),
    _spec("tasks_per_producer", "int", "Tasks per producer", "tasks",
          "How many tasks each producer puts on the queue before it finishes.",
          minimum=0, maximum=10_000_000, unit="tasks"),
    _spec("maxsize", "int", "Queue maxsize", "tasks",
          "Queue capacity; put() blocks while the queue is full, and 0 means unbounded.",
          minimum=0, maximum=_MAX_QUEUE_SIZE, unit="tasks"),
    _spec("task_duration", "distribution", "Task duration", "tasks",
          "Distribution of each task's value; a consumer works value * time_scale seconds on it.",
          unit="s"),
    _spec("put_interval", "distribution", "Put interval", "tasks",
          "Distribution of the pause a producer takes before each put.",
          unit="s"),
    _spec("time_scale", "float", "Time scale", "timing",
          "Factor applied to every task duration, to slow a run down or speed it up.",
          minimum=0.0, maximum=1000.0, exclusive_minimum=True),
    _spec("workload", "choice", "Workload", "workers",
          "What a consumer does with a task: sleep for its duration, keep a CPU busy for it, "
          "or call your own function: module:function or path/to/file.py:function, called as "
          "fn(value) or fn(value, duration) with the task's number and drawn seconds.",
          choices=("sleep", "cpu"), typed=f"function as {FORMS}"),
    _spec("seed", "optional_int", "Seed", "advanced",
          "Random seed for reproducible runs; leave it empty for fresh randomness each run.",
          minimum=0, maximum=_MAX_SEED),
    _spec("start_method", "choice", "Start method", "advanced",
          "How multiprocessing starts the worker processes.",
          choices=_AVAILABLE_START_METHODS),
    _spec("sentinels", "choice", "Sentinels", "protocol",
          "How many None sentinels follow the tasks: one per consumer, a single one, or none.",
          choices=("per_consumer", "single", "none")),
    _spec("sentinel_task_done", "bool", "task_done for sentinel", "protocol",
          "Whether a consumer calls task_done() for the sentinel it receives, as for a task."),
    _spec("join_order", "choice", "Join order", "protocol",
          "Whether the main process joins the producers before the queue, or the queue first.",
          choices=("producers_first", "queue_first")),
    _spec("join_delay", "float", "Join delay", "timing",
          "Seconds the main process waits before it starts joining.",
          minimum=0.0, maximum=3600.0, unit="s"),
    _spec("failure_rate", "float", "Failure rate", "protocol",
          "Probability that processing a task fails.",
          minimum=0.0, maximum=1.0),
    _spec("on_failure", "choice", "On failure", "protocol",
          "What a consumer does after a failed task: call task_done, retry it, or skip task_done.",
          choices=("task_done", "retry", "skip_task_done")),
    _spec("max_retries", "int", "Max retries", "protocol",
          "How many times a failed task is retried before it is given up.",
          minimum=0, maximum=1000, unit="retries"),
    _spec("extra_task_done", "bool", "Extra task_done (bug)", "protocol",
          "Deliberate bug: the consumer calls task_done() twice for one task."),
    _spec("trace", "bool", "Trace events", "advanced",
          "Record queue events for the UI; off uses a plain JoinableQueue, as benchmarks need."),
    _spec("title", "str", "Title", "meta",
          "Short name of this configuration, shown in the UI."),
    _spec("explanation", "str", "Explanation", "meta",
          "What this configuration demonstrates, shown in the UI."),
)  # fmt: skip

_SPEC_BY_NAME: dict[str, FieldSpec] = {spec.name: spec for spec in FIELDS}

if tuple(_SPEC_BY_NAME) != tuple(_DEFAULTS):  # pragma: no cover - guards edits to this file
    raise RuntimeError("FIELDS must list every RunConfig field in declaration order")


# ---------------------------------------------------------------------------- validation


def _type_phrase(value: object) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "a whole number"
    if isinstance(value, float):
        return "a decimal number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, Mapping):
        return "a table"
    if isinstance(value, (list, tuple)):
        return "an array"
    return f"a {type(value).__name__}"


def _bound(x: float, integral: bool, unit: str) -> str:
    # Plain digits (no 32_767): a message is read by people, not by Python.
    text = str(int(x)) if integral else format_number(float(x))
    return f"{text} s" if unit == "s" else text


def _range_text(spec: FieldSpec, noun: str) -> str:
    """The allowed range in words: "a whole number from 1 to 64", "a number above 0 and at
    most 1000", "a number from 0 s to 3600 s"."""
    integral = spec.type in ("int", "optional_int")
    low = None if spec.minimum is None else _bound(spec.minimum, integral, spec.unit)
    high = None if spec.maximum is None else _bound(spec.maximum, integral, spec.unit)
    if low is not None and high is not None:
        if spec.exclusive_minimum:
            return f"{noun} above {low} and at most {high}"
        return f"{noun} from {low} to {high}"
    if low is not None:
        return f"{noun} above {low}" if spec.exclusive_minimum else f"{noun} of at least {low}"
    return f"{noun} of at most {high}" if high is not None else noun


def _choices_text(choices: Sequence[str]) -> str:
    quoted = [f'"{c}"' for c in choices]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]


def _refuse(spec: FieldSpec, value: object, expected: str, got: bool = False) -> ConfigError:
    suffix = f" (got {_type_phrase(value)})" if got else ""
    return ConfigError(spec.name, value, f"expected {expected}{suffix}")


def _validate_int(spec: FieldSpec, value: object, expected: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _refuse(spec, value, expected, got=True)
    if (spec.minimum is not None and value < spec.minimum) or (
        spec.maximum is not None and value > spec.maximum
    ):
        raise _refuse(spec, value, expected)
    return value


def _validate_float(spec: FieldSpec, value: object) -> float:
    expected = _range_text(spec, "a number")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _refuse(spec, value, expected, got=True)
    try:
        number = float(value)
    except OverflowError:
        raise _refuse(spec, value, expected) from None
    if not math.isfinite(number):
        raise _refuse(spec, value, expected)
    low_ok = spec.minimum is None or (
        number > spec.minimum if spec.exclusive_minimum else number >= spec.minimum
    )
    high_ok = spec.maximum is None or number <= spec.maximum
    if not (low_ok and high_ok):
        raise _refuse(spec, value, expected)
    # Adding 0.0 turns -0.0 into 0.0, so equal configs also print the same.
    return number + 0.0


def _validate(spec: FieldSpec, value: object) -> object:
    """Return the (normalised) value for spec, or raise ConfigError."""
    kind = spec.type
    if kind == "int":
        return _validate_int(spec, value, _range_text(spec, "a whole number"))
    if kind == "optional_int":
        if value is None:
            return None
        expected = _range_text(spec, "a whole number") + ", or no value for fresh randomness"
        return _validate_int(spec, value, expected)
    if kind == "float":
        return _validate_float(spec, value)
    if kind == "bool":
        if not isinstance(value, bool):
            raise _refuse(spec, value, "true or false", got=True)
        return value
    if kind == "choice":
        if spec.name == "start_method" and value in START_METHODS and value not in spec.choices:
            expected = f"{_choices_text(spec.choices)} (not available on this platform)"
            raise _refuse(spec, value, expected)
        expected = _choices_text(spec.choices)
        if spec.typed:
            expected = ", ".join(f'"{c}"' for c in spec.choices) + f", or your own {spec.typed}"
        if not isinstance(value, str):
            raise _refuse(spec, value, expected, got=True)
        if value not in spec.choices:
            if spec.typed and ":" in value:
                problem = form_error(value)
                if problem is None:
                    return value.strip()  # imported when a run starts (engine/own_function.py)
                raise _refuse(spec, value, f"your own {spec.typed} ({problem})")
            raise _refuse(spec, value, expected)
        return value
    if kind == "distribution":
        return parse_distribution(value, spec.name)
    if kind == "str":
        if not isinstance(value, str):
            raise _refuse(spec, value, "text", got=True)
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            # Lone surrogates cannot be saved to a UTF-8 TOML file.
            raise _refuse(spec, value, "valid Unicode text") from None
        return value
    raise AssertionError(f"unknown field type {kind!r}")  # pragma: no cover


def _unknown_key_error(key: object) -> ConfigError:
    names = list(_SPEC_BY_NAME)
    shown = repr(key) if isinstance(key, str) else format_value(key)
    hint = ""
    if isinstance(key, str):
        close = difflib.get_close_matches(key, names, n=1)
        if close:
            hint = f" (did you mean {close[0]!r}?)"
    allowed = "allowed keys: " + ", ".join(names)
    return ConfigError(
        key if isinstance(key, str) else shown,
        key,
        allowed,
        message=f"unknown key {shown}{hint}; {allowed}",
    )


def _find_line(text: str | None, key: str | None) -> int | None:
    """1-based line where key is set (or its [table] starts) in TOML text, if it can be found."""
    if not text or not key:
        return None
    k = re.escape(key)
    pattern = re.compile(rf"""^[ \t]*\[?[ \t]*(?:{k}|"{k}"|'{k}')[ \t]*[=.\]]""", re.MULTILINE)
    match = pattern.search(text)
    if match is None:
        return None
    return text.count("\n", 0, match.start()) + 1


# ---------------------------------------------------------------------------- CLI overrides


def _parse_override_value(text: str) -> object:
    try:
        parsed = tomllib.loads("v = " + text)
    except (ValueError, RecursionError):
        return text.strip()
    # A value like '1\nx = 2' parses as two keys; it is then not one TOML value.
    if list(parsed) != ["v"]:
        return text.strip()
    return parsed["v"]


def apply_overrides(cfg: RunConfig, items: Sequence[str]) -> RunConfig:
    """Apply CLI `--set KEY=VALUE` items in order.

    VALUE is read as a TOML value when it parses as one, otherwise as a bare string, so
    `workload=cpu`, `task_duration=uniform(0,1)` and `seed=3` all work unquoted.
    """
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError(
                None,
                item,
                "expected KEY=VALUE",
                message=(
                    f"--set {toml_string(item)} is not allowed: "
                    "expected KEY=VALUE, e.g. producers=2"
                ),
            )
        if key not in _SPEC_BY_NAME:
            raise _unknown_key_error(key)
        value = _parse_override_value(raw)
        if _SPEC_BY_NAME[key].type == "str" and not isinstance(value, str):
            # title=2024 means the text "2024", not an integer.
            value = raw.strip()
        cfg = cfg.replace(**{key: value})
    return cfg


