"""Experiment ▸ Sweep… with real runs: live points, table, recommendation, Stop, replay, exports;
and the Theory table against engine/theory for a live run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox
from pytestqt.qtbot import QtBot

from engine.config import RunConfig
from engine.distributions import Distribution
from engine.sweep import parse_params
from engine.theory import predict, theory_json
from gui.main_window import MainWindow
from gui.replay_window import ReplayWindow
from gui.sweep_dialog import SweepDialog
from gui.sweep_window import SweepWindow, start_sweep

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
# A fraction of a second of work per run: one producer, a sentinel per consumer.
TINY = RunConfig(producers=1, consumers=1, tasks_per_producer=6, seed=3,
                 task_duration=Distribution.constant(0.02), sentinels="per_consumer",
                 title="tiny")  # fmt: skip
# Open arrivals, exponential both ways (M/M/2 at rho = 0.5): the theory table has a model.
OPEN = RunConfig(producers=1, consumers=2, tasks_per_producer=30, seed=5,
                 put_interval=Distribution.exponential(0.05),
                 task_duration=Distribution.exponential(0.05), sentinels="per_consumer",
                 title="open")  # fmt: skip
SWEEP_TIMEOUT_MS = 180_000


@pytest.fixture
def window(qtbot: QtBot) -> Iterator[MainWindow]:
    w = MainWindow(TINY)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.close()  # closes the sweep window, stopping a sweep a failed test left going


def sweep(w: MainWindow, spec: str, repeats: int = 1) -> SweepWindow:
    params = parse_params([spec], TINY)
    return start_sweep(w, TINY, params, repeats, 0)


def test_a_tiny_sweep_shows_points_live_table_rows_and_a_recommendation(
    window: MainWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    sw = sweep(window, "consumers=1,2,3")
    # What the view showed when each run was recorded: the points appear as runs finish.
    seen: list[tuple[int, int, str]] = []
    sw.runner.sig_run_done.connect(lambda: seen.append((
        sum(len(s.data) for s in sw.view.plot.points), len(sw.view.plot.fits),
        window.charts.model is window.driver.model and window.driver.run.cfg.consumers)))
    qtbot.waitUntil(lambda: sw.runner.finished, timeout=SWEEP_TIMEOUT_MS)
    assert sw.runner.complete
    # Live: a point per run done, the fit once three are measured; each run was the one on
    # the main window's charts, with the point's consumers.
    assert seen == [(1, 0, 1), (2, 0, 2), (3, 1, 3)]
    view = sw.view
    cells = [[view.table.item(r, c).text() for c in range(view.table.columnCount())]
             for r in range(view.table.rowCount())]
    assert [row[:2] for row in cells] == [["1", "1/1"], ["2", "1/1"], ["3", "1/1"]]
    assert all(row[2] != "—" and float(row[2]) > 0 for row in cells)
    assert cells[0][5] == "1.00×" and cells[1][6].endswith("%")
    words = view.recommendation.text()
    assert words.startswith("Use ") and words == view.doc["recommendation"]
    assert view.progress_label.text().startswith("Done: 3 points, 3 runs")
    assert not view.stop_button.isEnabled()
    # The medians drawn are the table's, and the fit curve is engine/usl's over them.
    xs, ys = [], []
    for s in view.plot.points:
        x, y = s.getData()
        xs += list(x)
        ys += list(y)
    assert xs == [1.0, 2.0, 3.0]
    assert ys == [pytest.approx(r["throughput_median"]) for r in view.doc["points"]]
    assert view.doc["fit"]["model"] in ("amdahl", "usl")
    assert "consumers" in view.plot.plot.getAxis("bottom").labelText
    assert "tasks/s" in view.plot.plot.getAxis("left").labelText
    # Each point's run was kept and opens in the replay window.
    path = view.median_trace(1)
    assert path is not None and Path(path).is_file() and "consumers-2" in path
    view.table.selectRow(1)
    assert view.replay_button.isEnabled() and len(view.replay_menu.actions()) == 1
    view.table.cellDoubleClicked.emit(1, 0)
    replays = [c for c in sw.findChildren(ReplayWindow)]
    assert len(replays) == 1
    qtbot.waitUntil(lambda: replays[0].loaded is not None, timeout=30_000)
    assert replays[0].loaded.trace.config.consumers == 2
    replays[0].close()
    # Exports: engine/sweep_report's CSV and JSON, engine/sweep_svg's chart (and its PNG).
    for fmt in ("png", "svg", "csv", "json"):
        assert sw.export_to(fmt, str(tmp_path / f"s.{fmt}")), fmt
    doc = json.loads((tmp_path / "s.json").read_text())
    assert doc["recommendation"] == words and [p["value"] for p in doc["points"]] == [1, 2, 3]
    assert (tmp_path / "s.csv").read_text().splitlines()[0].startswith("consumers,runs,")
    assert (tmp_path / "s.svg").read_text().lstrip().startswith("<svg")
    assert (tmp_path / "s.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    runs_dir = sw.runs_dir
    sw.close()
    assert not Path(runs_dir).exists()  # the kept runs go with the window


def test_stop_ends_the_sweep_after_the_run_in_progress_and_keeps_its_result(
    window: MainWindow, qtbot: QtBot
) -> None:
    sw = sweep(window, "consumers=1,2,3")
    # Stop while the first run goes on: it must finish (join() returns) and be counted.
    sw.runner.sig_started.connect(lambda: sw.view.stop_button.click()
                                  if sw.plan.done == 0 else None)  # fmt: skip
    qtbot.waitUntil(lambda: sw.runner.finished, timeout=SWEEP_TIMEOUT_MS)
    assert not sw.runner.complete
    assert [len(p.runs) for p in sw.points] == [1, 0, 0]
    assert sw.points[0].runs[0].code == 0  # the run in progress ended normally
    assert window.driver.model.join_returned_t is not None
    assert sw.view.progress_label.text().startswith("Stopped: 1 of 3 runs")
    assert [sw.view.table.item(r, 1).text() for r in range(3)] == ["1/1", "0/1", "0/1"]
    assert not window.driver.active  # no further run was started


def test_theory_table_shows_engine_theorys_figures_for_the_run(qtbot: QtBot) -> None:
    w = MainWindow(OPEN)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    try:
        with qtbot.waitSignal(w.driver.sig_ended, timeout=60_000):
            assert w.start_run()
        m, cpus = w.driver.model, os.cpu_count()
        want = theory_json(m, OPEN, cpus)
        view = w.theory_view
        assert view.doc == want
        cells = {row[0]: row[1:] for row in view.cells()}
        pred = want["prediction"]
        wq = want["compare"]["mean_wait_s"]
        assert cells["mean wait in queue Wq"][:2] == [f"{wq['predicted'] * 1000:.3g} ms",
                                                     f"{wq['measured'] * 1000:.3g} ms"]
        rel = wq["relative_error"]
        assert cells["mean wait in queue Wq"][2] == ("—" if rel is None else f"{rel:+.0%}")
        little = want["little"]
        assert cells["Little's law: L vs λ·W"][1] == f"L = {little['mean_in_system']:.3g}"
        assert cells["utilisation ρ"][0] == f"{pred['utilisation']:.0%}"
        assert "M/M/c" in view.model_label.text()
        assert view.sentence.text() == (want["disagreement"] or view.sentence.text())
        # The charts' reference lines stand at the same prediction.
        p = predict(OPEN, cpus)
        assert w.charts.theory.in_system.value() == pytest.approx(p.mean_in_system)
        assert w.charts.theory.wait.value() == pytest.approx(p.mean_wait_s)
    finally:
        w.close()


def test_sweep_dialog_validates_as_the_command_line_does(qtbot: QtBot) -> None:
    d = SweepDialog(TINY)
    qtbot.addWidget(d)
    ok = d.buttons.button(QDialogButtonBox.StandardButton.Ok)
    d.first.key.setCurrentText("consumers")
    d.first.values.setText("1,2,4")
    d.repeats.setValue(2)
    d.warmup.setValue(1)
    assert ok.isEnabled() and d.summary.text().startswith("3 point(s) × 2 run(s) + 1 warm-up")
    d.first.values.setText("4..1")
    assert not ok.isEnabled() and "a range goes from low to high" in d.summary.text()
    d.first.values.setText("1,2")
    d.grid_box.setChecked(True)
    d.second.key.setCurrentText("task_duration.mean")
    d.second.values.setText("0.01,0.02")
    params, repeats, warmup = d.choice()
    assert [p.key for p in params] == ["consumers", "task_duration.mean"]
    assert (repeats, warmup) == (2, 1) and d.summary.text().startswith("4 point(s)")


def test_sweep_dialog_on_the_tutorials_options_offers_one_none_per_consumer(
    qtbot: QtBot,
) -> None:
    # Experiment ▸ Sweep on the default options (the tutorial's single None) opened with
    # consumers = cores: refused in red, and the fix one click away, for this sweep only.
    tutorial = TINY.replace(sentinels="single")
    d = SweepDialog(tutorial)
    qtbot.addWidget(d)
    d.show()
    ok = d.buttons.button(QDialogButtonBox.StandardButton.Ok)
    d.first.key.setCurrentText("consumers")
    d.first.values.setText("1,2")
    assert not ok.isEnabled() and 'sentinels = "single"' in d.summary.text()
    assert d.fix_sentinels.isVisible()
    d.first.values.setText("1")  # one consumer: a single None is enough
    assert ok.isEnabled() and not d.fix_sentinels.isVisible()
    d.first.values.setText("1,2")
    qtbot.mouseClick(d.fix_sentinels, Qt.MouseButton.LeftButton)
    assert ok.isEnabled() and not d.fix_sentinels.isVisible()
    assert "one None per consumer" in d.summary.text()
    assert d.cfg.sentinels == "per_consumer" and tutorial.sentinels == "single"
    d.first.values.setText("4..1")  # another mistake: no such offer
    assert not ok.isEnabled() and not d.fix_sentinels.isVisible()


def test_gui_sweep_flag_refuses_a_bad_spec_in_one_line() -> None:
    done = subprocess.run([sys.executable, "main.py", "gui", "--sweep", "consumers=4..1"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "low to high" in done.stderr


def test_replay_window_shows_the_recorded_runs_theory_at_the_end(
    qtbot: QtBot, tmp_path: Path
) -> None:
    """The Theory tab and the reference lines of a replayed open-arrivals run; none for a
    traced program's placeholder config."""
    from engine.replay import replay_model
    from engine.runner import Run
    from engine.trace_cli import trace_config
    from engine.tracefile import TraceWriter, read_trace
    from gui.theory_view import theory_applies

    path = tmp_path / "open.qltrace"
    with TraceWriter(path, OPEN) as writer:
        run = Run(OPEN)
        writer.attach(run)
        with run:
            assert run.wait(60)
    w = ReplayWindow()
    qtbot.addWidget(w)
    w.show()
    w.open_path(str(path))
    qtbot.waitUntil(lambda: w.loaded is not None, timeout=30_000)
    w.seek(w.playback.duration)
    w.settle()
    qtbot.waitUntil(lambda: w.theory_view.doc is not None
                    and w.theory_view.sentence.text()[:7] != "So far ", timeout=10_000)
    cpus = os.cpu_count()
    # The figures are engine/theory's for the run as replayed up to the playhead (its end).
    assert w.theory_view.doc == theory_json(w.playback.shown, OPEN, cpus)
    whole = theory_json(replay_model(read_trace(path)), OPEN, cpus)
    assert w.theory_view.doc["prediction"] == whole["prediction"]
    assert w.charts.theory.in_system.value() == pytest.approx(predict(OPEN, cpus).mean_in_system)
    assert w.side_tabs.tabText(1) == "Theory"
    w.close()
    assert not theory_applies(trace_config(["prog.py"])) and theory_applies(OPEN)


def test_stop_in_the_main_window_ends_the_sweep_without_counting_that_run(
    window: MainWindow, qtbot: QtBot
) -> None:
    sw = sweep(window, "consumers=1,2")
    sw.runner.sig_started.connect(window.stop_run)  # the person presses Stop at once
    qtbot.waitUntil(lambda: sw.runner.finished, timeout=SWEEP_TIMEOUT_MS)
    assert not sw.runner.complete
    assert [len(p.runs) for p in sw.points] == [0, 0]  # a stopped run is no measurement
    assert sw.view.progress_label.text().startswith("Stopped: 0 of 2 runs")
    assert not window.driver.active
