"""The chart items chartcheck checks, each registered with its model series and colour."""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPoint
from PySide6.QtGui import QColor

from engine.model import Activity, RunModel
from engine.theory import batch_bound, predict, task_durations
from gui.charts import ChartsPanel
from gui.charts.curves import BandItem, LinesItem, SeriesLine
from gui.charts.palette import Theme, qcolor
from gui.charts.timeline_plot import BAR_HEIGHT
from tests.gui.chartcheck import (
    CLEAR_PX,
    Ctx,
    ItemCheck,
    Probe,
    band_drawn,
    dense_times,
    near_points,
    register,
    sample_times,
    seriesline_drawn,
    visible_changes,
)
from tests.gui.chartmodel import (
    activity_at,
    compare_line,
    on_segments,
    rates_on_grid,
    step_at,
    steps,
)


def _s_t(ctx: Ctx) -> np.ndarray:
    return np.asarray(ctx.model.s_t, dtype=float)


def column_spans(ctx: Ctx, vb: pg.ViewBox, name: str) -> Callable[[QPoint], bool]:
    """Where counter ``name``'s line paints: in each pixel column, everything from the lowest
    to the highest value it takes there. A flood changes it many times per column and the
    line (peak-decimated or not) rises and falls through all of them: sampling a column at
    one or two times misses most of what it covers."""
    t, v = steps(ctx.model, name)
    xmin, xmax = ctx.x_range()
    px = ctx.px(vb)
    edges = np.arange(xmin - px, min(xmax, ctx.until) + 2 * px, px)
    if edges.size < 2:
        return lambda pt: False
    # Each column's value at its left edge, and every change inside it.
    at_edges = step_at(ctx.model, name, edges)
    inside = (t >= edges[0]) & (t < edges[-1])
    col = np.concatenate((np.arange(edges.size), np.searchsorted(edges, t[inside], "right") - 1))
    val = np.concatenate((at_edges, v[inside]))
    lo = np.full(edges.size, np.inf)
    hi = np.full(edges.size, -np.inf)
    np.minimum.at(lo, col, val)
    np.maximum.at(hi, col, val)
    # A column's line also reaches the next column's starting value (the riser between them).
    lo[:-1] = np.minimum(lo[:-1], at_edges[1:])
    hi[:-1] = np.maximum(hi[:-1], at_edges[1:])
    spans = []
    for x, a, b in zip(edges, lo, hi, strict=True):
        p_lo, p_hi = ctx.to_pixel(vb, float(x), float(a)), ctx.to_pixel(vb, float(x), float(b))
        spans.append((p_lo.x(), min(p_lo.y(), p_hi.y()), max(p_lo.y(), p_hi.y())))
    arr = np.array(spans, dtype=float).reshape(-1, 3)

    def covers(pt: QPoint) -> bool:
        near = np.abs(arr[:, 0] - pt.x()) <= CLEAR_PX + 1
        return bool(np.any(near & (arr[:, 1] - CLEAR_PX <= pt.y())
                           & (pt.y() <= arr[:, 2] + CLEAR_PX)))

    return covers


# --------------------------------------------------------------------- counters: lines, bands
def counter_line(name: str, label: str, chart: str, colour: Callable[[Theme], str]) -> None:
    """Counter ``name`` drawn by the LinesItem of ``chart`` under the same name."""

    def lines(p: ChartsPanel) -> LinesItem:
        return getattr(p, chart).lines

    def held(ctx: Ctx) -> list[str]:
        item = lines(ctx.panel)
        x, y = item.xy(name)
        vb = item.getViewBox()
        # Peak decimation leaves about two points per pixel column: exact below that.
        exact = x.size >= 2 * visible_changes(ctx)
        return compare_line(label, x, y, sample_times(ctx, vb, _s_t(ctx)),
                            lambda t: step_at(ctx.model, name, t), ctx.px(vb), exact, _s_t(ctx))

    def probes(ctx: Ctx) -> list[Probe]:
        vb = lines(ctx.panel).getViewBox()
        ts = sample_times(ctx, vb, _s_t(ctx))
        return [Probe(vb, t, v) for t, v in zip(ts, step_at(ctx.model, name, ts), strict=True)]

    def covers(ctx: Ctx) -> Callable[[QPoint], bool]:
        return column_spans(ctx, lines(ctx.panel).getViewBox(), name)

    register(ItemCheck(label, lines, lambda th, _m: qcolor(colour(th)), held, probes, covers,
                       sub=name))


