"""ConfigError and the one-line wording of refused values (shared by config, files, presets)."""

from __future__ import annotations

import re
from collections.abc import Mapping

from .distributions import Distribution

__all__ = ["ConfigError", "format_value", "toml_string"]

_VALUE_LIMIT = 60


def toml_string(text: str) -> str:
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
        return toml_string(value)
    if isinstance(value, Distribution):
        return toml_string(str(value))
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
    return text if _BARE_KEY.fullmatch(text) else toml_string(text)


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
