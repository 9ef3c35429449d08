"""Exports of recorded runs: CSV rows and Chrome trace-event JSON, parsed back and checked."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from engine.config import RunConfig, apply_overrides
from engine.config_files import load_preset
from engine.events import Kind
from engine.export import CSV_COLUMNS, export_chrome, export_csv
from engine.export_cli import export_main
from engine.replay import replay_model
from engine.runner import Run
from engine.tracefile import Trace, TraceError, TraceWriter, read_trace
from tests.traces import record_until

ROOT = Path(__file__).resolve().parent.parent

PLAIN = RunConfig(tasks_per_producer=20, time_scale=0.02, consumers=2, seed=3)
# Failures with retries: re-puts from consumers and failed attempts. Puts are paced so every
# retry is re-put before the sentinels (as in the failure-retry preset), or join would hang.
RETRY = RunConfig(
    tasks_per_producer=10, consumers=2, seed=2, failure_rate=0.35, on_failure="retry",
    max_retries=2, task_duration="constant(0.15)", put_interval="constant(0.25)",
    time_scale=0.2,
)  # fmt: skip


def record(path: Path, cfg: RunConfig) -> Trace:
    with TraceWriter(path, cfg) as writer:
        run = Run(cfg)
        writer.attach(run)
        with run:
            assert run.wait(60), "the recorded run did not end"
    return read_trace(path)


@pytest.fixture(scope="module", params=[PLAIN, RETRY], ids=["plain", "retry"])
def trace(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Trace:
    return record(tmp_path_factory.mktemp("export") / "run.qltrace", request.param)


# --------------------------------------------------------------------------- CSV


def test_csv_has_one_row_per_event_with_the_documented_columns(
    trace: Trace, tmp_path: Path
) -> None:
    out = tmp_path / "events.csv"
    n = export_csv(trace, out)
    with out.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert n == len(rows) == trace.n_events
    assert tuple(rows[0]) == CSV_COLUMNS
    kinds = Counter(r["kind"] for r in rows)
    expected = Counter(Kind(r[0]).name for _, _, records in trace.batches for r in records)
    assert kinds == expected
    if trace.config.failure_rate:
        assert kinds["TASK_FAIL"] >= kinds["TASK_RETRY"] > 0  # the retry run really retried
    # Every (src, seq) pair appears exactly once.
    assert len({(r["src"], r["seq"]) for r in rows}) == len(rows)
    times = [float(r["t_s"]) for r in rows]
    assert times == sorted(times) and times[0] == 0.0  # RUN_START opens the run
    m = replay_model(trace)
    gets = [r for r in rows if r["kind"] == "GET"]
    assert len(gets) == m.gets
    for r in gets:
        assert float(r["t_end_s"]) >= float(r["t_s"])
        assert r["task_id"] and r["label"]
        assert r["worker"].startswith("consumer-")
    for r in rows:
        if r["kind"] not in ("PUT", "GET", "PUT_FULL", "GET_EMPTY"):
            assert r["t_end_s"] == ""
    puts = [r for r in rows if r["kind"] == "PUT" and r["label"] != "-1"]
    assert {int(r["label"]) for r in puts} == set(
        range(trace.config.producers * trace.config.tasks_per_producer)
    )
    starts = [r for r in rows if r["kind"] == "WORKER_START"]
    assert all(r["text"].startswith("pid=") for r in starts)
    ends = [r for r in rows if r["kind"] == "RUN_END"]
    assert [r["text"] for r in ends] == ["joined"]


def test_csv_to_an_open_stream(trace: Trace) -> None:
    buf = io.StringIO(newline="")
    n = export_csv(trace, buf)
    assert len(buf.getvalue().splitlines()) == n + 1


# --------------------------------------------------------------------------- Chrome trace

PHASES = {"X", "i", "C", "M"}


def _chrome(trace: Trace, tmp_path: Path) -> dict:
    out = tmp_path / "trace.json"
    n = export_chrome(trace, out)
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert len(doc["traceEvents"]) == n
    return doc


def test_chrome_trace_is_valid_trace_event_json(trace: Trace, tmp_path: Path) -> None:
    doc = _chrome(trace, tmp_path)
    assert doc["displayTimeUnit"] == "ms"
    events = doc["traceEvents"]
    for e in events:
        assert e["ph"] in PHASES, e
        assert isinstance(e["name"], str) and e["name"]
        assert isinstance(e["pid"], int) and isinstance(e["tid"], int)
        if e["ph"] != "M":
            assert isinstance(e["ts"], int) and e["ts"] >= 0, e
        if e["ph"] == "X":
            assert isinstance(e["dur"], int) and e["dur"] >= 0, e
        if e["ph"] == "i":
            assert e["s"] in ("g", "p", "t")
        if e["ph"] == "C":
            assert all(isinstance(v, int) for v in e["args"].values())


def test_chrome_trace_has_a_named_track_per_process(trace: Trace, tmp_path: Path) -> None:
    events = _chrome(trace, tmp_path)["traceEvents"]
    names = {e["pid"]: e["args"]["name"] for e in events if e["name"] == "process_name"}
    cfg = trace.config
    assert len(names) == 1 + cfg.producers + cfg.consumers
    pids = {r[2] for src, _, records in trace.batches for r in records if r[0] == Kind.WORKER_START}
    assert pids <= set(names)  # workers' tracks carry their OS pids
    shown = sorted(n.split(" ")[0] for n in names.values())
    assert shown == ["consumer-0", "consumer-1", "main", "producer-0"]
    used = {e["pid"] for e in events}
    assert used <= set(names)


def test_chrome_task_slices_match_completed_tasks(trace: Trace, tmp_path: Path) -> None:
    events = _chrome(trace, tmp_path)["traceEvents"]
    m = replay_model(trace)
    tasks = [e for e in events if e["ph"] == "X" and e["cat"] == "task"]
    assert len(tasks) == len(m.done_t) > 0
    consumers = {
        e["pid"] for e in events if e["name"] == "process_name"
        and e["args"]["name"].startswith("consumer-")
    }  # fmt: skip
    assert {e["pid"] for e in tasks} <= consumers
    assert all(e["name"].startswith("task ") for e in tasks)
    assert len([e for e in events if e["ph"] == "X" and e["cat"] == "sentinel"]) == 2
    main = next(e["pid"] for e in events if e["name"] == "process_name"
                and e["args"]["name"] == "main")  # fmt: skip
    joins = [e["name"] for e in events if e["ph"] == "i" and e["cat"] == "join"
             and e["pid"] == main]  # fmt: skip
    assert joins == ["producers joined", "queue.join() called", "queue.join() returned"]
    exits = [e for e in events if e["ph"] == "i" and e["cat"] == "lifecycle"
             and e["name"].startswith("exit")]  # fmt: skip
    assert len(exits) == trace.config.producers + trace.config.consumers
    last = [e for e in events if e["name"] == "unfinished tasks"][-1]
    assert last["args"]["unfinished"] == 0


def test_chrome_slices_nest_on_every_track(trace: Trace, tmp_path: Path) -> None:
    """Viewers build a call stack per thread: slices must nest or follow, never overlap."""
    events = _chrome(trace, tmp_path)["traceEvents"]
    tracks: dict[tuple[int, int], list[dict]] = defaultdict(list)
    for e in events:
        if e["ph"] == "X":
            tracks[(e["pid"], e["tid"])].append(e)
    assert tracks
    for slices in tracks.values():
        slices.sort(key=lambda e: (e["ts"], -e["dur"]))
        stack: list[int] = []  # end times of the open slices
        for e in slices:
            while stack and stack[-1] <= e["ts"]:
                stack.pop()
            end = e["ts"] + e["dur"]
            assert not stack or end <= stack[-1], e
            stack.append(end)


def test_chrome_marks_tasks_left_without_task_done(tmp_path: Path) -> None:
    cfg = PLAIN
    src_consumer = 1 + cfg.producers
    batches = [
        (0, 0, [(int(Kind.RUN_START), 1.0, 1, 2, 20)]),
        (1, 0, [(int(Kind.PUT), 1.1, 1.1001, 77, 0, 0.5),
                (int(Kind.PUT), 1.2, 1.2001, 78, 1, 0.5)]),
        (src_consumer, 0, [
            (int(Kind.GET), 1.0, 1.15, 77), (int(Kind.TASK_START), 1.16, 77),
            (int(Kind.TASK_FAIL), 1.3, 77, "boom"), (int(Kind.GET), 1.31, 1.32, 78),
            (int(Kind.TASK_END), 1.4, 78), (int(Kind.TASK_DONE), 1.41, 78),
        ]),
    ]  # fmt: skip
    path = tmp_path / "skip.qltrace"
    with TraceWriter(path, cfg) as w:
        w.write(batches)
    events = _chrome(read_trace(path), tmp_path)["traceEvents"]
    slices = {e["name"]: e for e in events if e["ph"] == "X" and e["cat"].startswith("task")}
    assert set(slices) == {"task 0 (no task_done)", "task 1"}
    left = slices["task 0 (no task_done)"]
    assert left["cat"] == "task_incomplete"
    assert left["ts"] == 150_000 and left["dur"] == 160_000  # until the next get began


def test_chrome_shows_blocked_puts_and_task_done_skipped(tmp_path: Path) -> None:
    """forgot-task-done on a queue of one slot, real processes: every PUT_BLOCKED and
    TASK_ABANDON record is an instant on its worker's track naming its task, as failures and
    retries are; a put that said PUT_BLOCKED is a blocked slice. Its join never returns: the
    run is stopped once every worker has exited."""
    cfg = apply_overrides(load_preset("forgot-task-done"), ["maxsize=1", "time_scale=0.2"])
    trace = read_trace(record_until(tmp_path / "forgot.qltrace", cfg, lambda m: m.all_exited()))
    records = [(src, r) for src, _, rs in trace.batches for r in rs]
    blocked = sorted(r[2] for _, r in records if r[0] == Kind.PUT_BLOCKED)
    skipped = sorted(r[2] for _, r in records if r[0] == Kind.TASK_ABANDON)
    assert blocked and len(skipped) == 2  # tasks 1 and 5 fail: the preset's seed
    events = _chrome(trace, tmp_path)["traceEvents"]
    track = {e["pid"]: e["args"]["name"].split(" ")[0] for e in events
             if e["name"] == "process_name"}  # fmt: skip
    said = [e for e in events if e["ph"] == "i" and e["name"] == "put blocked: queue full"]
    assert sorted(e["args"]["task_id"] for e in said) == blocked
    assert {track[e["pid"]] for e in said} == {"producer-0"}
    assert all(e["cat"] == "blocked" for e in said)
    skip = "back to get() without task_done()"
    left = [e for e in events if e["ph"] == "i" and e["name"] == skip]
    assert sorted(e["args"]["task_id"] for e in left) == skipped
    assert all(track[e["pid"]].startswith("consumer-") and e["cat"] == "error" for e in left)
    puts = {e["args"]["task_id"]: e for e in events if e["ph"] == "X"
            and e["name"].startswith("put ")}  # fmt: skip
    assert all(puts[tid]["cat"] == "blocked" for tid in blocked)
    # The CSV names the task of a blocked put too.
    rows = list(csv.DictReader(io.StringIO(_csv_text(trace))))
    assert sorted(int(r["task_id"]) for r in rows if r["kind"] == "PUT_BLOCKED") == blocked


def _csv_text(trace: Trace) -> str:
    buf = io.StringIO()
    export_csv(trace, buf)
    return buf.getvalue()


# --------------------------------------------------------------------------- CLI entry


def test_export_main_writes_both_formats(trace: Trace, tmp_path: Path) -> None:
    err = io.StringIO()
    assert export_main(trace.path, "csv", tmp_path / "a.csv", err=err) == 0
    assert export_main(trace.path, "chrome", tmp_path / "a.json", err=err) == 0
    assert (tmp_path / "a.csv").read_text().count("\n") == trace.n_events + 1
    assert json.loads((tmp_path / "a.json").read_text())["traceEvents"]
    assert "wrote" in err.getvalue()


def test_export_main_refuses_bad_input(tmp_path: Path) -> None:
    bad = tmp_path / "bad.qltrace"
    bad.write_text("")
    with pytest.raises(TraceError, match="empty"):
        export_main(bad, "csv", tmp_path / "x.csv", err=io.StringIO())
    assert not (tmp_path / "x.csv").exists()
    with pytest.raises(ValueError, match="png"):
        export_main(bad, "png", tmp_path / "x.png", err=io.StringIO())


# --------------------------------------------------------------------------- OUT: one rule


@pytest.fixture(scope="module")
def plain_trace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("export-cli") / "run.qltrace"
    record(path, PLAIN)
    return path


def _export_cli(trace: Path, fmt: str, out: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "export", str(trace), "--format", fmt,
         "-o", str(out)],
        capture_output=True, text=True, timeout=120, cwd=ROOT, env=env,
    )  # fmt: skip


@pytest.mark.parametrize(
    "fmt, name, words",
    [
        ("svg", "x.png", ["--format svg", ".png", "name it x.svg", "or use --format png"]),
        ("png", "x.svg", ["--format png", ".svg", "name it x.png", "or use --format svg"]),
        ("png", "x.jpg", ["--format png", ".jpg", "name it x.png"]),
        ("csv", "x.json", ["--format csv", ".json", "name it x.csv", "or use --format chrome"]),
        ("chrome", "x.csv", ["--format chrome", ".csv", "name it x.json", "or use --format csv"]),
        ("csv", "x", ["--format csv", "has no suffix", "name it x.csv"]),
    ],
)
def test_the_format_decides_and_a_name_for_another_is_refused(
    plain_trace: Path, tmp_path: Path, fmt: str, name: str, words: list[str]
) -> None:
    out = tmp_path / name
    p = _export_cli(plain_trace, fmt, out)
    assert p.returncode == 2, p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"queuelab: error: {out}: "), p.stderr
    for w in words:
        assert w in lines[0], (w, lines[0])
    assert not out.exists(), "nothing may be written under a name that says another format"


@pytest.mark.parametrize("fmt", ["csv", "chrome", "png", "svg"])
def test_every_format_says_a_write_error_the_same_way(
    plain_trace: Path, tmp_path: Path, fmt: str
) -> None:
    from engine.export_cli import SUFFIXES

    missing = tmp_path / "no-such-folder" / f"x{SUFFIXES[fmt]}"
    p = _export_cli(plain_trace, fmt, missing)
    assert p.returncode == 2
    assert p.stderr == f"queuelab: error: cannot write {missing}: no such folder {missing.parent}\n"
    # A folder where the file should go: refused before any work, in the same words.
    taken = tmp_path / f"taken{SUFFIXES[fmt]}"
    taken.mkdir()
    p = _export_cli(plain_trace, fmt, taken)
    assert p.returncode == 2
    assert p.stderr.startswith(f"queuelab: error: cannot write {taken}: "), p.stderr
    assert len(p.stderr.strip().splitlines()) == 1 and "Traceback" not in p.stderr


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["png", "svg"])
def test_an_image_export_writes_what_its_format_says(
    plain_trace: Path, tmp_path: Path, fmt: str
) -> None:
    out = tmp_path / f"charts.{fmt}"
    p = _export_cli(plain_trace, fmt, out)
    assert p.returncode == 0, p.stderr
    assert p.stderr == f"queuelab: wrote the charts to {out}\n"
    head = out.read_bytes()[:200]
    assert head.startswith(b"\x89PNG") if fmt == "png" else b"<svg" in head or b"<?xml" in head
