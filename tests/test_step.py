"""Step mode and schedules with real processes on the real queue (issue 16 items 2-4)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine.config import apply_overrides, load_preset
from engine.events import LABEL_NONE, Kind, effect_time
from engine.runner import Run
from engine.schedule import ScheduleError, check_names, load_schedule, parse_schedule
from engine.step import State, StepController, StepError

ROOT = Path(__file__).resolve().parent.parent
RUN_TIMEOUT_S = 60.0  # a generous bound on a run that should take about a second
QUEUE_KINDS = {int(Kind.PUT), int(Kind.GET), int(Kind.TASK_DONE), int(Kind.JOIN_BEGIN),
               int(Kind.JOIN_END)}  # fmt: skip


def join_race(method: str = "forkserver", **extra: str):
    """The join-race preset with tiny tasks (time_scale 0.01), so a run takes about a second."""
    sets = [f"start_method={method}", "time_scale=0.01", *(f"{k}={v}" for k, v in extra.items())]
    return apply_overrides(load_preset("join-race"), sets)


def wait_until(run: Run, predicate, what: str, timeout: float = RUN_TIMEOUT_S) -> None:
    """Poll the run (feeding the model and the step controller) until ``predicate()`` holds."""
    import time

    end = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < end, f"timed out waiting until {what}"
        assert not run.ended, f"the run ended ({run.end_reason}) before {what}"
        run.poll(0.01, wait_s=0.02)


def follow(cfg, schedule: str) -> tuple[Run, list[tuple]]:
    """Run ``cfg`` following a shipped schedule to its end; the queue records in effect order."""
    steps = load_schedule(ROOT / "resources" / "schedules" / f"{schedule}.schedule")
    records: list[tuple] = []
    run = Run(cfg, step=True)
    run.add_listener(lambda batch: records.extend((batch[0], r) for r in batch[2]))
    with run:
        run.stepper.follow(steps, f"{schedule}.schedule")
        assert run.wait(RUN_TIMEOUT_S), "the run did not end"
        assert run.stepper.error is None, str(run.stepper.error)
    assert run.end_reason == "joined"
    return run, records


def event_order(run: Run, records: list[tuple]) -> list[tuple[str, str, int]]:
    """(process, operation, task label) of every queue record, in the order they took effect."""
    names = {p.src: p.name for p in run.stepper.procs.values()}
    queue_records = [(s, r) for s, r in records if r[0] in QUEUE_KINDS]
    queue_records.sort(key=lambda sr: effect_time(sr[1]))
    out = []
    for src, r in queue_records:
        label = -9
        if r[0] in (int(Kind.GET), int(Kind.TASK_DONE)) and r[-1] >= 0:
            found = run.model.tasks.label_value(r[-1] if r[0] == int(Kind.TASK_DONE) else r[3])
            label = found[0] if found else -9
        elif r[0] == int(Kind.PUT):
            label = r[4]
        out.append((names[src], Kind(r[0]).name, label))
    return out


# ------------------------------------------------------------------ schedules, every time


@pytest.mark.parametrize("method", ["forkserver", "spawn"])
def test_join_race_schedule_gives_a_premature_join_every_time(method: str) -> None:
    orders = set()
    for _ in range(10):
        run, records = follow(join_race(method), "join-race")
        m = run.model
        assert m.premature_join, "join() did not return before the producer's first put"
        assert m.puts_at_join_return == 0
        assert m.task_dones == 10 and m.unfinished == 0
        orders.add(tuple(event_order(run, records)))
    # The same schedule, the same event order, every time.
    assert len(orders) == 1, orders
    order = orders.pop()
    assert order[:2] == (("main", "JOIN_BEGIN", -9), ("main", "JOIN_END", -9))
    assert order[2] == ("producer-0", "PUT", 0)


@pytest.mark.parametrize("method", ["forkserver", "spawn"])
def test_join_race_correct_schedule_never_gives_a_premature_join(method: str) -> None:
    orders = set()
    for _ in range(10):
        run, records = follow(join_race(method), "join-race-correct")
        m = run.model
        assert m.join_returned_t is not None and not m.premature_join
        assert m.puts_at_join_return == 8  # every task (sentinels are not counted)
        orders.add(tuple(event_order(run, records)))
    assert len(orders) == 1, orders
    order = orders.pop()
    # join() blocked for real and returned only after the very last task_done.
    assert order[-2:] == (("consumer-1", "TASK_DONE", LABEL_NONE), ("main", "JOIN_END", -9))


def test_the_same_schedule_gives_the_same_order_under_both_start_methods() -> None:
    methods = ("forkserver", "spawn")
    orders = [event_order(*follow(join_race(m), "join-race-correct")) for m in methods]
    assert orders[0] == orders[1]


def test_the_join_race_lesson_offers_its_schedules_and_says_how() -> None:
    from engine.schedule import schedules_for

    assert schedules_for("join-race") == ["join-race", "join-race-correct"]
    assert schedules_for("tutorial") == []
    words = load_preset("join-race").explanation
    assert "Run ▸ Step mode" in words
    assert "--schedule join-race" in words and '"join-race-correct"' in words


# ------------------------------------------------------------------ blocked operations


def test_a_get_on_an_empty_queue_is_shown_blocked_blocks_for_real_and_a_put_unblocks_it() -> None:
    with Run(join_race(), step=True) as run:
        st: StepController = run.stepper
        wait_until(run, lambda: st.quiet(run.model), "every process waits for permission")
        c0 = st.find("consumer-0")
        assert c0.state is State.PENDING and c0.op == int(Kind.GET)
        assert st.would_block(c0, run.model) == "the queue is empty"
        assert st.would_block(st.find("producer-0"), run.model) is None
        st.grant("consumer-0", run.model)
        wait_until(run, lambda: st.settled(run.model), "the granted get settles")
        # Granted, and now blocked for real in CPython's get(): no record of a get came.
        assert c0.state is State.GRANTED
        assert st.blocked(c0, run.model) == "the queue is empty"
        assert run.model.gets == 0
        assert "blocked in queue.get(): the queue is empty" in st.state_words(c0, run.model)
        # Nothing to let go for a process blocked in its operation.
        with pytest.raises(StepError, match="consumer-0 has no operation waiting"):
            st.grant("consumer-0", run.model)
        # Stepping the producer unblocks it: the put's item reaches the blocked get.
        st.grant("producer-0", run.model)
        wait_until(run, lambda: c0.state is State.PENDING and st.quiet(run.model),
                   "consumer-0 took the task and waits to mark it done")  # fmt: skip
        assert run.model.gets == 1
        assert c0.op == int(Kind.TASK_DONE)
        assert st.op_text(c0, run.model) == "queue.task_done() for task 0"
        assert [s.text() for s in st.schedule] == ["consumer-0:get", "producer-0:put"]


def test_a_schedule_naming_a_blocked_process_is_refused_with_its_step_number() -> None:
    steps = parse_schedule("# consumer-0 takes from an empty queue\nconsumer-0:get\n"
                           "consumer-0:task_done\nproducer-0:put\n", "bad.schedule")  # fmt: skip
    with Run(join_race(), step=True) as run:
        run.stepper.follow(steps, "bad.schedule")
        wait_until(run, lambda: run.stepper.error is not None, "the schedule is refused")
        text = str(run.stepper.error)
        assert text.startswith("step 2 (bad.schedule line 3) asks for consumer-0:task_done")
        assert "consumer-0 is blocked: the queue is empty" in text
        assert run.model.puts == 0  # the steps after the refused one did not happen


def test_a_schedule_whose_operation_does_not_match_is_refused() -> None:
    steps = parse_schedule("producer-0:get\n", "x.schedule")
    with Run(join_race(), step=True) as run:
        run.stepper.follow(steps, "x.schedule")
        wait_until(run, lambda: run.stepper.error is not None, "the schedule is refused")
        assert "step 1 (x.schedule line 1) asks for producer-0:get, but producer-0's next " \
               "operation is put" in str(run.stepper.error)


def test_schedule_files_are_checked_before_anything_starts(tmp_path: Path) -> None:
    with pytest.raises(ScheduleError, match="line 2: expected 'process:operation'"):
        parse_schedule("main:join\nproducer-0 put\n", "f")
    with pytest.raises(ScheduleError, match="line 1: unknown operation 'take'"):
        parse_schedule("consumer-0:take\n", "f")
    with pytest.raises(ScheduleError, match=r"step 2 \(line 3\): there is no process 'consumer-7'"):
        check_names(parse_schedule("main:join\n\nconsumer-7:get\n", "f"), join_race(), "f")
    toml = tmp_path / "s.toml"
    toml.write_text('steps = ["main:join", "producer-0:put"]\n')
    assert [s.text() for s, _ in load_schedule(toml)] == ["main:join", "producer-0:put"]
    bad = tmp_path / "bad.schedule"
    bad.write_text("main:join\nconsumer-9:get\n")
    proc = subprocess.run(
        [sys.executable, "main.py", "run", "--preset", "join-race", "--schedule", str(bad)],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 2
    assert "step 2 (line 2): there is no process 'consumer-9'" in proc.stderr
    assert "Producer starting" not in proc.stdout  # nothing started


def test_run_with_a_schedule_that_cannot_be_followed_stops_naming_the_step(tmp_path: Path) -> None:
    bad = tmp_path / "blocked.schedule"
    bad.write_text("consumer-1:get\n# then\nconsumer-1:task_done\n")
    proc = subprocess.run(
        [sys.executable, "main.py", "run", "--preset", "join-race", "--set", "time_scale=0.01",
         "--schedule", str(bad)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 3, proc.stderr
    said = ("queuelab: the schedule cannot be followed: step 2 (blocked.schedule line 3) asks "
            "for consumer-1:task_done, but consumer-1 is blocked: the queue is empty")
    assert said in proc.stderr


# ------------------------------------------------------------------ run --step, through stdin


def test_run_step_reads_choices_from_stdin_and_saves_the_schedule(tmp_path: Path) -> None:
    saved = tmp_path / "mine.schedule"
    proc = subprocess.run(
        [sys.executable, "main.py", "run", "--preset", "join-race", "--set", "time_scale=0.01",
         "--step", "--save-schedule", str(saved)],
        cwd=ROOT, input="main\n1\nconsumer-9\n2\n\n", capture_output=True, text=True,
        timeout=120, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    out = proc.stdout
    assert proc.returncode == 0, proc.stderr
    # The first prompt: every process numbered with its pending operation, blocked ones marked.
    first = out[out.index("--- step 1: who goes next? ---"):out.index("  step 1:")]
    assert "0  main        queue.join()" in first
    assert "1  producer-0  queue.put((0," in first
    from engine.codegen import code_line_map, generate_program

    lines = code_line_map(generate_program(join_race()))  # the program `code` prints
    get, join = lines["get"], lines["join"]
    assert f"2  consumer-0  queue.get()  (line {get})  BLOCKED: the queue is empty" in first
    assert f"  step 1: main queue.join() (line {join}: queue.join())" in out
    assert "(waiting for producer-0 to exit (producer_process.join()))" in out
    assert "there is no process named 'consumer-9'" in out
    # consumer-0's get was let go after the put, then Enter let the earliest waiting one go,
    # then the end of input let the run go on freely.
    assert "  step 3: consumer-0 queue.get()" in out
    assert "(end of input: the run goes on freely)" in out
    assert "premature: 8 tasks not yet put" in out
    steps = [s.text() for s, _ in load_schedule(saved)]
    assert steps[:3] == ["main:join", "producer-0:put", "consumer-0:get"] and len(steps) == 4
    assert f"saved to {saved}" in proc.stderr


def test_would_block_is_judged_on_the_model_counters_for_each_operation() -> None:
    """get on an empty queue, put on a full one, join with unfinished tasks; never qsize()."""
    from types import SimpleNamespace

    from engine.step import OP_CODES, Proc

    st = StepController({0: "main", 1: "producer-0", 2: "consumer-0"}, 2,
                        SimpleNamespace(value=1))  # fmt: skip
    model = SimpleNamespace(depth=0, unfinished=0)

    def pending(src: int, op: str) -> Proc:
        p = st.procs[src]
        p.state, p.op = State.PENDING, OP_CODES[op]
        return p

    get, put, join = pending(2, "get"), pending(1, "put"), pending(0, "join")
    assert st.would_block(get, model) == "the queue is empty"
    assert st.would_block(put, model) is None and st.would_block(join, model) is None
    model.depth = model.unfinished = 2  # maxsize 2: full
    assert st.would_block(get, model) is None
    assert st.would_block(put, model) == "the queue is full (2 items)"
    assert st.would_block(join, model) == "2 items unfinished (put, not yet task_done)"
    # "Next" skips what would block: consumer-0's get goes before the full put and the join.
    assert st.next_choice(model).name == "consumer-0"
