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
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python < 3.11 has no tomllib; tomli is the same parser.
    import tomli as tomllib  # type: ignore[no-redef]

from .distributions import Distribution, format_number, parse_distribution

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
    "save_config",
]

PRESETS_DIR: Path = Path(__file__).resolve().parent.parent / "resources" / "presets"

# All start methods QueueLab knows, in order of preference.
START_METHODS: tuple[str, ...] = ("forkserver", "spawn", "fork")

# TOML integers are 64-bit signed; a larger seed could be saved but not loaded back.
_MAX_SEED = 2**63 - 1

# multiprocessing queues bound themselves with a semaphore; 32767 is SEM_VALUE_MAX on macOS,
# the smallest among supported platforms, so a saved config runs everywhere.
_MAX_QUEUE_SIZE = 32_767

_VALUE_LIMIT = 60

# Distributions are frozen, so sharing one instance as a dataclass default is safe.
_DEFAULT_TASK_DURATION = Distribution.uniform(0, 1)
_DEFAULT_PUT_INTERVAL = Distribution.constant(0)


def default_start_method() -> str:
    """ "forkserver" where the platform has it (safe with threads and Qt), otherwise "spawn"."""
    return "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"


# ---------------------------------------------------------------------------- errors


def _toml_string(text: str) -> str:
    """Quote text as a TOML basic string; everything TOML forbids raw is escaped."""
    out: list[str] = []
    for ch in text:
        escaped = _STRING_ESCAPES.get(ch)
        if escaped is not None:
            out.append(escaped)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


_STRING_ESCAPES: Mapping[str, str] = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
}


def _format_any(value: object) -> str:
    if value is None:
        return "None"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        try:
            return str(value)
        except ValueError:  # more digits than Python will convert to text
            return "<a very large integer>"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, Distribution):
        return _toml_string(str(value))
    if isinstance(value, Mapping):
        # In words, not as TOML's { k = v }: the window's users never typed a table.
        items = [f"{_toml_key(k)} {_format_any(v)}" for k, v in value.items()]
        if not items:
            return "an empty table"
        head = ", ".join(items[:-1]) + " and " if len(items) > 1 else ""
        return f"a table with {head}{items[-1]}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_format_any(v) for v in value) + "]"
    return repr(value)


def _toml_key(key: object) -> str:
    text = str(key)
    return text if _BARE_KEY.fullmatch(text) else _toml_string(text)


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def format_value(value: object) -> str:
    """Show a value the way it would be written in TOML, shortened to fit a one-line message."""
    try:
        text = _format_any(value)
    except Exception:  # why: an error message must never fail, whatever junk it describes
        text = f"<{type(value).__name__}>"
    # One line whatever the value is: some object's repr() may span several.
    text = text.replace("\r", "\\r").replace("\n", "\\n")
    if len(text) > _VALUE_LIMIT:
        text = text[: _VALUE_LIMIT - 3] + "..."
    return text


def _rebuild_error(
    key: str | None,
    value: object,
    allowed: str,
    message: str | None,
    line: int | None,
    source: str | None,
) -> ConfigError:
    return ConfigError(key, value, allowed, message=message, line=line, source=source)


class ConfigError(ValueError):
    """A configuration value, key or file that QueueLab refuses, with a one-line explanation.

    `allowed` is the text after "is not allowed: " (e.g. "expected an integer >= 0 and <= 64");
    `message`, when given, replaces the "key = value is not allowed" sentence entirely.
    """

    def __init__(
        self,
        key: str | None = None,
        value: object = None,
        allowed: str = "",
        *,
        message: str | None = None,
        line: int | None = None,
        source: str | None = None,
    ) -> None:
        self.key = key
        self.value = value
        self.allowed = allowed
        self.message = message
        self.line = line
        self.source = source
        ValueError.__init__(self, self._render())

    def _render(self) -> str:
        prefix = ""
        if self.source:
            prefix += f"{self.source}: "
        if self.line is not None:
            prefix += f"line {self.line}: "
        if self.message is not None:
            body = self.message
        elif self.key is not None:
            body = f"{self.key} = {format_value(self.value)} is not allowed: {self.allowed}"
        else:
            body = f"{format_value(self.value)} is not allowed: {self.allowed}"
        return prefix + body

    def __str__(self) -> str:
        return self._render()

    def __reduce__(self) -> tuple[object, ...]:
        # Keyword-only arguments defeat the default exception pickling used between processes.
        return (
            _rebuild_error,
            (self.key, self.value, self.allowed, self.message, self.line, self.source),
        )

    def located(self, source: str | None, line: int | None) -> ConfigError:
        """A copy that also names the file and line (existing ones are kept when None is given)."""
        return ConfigError(
            self.key,
            self.value,
            self.allowed,
            message=self.message,
            line=line if line is not None else self.line,
            source=source if source is not None else self.source,
        )


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


