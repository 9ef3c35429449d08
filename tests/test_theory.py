"""Queueing theory: Erlang C and its approximations against textbook values, Little's law live."""

from __future__ import annotations

import math
import os

import pytest

from engine.config import RunConfig
from engine.distributions import Distribution
from engine.runner import Run
from engine.theory import (
    allen_cunneen,
    batch_bound,
    cv2,
    erlang_c,
    littles_law,
    mmc,
    mmck,
    predict,
    theory_json,
)


def test_mmc_matches_hillier_lieberman_county_hospital():
    # Hillier & Lieberman, Introduction to Operations Research, ch. 17 (Queueing Theory), the
    # County Hospital emergency room: λ = 2/h, μ = 3/h; the table of M/M/s steady-state
    # results gives for s = 1: Lq 1.333, L 2, Wq 0.667 h, W 1 h, P(Wq > 0) 0.667, and for
    # s = 2: P0 0.5, Lq 0.083, L 0.75, Wq 0.042 h, W 0.375 h, P(Wq > 0) 0.167.
    one = mmc(2.0, 3.0, 1)
    assert round(one.mean_queue, 3) == 1.333
    assert round(one.mean_in_system, 3) == 2.0
    assert round(one.mean_wait_s, 3) == 0.667
    assert round(one.p_wait, 3) == 0.667
    two = mmc(2.0, 3.0, 2)
    assert round(two.mean_queue, 3) == 0.083
    assert round(two.mean_in_system, 3) == 0.75
    assert round(two.mean_wait_s, 3) == 0.042
    assert round(two.mean_wait_s + 1 / 3, 3) == 0.375
    assert round(two.p_wait, 3) == 0.167
    assert two.stable and round(two.utilisation, 3) == 0.333


def test_erlang_c_large_server_counts_stay_finite():
    # A call-centre size (100 agents at 95 % load) would overflow a factorial formula.
    p = erlang_c(100, 95.0)
    assert 0.0 < p < 1.0


def test_allen_cunneen_is_pollaczek_khinchine_for_one_server():
    # M/D/1 (ca² = 1, cs² = 0) at ρ = 0.8: the Pollaczek–Khinchine mean-value formula
    # (Kleinrock, Queueing Systems vol. 1, ch. 5) gives Lq = ρ² / (2(1 − ρ)) = 1.600 and
    # Wq = Lq / λ = 2.000 s for μ = 1/s; M/M/1 would give twice both.
    md1 = allen_cunneen(0.8, 1.0, 1, 1.0, 0.0)
    assert round(md1.mean_queue, 3) == 1.6
    assert round(md1.mean_wait_s, 3) == 2.0
    mm = allen_cunneen(2.0, 3.0, 2, 1.0, 1.0)
    assert math.isclose(mm.mean_wait_s, mmc(2.0, 3.0, 2).mean_wait_s)


def test_mmck_matches_the_closed_form_and_tends_to_mmc():
    # M/M/1/K closed form (Gross & Harris, Fundamentals of Queueing Theory, §2.5): ρ = 0.5,
    # K = 3 gives P_K = (1 − ρ)ρ^K / (1 − ρ^(K+1)) = 0.067 and L = 0.733.
    small = mmck(1.0, 2.0, 1, 3)
    assert round(small.p_blocked, 3) == 0.067
    assert round(small.mean_in_system, 3) == 0.733
    big = mmck(2.0, 3.0, 2, 400)
    assert round(big.mean_queue, 3) == 0.083
    assert "approximation" in big.note


def test_unstable_system_is_flagged_with_its_growth_rate():
    pred = mmc(5.0, 2.0, 2)
    assert not pred.stable
    assert pred.growth_per_s == pytest.approx(1.0)
    assert "grows without bound" in pred.note and "1 tasks per second" in pred.note
    cfg = RunConfig(put_interval=Distribution.exponential(0.1),
                    task_duration=Distribution.constant(0.5), consumers=2)  # fmt: skip
    from_cfg = predict(cfg, 2)
    assert from_cfg is not None and not from_cfg.stable
    assert from_cfg.growth_per_s == pytest.approx(10 - 4)


def test_predict_picks_the_model_from_the_distributions():
    exp = RunConfig(put_interval=Distribution.exponential(0.5),
                    task_duration=Distribution.exponential(0.4), consumers=2)  # fmt: skip
    assert predict(exp, 2).model == "M/M/c"
    gen = exp.replace(task_duration=Distribution.uniform(0.2, 0.6))
    assert predict(gen, 2).model.startswith("G/G/c")
    assert predict(exp.replace(maxsize=3), 2).model == "M/M/c/K"
    assert predict(RunConfig(), 2) is None  # put_interval 0: a batch
    # cpu work: 4 consumers on 2 CPUs serve like 2.
    cpu = exp.replace(consumers=4, workload="cpu")
    assert predict(cpu, 2).servers == 2
    assert cv2(Distribution.uniform(0, 1)) == pytest.approx(1 / 3)


