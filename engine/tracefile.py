"""Trace files: a run's config and every event batch as versioned, streamed JSON Lines.

Line 1 is a header object; every further line is one batch ``[src, first_seq, [record, ...]]``
exactly as the engine delivers it (records are the plain tuples of :mod:`engine.events`). The
format is documented in ``docs/trace-format.md``. Files are parsed as data (``json``) only:
nothing in a trace is ever unpickled, imported or executed.
"""

from __future__ import annotations

import json
import math
import os
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import product
from typing import IO, Any

from engine.config import START_METHODS, ConfigError, RunConfig, default_start_method
from engine.events import EFFECT_AT, FIELD_NAMES, SCHEMA, Kind
from engine.gcpause import gc_paused

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "QUEUELAB_VERSION",
    "TIME_TOLERANCE_S",
    "Batch",
    "Trace",
    "TraceError",
    "TraceReader",
    "TraceWriter",
    "gc_paused",
    "iter_trace",
    "read_trace",
]

FORMAT_NAME = "queuelab-trace"
FORMAT_VERSION = 1
QUEUELAB_VERSION = "0.1.0"

# Records of one stream are stamped and appended by possibly different threads (the parent's
# coordinator, collector and main thread), so a thread preempted between reading the clock and
# emitting can put a record slightly out of order. Anything further back is a damaged file.
TIME_TOLERANCE_S = 0.5

FLUSH_INTERVAL_S = 0.5
FLUSH_BATCHES = 64

Batch = tuple[int, int, list[tuple]]
PathLike = str | os.PathLike[str]

# ---------------------------------------------------------------------------- record checks

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
_RUN_START = int(Kind.RUN_START)
# json turns 1e999 into inf without complaint; only a 3-digit exponent can overflow a float.
_BIG_EXPONENT = re.compile(rb"[0-9][eE]\+?[0-9]{3}")


def _may_overflow(raw: bytes) -> bool:
    # The substring tests run at memchr speed; most lines have no exponent at all.
    return (b"e" in raw or b"E" in raw) and _BIG_EXPONENT.search(raw) is not None


_BATCH_START = re.compile(r"\s*\[\s*(\d+)\s*,\s*(\d+)\s*,\s*\[")


class TraceError(ValueError):
    """A trace file QueueLab cannot read, with one message naming the file and the line."""

    def __init__(self, path: str, message: str, line: int | None = None) -> None:
        self.path = path
        self.line = line
        self.message = message
        where = f"{path}: line {line}: " if line is not None else f"{path}: "
        super().__init__(where + message)


class _NonFinite(ValueError):
    pass


class _BadRecord(Exception):
    pass


def _refuse_constant(name: str) -> float:
    raise _NonFinite(f"{name} is not allowed (numbers must be finite)")


_loads = json.JSONDecoder(parse_constant=_refuse_constant).decode
_decoder = json.JSONDecoder(parse_constant=_refuse_constant)
_dumps = json.JSONEncoder(allow_nan=False, separators=(",", ":")).encode


# ---------------------------------------------------------------------------- writing


def _finite(x: object) -> object:
    return x if not isinstance(x, float) or math.isfinite(x) else None


