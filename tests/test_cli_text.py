"""What `run` prints, read as text: the summary, and the diagnosis for every way a run can end.

Documented in README's command-line section: the tutorial's lines and the summary go to stdout;
a run that ended as it should prints its findings after the summary on stdout ("--- diagnosis
---"); one that did not prints one line on stderr saying why ("queuelab: ..."), followed by the
findings ("  - ..."). Every test runs the real command in a real subprocess.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine.explain import SETTLE_S
from tests.faults import reap, titled, wait_for, worker_pids

ROOT = Path(__file__).resolve().parent.parent
SUMMARY = "--- summary ---"
DIAGNOSIS = "--- diagnosis ---"
SUMMARY_LINES = [
    r"\d+ puts, \d+ gets, \d+ task_done calls, \d+ unfinished",
    r"queue\.join\(\) (returned at \d+\.\d\d s.*|waiting: .*|not called yet)",
    r"throughput \d+\.\d\d tasks/s over \d+\.\d\d s; mean wait \d+\.\d ms, "
    r"mean service \d+\.\d ms",
    r"\d+ events received, \d+ lost",
]
# The producer's first pause is 0.17 s, its second 72 s (seed 74, drawn by engine/workers.py):
# one task is put and then nothing for a minute. Every task fails and the consumer skips
# task_done(), so the diagnosis names task 0 while the producer is still alive: a run that is
# stuck but not hopeless (the producer may still put).
PACED_FAILING = [
    "--set", "seed=74", "--set", "put_interval=uniform(0, 120)", "--set", "tasks_per_producer=3",
    "--set", "task_duration=constant(0)", "--set", "failure_rate=1",
    "--set", "on_failure=skip_task_done",
]  # fmt: skip
TASK_0_MISSING = (
    "task_done() missing: consumer-0 took task 0 and never called task_done() for it; every "
    "consumer is waiting in get(), so the unfinished counter is stuck at 1"
)


def cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), *args],
        capture_output=True, text=True, timeout=timeout, cwd=ROOT,
    )  # fmt: skip


def start(*args: str) -> subprocess.Popen[str]:
    # A session of its own, as a terminal gives a command: Ctrl+C goes to its whole group.
    return subprocess.Popen(
        [sys.executable, str(ROOT / "main.py"), *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
        start_new_session=True,
    )  # fmt: skip


def ctrl_c(p: subprocess.Popen[str]) -> None:
    """What Ctrl+C in a terminal does: SIGINT to every process of the foreground group, the
    workers included (they must leave the decision to the parent)."""
    os.killpg(p.pid, signal.SIGINT)


def summary_of(stdout: str) -> list[str]:
    """The summary's lines, checked against their documented shapes."""
    lines = stdout.splitlines()
    assert SUMMARY in lines, stdout[-2000:]
    i = lines.index(SUMMARY)
    body = lines[i + 1 : i + 1 + len(SUMMARY_LINES)]
    for line, shape in zip(body, SUMMARY_LINES, strict=True):
        assert re.fullmatch(shape, line), (line, shape)
    return body


def stdout_findings(stdout: str) -> list[str]:
    """The sentences after "--- diagnosis ---" on stdout ([] when there is none)."""
    lines = stdout.splitlines()
    if DIAGNOSIS not in lines:
        return []
    rest = lines[lines.index(DIAGNOSIS) + 1 :]
    assert all(x.startswith("- ") for x in rest), rest
    return [x[2:] for x in rest]


def stderr_ending(stderr: str) -> tuple[str, list[str]]:
    """(the "queuelab: ..." line saying why the run ended abnormally, the findings under it)."""
    lines = [x for x in stderr.splitlines() if not x.startswith("queuelab: warning:")]
    assert lines and lines[0].startswith("queuelab: "), stderr
    assert all(x.startswith("  - ") for x in lines[1:]), stderr
    return lines[0][len("queuelab: ") :], [x[4:] for x in lines[1:]]


# --------------------------------------------------------------------------- joined


def test_a_joined_run_prints_the_summary_and_nothing_on_stderr() -> None:
    p = cli("run", "--set", "time_scale=0.02", "--set", "seed=7")
    assert p.returncode == 0 and p.stderr == "", p.stderr
    puts, join, _rate, events = summary_of(p.stdout)
    assert puts == "11 puts, 11 gets, 11 task_done calls, 0 unfinished"
    assert join.startswith("queue.join() returned at ") and "premature" not in join
    assert events.endswith(" 0 lost")
    assert stdout_findings(p.stdout) == []
    # The summary is the end: the tutorial's last line comes before it.
    lines = p.stdout.splitlines()
    assert lines.index("Main found that all tasks are processed") < lines.index(SUMMARY)


