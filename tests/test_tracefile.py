"""Trace files: record a real run, read it back, replay it, and refuse every kind of bad file."""

from __future__ import annotations

import io
import json
import math
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.config import RunConfig
from engine.events import SHAPES, Kind
from engine.explain import summary_json
from engine.export import export_chrome, export_csv
from engine.replay import Replayer, replay_model, replay_summary
from engine.runner import Run
from engine.tracefile import (
    _FIELDS,
    FORMAT_VERSION,
    KINDS_SINCE,
    Trace,
    TraceError,
    TraceWriter,
    iter_trace,
    read_trace,
)

ROOT = Path(__file__).resolve().parent.parent
CFG = RunConfig(tasks_per_producer=20, time_scale=0.02, consumers=2, seed=3)


def record(path: Path, cfg: RunConfig = CFG) -> tuple[Run, TraceWriter]:
    """Run ``cfg`` for real with a TraceWriter attached; the run has ended when this returns."""
    with TraceWriter(path, cfg) as writer:
        run = Run(cfg)
        writer.attach(run)
        with run:
            assert run.wait(60), "the recorded run did not end"
    return run, writer


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, int]:
    """(trace path, the live run's summary, events the live model received)."""
    path = tmp_path_factory.mktemp("trace") / "run.qltrace"
    run, writer = record(path)
    assert writer.error is None
    return path, summary_json(run.model), run.model.events


@pytest.fixture
def lines(recorded: tuple[Path, dict, int]) -> list[bytes]:
    return recorded[0].read_bytes().splitlines(keepends=True)


def write(tmp_path: Path, data: bytes | list[bytes], name: str = "t.qltrace") -> Path:
    p = tmp_path / name
    p.write_bytes(data if isinstance(data, bytes) else b"".join(data))
    return p


def line_of(lines: list[bytes], kind: Kind) -> int:
    """0-based index of the first batch line holding a record of ``kind``."""
    for i, raw in enumerate(lines[1:], start=1):
        if any(r[0] == kind for r in json.loads(raw)[2]):
            return i
    raise AssertionError(f"no {kind.name} record in the trace")


# --------------------------------------------------------------------------- record and replay


def test_recorded_run_replays_to_the_live_summary(recorded: tuple[Path, dict, int]) -> None:
    path, live, live_events = recorded
    trace = read_trace(path)
    assert trace.warnings == ()
    assert trace.version == FORMAT_VERSION
    assert trace.config == CFG
    assert trace.n_events == live_events > 0
    summary = replay_summary(path)
    theory = summary.pop("theory")  # run --json's too; compared in tests/test_theory.py
    assert summary == live
    assert theory["kind"] == "batch"
    assert summary["task_dones"] == 22 and summary["join_returned"] is True  # 20 tasks + 2 None


def test_the_reader_knows_every_record_shape() -> None:
    assert {int(k): len(f) + 2 for k, f in _FIELDS.items()} == {
        int(k): n for k, n in SHAPES.items()
    }


# The kinds version 1 of the format knew, as it was first written down. A kind that is not
# here and not in KINDS_SINCE is one an older QueueLab would meet as "unknown record kind"
# inside a file whose header it accepted: a new kind needs a new format version.
VERSION_1_KINDS = {
    "PUT", "PUT_FULL", "GET", "GET_EMPTY", "TASK_DONE", "TASK_DONE_ERROR", "JOIN_BEGIN",
    "JOIN_END", "FEED_ERROR", "WORKER_START", "WORKER_EXIT", "TASK_START", "TASK_END",
    "TASK_FAIL", "TASK_RETRY", "PAUSED", "PROC_INFO", "LINE", "QUEUE", "QUEUE_NEW", "PROC_JOIN",
    "TASK_RESULT", "RUN_START", "PRODUCERS_JOINED", "PROC_EXIT", "PAUSE", "RESUME", "STOP",
    "RUN_END", "STALL", "QUEUE_INFO", "MAIN_BLOCKED", "STEP_GATE", "STEP_HOLD",
}  # fmt: skip


def test_every_record_kind_came_with_a_format_version() -> None:
    since = {k.name: KINDS_SINCE.get(k, 1) for k in SHAPES}
    assert {name for name, v in since.items() if v == 1} == VERSION_1_KINDS
    assert max(since.values()) == FORMAT_VERSION
    assert {k.name for k in KINDS_SINCE} == {"PUT_BLOCKED", "TASK_ABANDON", "PROC_END"}


