"""The theory's lines after `run`'s summary (engine/explain/summary.py), as exact text.

The figures are chosen so that each line's arithmetic can be checked by hand.
"""

from __future__ import annotations

from test_diagnosis import Script

from engine.events import LABEL_NONE
from engine.events import Kind as K
from engine.explain import Narrator, diagnose, summary_json, summary_lines
from engine.explain.summary import theory_lines
from engine.states import STOP_GRACE_S

LITTLE = {"ratio": 1.04, "mean_in_system": 2.5, "throughput_per_s": 10.0,
          "mean_time_in_system_s": 0.24}
STABLE = {"stable": True, "model": "M/M/2", "note": "", "utilisation": 0.75, "p_wait": 0.643,
          "mean_wait_s": 0.0123}
COMPARE = {"mean_wait_s": {"measured": 0.015, "relative_error": 0.2195}}
BATCH = {"efficiency": 0.8, "makespan_s": 2.5, "makespan_lower_bound_s": 2.0}


def test_every_part_of_the_theory_in_its_line() -> None:
    theory = {"little": LITTLE, "prediction": dict(STABLE, note="service times are constant"),
              "compare": COMPARE, "batch": BATCH, "disagreement": "The two disagree."}
    assert theory_lines(theory) == [
        "--- theory ---",
        "Little's law: L = 2.50 in the system on average, λ·W = 10.00/s × 0.240 s = 2.40 "
        "(ratio 1.04)",
        "M/M/2: ρ = 0.75, P(wait) = 0.64, mean wait predicted 12.3 ms, measured 15.0 ms (+22%)",
        "  (service times are constant)",
        "batch: makespan 2.50 s against a lower bound of 2.00 s (efficiency 80%)",
        "The two disagree.",
    ]


def test_what_the_theory_cannot_say_is_left_out() -> None:
    unknown_error = {"prediction": STABLE,
                     "compare": {"mean_wait_s": {"measured": 0.015, "relative_error": None}}}
    assert theory_lines(unknown_error) == [
        "--- theory ---",
        "M/M/2: ρ = 0.75, P(wait) = 0.64, mean wait predicted 12.3 ms, measured 15.0 ms",
    ]
    unstable = {"prediction": {"stable": False, "model": "M/M/1", "note": "ρ ≥ 1: no steady state"},
                "little": dict(LITTLE, ratio=None),
                "batch": dict(BATCH, efficiency=None)}
    assert theory_lines(unstable) == ["--- theory ---", "M/M/1: ρ ≥ 1: no steady state"]
    assert theory_lines({"little": None, "prediction": None}) == []
    assert theory_lines({"error": "ValueError: no tasks"}) == [
        "--- theory ---", "(could not be computed: ValueError: no tasks)"]


def test_the_summary_lines_and_object_of_a_small_run() -> None:
    s = Script(consumers=1, tasks=2)
    s.put(1, 0.1, 0)
    s.put(1, 0.1, 1)
    for i, t in enumerate((0.2, 0.5)):
        s.get(s.c(0), t, i)
        s.ok(s.c(0), t + 0.25)
    m = s.model()
    lines = summary_lines(m)
    assert lines[:2] == ["--- summary ---", "2 puts, 2 gets, 2 task_done calls, 0 unfinished"]
    # Waits 0.1 and 0.4 s (put at 0.1, taken at 0.2 and 0.5), services 0.25 s each.
    assert "mean wait 250.0 ms, mean service 250.0 ms" in lines[3]
    doc = summary_json(m, 1.0)
    assert doc["puts"] == 2 and doc["task_dones"] == 2


def test_the_tutorial_lines_of_failures_retries_and_a_death() -> None:
    """Narrator's lines (run's tutorial output) for two producers, one consumer."""
    s = Script(producers=2, consumers=1, tasks=1)
    s.put(1, 0.1, 0)
    s.put(2, 0.1, 1)
    c = s.c(0)
    s.get(c, 0.2, 0)
    s.fail(c, 0.3, 0)
    s.rec(c, (K.TASK_RETRY, 0.31, s.current[c], 1))
    s.done(c, 0.32)
    s.done_error(c, 0.33)
    s.exit(1, 0.335)  # a clean exit: its PROC_EXIT says nothing more
    s.rec(0, (K.PRODUCERS_JOINED, 0.34))
    s.get(c, 0.4, 1)
    s.exit(c, 0.6, code=-9)
    m = s.model()
    applied = [(src, r) for src, _seq, records in s.batches for r in records]
    assert Narrator(m).lines(applied) == [
        "Producer 0 starting",
        "Producer 1 starting",
        "Consumer starting",
        ".producer-0 added (0, 0.1)",
        ".producer-1 added (1, 0.1)",
        "!consumer failed on (0, 0.1): TaskFailure: task 0 failed",
        ".consumer retries (0, 0.1) (attempt 2)",
        ".consumer got (0, 0.1)",
        "!consumer: ValueError: task_done() called too many times",
        "Producer 0 finished",
        "Main found that the producers have finished",
        "!consumer-0 died with exit code -9 while holding task 1",
    ]