# consumers = "auto": the pool-sized choice a reader asked about, os.cpu_count() - 1, but at
# least AUTO_MIN_CONSUMERS (the many-consumers lesson must show the work being shared on a
# 2-CPU laptop too) and at most the consumers limit. Resolved when the config is read, so a
# RunConfig always holds a number.
AUTO_CONSUMERS = "auto"
AUTO_MIN_CONSUMERS = 3
_MAX_WORKERS = 64
# The explanation gets one paragraph saying what "auto" found; it starts with this, so a later
# resolution replaces it instead of adding another.
_AUTO_NOTE_START = 'consumers = "auto" on this machine: '


def auto_consumers(cpus: int | None = None) -> int:
    """What consumers = "auto" means with ``cpus`` CPUs (default: os.cpu_count())."""
    n = os.cpu_count() if cpus is None else cpus
    return min(_MAX_WORKERS, max(AUTO_MIN_CONSUMERS, (n or 0) - 1))


def auto_consumers_note(cpus: int | None = None) -> str:
    """One sentence for the lesson: how many CPUs "auto" found and why it chose its count."""
    n = os.cpu_count() if cpus is None else cpus
    chosen = auto_consumers(n)
    head = f"{_AUTO_NOTE_START}{chosen} consumers, "
    if not n:
        return head + (
            "since os.cpu_count() could not tell how many CPUs there are; "
            f"{AUTO_MIN_CONSUMERS} is the fewest that show the work being shared."
        )
    found = f"os.cpu_count() found {n} CPU{'s' if n != 1 else ''}"
    if n - 1 < AUTO_MIN_CONSUMERS:
        return head + (
            f"since {found}: one per CPU but one would be {n - 1}, too few to show the work "
            f"being shared, so auto takes at least {AUTO_MIN_CONSUMERS} (they take turns on the "
            "CPUs)."
        )
    if n - 1 > _MAX_WORKERS:
        return head + (
            f"since {found}: one per CPU but one would be {n - 1}, more than the limit of "
            f"{_MAX_WORKERS} consumers."
        )
    return head + f"one per CPU but one, since {found}."


def _with_auto_note(explanation: object, cpus: int | None) -> object:
    """The explanation with its "auto" paragraph (re)written; non-text is left for validation."""
    if not isinstance(explanation, str):
        return explanation
    kept = [p for p in explanation.split("\n\n") if p and not p.startswith(_AUTO_NOTE_START)]
    return "\n\n".join([*kept, auto_consumers_note(cpus)])


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
                    "explanation": _with_auto_note(data.get("explanation", ""), cpus),
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
            changes["explanation"] = _with_auto_note(changes["explanation"], cpus)
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
          minimum=1, maximum=_MAX_WORKERS, unit="processes"),
    _spec("consumers", "int", "Consumers", "workers",
          "Number of consumer processes taking tasks off the queue.",
          minimum=1, maximum=_MAX_WORKERS, unit="processes"),
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
          "What a consumer does for a task's duration: sleep, or keep a CPU busy.",
          choices=("sleep", "cpu")),
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
        if not isinstance(value, str):
            raise _refuse(spec, value, _choices_text(spec.choices), got=True)
        if value not in spec.choices:
            raise _refuse(spec, value, _choices_text(spec.choices))
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


# ---------------------------------------------------------------------------- TOML files


def _syntax_error(error: ValueError, text: str, source: str | None) -> ConfigError:
    message = str(error)
    line: int | None = getattr(error, "lineno", None)
    column: int | None = getattr(error, "colno", None)
    match = re.search(r"\s*\(at line (\d+), column (\d+)\)", message)
    if match:
        line, column = int(match.group(1)), int(match.group(2))
        message = message[: match.start()] + message[match.end() :]
    elif "(at end of document)" in message:
        line = text.count("\n") + 1
        message = message.replace("(at end of document)", "(at end of file)")
    detail = message.strip()
    if column is not None:
        detail += f" (column {column})"
    if not isinstance(error, tomllib.TOMLDecodeError):
        # e.g. an integer with thousands of digits; tomllib lets int() raise ValueError.
        return ConfigError(
            None, None, "valid TOML", message=f"cannot read TOML: {detail}", source=source
        )
    return ConfigError(
        None, None, "valid TOML", message=f"TOML syntax error: {detail}", line=line, source=source
    )