def counter_band(label: str, item: Callable[[ChartsPanel], BandItem], lower: str | None,
                 upper: str, colour: Callable[[Theme], str]) -> None:
    """A band between two counters (``lower`` None: zero)."""

    def lo_at(m: RunModel, ts: np.ndarray) -> np.ndarray:
        return np.zeros(ts.size) if lower is None else step_at(m, lower, ts)

    def held(ctx: Ctx) -> list[str]:
        band = item(ctx.panel)
        vb = band.getViewBox()
        if vb is None:
            return [f"{label}: not in any chart"]
        ts = sample_times(ctx, vb, _s_t(ctx))
        x, lo, hi = band_drawn(band)
        exact = x.size >= 2 * visible_changes(ctx)
        tol = ctx.px(vb)
        return (compare_line(f"{label} (top)", x, hi, ts,
                             lambda t: step_at(ctx.model, upper, t), tol, exact, _s_t(ctx))
                + compare_line(f"{label} (bottom)", x, lo, ts,
                               lambda t: lo_at(ctx.model, t), tol, exact, _s_t(ctx)))

    def probes(ctx: Ctx) -> list[Probe]:
        vb = item(ctx.panel).getViewBox()
        ts = sample_times(ctx, vb, _s_t(ctx))
        lo, hi = lo_at(ctx.model, ts), step_at(ctx.model, upper, ts)
        # Only where the band is tall enough on screen to have an inside clear of its edges.
        return [Probe(vb, t, (a + b) / 2) for t, a, b in zip(ts, lo, hi, strict=True)
                if ctx.to_pixel(vb, t, a).y() - ctx.to_pixel(vb, t, b).y() >= 2 * CLEAR_PX + 2]

    register(ItemCheck(label, item, lambda th, _m: qcolor(colour(th)), held, probes))


counter_line("unfinished", "Unfinished: unfinished line", "unfinished", lambda th: th.unfinished)
counter_line("in_flight", "Unfinished: in-progress line", "unfinished", lambda th: th.in_flight)
counter_band("Unfinished: queued band", lambda p: p.unfinished.band_queued, "in_flight",
             "unfinished", lambda th: th.queued_fill)
counter_band("Unfinished: in-progress band", lambda p: p.unfinished.band_in_flight, None,
             "in_flight", lambda th: th.in_flight_fill)
counter_line("puts", "Flow: puts line", "flow", lambda th: th.puts)
counter_line("gets", "Flow: gets line", "flow", lambda th: th.gets)
counter_line("dones", "Flow: task_done line", "flow", lambda th: th.dones)
counter_band("Flow: queued band", lambda p: p.flow.band_queued, "gets", "puts",
             lambda th: th.queued_fill)
counter_band("Flow: in-progress band", lambda p: p.flow.band_in_flight, "dones", "gets",
             lambda th: th.in_flight_fill)


# ----------------------------------------------------------------------------- rates
def rate_line(key: str, label: str, colour: Callable[[Theme], str]) -> None:
    """Line ``key`` of the Rates chart (the attribute and the series share the name)."""

    def line(p: ChartsPanel) -> SeriesLine:
        return getattr(p.rates, key)

    def series(ctx: Ctx) -> tuple[np.ndarray, Callable[[np.ndarray], np.ndarray]]:
        grid, v = rates_on_grid(ctx.model, ctx.until)[key]
        return grid, on_segments(grid, v)

    def times(ctx: Ctx, grid: np.ndarray) -> np.ndarray:
        xmin, xmax = ctx.x_range()
        ts = grid[(grid >= xmin) & (grid <= min(xmax, ctx.until))]
        return ts[np.linspace(0, ts.size - 1, min(ts.size, 80)).astype(int)] if ts.size else ts

    def held(ctx: Ctx) -> list[str]:
        grid, at = series(ctx)
        item = line(ctx.panel)
        x, y = seriesline_drawn(item)
        exact = item.xy()[0].size <= 4 * max(16, int(item.getViewBox().width()))
        return compare_line(label, x, y, times(ctx, grid), at, 1e-9, exact, grid)

    def probes(ctx: Ctx) -> list[Probe]:
        grid, at = series(ctx)
        vb = line(ctx.panel).getViewBox()
        ts = times(ctx, grid)
        # Grid points and the middle of each segment between them: a line is drawn whole.
        ts = np.sort(np.concatenate((ts, ts[:-1] + np.diff(ts) / 2))) if ts.size > 1 else ts
        return [Probe(vb, t, y) for t, y in zip(ts, at(ts), strict=True) if np.isfinite(y)]

    def covers(ctx: Ctx) -> Callable[[QPoint], bool]:
        _grid, at = series(ctx)
        vb = line(ctx.panel).getViewBox()
        ts = dense_times(ctx, vb)
        return near_points([ctx.to_pixel(vb, t, y) for t, y in zip(ts, at(ts), strict=True)
                            if np.isfinite(y)])

    register(ItemCheck(label, line, lambda th, _m: qcolor(colour(th)), held, probes, covers,
                       share=0.95))