@pytest.mark.slow
def test_a_joined_run_prints_the_same_findings_as_json(tmp_path: Path) -> None:
    # join-race ends with exit 0 but with a finding: the premature join. The text summary must
    # carry the very sentences --json (here: replay --json of the same run) carries.
    trace = tmp_path / "race.qltrace"
    p = cli("run", "--preset", "join-race", "--set", "time_scale=0.3", "--trace", str(trace))
    assert p.returncode == 0 and p.stderr == "", p.stderr
    found = stdout_findings(p.stdout)
    assert found and found[0].startswith("premature join: returned while producer-0 was still")
    replayed = cli("replay", str(trace), "--json")
    assert replayed.returncode == 0, replayed.stderr
    assert found == json.loads(replayed.stdout)["diagnosis"]
    _puts, join, _rate, _events = summary_of(p.stdout)
    assert join.endswith(" tasks not yet put)") and "(premature: " in join


@pytest.mark.slow
def test_makespan_of_a_premature_join_is_the_whole_run() -> None:
    # join-race's producer pauses 0.3 s x time_scale before each of its 8 puts, so its last
    # task cannot be done before 8 x 0.3 x 0.5 = 1.2 s, whenever join() returned: the
    # makespan is the whole run's, not the span to that premature return.
    p = cli("run", "--preset", "join-race", "--set", "time_scale=0.5", "--json")
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    assert d["premature_join"] and d["join_returned_at_s"] < d["makespan_s"]
    assert d["makespan_s"] >= 8 * 0.3 * 0.5
    assert d["throughput_per_s"] == pytest.approx(8 / d["makespan_s"])


# --------------------------------------------------------------------------- worker died


@pytest.mark.slow
def test_a_death_is_said_on_stderr_with_the_dead_worker_named() -> None:
    p = start("run", "--set", "consumers=2", "--set", "sentinels=per_consumer",
              "--set", "tasks_per_producer=40", "--set", "task_duration=constant(0.5)")  # fmt: skip
    pids: list[int] = []
    try:
        # Once it has done a task, its start (and pid) is on record.
        _read_until(p, ".consumer-0 got (")
        found = wait_for(lambda: titled(p.pid, "queuelab consumer-0"), 20.0)
        assert found, "no process titled 'queuelab consumer-0' below the CLI"
        pids = worker_pids(p.pid)
        victim = found[0].pid
        os.kill(victim, signal.SIGKILL)
        out, err = p.communicate(timeout=60)
    finally:
        reap(p, pids)
    assert p.returncode == 3, err
    why, findings = stderr_ending(err)
    assert why == "a worker died"
    assert findings and findings[0].startswith(
        f"consumer-0 (pid {victim}) died with exit code -9 (SIGKILL)"
    ), findings
    summary_of(out)
    assert stdout_findings(out) == []  # said once, on stderr


# --------------------------------------------------------------------------- hung


@pytest.mark.slow
def test_a_hang_timeout_prints_the_diagnosis_of_the_hang() -> None:
    # Nobody died: the diagnosis must still be printed (it once was only after a death). The
    # producer is alive (its next put is a minute away), so only the timeout ends the run; it
    # counts from queue.join(), called at once (queue_first), and leaves the consumer's wait in
    # get() seconds to settle even when the workers start slowly.
    p = cli("run", *PACED_FAILING, "--set", "join_order=queue_first", "--hang-timeout", "6")
    assert p.returncode == 3, p.stderr
    why, findings = stderr_ending(p.stderr)
    assert why == "the run did not end within 6 s of queue.join()"
    # join() may have returned at once (nothing was put yet: premature) or be waiting.
    assert [f for f in findings if f.startswith(TASK_0_MISSING)], findings
    assert summary_of(p.stdout)[0] == "1 puts, 1 gets, 0 task_done calls, 1 unfinished"
    assert stdout_findings(p.stdout) == []  # said once, on stderr


# --------------------------------------------------------------------------- hopeless


HOPELESS = {
    # the commands, each ends by itself (no --hang-timeout) with exit 3
    "tutorial, one sentinel, four consumers": (
        ["--set", "consumers=4", "--set", "tasks_per_producer=200",
         "--set", "task_duration=uniform(0,0.01)"],
        r"consumer-\d, consumer-\d and consumer-\d wait in get\(\) forever: the queue is empty "
        r"and nothing will put to it any more",
        "missing sentinels: 4 consumers, 1 sentinel — ",
    ),
    "one-sentinel-many-consumers": (
        ["--preset", "one-sentinel-many-consumers", "--set", "time_scale=0.3"],
        r"consumer-\d and consumer-\d wait in get\(\) forever: .*",
        "missing sentinels: 3 consumers, 1 sentinel — ",
    ),
    "forgot-task-done": (
        ["--preset", "forgot-task-done", "--set", "time_scale=0.3"],
        r"every worker has exited with 2 unfinished, so queue\.join\(\) can never return",
        "task_done() missing: consumer-",
    ),
}  # fmt: skip


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(HOPELESS))
def test_a_hopeless_run_ends_by_itself_with_its_diagnosis(case: str) -> None:
    args, why_shape, finding = HOPELESS[case]
    p = cli("run", *args)
    assert p.returncode == 3, p.stderr
    why, findings = stderr_ending(p.stderr)
    assert re.fullmatch("the run can never end: " + why_shape, why), why
    assert findings and findings[0].startswith(finding), findings
    body = summary_of(p.stdout)
    if case == "forgot-task-done":
        # Both consumers exited without task_done() for tasks 1 and 5: none is in progress.
        assert body[1] == ("queue.join() waiting: 2 unfinished — 0 queued, 0 in progress, "
                           "2 not marked done")  # fmt: skip
    # The workers the stop ended are not reported as deaths.
    assert [x for x in p.stdout.splitlines() if " died " in x] == []
    if "wait in get" in why:
        assert re.search(r"^Main stopped consumer-\d \(exit code -15\)$", p.stdout, re.M)