def test_a_version_1_file_still_loads_with_the_put_blocked_records_it_may_hold(
    tmp_path: Path, lines: list[bytes]
) -> None:
    # Written between PUT_BLOCKED's arrival and version 2: version 1, with such a record.
    t = json.loads(lines[1])[2][0][1]
    blocked = json.dumps([9, 0, [[int(Kind.PUT_BLOCKED), t, (9 << 32) + 1, 0, 0.5]]])
    path = write(tmp_path, [*_set_header("version", 1)(lines), blocked.encode() + b"\n"])
    trace = read_trace(path)
    assert trace.version == 1
    assert trace.batches[-1] == (9, 0, [(int(Kind.PUT_BLOCKED), t, (9 << 32) + 1, 0, 0.5)])
    assert trace.n_events == read_trace(write(tmp_path, lines, "v2.qltrace")).n_events + 1


def test_header_and_lines_follow_the_documented_format(lines: list[bytes]) -> None:
    header = json.loads(lines[0])
    assert header["format"] == "queuelab-trace"
    assert header["version"] == 3
    assert header["queuelab"] == "0.1.0"
    assert RunConfig.from_mapping(header["config"]) == CFG
    assert "T" in header["created"]
    for raw in lines[1:]:
        assert raw.endswith(b"\n")
        src, first, records = json.loads(raw)
        assert isinstance(src, int) and isinstance(first, int) and records
        for r in records:
            assert len(r) == SHAPES[Kind(r[0])]


def test_iter_trace_yields_the_same_batches(recorded: tuple[Path, dict, int]) -> None:
    path = recorded[0]
    cfg, batches = iter_trace(path)
    assert cfg == CFG
    assert list(batches) == read_trace(path).batches


def test_progress_reports_rising_fractions_up_to_one(recorded: tuple[Path, dict, int]) -> None:
    seen: list[float] = []
    read_trace(recorded[0], progress=seen.append)
    assert seen[0] == 0.0 and seen[-1] == 1.0
    assert seen == sorted(seen)


def test_an_exception_in_progress_cancels_the_load(recorded: tuple[Path, dict, int]) -> None:
    class Cancelled(Exception):
        pass

    def cancel(fraction: float) -> None:
        if fraction > 0:
            raise Cancelled

    with pytest.raises(Cancelled):
        read_trace(recorded[0], progress=cancel)


def test_replayer_seeks_forward_and_back(recorded: tuple[Path, dict, int]) -> None:
    trace = read_trace(recorded[0])
    rp = Replayer(trace)
    assert rp.seek(0.0).puts == 0
    counts = []
    for i in range(11):
        m = rp.seek(rp.duration_s * i / 10)
        counts.append((m.puts, m.gets, m.task_dones))
        assert m.unfinished >= 0 and m.depth >= 0
    assert counts == sorted(counts)
    assert rp.at_end
    assert summary_json(rp.model) == summary_json(replay_model(trace))
    back = rp.seek(rp.duration_s / 2)
    assert (back.puts, back.gets, back.task_dones) == counts[5]


def test_writer_streams_a_readable_prefix_while_open(tmp_path: Path) -> None:
    path = tmp_path / "open.qltrace"
    with TraceWriter(path, CFG, flush_interval=0.1, flush_batches=10_000) as w:
        w.write([(0, 0, [(int(Kind.RUN_START), 10.0, 1, 2, 20)])])
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if len(read_trace(path).batches) == 1:
                break
            time.sleep(0.05)
        assert len(read_trace(path).batches) == 1, "the idle writer never flushed"
    with pytest.raises(ValueError, match="closed"):
        w.write([(0, 1, [(int(Kind.RUN_END), 11.0, "joined")])])


_KILLED_WRITER = """
import sys, time
from engine.config import RunConfig
from engine.tracefile import TraceWriter
cfg = RunConfig(tasks_per_producer=20, time_scale=0.02, consumers=2, seed=3)
w = TraceWriter(sys.argv[1], cfg)
seq, t, tid = 0, 100.0, 1
while True:
    records = []
    for _ in range(50):
        tid += 1
        records.append((1, t, t + 1e-6, tid, tid, 0.5))
        t += 1e-5
    w.write([(1, seq, records)])
    seq += len(records)
    time.sleep(0.001)
"""


@pytest.mark.slow
def test_a_killed_writer_leaves_a_readable_prefix(tmp_path: Path) -> None:
    path = tmp_path / "killed.qltrace"
    proc = subprocess.Popen([sys.executable, "-c", _KILLED_WRITER, str(path)], cwd=ROOT)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and (not path.exists() or path.stat().st_size < 50_000):
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(5)
    trace = read_trace(path)
    assert trace.n_events >= 100
    assert all(len(r) == 6 for _, _, rs in trace.batches for r in rs)