rate_line("rate", "Rates: done-per-second line", lambda th: th.rate)
rate_line("wait", "Rates: mean-wait line", lambda th: th.wait)
rate_line("service", "Rates: mean-service line", lambda th: th.service)


# ----------------------------------------------------------------------------- the timeline
def timeline_samples(ctx: Ctx) -> list[tuple[int, float, int]]:
    """(row, time, activity) in the middle of each of the model's intervals (the open one
    too) that is at least six pixels wide in view and ended by ``until``."""
    vb = ctx.panel.timeline.item.getViewBox()
    px = ctx.px(vb)
    xmin, xmax = ctx.x_range()
    hi = min(xmax, ctx.until)
    out = []
    for row, src in enumerate(sorted(s for s in ctx.model.workers if s > 0)):
        w = ctx.model.workers[src]
        spans = [(t0, t1, int(a)) for t0, t1, a, _ in w.intervals]
        # A replay's charts cut the whole-run model at the playhead: an operation called
        # before it and returning after it shows from its call (a get as waiting), which a
        # model fed up to the playhead cannot know yet (its open interval): not compared.
        if ctx.panel.until is None:
            spans.append((w.since, ctx.model.last_t, int(w.activity)))
        for t0, t1, a in spans:
            if t1 > ctx.until:
                # Still going at the playhead: what it is shows only when it ends (a put
                # blocked then is "producing" until it returns), in a replay as live.
                continue
            a0, a1 = max(t0, xmin), min(t1, hi)
            if a1 - a0 >= 6 * px:
                out.append((row, (a0 + a1) / 2, a))
    return out


def timeline_held(ctx: Ctx) -> list[str]:
    """Rows in the model's order, and at each sample the bar the last paint drew there has
    the activity the model's intervals say."""
    tl = ctx.panel.timeline
    srcs = sorted(s for s in ctx.model.workers if s > 0)
    names = [ctx.model.workers[s].name for s in srcs]
    bad = []
    if [r.worker.name for r in tl.rows] != names:
        bad.append(f"Workers: rows {[r.worker.name for r in tl.rows]}, model {names}")
        return bad
    rects = {a: prim.ndarray() for a, prim in tl.item._rects.items()}  # per activity: x,y,w,h
    for row, t, a in timeline_samples(ctx):
        assert activity_at(ctx.model, srcs[row], t, ctx.until) == a
        drawn = [act for act, r in rects.items()
                 if np.any((r[:, 0] <= t) & (t <= r[:, 0] + r[:, 2])
                           & (r[:, 1] <= row) & (row <= r[:, 1] + r[:, 3]))]
        if a not in drawn:
            bad.append(f"Workers: {names[row]} at t={t:.3f} is drawn as "
                       f"{[Activity(d).name for d in drawn]}, the model says {Activity(a).name}")
    return bad[:5]


def timeline_bars(act: Activity, min_probes: int) -> None:
    """The timeline's bars of one activity (one item draws them all, one colour each)."""

    def held(ctx: Ctx) -> list[str]:
        return timeline_held(ctx) if act == Activity.PROCESS else []

    def probes(ctx: Ctx) -> list[Probe]:
        vb = ctx.panel.timeline.item.getViewBox()
        # In the bar's upper part: a task's label is written across its middle.
        return [Probe(vb, t, row - BAR_HEIGHT * 0.3) for row, t, a in timeline_samples(ctx)
                if a == int(act)]

    register(ItemCheck(f"Workers: {act.name.lower()} bars", lambda p: p.timeline.item,
                       lambda th, _m: qcolor(th.activities[act]), held, probes,
                       min_probes=min_probes))


timeline_bars(Activity.PROCESS, 3)
for _act in (Activity.WAIT_GET, Activity.EXITED, Activity.RUNNING, Activity.BLOCK_PUT,
             Activity.FAILED, Activity.PAUSED, Activity.DIED):
    timeline_bars(_act, 0)  # each run shows some of these; where it does, they are checked