def loads_config(text: str, *, source: str | None = None) -> RunConfig:
    """Parse TOML text into a RunConfig; `source` names the file in error messages."""
    try:
        data = tomllib.loads(text)
    except (ValueError, RecursionError) as error:
        if isinstance(error, RecursionError):
            message = "cannot read TOML: nested too deeply"
            raise ConfigError(None, None, "valid TOML", message=message, source=source) from None
        raise _syntax_error(error, text, source) from None
    return RunConfig.from_mapping(data, source=source, text=text)


def load_config(path: str | os.PathLike[str]) -> RunConfig:
    """Read a TOML config file; every problem is raised as ConfigError naming the file."""
    source = os.fspath(path)
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise ConfigError(
            None, None, "an existing file", message="file not found", source=source
        ) from None
    except IsADirectoryError:
        raise ConfigError(
            None, None, "a file", message="is a directory, not a config file", source=source
        ) from None
    except OSError as error:
        reason = error.strerror or str(error)
        raise ConfigError(
            None, None, "a readable file", message=f"cannot read the file: {reason}", source=source
        ) from None
    try:
        # utf-8-sig: editors such as Notepad prepend a BOM that TOML itself would reject.
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        raise ConfigError(
            None,
            None,
            "UTF-8 text",
            message=(
                f"not valid UTF-8 text (byte 0x{raw[error.start]:02x} at offset {error.start}); "
                "save the file as UTF-8"
            ),
            line=line,
            source=source,
        ) from None
    return loads_config(text, source=source)


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        # repr round-trips exactly and is valid TOML for every finite float (e.g. 1e-05, 1e+16).
        return repr(value)
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def dump_config(cfg: RunConfig) -> str:
    """The config as TOML text that load_config reads back to an equal RunConfig."""
    data = cfg.to_mapping()
    # Title and explanation first: they tell a reader what the file is before the numbers do.
    order = ["title", "explanation", *(k for k in data if k not in ("title", "explanation"))]
    lines = ["# QueueLab run configuration"]
    lines += [f"{key} = {_toml_value(data[key])}" for key in order if key in data]
    return "\n".join(lines) + "\n"


def save_config(cfg: RunConfig, path: str | os.PathLike[str]) -> None:
    """Write the config as TOML; the file is replaced atomically so a crash never truncates it."""
    target = Path(path)
    tmp = target.with_name(target.name + ".tmp")
    try:
        tmp.write_text(dump_config(cfg), encoding="utf-8", newline="\n")
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


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
                    f"--set {_toml_string(item)} is not allowed: "
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


# ---------------------------------------------------------------------------- presets


def _preset_names() -> list[str]:
    if not PRESETS_DIR.is_dir():
        return []
    names = sorted(p.stem for p in PRESETS_DIR.glob("*.toml") if p.is_file())
    # The tutorial is where every learner starts, so it leads the list.
    return sorted(names, key=lambda name: name != "tutorial")


def list_presets() -> list[tuple[str, str]]:
    """(name, title) of every preset file, "tutorial" first and the rest by name."""
    presets: list[tuple[str, str]] = []
    for name in _preset_names():
        title = name
        try:
            data = tomllib.loads((PRESETS_DIR / f"{name}.toml").read_text(encoding="utf-8-sig"))
            if isinstance(data.get("title"), str) and data["title"]:
                title = data["title"]
        except (OSError, ValueError):
            pass  # a broken preset still appears; loading it reports the problem
        presets.append((name, title))
    return presets


def load_preset(name: str) -> RunConfig:
    """Load resources/presets/<name>.toml; an unknown name lists the available ones."""
    names = _preset_names()
    if name not in names:
        hint = ""
        if isinstance(name, str):
            close = difflib.get_close_matches(name, names, n=1)
            if close:
                hint = f" (did you mean {close[0]!r}?)"
        available = ", ".join(names) if names else "none"
        raise ConfigError(
            "preset",
            name,
            f"available presets: {available}",
            message=f"unknown preset {name!r}{hint}; available presets: {available}",
        )
    return load_config(PRESETS_DIR / f"{name}.toml")
