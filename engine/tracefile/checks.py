"""What a trace line may hold: the record signatures from engine/events.py's schema, and
the words for a record, a number or a cut-off line that is not what it should be."""

from __future__ import annotations

import json
import math
import re
from itertools import product

from engine.events import FIELD_NAMES, SCHEMA, Kind
from engine.tracefile.format import _decoder

_NUM = (float, int)
_INT = (int,)
_STR = (str,)
_VAL = (float, int, type(None))  # a put's value: null where the float was NaN or infinite

_TYPES = {"num": _NUM, "int": _INT, "str": _STR, "val": _VAL}
# Field types after (kind, t) per kind, from the one schema in engine/events.py.
_FIELDS: dict[Kind, tuple[tuple[type, ...], ...]] = {
    k: tuple(_TYPES[t] for _name, t in f) for k, f in SCHEMA.items()
}
# Every accepted (kind, type of each field...) tuple: one set lookup checks a whole record.
_VALID: frozenset[tuple] = frozenset(
    (int(k), *types) for k, f in _FIELDS.items() for types in product((int,), _NUM, *f)
)
_TYPE_WORDS = {_NUM: "a number", _INT: "an integer", _STR: "a string", _VAL: "a number or null"}
# json turns 1e999 into inf without complaint; only a 3-digit exponent can overflow a float.
_BIG_EXPONENT = re.compile(rb"[0-9][eE]\+?[0-9]{3}")


def _may_overflow(raw: bytes) -> bool:
    # The substring tests run at memchr speed; most lines have no exponent at all.
    return (b"e" in raw or b"E" in raw) and _BIG_EXPONENT.search(raw) is not None


# An integer beyond 64 bits has 19 digits or more: only such a line is walked for one.
_LONG_DIGITS = re.compile(rb"[0-9]{19}")
_I64 = 2**63


def _may_be_huge(raw: bytes) -> bool:
    return _LONG_DIGITS.search(raw) is not None


def _has_huge_int(obj: object) -> bool:
    """An integer no 64-bit column can hold (the model keeps ids and labels as int64)."""
    if type(obj) is int:
        return not -_I64 <= obj < _I64
    if isinstance(obj, list):
        return any(_has_huge_int(x) for x in obj)
    return False


_BATCH_START = re.compile(r"\s*\[\s*(\d+)\s*,\s*(\d+)\s*,\s*\[")


def _type_word(types: tuple[type, ...]) -> str:
    return _TYPE_WORDS.get(types, "a value")


def _json_word(x: object) -> str:
    if x is None:
        return "null"
    if isinstance(x, bool):
        return "a boolean"
    if isinstance(x, int):
        return "an integer"
    if isinstance(x, float):
        return "a number"
    if isinstance(x, str):
        return "a string"
    if isinstance(x, list):
        return "an array"
    return "an object"


def _describe_record_problem(r: object) -> str:
    """Why a record failed the fast signature check, in words."""
    if type(r) is not list:
        return f"a record must be an array [kind, t, ...], got {_json_word(r)}"
    if not r:
        return "a record must be an array [kind, t, ...], got an empty array"
    k = r[0]
    if type(k) is not int:
        return f"the record kind must be an integer, got {_json_word(k)}"
    try:
        kind = Kind(k)
        types = _FIELDS[kind]
    except (ValueError, KeyError):
        known = ", ".join(str(int(x)) for x in _FIELDS)
        return f"unknown record kind {k} (known kinds: {known})"
    shape = len(types) + 2
    if len(r) != shape:
        return f"{kind.name} record has {len(r)} fields, expected {shape} (kind, t, ...)"
    names = FIELD_NAMES[kind]
    for i, (x, allowed) in enumerate(zip(r[1:], (_NUM, *types), strict=True)):
        if type(x) not in allowed:
            return (
                f"{kind.name} record field {i + 2} ({names[i]}) must be {_type_word(allowed)}, "
                f"got {_json_word(x)}"
            )
    return f"invalid {kind.name} record"  # pragma: no cover - the signature check agrees


def _has_nonfinite(obj: object) -> bool:
    if isinstance(obj, float):
        return not math.isfinite(obj)
    if isinstance(obj, list):
        return any(_has_nonfinite(x) for x in obj)
    return False


def _json_problem(exc: BaseException) -> str:
    if isinstance(exc, RecursionError):
        return "arrays nested too deeply"
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg} (column {exc.colno})"
    return str(exc)[:120]


def _salvage(text: str) -> tuple[int | None, int, list]:
    """The complete records at the start of a batch line that was cut off."""
    m = _BATCH_START.match(text)
    if m is None:
        return None, 0, []
    src, first = int(m.group(1)), int(m.group(2))
    records: list = []
    pos, n = m.end(), len(text)
    while True:
        while pos < n and text[pos] in " \t\r":
            pos += 1
        try:
            rec, pos = _decoder.raw_decode(text, pos)
        except (ValueError, RecursionError):
            break
        if _has_nonfinite(rec):
            break
        records.append(rec)
        while pos < n and text[pos] in " \t\r":
            pos += 1
        if pos >= n or text[pos] != ",":
            break
        pos += 1
    return src, first, records


class _BadRecord(Exception):
    """A record failed the fast signature check (its words come from _describe_record_problem)."""