# ----------------------------------------------------------------------------- join markers
def marker(label: str, attr: str, when: Callable[[RunModel], float | None],
           colour: Callable[[Theme, RunModel], str]) -> None:
    """A vertical line of the Unfinished chart at a moment of the model."""

    def line(p: ChartsPanel) -> pg.InfiniteLine:
        return getattr(p.unfinished, attr)

    def moment(ctx: Ctx) -> float | None:
        t = when(ctx.model)
        return t if t is not None and t <= ctx.until else None

    def held(ctx: Ctx) -> list[str]:
        t, ln = moment(ctx), line(ctx.panel)
        if t is None:
            return [f"{label}: shown, the model has no such moment"] if ln.isVisible() else []
        if not ln.isVisible():
            return [f"{label}: hidden, the model has it at {t:.3f}"]
        return [] if ln.value() == t else [f"{label}: at {ln.value()}, the model at {t}"]

    def probes(ctx: Ctx) -> list[Probe]:
        t = moment(ctx)
        if t is None:
            return []
        vb = ctx.panel.unfinished.plot.getViewBox()
        (_, _), (y0, y1) = vb.viewRange()
        return [Probe(vb, t, y0 + f * (y1 - y0)) for f in (0.1, 0.25, 0.4, 0.55, 0.7, 0.85)]

    def covers(ctx: Ctx) -> Callable[[QPoint], bool]:
        t = moment(ctx)
        if t is None:
            return lambda pt: False
        vb = ctx.panel.unfinished.plot.getViewBox()
        x = ctx.to_pixel(vb, t, 0.0).x()
        # The line's whole height, in its own chart only.
        return lambda pt: abs(pt.x() - x) <= CLEAR_PX and ctx.inside(vb, pt)

    # Markers often coincide (producers joined, then join() called a moment later): the one
    # underneath may have nowhere left to be seen (its place is still checked). Two are
    # dashed: a third of the places showing the colour is proof it is drawn.
    register(ItemCheck(label, line, lambda th, m: qcolor(colour(th, m)), held, probes, covers,
                       min_probes=0, share=0.3, marker=True))


marker("Unfinished: join() called line", "called_line", lambda m: m.join_called_t,
       lambda th, m: th.join_line)
marker("Unfinished: join() returned line", "return_line", lambda m: m.join_returned_t,
       lambda th, m: th.warning if m.premature_join else th.join_line)
marker("Unfinished: producers joined line", "producers_line", lambda m: m.producers_joined_t,
       lambda th, m: th.producers_line)


def join_band_held(ctx: Ctx) -> list[str]:
    band, m = ctx.panel.unfinished.band, ctx.model
    if m.join_called_t is None or m.join_called_t > ctx.until:
        return ["Unfinished: join() band shown before join()"] if band.isVisible() else []
    if not band.isVisible():
        return ["Unfinished: join() band hidden after join() was called"]
    a, b = band.getRegion()
    bad = []
    if a != m.join_called_t:
        bad.append(f"Unfinished: join() band starts at {a}, join() called at {m.join_called_t}")
    if m.join_returned_t is not None and m.join_returned_t <= ctx.until and \
            b != m.join_returned_t:
        bad.append(f"Unfinished: join() band ends at {b}, join() returned at {m.join_returned_t}")
    return bad


def join_band_probes(ctx: Ctx) -> list[Probe]:
    m = ctx.model
    if m.join_called_t is None or m.join_called_t > ctx.until:
        return []
    end = min(m.join_returned_t if m.join_returned_t is not None else ctx.until, ctx.until)
    vb = ctx.panel.unfinished.plot.getViewBox()
    (_, _), (y0, y1) = vb.viewRange()
    # Near the top of the plot, above the stacked bands (opaque: they cover it).
    top = float(np.max(step_at(m, "unfinished", np.linspace(m.join_called_t, end, 50))))
    ys = [y for y in (y1 - 0.04 * (y1 - y0), y1 - 0.12 * (y1 - y0)) if y > top]
    return [Probe(vb, t, y) for t in np.linspace(m.join_called_t, end, 9)[1:-1] for y in ys]


def join_band_colour(th: Theme, _m: RunModel) -> QColor:
    """The translucent band over the background, as the image shows it."""
    c, bg = qcolor(th.join_band), qcolor(th.background)
    a = c.alphaF()
    return QColor(*(round(x * a + y * (1 - a)) for x, y in
                    zip((c.red(), c.green(), c.blue()), (bg.red(), bg.green(), bg.blue()),
                        strict=True)))


register(ItemCheck("Unfinished: join() band", lambda p: p.unfinished.band, join_band_colour,
                   join_band_held, join_band_probes, min_probes=2))




# ------------------------------------------------------------ queueing theory's reference lines
def _prediction(ctx: Ctx) -> object:
    """engine/theory's prediction for the config the panel shows (None: none or a batch)."""
    cfg = ctx.panel.theory.cfg
    return None if cfg is None else predict(cfg, os.cpu_count())