class TraceWriter:
    """Streams a run to a trace file: the header at once, then one line per batch.

    Lines are flushed to the OS at least every ``flush_interval`` seconds (a background thread
    covers quiet spells) or every ``flush_batches`` batches, so a crashed run leaves a readable
    prefix. Non-finite floats in records are written as ``null`` (JSON has no NaN).
    """

    def __init__(
        self,
        path: PathLike,
        cfg: RunConfig,
        *,
        flush_interval: float = FLUSH_INTERVAL_S,
        flush_batches: int = FLUSH_BATCHES,
    ) -> None:
        self.path = os.fspath(path)
        self.cfg = cfg
        self.batches = 0
        self.records = 0
        self.error: Exception | None = None  # the first error met while attached to a run
        self._interval = flush_interval
        self._every = max(1, flush_batches)
        self._lock = threading.Lock()
        self._pending = 0
        self._last_flush = time.monotonic()
        self._closed = threading.Event()
        header = {
            "format": FORMAT_NAME,
            "version": FORMAT_VERSION,
            "config": cfg.to_mapping(),
            "created": datetime.now().astimezone().isoformat(timespec="seconds"),
            "queuelab": QUEUELAB_VERSION,
        }
        self._file: IO[str] = open(  # noqa: SIM115 - closed by close(), which __exit__ calls
            self.path, "w", encoding="utf-8", newline="\n", buffering=1 << 16
        )
        try:
            self._file.write(_dumps(header) + "\n")
            self._file.flush()
        except BaseException:
            self._file.close()
            raise
        self._thread = threading.Thread(
            target=self._flush_loop, name="queuelab-trace-flush", daemon=True
        )
        self._thread.start()

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    def write(self, batches: Iterable[Batch]) -> None:
        """Append batches ``(src, first_seq, records)``; safe to call from several threads."""
        lines = []
        n = 0
        for batch in batches:
            try:
                lines.append(_dumps(batch))
            except ValueError:  # NaN or infinity somewhere: JSON cannot hold it
                src, first, records = batch
                clean = [tuple(_finite(x) for x in r) for r in records]
                lines.append(_dumps((src, first, clean)))
            n += len(batch[2])
        if not lines:
            return
        text = "\n".join(lines) + "\n"
        with self._lock:
            if self._closed.is_set():
                raise ValueError(f"{self.path}: the trace writer is closed")
            self._file.write(text)
            self.batches += len(lines)
            self.records += n
            self._pending += len(lines)
            due = time.monotonic() - self._last_flush >= self._interval
            if due or self._pending >= self._every:
                self._flush_locked()

    def flush(self) -> None:
        with self._lock:
            if not self._closed.is_set():
                self._flush_locked()

    def _flush_locked(self) -> None:
        self._file.flush()
        self._pending = 0
        self._last_flush = time.monotonic()

    def _flush_loop(self) -> None:
        while not self._closed.wait(self._interval / 2):
            if self._pending and time.monotonic() - self._last_flush >= self._interval / 2:
                try:
                    self.flush()
                except OSError as exc:
                    self.error = self.error or exc
                    return

    def close(self) -> None:
        """Flush and close; idempotent. Batches an attached run delivers later are dropped."""
        with self._lock:
            if self._closed.is_set():
                return
            self._closed.set()
            try:
                self._file.flush()
            finally:
                self._file.close()
        if self._thread is not threading.current_thread():
            self._thread.join(1.0)

    def __enter__(self) -> TraceWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def attach(self, run: Any) -> None:
        """Write every batch ``run`` delivers; call before ``run.start()``.

        ``Run.poll`` hands each batch to the writer as it unpickles it, just before the model
        gets it, so batches are written in the very order the model receives them (and only
        batches that were polled: ``Run.wait`` and the CLI poll everything). A write error
        (disk full, ...) never disturbs the run: writing stops and the error is kept in
        :attr:`error` for the caller to report.
        """
        if getattr(getattr(run, "status", None), "value", "idle") != "idle":
            raise RuntimeError("attach the trace writer before the run starts")
        if run.cfg != self.cfg:
            raise ValueError("the trace writer was made for a different config than this run's")
        run.add_listener(self._on_batch)

    def _on_batch(self, batch: Batch) -> None:
        if self.error is None and not self.closed:
            try:
                self.write((batch,))
            except (OSError, ValueError, TypeError) as exc:
                # Raised into the collector thread it would end event delivery for the run.
                self.error = exc


# ---------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class Trace:
    """A whole trace in memory: what :func:`read_trace` returns."""

    path: str
    config: RunConfig
    batches: list[Batch]
    warnings: tuple[str, ...]
    version: int
    created: str = ""
    queuelab: str = ""

    @property
    def n_events(self) -> int:
        return sum(len(b[2]) for b in self.batches)

    @property
    def t0(self) -> float:
        """The run's start (perf_counter seconds): RUN_START's time, else the earliest record's."""
        first: float | None = None
        for src, _, records in self.batches:
            for r in records:
                if src == 0 and r[0] == _RUN_START:
                    return float(r[1])
                if first is None or r[1] < first:
                    first = r[1]
        return 0.0 if first is None else float(first)


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


