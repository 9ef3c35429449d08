"""The theory's lines after `run`'s summary (engine/explain/summary.py), as exact text.

The figures are chosen so that each line's arithmetic can be checked by hand.
"""

from __future__ import annotations

from test_diagnosis import Script

from engine.explain import summary_json, summary_lines
from engine.explain.summary import theory_lines

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