def reference_level(label: str, attr: str, field: str, view: Callable[[ChartsPanel], object],
                    colour: Callable[[Theme], str]) -> None:
    """A dashed horizontal line at a predicted value (``field`` of engine.theory.Prediction)."""

    def line(p: ChartsPanel) -> pg.InfiniteLine:
        return getattr(p.theory, attr)

    def value(ctx: Ctx) -> float | None:
        pred = _prediction(ctx)
        v = getattr(pred, field) if pred is not None and pred.stable else None
        return v if v is not None and np.isfinite(v) else None

    def held(ctx: Ctx) -> list[str]:
        v, ln = value(ctx), line(ctx.panel)
        if v is None:
            return [f"{label}: shown, theory predicts no finite value"] if ln.isVisible() else []
        if not ln.isVisible() or ln.getViewBox() is not view(ctx.panel):
            return [f"{label}: not shown in its chart, theory predicts {v:.6g}"]
        return [] if abs(ln.value() - v) <= 1e-9 * max(1.0, abs(v)) else \
            [f"{label}: at {ln.value():.6g}, theory predicts {v:.6g}"]

    def probes(ctx: Ctx) -> list[Probe]:
        v = value(ctx)
        if v is None:
            return []
        vb = view(ctx.panel)
        xmin, xmax = ctx.x_range()
        return [Probe(vb, xmin + f * (xmax - xmin), v) for f in np.linspace(0.05, 0.95, 24)]

    def covers(ctx: Ctx) -> Callable[[QPoint], bool]:
        v = value(ctx)
        if v is None:
            return lambda pt: False
        vb = view(ctx.panel)
        y = ctx.to_pixel(vb, 0.0, v).y()
        return lambda pt: abs(pt.y() - y) <= CLEAR_PX and ctx.inside(vb, pt)

    # Dashed: a third of the places showing the colour is proof it is drawn.
    register(ItemCheck(label, line, lambda th, _m: qcolor(colour(th)), held, probes, covers,
                       min_probes=0, share=0.3))


reference_level("Unfinished: predicted L line", "in_system", "mean_in_system",
                lambda p: p.unfinished.plot.getViewBox(), lambda th: th.unfinished)
reference_level("Rates: predicted wait line", "wait", "mean_wait_s", lambda p: p.rates.vb2,
                lambda th: th.wait)


def _bound_at(ctx: Ctx) -> float | None:
    """A batch's earliest end: first put + engine/theory's batch bound, once all are put."""
    cfg, m = ctx.panel.theory.cfg, ctx.model
    if cfg is None or predict(cfg, os.cpu_count()) is not None:
        return None
    d = task_durations(m)
    if not d.size or d.size < m.tasks_total:
        return None
    first = min(float(np.nanmin(r.t_put[: r.n])) for r in m.tasks.streams.values() if r.n
                and not np.all(np.isnan(r.t_put[: r.n])))
    return first + batch_bound(d * cfg.time_scale, cfg.consumers, os.cpu_count(),
                               cfg.workload == "cpu")


def _bound_held(ctx: Ctx) -> list[str]:
    t, ln = _bound_at(ctx), ctx.panel.theory.bound
    if t is None:
        return ["Unfinished: batch bound line: shown, no batch bound"] if ln.isVisible() else []
    if not ln.isVisible():
        return [f"Unfinished: batch bound line: hidden, the bound ends at {t:.4f}"]
    return [] if abs(ln.value() - t) < 1e-9 else \
        [f"Unfinished: batch bound line: at {ln.value():.4f}, the bound at {t:.4f}"]


def _bound_probes(ctx: Ctx) -> list[Probe]:
    t = _bound_at(ctx)
    if t is None:
        return []
    vb = ctx.panel.unfinished.plot.getViewBox()
    (_, _), (y0, y1) = vb.viewRange()
    return [Probe(vb, t, y0 + f * (y1 - y0)) for f in np.linspace(0.05, 0.95, 19)]


def _bound_covers(ctx: Ctx) -> Callable[[QPoint], bool]:
    t = _bound_at(ctx)
    if t is None:
        return lambda pt: False
    vb = ctx.panel.unfinished.plot.getViewBox()
    x = ctx.to_pixel(vb, t, 0.0).x()
    return lambda pt: abs(pt.x() - x) <= CLEAR_PX and ctx.inside(vb, pt)


register(ItemCheck("Unfinished: batch bound line", lambda p: p.theory.bound,
                   lambda th, _m: qcolor(th.dones), _bound_held, _bound_probes, _bound_covers,
                   min_probes=0, share=0.3, marker=True))
