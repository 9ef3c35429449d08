"""Sweeps: SPEC parsing, the USL fit, the recommendation, and real sweeps end to end."""

from __future__ import annotations

import csv
import json
import signal
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from engine.config import RunConfig, load_preset
from engine.distributions import Distribution
from engine.sweep import Param, SweepError, apply_value, grid, parse_param, parse_params
from engine.sweep_report import recommend
from engine.usl import fit_usl

ROOT = Path(__file__).resolve().parent.parent


# ------------------------------------------------------------------------------ the fit


@pytest.mark.parametrize(("sigma", "kappa"), [(0.05, 0.002), (0.2, 0.01), (0.0, 0.03)])
def test_usl_fit_recovers_sigma_and_kappa_from_synthetic_data(sigma, kappa):
    n = np.arange(1, 17, dtype=float)
    x = 120 * n / (1 + sigma * (n - 1) + kappa * n * (n - 1))
    fit = fit_usl(n, x)
    assert fit is not None and fit.model == "usl"
    assert fit.sigma == pytest.approx(sigma, abs=1e-6)
    assert fit.kappa == pytest.approx(kappa, abs=1e-6)
    assert fit.lam == pytest.approx(120)
    assert fit.peak_n == pytest.approx(((1 - sigma) / kappa) ** 0.5)
    assert fit.r2 == pytest.approx(1.0)


def test_usl_fit_with_noise_stays_close():
    rng = np.random.default_rng(4)
    n = np.repeat(np.arange(1, 13, dtype=float), 3)
    x = 80 * n / (1 + 0.1 * (n - 1) + 0.005 * n * (n - 1)) * rng.normal(1, 0.01, n.size)
    fit = fit_usl(n, x)
    assert fit.sigma == pytest.approx(0.1, abs=0.02)
    assert fit.kappa == pytest.approx(0.005, abs=0.002)


def test_amdahl_when_there_is_no_coherency_cost():
    n = np.array([1.0, 2, 4, 8])
    fit = fit_usl(n, 50 * n / (1 + 0.3 * (n - 1)))
    assert fit.model == "amdahl" and fit.kappa == 0 and fit.peak_n is None
    assert fit.sigma == pytest.approx(0.3)
    assert fit_usl([1, 1], [5, 6]) is None  # one distinct count: nothing to fit


# ------------------------------------------------------------------------------ SPEC


def test_spec_forms():
    cfg = RunConfig()
    assert parse_param("consumers=1,2,4,8", cfg).values == (1, 2, 4, 8)
    assert parse_param("consumers=1..4", cfg).values == (1, 2, 3, 4)
    assert parse_param("consumers=1..16:5", cfg).values == (1, 6, 11, 16)
    assert parse_param("consumers=cores", cfg, cpus=2).values == (1, 2, 3, 4)
    assert parse_param("time_scale=0.5..1.5:0.5", cfg).values == (0.5, 1.0, 1.5)
    p = parse_param("task_duration.mean=0.01,0.02", cfg)
    scaled = apply_value(cfg, p.key, 0.02)
    assert scaled.task_duration == Distribution.uniform(0, 0.04)  # the shape is kept
    assert apply_value(cfg, "task_duration.high", 3).task_duration == Distribution.uniform(0, 3)


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ("consumers=1..x", "'x' is not a number"),
        ("consumers=1,,2", "empty item"),
        ("consumers=8..1", "from low to high"),
        ("consumers=1..4:0", "step"),
        ("consumers=1.5", "whole numbers"),
        ("consumers=0,1", "consumers"),
        ("workload=1,2", "not numeric"),
        ("nosuch=1,2", "unknown key"),
        ("task_duration=1,2", "task_duration.mean"),
        ("consumers", "expected KEY=SPEC"),
        ("consumers=1..100000", "at most"),
    ],
)
def test_bad_spec_is_one_line_naming_the_problem(spec, words):
    with pytest.raises(SweepError) as info:
        parse_param(spec, RunConfig())
    assert words in str(info.value) and "\n" not in str(info.value)


