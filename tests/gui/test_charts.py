"""ChartsPanel against real runs: what the charts hold equals what the state model says."""

from __future__ import annotations

import os
import re
import signal
import time

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QPoint, QPointF
from PySide6.QtGui import QColor, QImage, QPalette

from engine.config import RunConfig
from engine.distributions import Distribution
from engine.events import Kind
from engine.model import Activity, RunModel
from engine.runner import Run
from gui.charts import ChartsPanel
from gui.charts.axes import ChartAxis
from gui.charts.buffers import StepSeries
from gui.charts.lod import StepLOD, bin_width
from gui.charts.palette import DARK, LIGHT
from gui.charts.panel import LIVE_SYNC_POINTS
from gui.charts.series import RATE_STEP_S, RATE_WINDOW_S, decimate
from gui.frame_clock import Frame

COUNTERS = {
    "puts": "s_puts",
    "gets": "s_gets",
    "task_dones": "s_dones",
}


def steps_of(model: RunModel) -> dict[str, np.ndarray]:
    """The model's counter series as the charts should hold them, one value per change."""
    puts = np.array(model.s_puts, dtype=float)
    gets = np.array(model.s_gets, dtype=float)
    dones = np.array(model.s_dones, dtype=float)
    return {"puts": puts, "gets": gets, "task_dones": dones, "depth": puts - gets,
            "in_flight": gets - dones, "unfinished": puts - dones}


def assert_curves_equal_model(p: ChartsPanel, model: RunModel) -> None:
    data = p.curve_data()
    n = len(model.s_t)
    expected = steps_of(model)
    for name, want in expected.items():
        x, y = data[name]
        if n == 0:  # workers starting, nothing put yet
            assert x.size == y.size == 0, name
            continue
        # Expanded steps: 2n - 1 step points and the "now" tail.
        assert x.size == y.size == 2 * n, name
        np.testing.assert_array_equal(x[0::2], np.array(model.s_t), err_msg=name)
        np.testing.assert_array_equal(y[0::2], want, err_msg=name)
        np.testing.assert_array_equal(y[1::2], want, err_msg=name)  # value held until next t
        np.testing.assert_array_equal(x[1:-1:2], x[2::2], err_msg=name)  # vertical risers
        assert np.all(np.diff(x) >= 0), name
        assert x[-1] >= model.last_t - 1e-12
    if n == 0:
        return
    assert data["depth"][1][-1] == model.depth
    assert data["in_flight"][1][-1] == model.in_flight
    assert data["unfinished"][1][-1] == model.unfinished
    assert data["puts"][1][-1] == model.puts
    assert data["gets"][1][-1] == model.gets
    assert data["task_dones"][1][-1] == model.task_dones


# ----------------------------------------------------------------------------- a finished run
def test_curves_equal_the_model_after_a_real_run(panel, short_run_model):
    m = short_run_model
    assert m.join_returned_t is not None and m.unfinished == 0 and m.puts == 22
    panel.set_model(m)
    panel.refresh()
    assert_curves_equal_model(panel, m)
    # The stacked chart's top is the unfinished counter: drawn and data agree at the end.
    x, y = panel.curve_data()["shown_unfinished"]
    assert y[-1] == m.unfinished and x[-1] >= m.last_t - 1e-12
    xi, yi = panel.curve_data()["shown_in_flight"]
    np.testing.assert_array_equal(x, xi)
    assert np.all(yi <= y)  # in progress is the lower band of the stack


def test_drawn_lines_are_the_visible_part_of_the_series(panel, short_run_model):
    m = short_run_model
    panel.set_model(m)
    panel.refresh()
    panel.set_follow(False)  # shows the whole run
    a, b = panel.x_range()
    assert a <= 0.0 and b >= m.last_t
    data = panel.curve_data()
    for name, shown in (("puts", "shown_puts"), ("gets", "shown_gets"),
                        ("task_dones", "shown_task_dones"), ("unfinished", "shown_unfinished")):
        # A short run has fewer points than pixels: nothing is decimated away.
        np.testing.assert_array_equal(data[shown][1], data[name][1], err_msg=name)


