"""The headless command line: tutorial lines, JSON summary, exit codes, bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
JSON_KEYS = {
    "puts", "gets", "task_dones", "unfinished", "join_returned", "join_returned_at_s",
    "premature_join", "makespan_s", "throughput_per_s", "events", "events_lost", "workers",
    "diagnosis",
}


def cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), *args],
        capture_output=True, text=True, timeout=timeout, cwd=ROOT,
    )


def test_tutorial_preset_prints_the_tutorial_lines_in_order() -> None:
    p = cli("run", "--preset", "tutorial", "--set", "time_scale=0.05", "--set", "seed=7")
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    body = lines[: lines.index("--- summary ---")]
    added = [x for x in body if x.startswith(".producer added (")]
    got = [x for x in body if x.startswith(".consumer got (")]
    assert len(added) == 10 and len(got) == 10
    # The same task values, in the same order, on both sides of the queue.
    assert [a.split("added ")[1] for a in added] == [g.split("got ")[1] for g in got]
    assert [a.split("(")[1].split(",")[0] for a in added] == [str(i) for i in range(10)]
    order = [
        "Producer starting",
        "Producer finished",
        "Main found that the producer has finished",
        "Main found that all tasks are processed",
    ]
    idx = [body.index(x) for x in order]
    assert idx == sorted(idx)
    assert body.index("Producer starting") < body.index(added[0])
    assert body.index(added[-1]) < body.index("Producer finished")
    assert body.index(got[-1]) < body.index("Main found that all tasks are processed")
    assert "Consumer starting" in body and "Consumer finished" in body


def test_same_seed_same_values() -> None:
    a = cli("run", "--set", "time_scale=0.01", "--set", "seed=3")
    b = cli("run", "--set", "time_scale=0.01", "--set", "seed=3")
    pick = lambda p: [x for x in p.stdout.splitlines() if x.startswith(".producer added")]  # noqa: E731
    assert pick(a) == pick(b) and len(pick(a)) == 10


def test_json_summary_has_every_key_and_counts_add_up() -> None:
    p = cli("run", "--json", "--set", "time_scale=0.02", "--set", "consumers=2",
            "--set", "sentinels=per_consumer", "--set", "tasks_per_producer=15")
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    assert d.keys() >= JSON_KEYS
    assert d["puts"] == 15 + 2 and d["gets"] == 17 and d["task_dones"] == 17
    assert d["unfinished"] == 0 and d["join_returned"] and not d["premature_join"]
    assert d["events_lost"] == 0 and d["events"] > 17 * 2
    assert [w["name"] for w in d["workers"]] == ["producer-0", "consumer-0", "consumer-1"]
    assert sum(w["tasks_done"] for w in d["workers"]) == 15
    assert all(w["exitcode"] == 0 and w["pid"] > 0 for w in d["workers"])


def test_queue_first_join_reports_premature_join() -> None:
    p = cli("run", "--json", "--set", "join_order=queue_first", "--set", "time_scale=1",
            "--set", "put_interval=constant(0.05)", "--set", "task_duration=constant(0)")
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    assert d["join_returned"] and d["premature_join"]


@pytest.mark.parametrize(
    "args, words",
    [
        (["--set", "consumers=0"], ["consumers", "0"]),
        (["--set", "time_scale=nan"], ["time_scale", "nan"]),
        (["--set", "consumer=2"], ["consumer", "consumers"]),
        (["--config", "/nonexistent/x.toml"], ["/nonexistent/x.toml"]),
        (["--preset", "no-such-preset"], ["no-such-preset"]),
        (["--set", "novalue"], ["novalue"]),
    ],
)
def test_bad_input_exits_2_with_one_clear_line(args: list[str], words: list[str]) -> None:
    p = cli("run", *args)
    assert p.returncode == 2
    err = p.stderr.strip()
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    for w in words:
        assert w.lower() in err.lower()
    assert p.stdout == ""


def test_bad_toml_names_the_line(tmp_path: Path) -> None:
    f = tmp_path / "bad.toml"
    f.write_text("producers = 1\nconsumers = = 2\n")
    p = cli("run", "--config", str(f))
    assert p.returncode == 2 and "line 2" in p.stderr and "Traceback" not in p.stderr


def test_hang_timeout_ends_a_slow_but_alive_run_with_exit_3() -> None:
    # A consumer busy for 30 s: nothing is hopeless (it will finish), only slow.
    p = cli("run", "--hang-timeout", "1.5", "--set", "tasks_per_producer=2",
            "--set", "task_duration=constant(30)")  # fmt: skip
    assert p.returncode == 3, p.stderr
    assert p.stderr.startswith("queuelab: the run did not end within 1.5 s of queue.join()\n")


def test_presets_lists_tutorial() -> None:
    p = cli("presets")
    assert p.returncode == 0 and p.stdout.splitlines()[0].startswith("tutorial")


PRESET_OUTCOMES = {
    # preset: (exit code, premature join, words the diagnosis must contain)
    "tutorial": (0, False, []),
    "join-race": (0, True, ["premature join", "producer-0"]),
    "one-sentinel-many-consumers": (3, False, ["sentinel", "consumer-"]),
    "forgot-task-done": (3, False, ["task_done() missing", "consumer-", "took task"]),
    "extra-task-done": (0, False, []),
    "join-immediately": (0, False, []),
    "bounded-queue": (0, False, []),
    "failure-retry": (0, False, []),
    "counter-not-removal": (0, False, []),
    "many-consumers": (0, False, []),
    "how-many-workers": (0, False, []),
    "near-saturation": (0, False, []),
    "own-function": (0, False, []),
}


@pytest.mark.slow
@pytest.mark.parametrize("preset", sorted(PRESET_OUTCOMES))
def test_every_preset_headless_exit_code_and_diagnosis(preset: str) -> None:
    code, premature, words = PRESET_OUTCOMES[preset]
    # A run expected to finish gets all the time a loaded machine may need; one that can never
    # finish gets no --hang-timeout at all: it must end by itself (the hopeless rule).
    wait = ["--hang-timeout", "90"] if code == 0 else []
    p = cli("run", "--preset", preset, "--json", *wait, "--set", "time_scale=0.3", timeout=180)
    assert p.returncode == code, (p.returncode, p.stderr[-2000:])
    if code:
        assert p.stderr.startswith("queuelab: the run can never end: "), p.stderr
    d = json.loads(p.stdout)
    assert d["premature_join"] is premature
    text = " ".join(d["diagnosis"])
    for w in words:
        assert w in text, (w, d["diagnosis"])
    if code == 0 and not premature:
        assert d["join_returned"] and d["unfinished"] == 0


def test_every_preset_has_an_expected_outcome() -> None:
    from engine.config import list_presets

    assert {name for name, _title in list_presets()} == set(PRESET_OUTCOMES)


@pytest.mark.slow
def test_run_json_and_trace_hold_every_event_of_a_flood(tmp_path):
    # 3 records per task arrive faster than the parent reduces them: the summary and the
    # trace must still hold every one once the run has ended.
    trace = tmp_path / "flood.qltrace"
    r = cli("run", "--set", "tasks_per_producer=30000", "--set", "consumers=2",
            "--set", "task_duration=0", "--set", "put_interval=0",
            "--set", "sentinels=per_consumer",
            "--json", "--trace", str(trace), timeout=180)
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)
    assert (summary["puts"], summary["gets"], summary["task_dones"]) == (30002, 30002, 30002)
    assert summary["events_lost"] == 0
    from engine.tracefile import read_trace

    assert read_trace(str(trace)).n_events == summary["events"]