def test_a_consumer_killed_holding_the_sentinel_is_narrated_in_words() -> None:
    """Its held items are named as the diagnosis names them ("the sentinel None"), not "-1"."""
    s = Script(producers=1, consumers=1, tasks=1)
    s.put(1, 0.1, 0)
    s.put(1, 0.15, LABEL_NONE, value=0.0)
    c = s.c(0)
    s.get(c, 0.2, 0)
    s.get(c, 0.3, LABEL_NONE)  # task 0's task_done forgotten: it holds both
    s.exit(c, 0.6, code=-9)
    m = s.model()
    applied = [(src, r) for src, _seq, records in s.batches for r in records]
    assert Narrator(m).lines(applied)[-1] == (
        "!consumer-0 died with exit code -9 while holding task 0 and the sentinel None"
    )


def test_the_tutorial_lines_of_one_producer_and_a_stop() -> None:
    """One producer: "the producer has finished"; a worker the stop killed is "stopped"."""
    s = Script(producers=1, consumers=2, tasks=1)
    s.put(1, 0.1, 0)
    s.exit(1, 0.15)
    s.put(0, 0.16, LABEL_NONE)  # main's sentinels, then PRODUCERS_JOINED
    s.rec(0, (K.PRODUCERS_JOINED, 0.17))
    c0, c1 = s.c(0), s.c(1)
    s.get(c0, 0.2, 0)
    s.ok(c0, 0.3)
    s.get(c1, 0.35, LABEL_NONE)
    s.done(c1, 0.36)
    s.join(0.18, returned=0.37)
    s.rec(0, (K.STOP, 1.0, "hang timeout"))
    s.exit(c0, 1.1, code=-15)
    m = s.model()
    applied = [(src, r) for src, _seq, records in s.batches for r in records]
    assert Narrator(m).lines(applied)[3:] == [
        ".producer added (0, 0.1)",
        "Producer finished",
        "Main found that the producer has finished",
        ".consumer-0 got (0, 0.1)",
        "Main found that all tasks are processed",
        "Main stopped the run (hang timeout)",
        "Main stopped consumer-0 (exit code -15)",
    ]


def test_workers_killed_at_once_are_deaths_though_the_stop_came_between_their_exits() -> None:
    """kill -9 of every consumer: the first death stops the run, the others' exits are seen
    just after the stop. A SIGKILL before QueueLab's own (sent only once the SIGTERM grace is
    over) came from elsewhere: a death, in the narration and the diagnosis alike. What exits
    later, or by SIGTERM, the stop ended."""
    s = Script(producers=1, consumers=4, tasks=4)
    cs = [s.c(i) for i in range(4)]
    for i, c in enumerate(cs):
        s.put(1, 0.1 + 0.01 * i, i)
        s.get(c, 0.2 + 0.01 * i, i)
    s.exit(cs[0], 0.5, code=-9)
    s.rec(0, (K.STOP, 0.51, "a worker died"))
    s.exit(cs[1], 0.55, code=-9)  # killed with the first, its exit seen after the stop
    s.exit(cs[2], 0.6, code=-15)  # the stop's SIGTERM
    s.exit(cs[3], 0.51 + STOP_GRACE_S + 0.05, code=-9)  # the stop's SIGKILL, after the grace
    s.exit(1, 0.62, code=-15)
    m = s.model()
    assert [w.name for w in m.dead_workers()] == ["consumer-0", "consumer-1"]
    deaths = [ln.split(" (")[0] for ln in diagnose(m) if "died with exit code" in ln]
    assert deaths == ["consumer-0", "consumer-1"]
    applied = [(src, r) for src, _seq, records in s.batches for r in records]
    ends = [ln for ln in Narrator(m).lines(applied) if "exit code" in ln]
    assert ends == [
        "!consumer-0 died with exit code -9 while holding task 0",
        "!consumer-1 died with exit code -9 while holding task 1",
        "Main stopped consumer-2 (exit code -15) while holding task 2",
        "Main stopped consumer-3 (exit code -9) while holding task 3",
        "Main stopped producer-0 (exit code -15)",
    ]