def test_timeline_has_one_row_per_worker(panel, short_run_model):
    m = short_run_model
    panel.set_model(m)
    panel.refresh()
    names = [w.name for s, w in sorted(m.workers.items()) if s > 0]
    assert names == ["producer-0", "consumer-0", "consumer-1"]
    assert panel.timeline_rows() == names
    ticks = panel.timeline.plot.getAxis("left")._tickLevels[0]
    assert [label for _, label in ticks] == names
    for row in panel.timeline.rows:
        assert row.t0.n == len(row.worker.intervals)
        np.testing.assert_array_equal(row.t1.view(), [iv[1] for iv in row.worker.intervals])
    # Every consumer processed at least one task, and the timeline can say which.
    tl = panel.timeline
    for r, row in enumerate(tl.rows[1:], start=1):
        ivs = [iv for iv in row.worker.intervals if iv[2] == Activity.PROCESS and iv[3] >= 0]
        assert ivs
        t0, t1, _, label = ivs[0]
        words = tl.lookup(m, r, (t0 + t1) / 2)
        assert words is not None and f"processing task {label}" in words


def test_join_markers_sit_at_the_model_times(panel, short_run_model):
    m = short_run_model
    panel.set_model(m)
    panel.refresh()
    marks = panel.markers()
    assert marks["join_returned"] == (m.join_returned_t, "join() returned")
    assert marks["join_called"] == (m.join_called_t, "join() called")
    assert marks["producers_joined"] == (m.producers_joined_t, "producers joined")
    band = panel.unfinished.band
    assert band.isVisible()
    assert tuple(band.getRegion()) == (m.join_called_t, m.join_returned_t)


def test_premature_join_is_marked_as_a_warning(panel, premature_run_model):
    m = premature_run_model
    assert m.premature_join
    panel.set_model(m)
    panel.refresh()
    t, label = panel.markers()["join_returned"]
    assert t == m.join_returned_t
    assert label == "⚠ premature join() return"
    line = panel.unfinished.return_line
    assert line.pen.color().name() == QColor(panel.theme.warning).name()
    # And a normal run shows the plain label again on the same panel.
    panel.set_model(RunModel())
    assert panel.markers()["join_returned"] is None


def test_set_model_none_or_new_clears_everything(panel, short_run_model):
    panel.set_model(short_run_model)
    panel.refresh()
    assert panel.curve_data()["puts"][0].size > 0
    for replacement in (None, RunModel()):
        panel.set_model(replacement)
        panel.refresh()
        data = panel.curve_data()
        for name in ("depth", "in_flight", "unfinished", "puts", "gets", "task_dones",
                     "shown_unfinished", "shown_puts", "rate"):
            assert data[name][0].size == 0 and data[name][1].size == 0, name
        assert panel.timeline_rows() == []
        assert all(v is None for v in panel.markers().values())
        assert not panel.unfinished.band.isVisible()
    panel.set_model(short_run_model)
    panel.refresh()
    assert_curves_equal_model(panel, short_run_model)