def test_bad_spec_on_the_command_line_exits_2_with_one_line():
    done = subprocess.run(
        [sys.executable, "main.py", "sweep", "--param", "consumers=1..x"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1 and "consumers" in done.stderr and "'x'" in done.stderr


# ------------------------------------------------------------------------ recommendation


def _rows(xs: list[float], util: float = 0.95, service: float = 0.01) -> list[dict]:
    return [{"value": n, "values": {"consumers": n}, "throughput_median": x,
             "utilisation": util, "mean_service_s": service}
            for n, x in zip([1, 2, 4, 8], xs, strict=False)]  # fmt: skip


CONSUMERS = [Param("consumers", (1, 2, 4, 8))]


def test_cpu_bound_plateau_recommends_the_cpu_count():
    sentence, bottleneck = recommend(_rows([100, 190, 192, 150]), CONSUMERS, "cpu", None, 2)
    assert sentence.startswith("Use 2 consumers: beyond that throughput grows by less than 5%")
    assert "2 CPUs" in sentence and "CPU-bound" in sentence and "slower" in sentence
    assert bottleneck == "cpus"


def test_cpu_bound_gain_beyond_the_cpus_is_called_stolen_time(monkeypatch):
    import engine.sweep_report as report

    monkeypatch.setattr(report, "_load", lambda: 4.5)
    sentence, bottleneck = recommend(_rows([100, 190, 240]), CONSUMERS, "cpu", None, 2)
    assert sentence.startswith("Use 2 consumers: more add no capacity")
    assert "26% more measured at 4 was CPU time taken from other programs" in sentence
    assert bottleneck == "cpus"


def test_cpu_bound_on_a_crowded_machine_still_recommends_one_per_cpu(monkeypatch):
    import engine.sweep_report as report

    monkeypatch.setattr(report, "_load", lambda: 4.5)
    sentence, _ = recommend(_rows([100, 102, 125]), CONSUMERS, "cpu", None, 2)
    assert sentence.startswith("Use 2 consumers")
    assert "busy with other work (load average 4.5 on 2 CPUs)" in sentence
    assert "sweep again when it is quieter" in sentence
    # On a quiet machine the same numbers are believed: the second consumer added nothing.
    monkeypatch.setattr(report, "_load", lambda: 0.5)
    sentence, _ = recommend(_rows([100, 102, 103]), CONSUMERS, "cpu", None, 2)
    assert sentence.startswith("Use 1 consumer:")


def test_crowded_machine_swept_up_to_the_cpus_is_not_called_still_growing(monkeypatch):
    """1 and 2 consumers on a busy 2-CPU machine, 2 measured slower: one per CPU, and no
    "throughput still grew by -6%" (the sweep view shows this after its first points)."""
    import engine.sweep_report as report

    monkeypatch.setattr(report, "_load", lambda: 13.0)
    sentence, bottleneck = recommend(_rows([53, 50]), [Param("consumers", (1, 2))], "cpu",
                                     None, 2)  # fmt: skip
    assert sentence.startswith("Use 2 consumers") and "still grew" not in sentence, sentence
    assert "sweep again when it is quieter" in sentence and bottleneck == "cpus"


def test_still_growing_recommends_more_and_how_to_sweep_further():
    sentence, bottleneck = recommend(_rows([100, 200, 390, 700]), CONSUMERS, "sleep", None, 2)
    assert sentence.startswith("Use at least 8 consumers")
    assert "--param consumers=8..16" in sentence and "beyond the machine's 2 CPUs" in sentence
    assert bottleneck == "consumers"


def test_producer_and_queue_bottlenecks_are_named():
    s, b = recommend(_rows([50, 98, 99]), CONSUMERS, "sleep", 100.0, 2)
    assert b == "producer" and "producers put only 100 tasks/s" in s
    s, b = recommend(_rows([3000, 3050, 3040], util=0.2, service=0.0001), CONSUMERS, "sleep",
                     None, 2)  # fmt: skip
    assert s.startswith("Use 1 consumer:") and b == "queue" and "20%" in s


# ------------------------------------------------------------------------ real sweeps


def _sweep(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "main.py", "sweep", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)  # fmt: skip


TINY = ["--preset", "tutorial", "--set", "tasks_per_producer=6", "--set", "task_duration=0.02",
        "--set", "sentinels=per_consumer"]


@pytest.mark.slow
def test_tiny_real_sweep_end_to_end(tmp_path):
    plot, table, runs = tmp_path / "s.svg", tmp_path / "s.csv", tmp_path / "runs"
    done = _sweep(*TINY, "--param", "consumers=1,2", "--repeats", "2", "--warmup", "0",
                  "--json", "--csv", str(table), "--plot", str(plot), "--save-runs", str(runs))
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["param"] == "consumers" and doc["complete"] is True
    assert [p["value"] for p in doc["points"]] == [1, 2]
    for p in doc["points"]:
        assert p["runs"] == 2 and p["throughput_median"] > 0 and p["makespan_median"] > 0
        lo, hi = p["throughput_ci"]
        assert lo <= p["throughput_median"] <= hi
        assert p["mean_service_s"] > 0 and p["mean_wait_s"] >= 0
        assert len(p["traces"]) == 2 and all(Path(t).is_file() for t in p["traces"])
    assert doc["points"][0]["speedup"] == 1.0 and doc["points"][1]["efficiency"] is not None
    assert doc["fit"]["model"] in ("amdahl", "usl") and doc["recommendation"].startswith("Use")
    assert doc["machine"]["cpus"] >= 1 and doc["machine"]["python"]
    assert "runs 4/4" in done.stderr  # the progress bar reached the end
    rows = list(csv.DictReader(table.open()))
    assert [r["consumers"] for r in rows] == ["1", "2"]
    assert ET.parse(plot).getroot().tag.endswith("svg")


@pytest.mark.slow
def test_a_point_whose_runs_cannot_end_is_reported_and_the_sweep_goes_on():
    done = _sweep(*TINY, "--set", "on_failure=skip_task_done", "--param", "failure_rate=1,0",
                  "--repeats", "1", "--warmup", "0", "--json")  # fmt: skip
    assert done.returncode == 3
    doc = json.loads(done.stdout)
    bad, good = doc["points"]
    assert bad["runs"] == 0 and bad["failed_runs"] == 1 and "can never end" in bad["problems"][0]
    assert good["runs"] == 1 and good["throughput_median"] > 0
    assert "failure_rate = 1 ended abnormally" in done.stderr


@pytest.mark.slow
def test_ctrl_c_stops_after_the_run_in_progress_and_prints_what_was_measured():
    proc = subprocess.Popen(
        [sys.executable, "main.py", "sweep", *TINY, "--param", "consumers=1,2,3",
         "--repeats", "2", "--warmup", "0", "--json"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        # Gate on the progress line that says the first run is done, then interrupt the second.
        for line in proc.stderr:
            if "runs 1/6" in line:
                proc.send_signal(signal.SIGINT)
                break
        out, err = proc.communicate(timeout=120)
        assert "interrupted; the results below are what was measured so far" in err
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130
    doc = json.loads(out)
    assert doc["complete"] is False
    # The run in progress when Ctrl+C came was finished, not thrown away.
    assert [p["runs"] for p in doc["points"]] == [2]


@pytest.mark.slow
def test_many_consumers_cpu_sweep_on_this_machine(tmp_path):
    cfg = load_preset("many-consumers")
    assert cfg.workload == "cpu"
    done = _sweep("--preset", "many-consumers", "--param", "consumers=1,2,4", "--repeats", "2",
                  "--warmup", "0", "--json", timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    cpus = doc["machine"]["cpus"]
    if cpus == 2:
        assert doc["recommendation"].startswith("Use 2 consumers")
        assert doc["bottleneck"] == "cpus"


def test_the_sweep_and_theory_modules_load_no_qt():
    code = ("import sys\nfor n in ('PySide6', 'pyqtgraph'):\n    sys.modules[n] = None\n"
            "import engine.sweep_cli, engine.theory, engine.sweep_svg, engine.usl\n"
            "print('ok')")  # fmt: skip
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)  # fmt: skip
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


def test_a_sweep_whose_runs_could_never_end_is_refused_before_it_starts():
    # The default configuration is the tutorial's: a single None. Swept over consumers, every
    # point past the first hung until the hopeless check ended it, and the sweep said only
    # that its runs failed (gui --sweep consumers=1,2 --quit-when-done exited 3).
    tutorial = RunConfig(sentinels="single")
    assert parse_params(["consumers=1"], tutorial)[0].values == (1,)
    with pytest.raises(SweepError) as refused:
        parse_params(["consumers=1,2,4"], tutorial)
    words = str(refused.value)
    assert words.startswith("--param consumers=2: ")
    assert 'sentinels = "single"' in words and "get() forever" in words
    assert "--set sentinels=per_consumer" in words
    # The same hang whatever is swept, and with no sentinel at all.
    with pytest.raises(SweepError, match=r'--param time_scale=1: sentinels = "none" puts no'):
        parse_params(["time_scale=1,2"], RunConfig(consumers=3, sentinels="none"))
    assert len(grid(tutorial.replace(sentinels="per_consumer"),
                    parse_params(["consumers=1,2,4"], tutorial.replace(sentinels="per_consumer"))
                    )) == 3  # fmt: skip


def test_the_command_line_refuses_it_and_starts_nothing():
    done = subprocess.run([sys.executable, "main.py", "sweep", "--param", "consumers=1,2"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.startswith('queuelab: error: --param consumers=2: sentinels = "single"')
    assert done.stdout == ""