@pytest.mark.slow
def test_a_hopeless_run_in_json_carries_the_diagnosis_it_prints() -> None:
    p = cli("run", "--preset", "forgot-task-done", "--set", "time_scale=0.3", "--json")
    assert p.returncode == 3, p.stderr
    _why, findings = stderr_ending(p.stderr)
    doc = json.loads(p.stdout)
    assert doc["diagnosis"] == findings
    assert (doc["unfinished"], doc["in_flight"], doc["not_marked_done"]) == (2, 2, 2)


# --------------------------------------------------------------------------- interrupted


def _read_until(p: subprocess.Popen[str], prefix: str) -> list[str]:
    """Lines of stdout up to and including the first that starts with ``prefix``."""
    assert p.stdout is not None
    lines: list[str] = []
    for line in p.stdout:
        lines.append(line.rstrip("\n"))
        if line.startswith(prefix):
            return lines
    raise AssertionError(f"stdout ended without {prefix!r}: {lines}")


@pytest.mark.slow
def test_ctrl_c_prints_the_summary_and_the_diagnosis() -> None:
    p = start("run", *PACED_FAILING)
    pids: list[int] = []
    try:
        _read_until(p, "!consumer failed on (0, ")
        pids = worker_pids(p.pid)
        # The consumer has waited in get() since its failure; the diagnosis calls that stuck
        # once it has lasted SETTLE_S (the producer's next put is a minute away).
        time.sleep(SETTLE_S + 0.5)
        ctrl_c(p)
        rest, err = p.communicate(timeout=30)
    finally:
        reap(p, pids)
    assert p.returncode == 130, err
    why, findings = stderr_ending(err)
    assert why == "interrupted; every worker was stopped"
    assert findings == [TASK_0_MISSING + " and queue.join() will wait forever."]
    assert summary_of(rest)[0] == "1 puts, 1 gets, 0 task_done calls, 1 unfinished"
    assert "Traceback" not in err and " died " not in rest


@pytest.mark.slow
def test_ctrl_c_on_a_healthy_run_prints_the_summary_and_why_it_ended() -> None:
    p = start("run", "--set", "tasks_per_producer=50", "--set", "task_duration=constant(0.5)")
    pids: list[int] = []
    try:
        _read_until(p, ".consumer got (0, ")
        pids = worker_pids(p.pid)
        ctrl_c(p)
        rest, err = p.communicate(timeout=30)
    finally:
        reap(p, pids)
    assert p.returncode == 130, err
    assert stderr_ending(err) == ("interrupted; every worker was stopped", [])
    _puts, join, _rate, _events = summary_of(rest)
    assert join.startswith("queue.join() waiting: ") or join == "queue.join() not called yet"
    assert "Main stopped the run (interrupted)" in rest.splitlines()
    assert "Traceback" not in err and " died " not in rest and "exited with code" not in rest


# --------------------------------------------------------------------------- no display


def _no_display_env() -> dict[str, str]:
    gone = ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")
    return {k: v for k, v in os.environ.items() if k not in gone}


@pytest.mark.parametrize("args", [[], ["gui", "--preset", "tutorial"], ["replay", "TRACE"],
                                  ["compare", "TRACE", "TRACE"]])  # fmt: skip
def test_a_window_without_a_display_says_how_to_go_on(tmp_path: Path, args: list[str]) -> None:
    if "TRACE" in args:
        trace = tmp_path / "t.qltrace"
        made = cli("run", "--set", "time_scale=0.01", "--set", "tasks_per_producer=2",
                   "--trace", str(trace))  # fmt: skip
        assert made.returncode == 0, made.stderr
        args = [str(trace) if a == "TRACE" else a for a in args]
    p = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), *args],
        capture_output=True, text=True, timeout=60, cwd=ROOT, env=_no_display_env(),
    )  # fmt: skip
    assert p.returncode == 2, (p.returncode, p.stderr[-2000:])
    assert p.stdout == ""
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1, p.stderr
    assert lines[0].startswith("queuelab: error: no display")
    assert "'python main.py run'" in lines[0] and "'xvfb-run -a python main.py'" in lines[0]


def test_without_a_display_bad_input_is_still_named_first() -> None:
    p = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "gui", "--preset", "no-such-preset"],
        capture_output=True, text=True, timeout=60, cwd=ROOT, env=_no_display_env(),
    )  # fmt: skip
    assert p.returncode == 2 and "unknown preset 'no-such-preset'" in p.stderr, p.stderr
