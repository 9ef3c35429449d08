"""TraceReader, read_trace and iter_trace: a .qltrace file read back, every line checked."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Iterator
from typing import IO

from engine.config import START_METHODS, ConfigError, RunConfig, default_start_method
from engine.events import EFFECT_AT, Kind
from engine.gcpause import gc_paused
from engine.tracefile.checks import (
    _VALID,
    _BadRecord,
    _describe_record_problem,
    _has_huge_int,
    _has_nonfinite,
    _json_problem,
    _json_word,
    _may_be_huge,
    _may_overflow,
    _salvage,
)
from engine.tracefile.format import (
    _RUN_START,
    FORMAT_NAME,
    FORMAT_VERSION,
    TIME_TOLERANCE_S,
    Batch,
    PathLike,
    Trace,
    TraceError,
    _loads,
    _NonFinite,
)

_HUGE_INT = "an integer is too large (integers must fit in 64 bits, -2**63 to 2**63 - 1)"


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
                if _may_be_huge(raw) and _has_huge_int(obj):
                    raise self._fail(_HUGE_INT, line)
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
                if _may_be_huge(raw) and _has_huge_int(obj):
                    raise self._fail(_HUGE_INT, line)
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