def test_batch_bound_is_the_larger_of_work_share_and_longest_task():
    import numpy as np

    d = np.array([1.0, 1.0, 1.0, 5.0])
    assert batch_bound(d, 4, 2, cpu_work=False) == 5.0
    assert batch_bound(d, 8, 2, cpu_work=True) == 5.0
    assert batch_bound(np.ones(10), 8, 2, cpu_work=True) == 5.0  # 10 s of work on 2 CPUs
    assert batch_bound(np.ones(10), 8, 2, cpu_work=False) == 1.25


@pytest.mark.slow
def test_littles_law_holds_on_a_long_steady_real_run():
    cfg = RunConfig(
        producers=1, consumers=2, tasks_per_producer=400, workload="sleep", seed=3,
        put_interval=Distribution.exponential(0.01), task_duration=Distribution.exponential(0.015),
    )  # fmt: skip
    with Run(cfg) as run:  # __enter__ starts it
        assert run.wait(timeout=120), "the run did not end"
        run.drain()
        little = littles_law(run.model)
        theory = theory_json(run.model, cfg, os.cpu_count())
    assert little is not None and little.ratio is not None
    assert abs(little.ratio - 1) < 0.10, little
    assert theory["kind"] == "open" and theory["little"]["ratio"] == little.ratio
    assert theory["prediction"]["model"] == "M/M/c"


def _run_json(*sets: str) -> dict:
    import json
    import subprocess
    import sys
    from pathlib import Path

    args = [sys.executable, "main.py", "run", "--preset", "tutorial", "--json"]
    for s in sets:
        args += ["--set", s]
    done = subprocess.run(args, cwd=Path(__file__).resolve().parent.parent,
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.slow
def test_run_json_has_theory_for_a_batch_with_sentinels_left_out_of_littles_law():
    # The tutorial's sentinel is put last and taken last: counted as a task it would sit in L
    # for the whole run and put Little's ratio near 1.2 on ten tasks.
    theory = _run_json("task_duration=uniform(0, 0.2)")["theory"]
    assert theory["kind"] == "batch"
    assert abs(theory["little"]["ratio"] - 1) < 0.10, theory["little"]
    batch = theory["batch"]
    assert 0 < batch["makespan_lower_bound_s"] <= batch["makespan_s"]
    assert 0 < batch["efficiency"] <= 1


@pytest.mark.slow
def test_run_json_compares_an_open_system_with_its_prediction():
    theory = _run_json("put_interval=exponential(0.02)", "task_duration=exponential(0.01)",
                       "tasks_per_producer=60")["theory"]  # fmt: skip
    assert theory["kind"] == "open" and theory["prediction"]["model"] == "M/M/c"
    wait = theory["compare"]["mean_wait_s"]
    assert wait["predicted"] == pytest.approx(0.01)  # M/M/1, ρ = 0.5: Wq = ρ/(μ − λ)
    assert wait["measured"] >= 0 and "relative_error" in wait
    # 60 tasks cannot settle: when they disagree, the sentence says so and why.
    if theory["disagreement"]:
        assert "likely cause" in theory["disagreement"]


@pytest.mark.slow
def test_replay_json_gives_the_same_theory_as_the_run(tmp_path):
    import json
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    trace = tmp_path / "t.qltrace"
    run = subprocess.run([sys.executable, "main.py", "run", "--preset", "tutorial", "--json",
                          "--set", "task_duration=uniform(0, 0.1)", "--trace", str(trace)],
                         cwd=root, capture_output=True, text=True, timeout=120)  # fmt: skip
    replay = subprocess.run([sys.executable, "main.py", "replay", str(trace), "--json"],
                            cwd=root, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert run.returncode == 0 and replay.returncode == 0, (run.stderr, replay.stderr)
    live, again = json.loads(run.stdout)["theory"], json.loads(replay.stdout)["theory"]
    # The same records, though the live model got them in poll-sized chunks: equal to 1 %.
    assert again["kind"] == live["kind"] == "batch"
    assert again["batch"] == pytest.approx(live["batch"], rel=0.01)
    assert again["little"] == pytest.approx(live["little"], rel=0.01)
