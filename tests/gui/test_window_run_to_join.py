"""A window's run from start to join: every chart matches the model, the run is recorded."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import pytest

from engine.model import Activity, JoinState, RunModel
from engine.runner import RunStatus
from gui.main_window import MainWindow
from gui.run_session import EXIT_JOINED

# The fixture window: pytest finds it among this module's names.
from tests.gui.window_runs import fixture_window as fixture_window
from tests.gui.window_runs import run_to_end

pytestmark = pytest.mark.slow


def steps(xy: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The raw (t, value) points of an expanded step polyline (every other point)."""
    x, y = xy
    return x[0::2], y[0::2]


def expected_rates(m: RunModel, grid: np.ndarray) -> tuple[np.ndarray, ...]:
    """Tasks done per second over (g - 1 s, g], and mean wait/service there, from the model."""
    t = np.asarray(m.done_t)
    wait = np.asarray(m.done_wait)
    service = np.asarray(m.done_service)
    order = np.argsort(t, kind="stable")
    t, wait, service = t[order], wait[order], service[order]
    rate, mw, ms = [], [], []
    for g in grid:
        sel = (t > g - 1.0) & (t <= g)
        rate.append(sel.sum() / min(max(g, 0.05), 1.0))
        mw.append(wait[sel].mean() if sel.any() else np.nan)
        ms.append(service[sel].mean() if sel.any() else np.nan)
    return np.array(rate), np.array(mw), np.array(ms)

def test_start_to_join_every_chart_matches_the_model(qtbot, window: MainWindow) -> None:
    run_to_end(qtbot, window)
    m = window.model
    assert m is not None
    assert window.driver.status is RunStatus.FINISHED
    assert m.join_state == JoinState.RETURNED and window.exit_code == EXIT_JOINED
    total = 24 + 2  # tasks and one sentinel per consumer
    assert (m.puts, m.gets, m.task_dones, m.unfinished) == (total, total, total, 0)
    assert m.events_lost == 0

    data = window.charts.curve_data()
    n = len(m.s_t)
    assert n == 3 * total
    model_cols = {
        "puts": m.s_puts,
        "gets": m.s_gets,
        "task_dones": m.s_dones,
        "depth": np.subtract(m.s_puts, m.s_gets),
        "in_flight": np.subtract(m.s_gets, m.s_dones),
        "unfinished": np.subtract(m.s_puts, m.s_dones),
    }
    for name, col in model_cols.items():
        t, y = steps(data[name])
        np.testing.assert_array_equal(t, m.s_t, err_msg=name)
        np.testing.assert_array_equal(y, col, err_msg=name)
    # What is drawn is those series, clipped and peak-decimated per pixel column: every drawn
    # value is one the counter really had, no peak is lost, and the last value is the model's.
    shown_x = data["shown_unfinished"][0]
    assert shown_x.size >= 2 and np.all(np.diff(shown_x) >= 0)
    assert shown_x[0] <= m.s_t[0] + 1e-9 and shown_x[-1] >= m.s_t[-1]
    for shown, name in [
        ("shown_unfinished", "unfinished"),
        ("shown_in_flight", "in_flight"),
        ("shown_puts", "puts"),
        ("shown_gets", "gets"),
        ("shown_task_dones", "task_dones"),
    ]:
        x, y = data[shown]
        np.testing.assert_array_equal(x, shown_x, err_msg=shown)  # one x: stacks stay stacked
        col = np.asarray(model_cols[name])
        assert set(np.unique(y)) <= set(np.unique(col)), shown
        assert (y.max(), y.min(), y[-1]) == (col.max(), col.min(), col[-1]), shown
    assert np.all(data["shown_unfinished"][1] >= data["shown_in_flight"][1])
    assert data["shown_unfinished"][1][-1] == 0

    grid, rate = data["rate"]
    assert grid.size > 0 and grid[-1] <= m.end_t + 0.05
    want_rate, want_wait, want_service = expected_rates(m, grid)
    np.testing.assert_allclose(rate, want_rate, atol=1e-9)
    np.testing.assert_allclose(data["mean_wait"][1], want_wait, atol=1e-9)
    np.testing.assert_allclose(data["mean_service"][1], want_service, atol=1e-9)
    assert rate.max() > 0

    # Timeline: one row per worker with exactly the model's intervals.
    assert window.charts.timeline_rows() == [w.name for _, w in sorted(m.workers.items())]
    for row in window.charts.timeline.rows:
        iv = np.array(row.worker.intervals, dtype=float).reshape(-1, 4)
        np.testing.assert_array_equal(row.t0.view(), iv[:, 0])
        np.testing.assert_array_equal(row.t1.view(), iv[:, 1])
        np.testing.assert_array_equal(row.act.view(), iv[:, 2])
    processed = sum(
        1 for r in window.charts.timeline.rows for a in r.act.view() if a == Activity.PROCESS
    )
    assert processed >= 24

    markers = window.charts.markers()
    assert markers["join_returned"] is not None
    assert markers["join_returned"][0] == pytest.approx(m.join_returned_t)
    assert markers["join_called"][0] == pytest.approx(m.join_called_t)
    assert markers["producers_joined"][0] == pytest.approx(m.producers_joined_t)

    # Status bar and controls after the end.
    sb = window.status_bar
    assert sb.state_label.text().strip() == "Finished"
    assert sb.join_label.text() == m.join_words()
    assert f"put {total}" in sb.counts_label.text()
    assert sb.lost_label.text() == "0 lost"
    assert window.controls.start_action.isEnabled()
    assert window.controls.start_action.text() == "Run again"
    assert not window.controls.stop_action.isEnabled()
    assert not window.config_panel.locked
    assert not window.driver.polling

def test_every_run_is_recorded_and_save_run_keeps_it(qtbot, window: MainWindow, tmp_path) -> None:
    from engine.replay import replay_model
    from engine.tracefile import read_trace

    run_to_end(qtbot, window)
    recording = window.driver.trace_path
    assert recording is not None and os.path.exists(recording)
    out = tmp_path / "saved.qltrace"
    assert window.save_run_file(str(out))
    replayed = replay_model(read_trace(out))
    live = window.model
    assert replayed.summary().to_json() == live.summary().to_json()
    window.close()
    assert not os.path.exists(recording)  # the temporary recording goes with the window
