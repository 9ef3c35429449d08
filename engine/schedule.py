"""Schedules as files: the sequence of ``process:operation`` steps a step-mode run followed.

One step per line (``producer-0:put``), ``#`` starts a comment, blank lines are skipped; a
``.toml`` file holds ``steps = ["main:join", ...]`` instead. Operations are ``put``, ``get``,
``task_done`` and ``join``; processes are ``main``, ``producer-N`` and ``consumer-N`` as the run
names them. Files are checked against the configuration before anything starts
(:func:`check_names`); a step that cannot happen at its turn is refused by the run
(engine/step.py), naming the step and its line.
"""

from __future__ import annotations

import re
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python < 3.11 has no tomllib; tomli is the same parser.
    import tomli as tomllib  # type: ignore[no-redef]

from engine.config import RunConfig
from engine.events import worker_name
from engine.resources_path import resource_dir
from engine.step import OP_CODES, Step

__all__ = [
    "ScheduleError",
    "check_names",
    "format_schedule",
    "load_schedule",
    "parse_schedule",
    "process_names",
    "save_schedule",
    "schedules_for",
    "shipped_schedule",
]

_STEP = re.compile(r"^\s*([A-Za-z_][\w.-]*)\s*:\s*([a-z_]+)\s*$")


class ScheduleError(ValueError):
    """A schedule file that cannot be read or does not fit the configuration (exit 2)."""


def parse_schedule(text: str, source: str = "schedule") -> list[tuple[Step, int]]:
    """(step, 1-based line number) for each step of a one-step-per-line schedule."""
    steps: list[tuple[Step, int]] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0]
        if not line.strip():
            continue
        m = _STEP.match(line)
        if m is None:
            raise ScheduleError(
                f"{source} line {number}: expected 'process:operation' (e.g. producer-0:put), "
                f"got {line.strip()!r}"
            )
        name, op = m.group(1), m.group(2)
        if op not in OP_CODES:
            known = ", ".join(OP_CODES)
            raise ScheduleError(f"{source} line {number}: unknown operation {op!r} ({known})")
        steps.append((Step(name, op), number))
    return steps


def _parse_toml(text: str, source: str) -> list[tuple[Step, int]]:
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScheduleError(f"{source}: not valid TOML: {exc}") from None
    raw = doc.get("steps")
    if not isinstance(raw, list) or not all(isinstance(s, str) for s in raw):
        raise ScheduleError(f"{source}: expected steps = [\"process:operation\", ...]")
    # The step's line in the file, for messages: the first line after the last one found.
    lines = text.splitlines()
    steps: list[tuple[Step, int]] = []
    at = 0
    for entry in raw:
        for i in range(at, len(lines)):
            if entry in lines[i]:
                at = i
                break
        steps.extend((s, at + 1) for s, _ in parse_schedule(entry, source))
    return steps


def load_schedule(path: str | Path) -> list[tuple[Step, int]]:
    """Read a schedule file (one step per line, or TOML ``steps``); ScheduleError if bad."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScheduleError(f"cannot read the schedule {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ScheduleError(f"the schedule {path} is not text (UTF-8)") from None
    steps = _parse_toml(text, p.name) if p.suffix == ".toml" else parse_schedule(text, p.name)
    if not steps:
        raise ScheduleError(f"the schedule {path} has no steps")
    return steps


def shipped_schedule(name: str) -> Path:
    """A schedule shipped in resources/schedules (``join-race`` or ``join-race.schedule``)."""
    file = name if name.endswith((".schedule", ".toml")) else f"{name}.schedule"
    return resource_dir("schedules") / file


def schedules_for(preset: str | None) -> list[str]:
    """Names of the schedules shipped for a preset (``<preset>.schedule``, ``<preset>-*``)."""
    folder = resource_dir("schedules")
    if not preset or not folder.is_dir():
        return []
    names = [p.stem for p in folder.glob("*.schedule")]
    return sorted(n for n in names if n == preset or n.startswith(f"{preset}-"))


def process_names(cfg: RunConfig) -> list[str]:
    return ["main"] + [worker_name(s, cfg.producers)
                       for s in range(1, cfg.producers + cfg.consumers + 1)]  # fmt: skip


def check_names(steps: list[tuple[Step, int]], cfg: RunConfig, source: str = "schedule") -> None:
    """Refuse, before the run starts, a step naming a process this configuration lacks."""
    names = process_names(cfg)
    for number, (step, line) in enumerate(steps, 1):
        if step.name not in names:
            raise ScheduleError(
                f"{source} step {number} (line {line}): there is no process {step.name!r} in this "
                f"configuration (its processes: {', '.join(names)})"
            )


def format_schedule(steps: list[Step], title: str = "") -> str:
    """The text of a schedule file: a header comment, then one step per line with its note."""
    out = ["# QueueLab schedule: one process:operation per line, followed in order by",
           "#   python main.py run --schedule FILE   (then the run goes on freely)"]  # fmt: skip
    if title:
        out.insert(0, f"# {title}")
    width = max((len(s.text()) for s in steps), default=0)
    for s in steps:
        out.append(f"{s.text():{width}}  # {s.note}" if s.note else s.text())
    return "\n".join(out) + "\n"


def save_schedule(path: str | Path, steps: list[Step], title: str = "") -> None:
    Path(path).write_text(format_schedule(steps, title), encoding="utf-8")