def test_nonfinite_values_are_written_as_null(tmp_path: Path) -> None:
    path = tmp_path / "nan.qltrace"
    with TraceWriter(path, CFG) as w:
        w.write(
            [
                (
                    1,
                    0,
                    [
                        (int(Kind.PUT), 1.0, 1.5, 7, 0, math.nan),
                        (int(Kind.PUT), 2.0, 2.5, 8, 1, math.inf),
                    ],
                )
            ]
        )
    text = path.read_text()
    assert "NaN" not in text and "Infinity" not in text
    trace = read_trace(path)
    assert [r[5] for r in trace.batches[0][2]] == [None, None]
    assert replay_model(trace).puts == 2


def test_attach_refuses_a_started_run_or_another_config(tmp_path: Path) -> None:
    with TraceWriter(tmp_path / "a.qltrace", CFG) as w:
        with pytest.raises(ValueError, match="different config"):
            w.attach(Run(CFG.replace(consumers=3)))
        run = Run(CFG)
        with run, pytest.raises(RuntimeError, match="before the run starts"):
            w.attach(run)


class _BrokenFile(io.StringIO):
    def write(self, s: str) -> int:
        raise OSError(28, "No space left on device")


def test_a_failing_disk_never_disturbs_the_run(tmp_path: Path) -> None:
    with TraceWriter(tmp_path / "full.qltrace", CFG) as w:
        run = Run(CFG)
        w.attach(run)
        real, w._file = w._file, _BrokenFile()  # every later write fails as on a full disk
        try:
            with run:
                assert run.wait(60)
        finally:
            real.close()
    assert isinstance(w.error, OSError)
    assert run.model.task_dones == 22 and run.model.join_returned_t is not None


# --------------------------------------------------------------------------- bad files

Mutation = Callable[[list[bytes]], list[bytes]]


def _set_header(key: str, value: object) -> Mutation:
    def mutate(lines: list[bytes]) -> list[bytes]:
        header = json.loads(lines[0])
        header[key] = value
        return [json.dumps(header).encode() + b"\n", *lines[1:]]

    return mutate


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
    ("time out of order", _edit_record(Kind.TASK_END, _late_time), None,
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


def _complete_records(raw_line: bytes, cut: int) -> int:
    """How many records of a compact batch line end within its first ``cut`` bytes."""
    src, first, records = json.loads(raw_line)
    pos = len(f"[{src},{first},[".encode())
    n = 0
    for r in records:
        pos += len(json.dumps(r, separators=(",", ":")).encode())
        if pos > cut:
            break
        n += 1
        pos += 1  # the comma
    return n


def test_truncation_at_every_byte_of_the_last_lines(tmp_path: Path, lines: list[bytes]) -> None:
    data = b"".join(lines)
    starts = [sum(len(x) for x in lines[:i]) for i in range(len(lines))]
    before = [sum(len(json.loads(x)[2]) for x in lines[1:i]) for i in range(len(lines))]
    first_cut = starts[-3]
    path = tmp_path / "cut.qltrace"
    for cut in range(first_cut, len(data) + 1):
        path.write_bytes(data[:cut])
        i = max(k for k in range(len(lines)) if starts[k] <= cut)
        warnings: list[str] = []
        trace = read_trace(path, on_warning=warnings.append)  # must not raise: cut, not corrupt
        expected = before[i] + (
            _complete_records(lines[i], cut - starts[i]) if cut > starts[i] else 0
        )
        assert trace.n_events == expected, cut
        mid_line = starts[i] < cut < starts[i] + len(lines[i]) - 1
        assert bool(warnings) == mid_line, (cut, warnings)
        assert trace.warnings == tuple(warnings)
        if warnings:
            assert f"line {i + 1} is incomplete" in warnings[0]


def test_truncation_inside_the_header_is_a_trace_error(tmp_path: Path, lines: list[bytes]) -> None:
    path = tmp_path / "cut.qltrace"
    for cut in range(1, len(lines[0]) - 1, 7):
        path.write_bytes(lines[0][:cut])
        with pytest.raises(TraceError, match="line 1"):
            read_trace(path)


def test_a_cut_multibyte_character_is_a_truncation(tmp_path: Path, lines: list[bytes]) -> None:
    tail = '[0,99,[[45,1e9,"stopped"],[47,1e9,"é'.encode()
    path = write(tmp_path, [*lines, tail[:-1]])
    warnings: list[str] = []
    trace = read_trace(path, on_warning=warnings.append)
    assert len(warnings) == 1
    assert trace.batches[-1][2] == [(45, 1e9, "stopped")]


# --------------------------------------------------------------------------- fuzz


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