class TraceReader:
    """Reads a trace file lazily: the header on construction, then batches when iterated.

    Every batch yielded has been checked (record kinds, shapes, types, per-stream sequence and
    time order). Problems raise :class:`TraceError`; a file cut off in its last line yields the
    complete records of that line and adds a warning instead. Iterate once.
    """

    def __init__(self, path: PathLike, *, on_warning: Callable[[str], object] | None = None):
        self.path = os.fspath(path)
        self._on_warning = on_warning
        self.warnings: list[str] = []
        self.bytes_read = 0
        self.records = 0
        try:
            self._file: IO[bytes] = open(self.path, "rb")  # noqa: SIM115 - closed in close()
        except FileNotFoundError:
            raise TraceError(self.path, "file not found") from None
        except IsADirectoryError:
            raise TraceError(self.path, "is a directory, not a trace file") from None
        except OSError as exc:
            raise TraceError(self.path, f"cannot read the file: {exc.strerror or exc}") from None
        try:
            self.size = os.fstat(self._file.fileno()).st_size
            self._read_header()
        except BaseException:
            self._file.close()
            raise

    # --------------------------------------------------------------- header
    def _fail(self, message: str, line: int | None = None) -> TraceError:
        return TraceError(self.path, message, line)

    def _warn(self, message: str) -> None:
        self.warnings.append(message)
        if self._on_warning is not None:
            self._on_warning(message)

    def _read_header(self) -> None:
        try:
            raw = self._file.readline()
        except OSError as exc:
            raise self._fail(f"cannot read the file: {exc.strerror or exc}") from None
        self.bytes_read = len(raw)
        if not raw:
            raise self._fail("the file is empty (a trace starts with a header line)", 1)
        complete = raw.endswith(b"\n")
        raw = raw.removeprefix(b"\xef\xbb\xbf")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise self._fail(self._utf8_message(raw, exc), 1) from None
        if not text.strip():
            raise self._fail("the header line is empty; this is not a QueueLab trace", 1)
        try:
            header = _loads(text)
        except (ValueError, RecursionError):
            if not complete and text.lstrip().startswith("{"):
                message = "the header line is incomplete (the file was cut off)"
                raise self._fail(message, 1) from None
            raise self._fail(
                "not a QueueLab trace: the first line is not a JSON header object", 1
            ) from None
        if not isinstance(header, dict) or "format" not in header:
            raise self._fail(
                f'not a QueueLab trace: the first line has no "format": "{FORMAT_NAME}" header', 1
            )
        if header["format"] != FORMAT_NAME:
            raise self._fail(
                f"not a QueueLab trace: format is {json.dumps(header['format'])[:60]}, "
                f'expected "{FORMAT_NAME}"',
                1,
            )
        version = header.get("version")
        if type(version) is not int or version < 1:
            raise self._fail(
                f"invalid header: version must be an integer >= 1, got {json.dumps(version)[:40]}",
                1,
            )
        if version > FORMAT_VERSION:
            raise self._fail(
                f"written by a newer QueueLab (version {version}); "
                f"this one reads version {FORMAT_VERSION}",
                1,
            )
        self.version: int = version
        self.created = header.get("created") if isinstance(header.get("created"), str) else ""
        self.queuelab = header.get("queuelab") if isinstance(header.get("queuelab"), str) else ""
        self.config = self._config(header.get("config"))

    def _config(self, data: object) -> RunConfig:
        if not isinstance(data, dict):
            raise self._fail(
                f'invalid header: "config" must be an object, got {_json_word(data)}', 1
            )
        try:
            return RunConfig.from_mapping(data)
        except ConfigError as exc:
            method = data.get("start_method")
            if exc.key == "start_method" and method in START_METHODS:
                # Recorded on a platform with another start method; a replay starts nothing.
                fallback = default_start_method()
                self._warn(
                    f"{self.path}: the run used start_method {method!r}, not available here; "
                    f"the config shows {fallback!r} instead"
                )
                try:
                    return RunConfig.from_mapping({**data, "start_method": fallback})
                except ConfigError as again:
                    exc = again
            raise self._fail(f"invalid config in the header: {exc}", 1) from None

    @staticmethod
    def _utf8_message(raw: bytes, exc: UnicodeDecodeError) -> str:
        return (
            f"not valid UTF-8 text (byte 0x{raw[exc.start]:02x} at column {exc.start + 1}); "
            "a trace file is UTF-8 JSON Lines"
        )

    # --------------------------------------------------------------- batches
    def __iter__(self) -> Iterator[Batch]:
        expect: dict[int, int] = {}  # src -> next sequence number
        last_t: dict[int, float] = {}  # src -> latest time seen
        line = 1
        f = self._file
        try:
            for raw in f:
                line += 1
                self.bytes_read += len(raw)
                if not raw.endswith(b"\n"):
                    batch = self._last_line(raw, line, expect, last_t)
                    if batch is not None:
                        yield batch
                    break
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError as exc:
                    raise self._fail(self._utf8_message(raw, exc), line) from None
                if text.isspace():
                    continue  # a blank line holds nothing; an editor may have added it
                try:
                    obj = _loads(text)
                except _NonFinite as exc:
                    raise self._fail(str(exc), line) from None
                except (ValueError, RecursionError) as exc:
                    raise self._fail(f"invalid JSON: {_json_problem(exc)}", line) from None
                if _may_overflow(raw) and _has_nonfinite(obj):
                    raise self._fail("a number is too large (numbers must be finite)", line)
                yield self._check(obj, line, expect, last_t)
        except OSError as exc:
            raise self._fail(f"cannot read the file: {exc.strerror or exc}", line) from None
        finally:
            self.close()

    def _last_line(
        self, raw: bytes, line: int, expect: dict[int, int], last_t: dict[int, float]
    ) -> Batch | None:
        """The last line has no line end: whole and valid, or cut off by a crash."""
        try:
            text = raw.decode("utf-8")
            cut_char = False
        except UnicodeDecodeError as exc:
            if exc.reason != "unexpected end of data":
                raise self._fail(self._utf8_message(raw, exc), line) from None
            text, cut_char = raw[: exc.start].decode("utf-8", "replace"), True
        if text.isspace():
            return None
        if not cut_char:
            try:
                obj = _loads(text)
            except _NonFinite as exc:
                raise self._fail(str(exc), line) from None
            except (ValueError, RecursionError):
                pass
            else:
                if not (_may_overflow(raw) and _has_nonfinite(obj)):
                    return self._check(obj, line, expect, last_t)
        src, first, records = _salvage(text)
        if src is None or not records:
            self._warn(
                f"{self.path}: line {line} is incomplete (the file was cut off, as when a run "
                f"crashes); loaded the {self.records} events before it"
            )
            return None
        batch = self._check([src, first, records], line, expect, last_t)
        self._warn(
            f"{self.path}: line {line} is incomplete (the file was cut off, as when a run "
            f"crashes); loaded up to its last complete record ({self.records} events)"
        )
        return batch

    def _check(
        self, obj: object, line: int, expect: dict[int, int], last_t: dict[int, float]
    ) -> Batch:
        if type(obj) is not list or len(obj) != 3:
            raise self._fail("a batch line must be an array [src, first_seq, [records]]", line)
        src, first, records = obj
        if type(src) is not int or src < 0:
            raise self._fail(f"the batch source must be an integer >= 0, got {src!r:.40}", line)
        if type(first) is not int or first < 0:
            raise self._fail(
                f"the batch's first_seq must be an integer >= 0, got {first!r:.40}", line
            )
        if type(records) is not list:
            raise self._fail(
                f"the batch's records must be an array, got {_json_word(records)}", line
            )
        exp = expect.get(src, 0)
        if first < exp:
            raise self._fail(
                f"stream {src} goes back to sequence number {first} after {exp - 1} "
                "(a line repeated or out of order)",
                line,
            )
        valid = _VALID
        time_at = EFFECT_AT
        tol = TIME_TOLERANCE_S
        prev = last_t.get(src, -math.inf)
        floor = prev - tol
        i = 0
        try:
            for i, r in enumerate(records):
                # One hash lookup checks the kind, the field count and every field's type; a
                # record that is not even an array fails here with TypeError, KeyError, ...
                if (r[0], *map(type, r)) not in valid:
                    raise _BadRecord
                at = time_at[r[0]]
                t = r[at]
                if t < floor or (at == 2 and t < r[1] - tol):
                    raise self._order_error(r, t, prev, line, i, src, first)
                if t > prev:
                    prev = t
                    floor = t - tol
        except (_BadRecord, TypeError, IndexError, KeyError):
            raise self._record_error(records[i], line, i, src, first) from None
        out = [tuple(r) for r in records]
        if src == 0:
            for r in out:
                if r[0] == _RUN_START:
                    self._check_run_start(r, line)
        last_t[src] = prev
        expect[src] = first + len(out)
        self.records += len(out)
        return (src, first, out)

    def _order_error(
        self, r: list, t: float, prev: float, line: int, i: int, src: int, first: int
    ) -> TraceError:
        name = Kind(r[0]).name
        where = f"record {i + 1} (stream {src}, seq {first + i}, {name})"
        if t < r[1] - TIME_TOLERANCE_S:
            return self._fail(f"{where} returns at {t!r}, before it began at {r[1]!r}", line)
        return self._fail(
            f"timestamps out of order: {where} at t={t!r} comes after t={prev!r}", line
        )

    def _record_error(self, r: object, line: int, i: int, src: int, first: int) -> TraceError:
        return self._fail(
            f"record {i + 1} (stream {src}, seq {first + i}): {_describe_record_problem(r)}",
            line,
        )

    def _check_run_start(self, r: list, line: int) -> None:
        cfg = self.config
        if (r[2], r[3]) != (cfg.producers, cfg.consumers):
            raise self._fail(
                f"RUN_START says {r[2]} producers and {r[3]} consumers but the header's config "
                f"has {cfg.producers} and {cfg.consumers}",
                line,
            )

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> TraceReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


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