def test_rates_are_completions_in_the_sliding_window(panel, short_run_model):
    m = short_run_model
    panel.set_model(m)
    panel.refresh()
    g, rate = panel.curve_data()["rate"]
    _, wait = panel.curve_data()["mean_wait"]
    assert g.size == int(m.last_t // RATE_STEP_S) + 1
    done = np.sort(np.array(m.done_t))
    waits = np.array(m.done_wait)[np.argsort(np.array(m.done_t), kind="stable")]
    assert done.size == 20  # sentinels are not tasks
    for i, gt in enumerate(g):
        inside = (done > gt - RATE_WINDOW_S) & (done <= gt)
        span = min(max(gt, RATE_STEP_S), RATE_WINDOW_S)
        assert rate[i] == pytest.approx(inside.sum() / span)
        if inside.any():
            assert wait[i] == pytest.approx(waits[inside].mean())
        else:
            assert np.isnan(wait[i])


def test_refresh_is_a_no_op_when_the_model_did_not_change(panel, short_run_model, monkeypatch):
    panel.set_model(short_run_model)
    panel.refresh()
    calls = []
    monkeypatch.setattr(panel._series, "sync_counters", lambda m: calls.append(m) or False)
    panel.refresh()
    assert calls == []


# ----------------------------------------------------------------------------- a live run
@pytest.mark.slow
def test_live_refresh_tracks_the_model_batch_by_batch(panel, qtbot):
    cfg = RunConfig(tasks_per_producer=30, time_scale=0.02, consumers=2,
                    sentinels="per_consumer", seed=4)
    checks = 0
    with Run(cfg) as run:
        panel.set_model(run.model)
        deadline = time.monotonic() + 60
        while not run.ended and time.monotonic() < deadline:
            if run.poll(0.01, wait_s=0.02):
                panel.refresh()
                assert_curves_equal_model(panel, run.model)
                checks += 1
        assert run.wait(timeout=30)
    panel.refresh()
    assert_curves_equal_model(panel, run.model)
    assert checks >= 3
    assert panel.markers()["join_returned"][0] == run.model.join_returned_t


@pytest.mark.slow
def test_a_killed_worker_shows_as_died_with_its_exit_code(panel):
    cfg = RunConfig(tasks_per_producer=40, consumers=2, time_scale=1.0,
                    task_duration=Distribution.constant(0.2), sentinels="per_consumer", seed=2)
    with Run(cfg) as run:
        panel.set_model(run.model)
        deadline = time.monotonic() + 30
        victim = cfg.producers + 1  # consumer-0
        while time.monotonic() < deadline:
            run.poll(0.01, wait_s=0.02)
            w = run.model.workers.get(victim)
            if w is not None and w.pid and w.activity == Activity.PROCESS:
                break
        else:
            pytest.fail("consumer-0 never started a task")
        os.kill(run.processes[victim].pid, signal.SIGKILL)
        while time.monotonic() < deadline and run.model.workers[victim].alive:
            run.poll(0.01, wait_s=0.02)
        panel.refresh()
        w = run.model.workers[victim]
        assert w.exitcode == -signal.SIGKILL and w.activity == Activity.DIED
        row = panel.timeline_rows().index(w.name)
        words = panel.timeline.lookup(run.model, row, panel._now)
        assert words == f"{w.name}: died, exit code {w.exitcode} " \
                        f"({w.since:.3f}–{panel._now:.3f} s)"
        panel.grab()  # paints, which builds the timeline's geometry
        labels = [text for *_, text in panel.timeline.item._labels]
        assert f"died · exit code {w.exitcode}" in labels
        run.stop()


# ----------------------------------------------------------------------------- view controls
def _history(seconds: float) -> RunModel:
    """A small model whose events span ``seconds`` (one producer, one consumer)."""
    m = RunModel()
    recs: dict[int, list[tuple]] = {0: [(int(Kind.RUN_START), 100.0, 1, 1, 10)], 1: [], 2: []}
    for i in range(10):
        t = 100.0 + seconds * i / 10
        tid = (1 << 32) + i
        recs[1].append((int(Kind.PUT), t, t, tid, i, 0.1))
        recs[2].append((int(Kind.GET), t + 0.01, t + 0.01, tid))
        recs[2].append((int(Kind.TASK_DONE), t + 0.02, tid))
    m.feed([(s, 0, r) for s, r in recs.items()])
    return m


def test_follow_shows_the_last_30_seconds_and_unfollow_shows_all(panel):
    m = _history(60.0)
    panel.set_model(m)
    panel.refresh()
    a, b = panel.x_range()
    assert b >= m.last_t and b - a == pytest.approx(30.0 * 1.02)
    panel.set_follow(False)
    a, b = panel.x_range()
    assert a <= 0.0 and b >= m.last_t
    panel.unfinished.plot.setXRange(10.0, 12.0, padding=0)  # the user zooms in
    panel.refresh()
    assert panel.x_range() == pytest.approx((10.0, 12.0))
    x, _ = panel.curve_data()["shown_puts"]
    assert x.min() <= 10.0 and x.max() >= 12.0 and x.size < panel.curve_data()["puts"][0].size
    panel.set_follow(True)
    assert panel.x_range()[1] >= m.last_t


def test_playhead_is_drawn_on_every_chart(panel, short_run_model):
    panel.set_model(short_run_model)
    panel.set_playhead(0.25)
    assert all(ph.isVisible() and ph.value() == 0.25 for ph in panel._playhead)
    assert len(panel._playhead) == 4
    panel.set_playhead(None)
    assert not any(ph.isVisible() for ph in panel._playhead)


def test_presenter_mode_enlarges_text_and_lines(panel, qtbot, short_run_model):
    panel.set_model(short_run_model)
    axis = panel.unfinished.plot.getAxis("left")
    small_font, small_width = axis.style["tickFont"].pointSize(), axis.width()
    small_pen = panel.unfinished.lines._pens["unfinished"].widthF()
    panel.set_presenter(True)
    assert axis.style["tickFont"].pointSize() > small_font
    qtbot.waitUntil(lambda: axis.width() > small_width, timeout=2000)  # after layout
    assert panel.unfinished.lines._pens["unfinished"].widthF() > small_pen
    panel.set_presenter(False)
    assert axis.style["tickFont"].pointSize() == small_font


def test_hovering_reads_the_values_under_the_cursor(panel, qtbot, short_run_model):
    m = short_run_model
    panel.set_model(m)
    panel.refresh()
    panel.set_follow(False)
    t = (m.s_t[0] + m.s_t[-1]) / 2
    vb = panel.flow.plot.getViewBox()
    scene_pos = vb.mapViewToScene(QPointF(t, 1.0))
    view_pos = panel._glw.mapFromScene(scene_pos)
    qtbot.mouseMove(panel._glw.viewport(), QPoint(view_pos.x(), view_pos.y()))
    qtbot.waitUntil(lambda: panel._hover_t is not None, timeout=2000)
    # The cursor sits on a whole pixel: read the model at the time that pixel stands for.
    hovered = panel._hover_t
    assert abs(hovered - t) < 2 * (panel.x_range()[1] - panel.x_range()[0]) / vb.width()
    i = int(np.searchsorted(m.s_t, hovered, side="right")) - 1
    text = panel.readout_text()
    assert f"t = {hovered:.3f} s" in text
    unfinished = m.s_puts[i] - m.s_dones[i]
    assert f"unfinished {unfinished}" in text
    assert f"queued {m.s_puts[i] - m.s_gets[i]}" in text
    assert f"puts {m.s_puts[i]}" in text and f"task_done {m.s_dones[i]}" in text
    assert all(c.isVisible() for c in panel._cursor)


def test_dark_palette_switches_the_theme(panel):
    assert panel.theme is LIGHT
    pal = QPalette()
    pal.setColor(QPalette.ColorRole.Window, QColor("#202327"))
    panel.setPalette(pal)
    assert panel.theme is DARK
    assert panel._glw.backgroundBrush().color().name() == QColor(DARK.background).name()


# ----------------------------------------------------------------------------- export
def test_export_png_and_svg(panel, short_run_model, tmp_path):
    panel.set_model(short_run_model)
    panel.refresh()
    png = tmp_path / "charts.png"
    svg = tmp_path / "charts.svg"
    panel.export_image(str(png))
    panel.export_image(str(svg))
    img = QImage(str(png))
    assert not img.isNull() and img.width() >= 1000 and img.height() >= 700
    colours = {
        img.pixel(x, y) for x in range(0, img.width(), 37) for y in range(0, img.height(), 29)
    }
    assert len(colours) > 5  # not blank
    text = svg.read_text()
    assert text.lstrip().startswith("<?xml") and "<svg" in text and len(text) > 10_000
    with pytest.raises(ValueError):
        panel.export_image(str(tmp_path / "charts.gif"))


# ----------------------------------------------------------------------------- pure helpers
def test_decimate_keeps_peaks_and_shares_x():
    x = np.arange(10_000, dtype=float)
    up = np.cumsum(np.ones_like(x))
    spiky = np.zeros_like(x)
    spiky[5_001] = 7.0
    xd, yd = decimate(x, {"up": up, "spiky": spiky}, 0.0, 9_999.0, 100,
                      rising=frozenset(("up",)))
    assert xd.size < 400
    assert yd["spiky"].max() == 7.0  # one point among 10k survives
    assert yd["up"][0] == up[0] and yd["up"][-1] == up[-1]
    assert np.all(np.diff(xd) >= 0)


def test_decimate_keeps_a_sparse_stretch_where_it_is():
    """Bursts of 10,000 points at both ends, one point a second between: zoomed out, the
    sparse part must keep its points at their x (bins cut by count merged dozens of them
    into one slanted segment from one burst to the other)."""
    first, last = np.linspace(0.0, 1.0, 10_000), np.linspace(99.0, 100.0, 10_000)
    sparse = np.arange(2.0, 99.0)
    x = np.concatenate([first, sparse, last])
    y = np.concatenate([np.sin(first * 300.0), sparse, np.sin(last * 300.0)])
    xd, yd = decimate(x, {"y": y}, 0.0, 100.0, 200)
    assert xd.size < 1_000
    assert np.interp(sparse, xd, yd["y"]) == pytest.approx(sparse)
    assert yd["y"][-1] == y[-1] and xd[-1] == x[-1]  # the "now" tail
    assert yd["y"].max() == pytest.approx(98.0) and yd["y"].min() < -0.99


# ----------------------------------------------------------------------------- speed machinery
def test_export_svg_is_the_panel_not_the_scene(panel, short_run_model, qtbot, tmp_path):
    panel.set_model(short_run_model)
    panel.resize(1600, 1000)  # the scene's rectangle grows to this and never shrinks back
    qtbot.waitUntil(lambda: panel._glw.viewport().width() == 1600)
    panel.resize(1280, 800)
    qtbot.waitUntil(lambda: panel._glw.viewport().width() == 1280)
    assert panel._glw.scene().sceneRect().width() >= 1600  # what the old export drew
    svg = tmp_path / "charts.svg"
    panel.export_image(str(svg))
    head = svg.read_text()[:2000]
    view_box = re.search(r'viewBox="([^"]+)"', head).group(1)
    assert [float(v) for v in view_box.split()] == [0, 0, panel.width(), panel.height()]
    w_mm, h_mm = (float(v) for v in re.search(r'width="([\d.]+)mm" height="([\d.]+)mm"',
                                              head).groups())
    assert w_mm / h_mm == pytest.approx(panel.width() / panel.height(), rel=1e-3)


def test_follow_decimation_is_incremental_and_keeps_every_peak():
    rng = np.random.default_rng(5)
    names = ("up", "wiggle")
    s = StepSeries(names)
    lod = StepLOD(names, frozenset(("up",)))
    t, up = 0.0, 0.0
    for _ in range(120):  # batches of points while the view grows, then scrolls
        k = int(rng.integers(1, 3000))
        tt = t + np.cumsum(rng.exponential(3e-3, k))
        u = up + np.cumsum(rng.integers(0, 2, k))
        t, up = float(tt[-1]), float(u[-1])
        s.append(tt, {"up": u, "wiggle": rng.integers(0, 50, k).astype(float)})
        s.set_now(t + 0.01)
        x = s.ex.view()
        ys = {n: s.ey[n].view() for n in names}
        xmin, xmax = (0.0, x[-1] * 1.02) if x[-1] <= 30 else (x[-1] - 30, x[-1] + 0.6)
        bw = bin_width(xmax - xmin, 1000)
        lod.update(x, ys, bw)
        xd, yd = lod.decimated(x, ys, xmin, xmax)
        fresh = StepLOD(names, frozenset(("up",)))
        fresh.update(x, ys, bw)
        xf, yf = fresh.decimated(x, ys, xmin, xmax)
        np.testing.assert_array_equal(xd, xf)  # folding in new points = starting over
        for n in names:
            np.testing.assert_array_equal(yd[n], yf[n])
        vis = (x >= xmin) & (x <= xmax)
        assert yd["wiggle"].max() == ys["wiggle"][vis].max()  # no peak is lost
        assert yd["wiggle"].min() <= ys["wiggle"][vis].min()
        assert xd[-1] == x[-1] and yd["up"][-1] == ys["up"][-1]  # "now" is drawn
        assert np.all(np.diff(xd) >= 0) and xd.size <= 4 * 1000 + 8
    assert x.size > 100_000 and t > 30


def test_a_live_backlog_is_drawn_over_frames_then_equals_the_model(panel):
    """Live, one refresh takes a bounded share of what the model added; the rest follows."""
    m = RunModel()
    start = time.perf_counter() - 2.0  # a run that started 2 s ago and is still going
    n = 12_000
    recs: dict[int, list[tuple]] = {0: [(int(Kind.RUN_START), start, 1, 1, n)], 1: [], 2: []}
    for i in range(n):
        t = start + 1.5 * i / n
        tid = (1 << 32) + i
        recs[1].append((int(Kind.PUT), t, t, tid, i, 0.1))
        recs[2].append((int(Kind.GET), t + 1e-5, t + 1e-5, tid))
        recs[2].append((int(Kind.TASK_DONE), t + 2e-5, tid))
    m.feed([(s, 0, r) for s, r in recs.items()])
    assert len(m.s_t) > LIVE_SYNC_POINTS and m.end_t is None
    frame = Frame(m.rel(time.perf_counter()), live=True)  # the driver's: the run goes on
    panel.set_model(m, frame)  # refreshes once
    assert panel.curve_data()["puts"][0].size == 2 * LIVE_SYNC_POINTS  # a bounded share
    for _ in range(10):
        panel.refresh(frame)
    assert_curves_equal_model(panel, m)
    for row in panel.timeline.rows:
        np.testing.assert_array_equal(row.t1.view(), [iv[1] for iv in row.worker.intervals])


@pytest.mark.parametrize("orientation, lo, hi", [("bottom", 3.37, 33.37), ("left", 0, 2500),
                                                 ("right", 0.0004, 0.0031), ("left", -7, 12)])
def test_chart_axes_draw_what_pyqtgraph_draws(qtbot, orientation, lo, hi):
    """ChartAxis builds its ticks and labels its own (cheaper) way: the pixels must not change."""
    images = []
    for ours in (False, True):
        w = pg.GraphicsLayoutWidget()
        qtbot.addWidget(w)
        w.resize(700, 400)
        w.setBackground("w")
        axes = {orientation: ChartAxis(orientation)} if ours else {}
        plot = w.addPlot(axisItems=axes)
        plot.showAxis(orientation)
        plot.getAxis(orientation).setStyle(maxTickLevel=1)
        if orientation == "bottom":
            plot.setXRange(lo, hi, padding=0)
        else:
            plot.setYRange(lo, hi, padding=0)
        w.show()
        qtbot.waitExposed(w)
        images.append(w.grab().toImage())
    assert images[0] == images[1]
