"""The generated program: the tutorial's code for the tutorial, and every preset run for real
with ``python -I`` (standard library only), its printed lines checked."""

from __future__ import annotations

import ast
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.codegen import (
    BUG_MARK,
    LINE_KEYS,
    code_line_map,
    generate_program,
    main_line_key,
    worker_line_key,
)
from engine.config import FIELDS, RunConfig, load_preset
from engine.distributions import Distribution
from engine.events import ROLE_CONSUMER, ROLE_PRODUCER, Kind
from engine.model import Activity, RunModel
from engine.runner import Run

# The tutorial's complete example, after its two header comments, exactly as published.
TUTORIAL_BODY = """\
from time import sleep
from random import random
from multiprocessing import JoinableQueue
from multiprocessing import Process

# task for the producer process
def producer(queue):
    print('Producer starting', flush=True)
    # add tasks to the queue
    for i in range(10):
        # generate a task
        task = (i, random())
        print(f'.producer added {task}', flush=True)
        # add it to the queue
        queue.put(task)
    # send a signal that no further tasks are coming
    queue.put(None)
    print('Producer finished', flush=True)

# task for the consumer process
def consumer(queue):
    print('Consumer starting', flush=True)
    # process items from the queue
    while True:
        # get a task from the queue
        task = queue.get()
        # check for signal that we are done
        if task is None:
            break
        # process the item
        sleep(task[1])
        print(f'.consumer got {task}', flush=True)
        # mark the unit of work as processed
        queue.task_done()
    # mark the signal as processed
    queue.task_done()
    print('Consumer finished', flush=True)

# entry point
if __name__ == '__main__':
    # create the shared queue
    queue = JoinableQueue()
    # create and start the producer process
    producer_process = Process(target=producer, args=(queue,))
    producer_process.start()
    # create and start the consumer process
    consumer_process = Process(target=consumer, args=(queue,))
    consumer_process.start()
    # wait for the producer to finish
    producer_process.join()
    print('Main found that the producer has finished', flush=True)
    # wait for the queue to empty
    queue.join()
    print('Main found that all tasks are processed', flush=True)
"""

ALL_DONE = "Main found that all tasks are processed"
PRODUCER_JOINED = "Main found that the producer has finished"
GOT = re.compile(r"\.consumer(?:-\d+)? got \((\d+), ([0-9.e-]+)(?:, \d+)?\)")
ADDED = re.compile(r"\.producer(?:-\d+)? added \((\d+), ([0-9.e-]+)\)")
FAILED = re.compile(r"!consumer(?:-\d+)? failed on \((\d+), .*")
FINISHED = re.compile(r"Consumer(?: \d+)? finished")
FINISH_S = 60.0  # a program that should end gets this long (two shared, busy cores)
HANG_S = 4.0  # a program that hangs by design is watched this long, then killed


class Output:
    def __init__(self, code: int | None, out: str, err: str) -> None:
        self.code, self.err = code, err
        self.lines = out.splitlines()

    def index(self, line: str) -> int:
        return self.lines.index(line)

    def matching(self, rx: re.Pattern[str]) -> list[re.Match[str]]:
        return [m for line in self.lines if (m := rx.fullmatch(line))]

    def where(self, rx: re.Pattern[str]) -> list[int]:
        return [i for i, line in enumerate(self.lines) if rx.fullmatch(line)]


def _group_alive(pgid: int) -> list[int]:
    alive = []
    for p in psutil.process_iter(["pid", "status"]):
        try:
            if os.getpgid(p.pid) == pgid and p.info["status"] != psutil.STATUS_ZOMBIE:
                alive.append(p.pid)
        except (ProcessLookupError, PermissionError, psutil.Error):
            pass
    return alive


