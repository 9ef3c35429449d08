"""Bad trace files: each kind of damage is one clear TraceError; fuzzed ones load or raise it."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.events import Kind
from engine.explain import summary_json
from engine.export import export_chrome, export_csv
from engine.replay import replay_model
from engine.tracefile import Trace, TraceError, read_trace
from tests.traces import Mutation, _set_header, write

# The fixtures recorded and lines: pytest finds them among this module's names.
from tests.traces import fixture_lines as fixture_lines
from tests.traces import fixture_recorded as fixture_recorded


def line_of(lines: list[bytes], kind: Kind) -> int:
    """0-based index of the first batch line holding a record of ``kind``."""
    for i, raw in enumerate(lines[1:], start=1):
        if any(r[0] == kind for r in json.loads(raw)[2]):
            return i
    raise AssertionError(f"no {kind.name} record in the trace")


def _edit_record(kind: Kind, edit: Callable[[list], list]) -> Mutation:
    """Apply ``edit`` to the first record of ``kind``."""

    def mutate(lines: list[bytes]) -> list[bytes]:
        i = line_of(lines, kind)
        src, first, records = json.loads(lines[i])
        j = next(j for j, r in enumerate(records) if r[0] == kind)
        records[j] = edit(list(records[j]))
        out = list(lines)
        out[i] = json.dumps([src, first, records]).encode() + b"\n"
        return out

    return mutate


def _replace_line(index: int, data: bytes) -> Mutation:
    return lambda lines: [*lines[:index], data, *lines[index + 1 :]]


def _duplicate_line(lines: list[bytes]) -> list[bytes]:
    i = line_of(lines, Kind.PUT)
    return [*lines[: i + 1], lines[i], *lines[i + 1 :]]


def _swap_same_stream(lines: list[bytes]) -> list[bytes]:
    srcs = [json.loads(raw)[0] for raw in lines[1:]]
    for a in range(len(srcs)):
        for b in range(a + 1, len(srcs)):
            if srcs[a] == srcs[b]:
                out = list(lines)
                out[a + 1], out[b + 1] = out[b + 1], out[a + 1]
                return out
    raise AssertionError("no two lines of one stream")


def _late_time(r: list) -> list:
    r[1] -= 5.0  # five seconds before the record it follows
    return r


BAD_FILES: list[tuple[str, Mutation, int | None, str]] = [
    ("empty", lambda lines: [], 1, "empty"),
    ("blank header", lambda lines: [b"\n", *lines[1:]], 1, "header line is empty"),
    ("not JSON", lambda lines: [b"hello world\n"], 1, "not a QueueLab trace"),
    ("header not an object", lambda lines: [b"[1, 2]\n", *lines[1:]], 1, '"format"'),
    ("no format", _set_header("format", None) , 1, "format is null"),
    ("wrong format", _set_header("format", "chrome-trace"), 1, 'format is "chrome-trace"'),
    ("future version", _set_header("version", 4), 1,
     "written by a newer QueueLab (version 4); this one reads version 3"),
    ("bad version", _set_header("version", "1"), 1, "version must be an integer"),
    ("invalid config", _set_header("config", {"consumers": 0}), 1, "consumers = 0"),
    ("unknown config key", _set_header("config", {"workers": 2}), 1, "unknown key 'workers'"),
    ("config not a table", _set_header("config", [1]), 1, '"config" must be an object'),
    ("not UTF-8", _replace_line(3, b'[1,0,[[22,1.0,"\xff"]]]\n'), 4, "not valid UTF-8"),
    ("invalid JSON", _replace_line(2, b"[3, 1, [[3, 1.0,\n"), 3, "invalid JSON"),
    ("NaN", _replace_line(2, b"[3, 1, [[23, NaN, 5]]]\n"), 3, "NaN is not allowed"),
    ("huge number", _replace_line(2, b"[3, 1, [[23, 1e999, 5]]]\n"), 3, "too large"),
    ("batch not an array", _replace_line(2, b'{"src": 1}\n'), 3, "a batch line must be"),
    ("negative src", _replace_line(2, b"[-1, 0, []]\n"), 3, "source must be an integer >= 0"),
    ("records not an array", _replace_line(2, b"[1, 0, 5]\n"), 3, "records must be an array"),
    ("unknown kind", _edit_record(Kind.GET, lambda r: [99, *r[1:]]), None,
     "unknown record kind 99"),
    ("kind not an int", _edit_record(Kind.GET, lambda r: ["GET", *r[1:]]), None,
     "kind must be an integer"),
    ("too few fields", _edit_record(Kind.GET, lambda r: r[:3]), None,
     "GET record has 3 fields, expected 4"),
    ("too many fields", _edit_record(Kind.TASK_DONE, lambda r: [*r, 1]), None,
     "TASK_DONE record has 4 fields"),
    ("time is a string", _edit_record(Kind.GET, lambda r: [r[0], "now", *r[2:]]), None,
     "field 2 (t) must be a number, got a string"),
    ("tid is a float", _edit_record(Kind.GET, lambda r: [*r[:3], 1.5]), None,
     "field 4 (tid) must be an integer, got a number"),
    ("tid beyond 64 bits", _edit_record(Kind.GET, lambda r: [*r[:3], 2**70]), None,
     "an integer is too large (integers must fit in 64 bits"),
    ("boolean for an int", _edit_record(Kind.WORKER_START, lambda r: [*r[:2], True, *r[3:]]),
     None, "field 3 (pid) must be an integer, got a boolean"),
    ("text is a number", _edit_record(Kind.RUN_END, lambda r: [*r[:2], 5]), None,
     "field 3 (reason) must be a string"),
    ("record not an array", _edit_record(Kind.GET, lambda r: 5), None,  # type: ignore[arg-type,return-value]
     "a record must be an array"),
    ("returns before it begins", _edit_record(Kind.GET, lambda r: [r[0], r[1], r[1] - 9, r[3]]),
     None, "returns at"),
    ("time out of order", _edit_record(Kind.TASK_DONE, _late_time), None,
     "timestamps out of order"),
    ("run start disagrees", _edit_record(Kind.RUN_START, lambda r: [*r[:3], 7, *r[4:]]), None,
     "RUN_START says 1 producers and 7 consumers"),
    ("duplicated line", _duplicate_line, None, "goes back to sequence number"),
    ("swapped lines", _swap_same_stream, None, "goes back to sequence number"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("mutate", "line", "words"),
    [pytest.param(m, ln, w, id=name) for name, m, ln, w in BAD_FILES],
)
def test_bad_files_raise_one_clear_trace_error(
    tmp_path: Path, lines: list[bytes], mutate: Mutation, line: int | None, words: str
) -> None:
    path = write(tmp_path, mutate(lines))
    with pytest.raises(TraceError) as info:
        read_trace(path)
    message = str(info.value)
    assert message.startswith(f"{path}: line ")
    assert "\n" not in message
    assert info.value.line is not None
    if line is not None:
        assert info.value.line == line
        assert f": line {line}: " in message
    assert words in message, message


@pytest.mark.parametrize(
    "name",
    ["missing", "directory"],
)
def test_unopenable_paths_raise_trace_error(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    if name == "directory":
        path.mkdir()
    with pytest.raises(TraceError, match=str(path)):
        read_trace(path)


def test_a_byte_order_mark_and_blank_lines_are_accepted(
    tmp_path: Path, lines: list[bytes], recorded: tuple[Path, dict, int]
) -> None:
    path = write(tmp_path, [b"\xef\xbb\xbf" + lines[0], b"\n", *lines[1:], b"  \n"])
    assert read_trace(path).batches == read_trace(recorded[0]).batches



def _mutations(data: bytes) -> st.SearchStrategy[bytes]:
    n = len(data)
    if not n:
        return st.just(data)
    pos = st.integers(0, max(0, n - 1))
    flip = st.tuples(pos, st.integers(1, 255)).map(
        lambda a: data[: a[0]] + bytes([data[a[0]] ^ a[1]]) + data[a[0] + 1 :]
    )
    delete = st.tuples(pos, st.integers(1, 40)).map(lambda a: data[: a[0]] + data[a[0] + a[1] :])
    insert = st.tuples(pos, st.binary(min_size=1, max_size=12)).map(
        lambda a: data[: a[0]] + a[1] + data[a[0] :]
    )
    insert_json = st.tuples(pos, st.sampled_from(
        [b",", b"]", b"[", b"-", b"0", b"9999999999", b"1e999", b"NaN", b"\"", b"\n", b"null",
         b"true", b" ", b".5", b"[[[[[[[[[[", b"\xc3", b"\xff"]
    )).map(lambda a: data[: a[0]] + a[1] + data[a[0] :])  # fmt: skip
    lines = data.splitlines(keepends=True)
    idx = st.integers(0, len(lines) - 1)
    dup = idx.map(lambda i: b"".join([*lines[: i + 1], lines[i], *lines[i + 1 :]]))

    def swap(ij: tuple[int, int]) -> bytes:
        out = list(lines)
        out[ij[0]], out[ij[1]] = out[ij[1]], out[ij[0]]
        return b"".join(out)

    swapped = st.tuples(idx, idx).map(swap)
    truncate = pos.map(lambda i: data[:i])
    one = st.one_of(flip, delete, insert, insert_json, dup, swapped, truncate)
    return one


@pytest.mark.slow
def test_fuzzed_traces_load_or_raise_trace_error(
    tmp_path_factory: pytest.TempPathFactory, recorded: tuple[Path, dict, int]
) -> None:
    data = recorded[0].read_bytes()
    path = tmp_path_factory.mktemp("fuzz") / "fuzz.qltrace"
    outcomes = {"ok": 0, "error": 0}

    @settings(
        max_examples=400,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(st.data())
    def check(draw: st.DataObject) -> None:
        mutated = draw.draw(_mutations(data))
        if draw.draw(st.booleans()):
            mutated = draw.draw(_mutations(mutated))  # sometimes two mutations
        path.write_bytes(mutated)
        try:
            trace = read_trace(path)
        except TraceError as exc:
            assert str(exc).startswith(str(path))
            outcomes["error"] += 1
            return
        outcomes["ok"] += 1
        # Whatever loads is safe for everything downstream.
        assert isinstance(trace, Trace)
        summary_json(replay_model(trace))
        export_csv(trace, io.StringIO())
        export_chrome(trace, io.StringIO())

    check()
    assert outcomes["ok"] and outcomes["error"], outcomes