# ---------------------------------------------------------------------------- helpers


def read_trace(
    path: PathLike,
    *,
    on_warning: Callable[[str], object] | None = None,
    progress: Callable[[float], object] | None = None,
) -> Trace:
    """Load a whole trace, checked. Raises TraceError; warnings go to ``on_warning`` too.

    ``progress(fraction)`` is called now and then with the share of bytes read (0..1), last
    with 1.0, from the calling thread; an exception raised in it cancels the load.
    """
    with TraceReader(path, on_warning=on_warning) as reader, gc_paused():
        batches: list[Batch] = []
        if progress is None:
            batches.extend(reader)
        else:
            size = max(1, reader.size)
            step = max(1 << 16, size // 200)
            next_report = 0
            progress(0.0)
            for batch in reader:
                batches.append(batch)
                if reader.bytes_read >= next_report:
                    progress(min(1.0, reader.bytes_read / size))
                    next_report = reader.bytes_read + step
            progress(1.0)
        return Trace(
            path=reader.path,
            config=reader.config,
            batches=batches,
            warnings=tuple(reader.warnings),
            version=reader.version,
            created=reader.created,
            queuelab=reader.queuelab,
        )


def iter_trace(
    path: PathLike, *, on_warning: Callable[[str], object] | None = None
) -> tuple[RunConfig, Iterator[Batch]]:
    """The config at once and the checked batches lazily (TraceError may come mid-iteration)."""
    reader = TraceReader(path, on_warning=on_warning)
    return reader.config, iter(reader)