def run_program(source: str, folder: Path, *, hangs: bool = False) -> Output:
    """Run ``source`` with ``python -I``; kill its whole process group afterwards, always.

    A program that hangs by design is killed after HANG_S and gives ``code`` None.
    """
    path = folder / "program.py"
    path.write_text(source, encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, "-I", str(path)],
        cwd=folder,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group: one killpg reaches every child
    )
    code: int | None
    try:
        out, err = proc.communicate(timeout=HANG_S if hangs else FINISH_S)
        code = proc.returncode
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        code = None
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + 5
    while _group_alive(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _group_alive(proc.pid), "a child of the generated program survived"
    if hangs:
        assert code is None, f"the program ended (code {code}) although it hangs by design"
    else:
        assert code == 0, f"exit code {code}\n{err}"
    assert "Traceback" not in err, err
    return Output(code, out, err)


def program(name: str, scale: float) -> str:
    return generate_program(load_preset(name).replace(time_scale=scale))


# ----------------------------------------------------------------------------- the tutorial


def test_tutorial_program_is_the_tutorials_complete_example() -> None:
    text = generate_program(load_preset("tutorial"))
    header, _, body = text.partition("from time import sleep\n")
    assert all(line.startswith("# ") for line in header.splitlines())
    assert "from time import sleep\n" + body == TUTORIAL_BODY
    assert BUG_MARK not in text


def test_line_map_of_the_tutorial() -> None:
    text = generate_program(load_preset("tutorial"))
    lines = text.splitlines()
    where = code_line_map(text)
    assert set(LINE_KEYS) <= set(where)
    expected = {
        "put": "queue.put(task)",
        "get": "task = queue.get()",
        "process": "sleep(task[1])",
        "task_done": "queue.task_done()",
        "join": "queue.join()",
        "producer_join": "producer_process.join()",
        "sentinel_put": "queue.put(None)",
        "sentinel_check": "if task is None:",
        "sentinel_task_done": "queue.task_done()",
    }
    for key, statement in expected.items():
        assert lines[where[key] - 1].strip() == statement, key
    assert where["task_done"] < where["sentinel_task_done"]
    assert lines[where["task_done"] - 2].strip() == "# mark the unit of work as processed"


@pytest.mark.slow
def test_tutorial_program_runs(tmp_path: Path) -> None:
    out = run_program(program("tutorial", 0.1), tmp_path)
    # Producer and consumer start at the same moment; the tutorial shows the producer first.
    assert "Producer starting" in out.lines[:2] and "Consumer starting" in out.lines
    assert out.index("Producer starting") < out.where(ADDED)[0]
    got = out.matching(GOT)
    assert [int(m.group(1)) for m in got] == list(range(10))
    assert [int(m.group(1)) for m in out.matching(ADDED)] == list(range(10))
    assert out.where(GOT)[-1] < out.index(ALL_DONE)
    # The consumer's last words and main's race to the end: either may come last.
    assert set(out.lines[-2:]) == {ALL_DONE, "Consumer finished"}
    assert PRODUCER_JOINED in out.lines and len(out.lines) == 26


# ----------------------------------------------------------------------------- every lesson


@pytest.mark.slow
def test_join_race_program_returns_before_the_tasks_are_put(tmp_path: Path) -> None:
    out = run_program(program("join-race", 0.5), tmp_path)
    assert out.index(ALL_DONE) < out.where(ADDED)[-1]
    assert out.index(ALL_DONE) < out.index(PRODUCER_JOINED)
    assert sorted(int(m.group(1)) for m in out.matching(GOT)) == list(range(8))


@pytest.mark.slow
def test_join_race_program_draws_the_same_values_as_the_engine(tmp_path: Path) -> None:
    """Seeded: the program and QueueLab's workers put exactly the same tasks."""
    cfg = load_preset("join-race").replace(time_scale=0.2)
    with Run(cfg) as run:
        assert run.wait(FINISH_S)
    engine = sorted((t[0], t[1]) for t in run.model.tasks.values() if t[0] >= 0)
    out = run_program(generate_program(cfg), tmp_path)
    printed = sorted((int(m.group(1)), float(m.group(2))) for m in out.matching(ADDED))
    assert printed == engine and len(printed) == 8


@pytest.mark.slow
def test_one_sentinel_program_never_ends(tmp_path: Path) -> None:
    out = run_program(program("one-sentinel-many-consumers", 0.2), tmp_path, hangs=True)
    assert ALL_DONE in out.lines  # join() returned...
    assert len(out.where(FINISHED)) == 1  # ...but only one consumer got the None
    assert sorted(int(m.group(1)) for m in out.matching(GOT)) == list(range(9))


@pytest.mark.slow
def test_forgot_task_done_program_waits_forever(tmp_path: Path) -> None:
    out = run_program(program("forgot-task-done", 0.2), tmp_path, hangs=True)
    assert PRODUCER_JOINED in out.lines and ALL_DONE not in out.lines
    assert sorted(int(m.group(1)) for m in out.matching(FAILED)) == [1, 5]
    assert sorted(int(m.group(1)) for m in out.matching(GOT)) == [0, 2, 3, 4, 6, 7]
    assert len(out.where(FINISHED)) == 2  # both consumers left; only join() is stuck


@pytest.mark.slow
def test_extra_task_done_program_catches_the_valueerror(tmp_path: Path) -> None:
    out = run_program(program("extra-task-done", 0.5), tmp_path)
    errors = [x for x in out.lines if x.endswith(": ValueError: task_done() called too many times")]
    takers = {re.match(r"\.(consumer-\d+) got", x).group(1) for x in out.lines if " got " in x}
    assert sorted(e.split(":")[0][1:] for e in errors) == sorted(takers)
    assert len(out.matching(GOT)) == 6 and ALL_DONE in out.lines


@pytest.mark.slow
def test_join_immediately_program(tmp_path: Path) -> None:
    out = run_program(program("join-immediately", 0.2), tmp_path)
    assert out.index("Consumer finished") < out.index(PRODUCER_JOINED) < out.index(ALL_DONE)
    assert len(out.matching(GOT)) == 5


@pytest.mark.slow
def test_bounded_queue_program_holds_the_producer_back(tmp_path: Path) -> None:
    out = run_program(program("bounded-queue", 0.2), tmp_path)
    assert "queue = JoinableQueue(maxsize=3)" in generate_program(load_preset("bounded-queue"))
    # Its last put needs 11 gets (3 places); all but each consumer's last are reported by then.
    got_before = [i for i in out.where(GOT) if i < out.index("Producer finished")]
    assert len(got_before) >= 9
    assert len(out.matching(GOT)) == 12 and ALL_DONE in out.lines


@pytest.mark.slow
def test_failure_retry_program_fails_and_retries_like_the_engine(tmp_path: Path) -> None:
    out = run_program(program("failure-retry", 0.5), tmp_path)
    assert sorted(int(m.group(1)) for m in out.matching(FAILED)) == [1, 2, 2, 3, 3, 3]
    assert len([x for x in out.lines if " retries " in x]) == 5
    assert sorted(int(m.group(1)) for m in out.matching(GOT)) == [0, 1, 2, 4, 5, 6, 7, 8, 9]
    assert ALL_DONE in out.lines


@pytest.mark.slow
def test_counter_not_removal_program(tmp_path: Path) -> None:
    out = run_program(program("counter-not-removal", 0.2), tmp_path)
    assert len(out.matching(GOT)) == 6
    assert out.where(GOT)[-1] < out.index(ALL_DONE)


@pytest.mark.slow
def test_many_consumers_program(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # consumers = "auto" on a 2-CPU machine is 3 (never 1): the program starts 3 consumers.
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    out = run_program(program("many-consumers", 0.3), tmp_path)
    assert sorted(int(m.group(1)) for m in out.matching(GOT)) == list(range(300))
    assert len(out.where(FINISHED)) == 3 and ALL_DONE in out.lines


@pytest.mark.slow
def test_unnarrated_program_runs_and_prints_nothing_per_task(tmp_path: Path) -> None:
    # Every per-task print at once: several consumers, cpu work, failures and retries.
    cfg = RunConfig(
        producers=1, consumers=3, tasks_per_producer=12, workload="cpu", seed=3,
        task_duration=Distribution.constant(0.002), put_interval=Distribution.constant(0),
        sentinels="per_consumer", failure_rate=0.3, on_failure="retry", max_retries=2,
    )  # fmt: skip
    loud = run_program(generate_program(cfg), tmp_path)
    assert len(loud.matching(GOT)) == 12  # the narrated program tells each task's story
    out = run_program(generate_program(cfg, narrate=False), tmp_path)
    assert out.code == 0 and ALL_DONE in out.lines
    # Only the processes' own start/finish lines and main's: none per task.
    allowed = re.compile(r"(?:Producer|Consumer(?: \d+)?) (?:starting|finished)|Main found .*")
    assert [line for line in out.lines if not allowed.fullmatch(line)] == []
    assert len(out.where(FINISHED)) == 3 and len(out.lines) == 3 * 2 + 2 + 2


def test_every_lesson_marks_its_bug() -> None:
    buggy = ("join-race", "one-sentinel-many-consumers", "forgot-task-done", "extra-task-done")
    for name in buggy:
        assert BUG_MARK in generate_program(load_preset(name)), name
    for name in ("tutorial", "join-immediately", "bounded-queue", "failure-retry",
                 "counter-not-removal", "many-consumers"):  # fmt: skip
        assert BUG_MARK not in generate_program(load_preset(name)), name


@pytest.mark.slow
def test_many_producers_spawn_and_a_bounded_queue_run(tmp_path: Path) -> None:
    cfg = RunConfig(
        producers=3, consumers=2, tasks_per_producer=4, maxsize=2, start_method="spawn",
        task_duration="exponential(0.02)", put_interval="normal(0.01, 0.01)", seed=5,
        sentinels="per_consumer", workload="cpu", join_delay=0.05,
    )  # fmt: skip
    out = run_program(generate_program(cfg), tmp_path)
    assert sorted(int(m.group(1)) for m in out.matching(GOT)) == list(range(12))
    assert "Main found that the producers have finished" in out.lines
    assert len(out.where(FINISHED)) == 2 and ALL_DONE in out.lines


# ----------------------------------------------------------------------------- any config

_SPEC = {f.name: f for f in FIELDS}
_finite = {"allow_nan": False, "allow_infinity": False}


def _floats(lo: float, hi: float, **kw: object) -> st.SearchStrategy[float]:
    return st.floats(lo, hi, **_finite, **kw)  # type: ignore[arg-type]


_distributions = st.one_of(
    _floats(0, 86_400).map(Distribution.constant),
    st.tuples(_floats(0, 86_400), _floats(0, 86_400)).map(
        lambda p: Distribution.uniform(min(p), max(p))
    ),
    _floats(0, 86_400, exclude_min=True).map(Distribution.exponential),
    st.tuples(_floats(0, 86_400), _floats(0, 86_400)).map(lambda p: Distribution.normal(*p)),
)
_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=80)

configs = st.builds(
    RunConfig,
    producers=st.integers(1, 64),
    consumers=st.integers(1, 64),
    tasks_per_producer=st.integers(0, 10_000_000),
    maxsize=st.integers(0, 32_767),
    task_duration=_distributions,
    put_interval=_distributions,
    time_scale=_floats(0, 1000, exclude_min=True),
    workload=st.sampled_from(_SPEC["workload"].choices),
    seed=st.none() | st.integers(0, 2**63 - 1),
    start_method=st.sampled_from(_SPEC["start_method"].choices),
    sentinels=st.sampled_from(_SPEC["sentinels"].choices),
    sentinel_task_done=st.booleans(),
    join_order=st.sampled_from(_SPEC["join_order"].choices),
    join_delay=_floats(0, 3600),
    failure_rate=_floats(0, 1),
    on_failure=st.sampled_from(_SPEC["on_failure"].choices),
    max_retries=st.integers(0, 1000),
    extra_task_done=st.booleans(),
    trace=st.booleans(),
    title=_text,
    explanation=_text,
)


def _has_bug(cfg: RunConfig) -> bool:
    return (
        (cfg.sentinels == "single" and cfg.consumers > 1)
        or cfg.sentinels == "none"
        or not cfg.sentinel_task_done
        or cfg.join_order == "queue_first"
        or (cfg.on_failure == "skip_task_done" and cfg.failure_rate > 0)
        or cfg.extra_task_done
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(configs)
def test_any_valid_config_gives_a_program_that_compiles(cfg: RunConfig) -> None:
    text = generate_program(cfg)
    compile(text, "<generated>", "exec")
    tree = ast.parse(text)
    imported = {
        (node.module or "").split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
    } | {a.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
         for a in node.names}  # fmt: skip
    assert imported <= {"time", "random", "multiprocessing"}
    assert {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} >= {"producer", "consumer"}
    where = code_line_map(text)
    assert set(LINE_KEYS) <= set(where)
    lines = text.splitlines()
    assert "queue.get()" in lines[where["get"] - 1]
    assert lines[where["task_done"] - 1].strip() == "queue.task_done()"
    assert lines[where["join"] - 1].strip() == "queue.join()"
    assert (BUG_MARK in text) == _has_bug(cfg)


# A per-task print of the narrated program: what narrate=False leaves out.
PER_TASK_PRINT = re.compile(
    r"print\(f'[.!]\w+(?:-\{identifier\})? (?:added|got|failed on|retries) "
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(configs)
def test_unnarrated_program_is_the_program_without_its_per_task_prints(cfg: RunConfig) -> None:
    narrated = generate_program(cfg)
    assert generate_program(cfg, narrate=True) == narrated  # the default is the narrated one
    quiet = generate_program(cfg, narrate=False)
    compile(quiet, "<generated>", "exec")
    assert not any(PER_TASK_PRINT.search(line) for line in quiet.splitlines())
    # Exactly the per-task prints are gone (and the exception name they used); nothing else.
    kept = [
        line.replace("except Exception as e:", "except Exception:")
        for line in narrated.splitlines()
        if not PER_TASK_PRINT.search(line)
    ]
    assert quiet.splitlines() == kept
    assert any(PER_TASK_PRINT.search(line) for line in narrated.splitlines())


# ----------------------------------------------------------------------------- highlighting


def _model(*records: tuple) -> RunModel:
    m = RunModel()
    m.feed([(0, i, [r]) for i, r in enumerate(records)])
    return m


def test_worker_line_keys_exist_in_the_program() -> None:
    cfg = load_preset("failure-retry")
    where = code_line_map(generate_program(cfg))
    for role in (ROLE_PRODUCER, ROLE_CONSUMER):
        for activity in Activity:
            key = worker_line_key(role, activity)
            assert key is None or key in where, (role, activity)
    assert worker_line_key(ROLE_CONSUMER, Activity.WAIT_GET) == "get"
    assert worker_line_key(ROLE_CONSUMER, Activity.PROCESS) == "process"
    assert worker_line_key(ROLE_PRODUCER, Activity.BLOCK_PUT) == "put"
    assert worker_line_key(ROLE_CONSUMER, Activity.EXITED) is None


def test_main_line_key_follows_the_joins() -> None:
    start = (Kind.RUN_START, 0.0, 1, 1, 10)
    first = load_preset("tutorial")
    race = load_preset("join-race")
    delayed = load_preset("join-immediately")  # join_delay 3 s
    assert main_line_key(_model(start), first) == "producer_join"
    assert main_line_key(_model(start), race) == "join"
    assert main_line_key(_model(start), delayed) == "join_delay"
    joined = (Kind.PRODUCERS_JOINED, 0.5)
    assert main_line_key(_model(start, joined), first) == "join"
    waiting = (Kind.JOIN_BEGIN, 0.6)
    assert main_line_key(_model(start, joined, waiting), first) == "join"
    returned = (Kind.JOIN_END, 0.7)
    assert main_line_key(_model(start, waiting, returned), race) == "producer_join"
    assert main_line_key(_model(start, joined, waiting, returned), first) is None
    assert main_line_key(_model(start, (Kind.RUN_END, 1.0, "stopped")), first) is None
    for cfg in (first, race, delayed):
        where = code_line_map(generate_program(cfg))
        assert {"join", "producer_join"} <= set(where)
    assert "join_delay" in code_line_map(generate_program(delayed))
