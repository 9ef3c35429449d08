"""Step mode's think time is not the program's time, and a process at its gate says so."""

from __future__ import annotations

import time

import numpy as np
import pytest

from engine.events import LABEL_NONE, Kind
from engine.explain import summary_lines
from engine.flow_layout import flow_frame
from engine.runner import Run
from engine.states import Activity
from tests.test_step import RUN_TIMEOUT_S, join_race, wait_until

THINK_S = 0.4  # the "user" thinks this long before each choice (a lower bound is asserted)
CHOICES = 3


def stepped_run() -> tuple[Run, list[tuple[int, tuple]], list[dict]]:
    """join-race stepped by hand: CHOICES choices, each after THINK_S of thinking, then free.

    Returns the run, every record with its stream, and what was seen at each choice.
    """
    records: list[tuple[int, tuple]] = []
    seen: list[dict] = []
    run = Run(join_race(), step=True)
    run.add_listener(lambda batch: records.extend((batch[0], r) for r in batch[2]))
    with run:
        st = run.stepper
        for _ in range(CHOICES):
            # Every process waits at its gate (or is blocked) and a choice is to be made: the
            # clock of the run stops here (STEP_HOLD), as for a pause.
            wait_until(run, lambda: st.held_since is not None and st.quiet(run.model),
                       "everyone waits for the user's choice")  # fmt: skip
            wait_until(run, lambda: run.model.paused, "the model holds its clock")
            m = run.model
            seen.append({
                "activities": {src: w.activity for src, w in m.workers.items() if w.alive},
                "pending": [p.src for p in st.pending()],
                "elapsed": m.rel(time.perf_counter()),
            })  # fmt: skip
            time.sleep(THINK_S)
            m = run.model
            run.poll(0.01, wait_s=0.01)
            seen[-1]["elapsed_after"] = m.rel(time.perf_counter())
            st.grant_next(m)
        st.run_free()
        assert run.wait(RUN_TIMEOUT_S), "the run did not end"
    run.drain(0.05)
    return run, records, seen


@pytest.fixture(scope="module")
def stepped() -> tuple[Run, list[tuple[int, tuple]], list[dict]]:
    return stepped_run()


def test_think_time_is_left_out_of_makespan_and_throughput(stepped) -> None:
    run, records, seen = stepped
    m = run.model
    s = m.summary()
    # Each choice came after at least THINK_S with everyone at a gate.
    assert s.step_wait_s >= CHOICES * THINK_S
    assert s.paused_s == 0.0
    # While the user thinks the run's clock stands still (the charts' time, the status bar's).
    for at_choice in seen:
        assert at_choice["elapsed_after"] == pytest.approx(at_choice["elapsed"], abs=1e-9)
    # The makespan is the wall time from the start to the last task_done minus the think time
    # (all of it came before the end: the run went on freely after the last choice).
    t0 = next(r[1] for src, r in records if r[0] == int(Kind.RUN_START))
    holds = [(r[1], r[2]) for src, r in records if r[0] == int(Kind.STEP_HOLD)]
    assert len(holds) >= 2 * CHOICES and all(src == 0 for src, r in records
                                             if r[0] == int(Kind.STEP_HOLD))  # fmt: skip
    held = sum(b - a for (a, on_a), (b, on_b) in zip(holds[::2], holds[1::2], strict=True)
               if on_a == 1 and on_b == 0)  # fmt: skip
    assert held == pytest.approx(s.step_wait_s, abs=1e-9)
    done_raw = max(r[1] for src, r in records if r[0] == int(Kind.TASK_DONE)
                   and m.tasks.label_value(r[2])[0] != LABEL_NONE)  # fmt: skip
    join_raw = next(r[1] for src, r in records if src == 0 and r[0] == int(Kind.JOIN_END))
    wall_span = max(done_raw, join_raw) - t0
    assert s.makespan_s == pytest.approx(wall_span - s.step_wait_s, abs=1e-6)
    assert wall_span - s.makespan_s >= CHOICES * THINK_S
    done = len(m.done_t)
    assert s.throughput_per_s == pytest.approx(done / s.makespan_s)
    # The summary says how much was left out, and why.
    lines = summary_lines(m)
    assert any(line.startswith("not counted as run time:") and "waiting for step choices" in line
               for line in lines), lines  # fmt: skip
    assert s.to_json()["step_wait_s"] == s.step_wait_s


def test_a_process_at_its_gate_is_shown_waiting_for_a_step(stepped) -> None:
    run, _records, seen = stepped
    # At the first choice the producer waits at its gate before its first put: not "producing".
    first = seen[0]
    assert 1 in first["pending"]
    assert first["activities"][1] == Activity.STEP_WAIT
    for src in first["pending"]:
        if src:
            assert first["activities"][src] == Activity.STEP_WAIT, src
    m = run.model
    producer = m.workers[1]
    t0s, t1s, acts, _labels = producer.intervals.columns(0, len(producer.intervals))
    gated = np.flatnonzero(acts == int(Activity.STEP_WAIT))
    assert gated.size >= 1, "no 'waiting for a step' on the producer's row"
    # The flow view's station words come from the same timeline.
    k = int(gated[0])
    mid = (float(t0s[k]) + float(t1s[k])) / 2
    assert flow_frame(m, mid).producers[0].activity == int(Activity.STEP_WAIT)
    # Once running freely, nobody is shown at a gate any more.
    assert all(w.activity in (Activity.EXITED,) for w in m.workers.values() if w.src)


def test_a_free_run_has_no_think_time() -> None:
    with Run(join_race()) as run:
        assert run.wait(RUN_TIMEOUT_S)
    run.drain(0.05)
    s = run.model.summary()
    assert (s.step_wait_s, s.paused_s) == (0.0, 0.0)
    assert not any(line.startswith("not counted") for line in summary_lines(run.model))
