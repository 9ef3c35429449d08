"""Configurations as files: TOML read and written (load/save), and the presets in resources/."""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

try:
    import tomllib
except ModuleNotFoundError:  # Python < 3.11 has no tomllib; tomli is the same parser.
    import tomli as tomllib  # type: ignore[no-redef]

from .config_errors import ConfigError, toml_string
from .resources_path import resource_dir

if TYPE_CHECKING:
    from .config import RunConfig

__all__ = [
    "PRESETS_DIR", "dump_config", "list_presets", "load_config", "load_preset", "loads_config",
    "save_config",
]  # fmt: skip

PRESETS_DIR: Path = resource_dir("presets")  # through importlib.resources: any folder works


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
    from .config import RunConfig  # config imports this module: not at load time

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
        return toml_string(value)
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
