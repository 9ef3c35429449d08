"""Frames per second and event-to-screen latency of the live charts at 100k points of history.

    python benchmarks/gui.py [--points 100000] [--seconds 4] [--workload sleep|cpu] [--json]

A RunModel is pre-filled with synthetic history (``--points`` points per counter curve, all in
the 30 s the charts follow), then a real run of one producer and two busy consumers keeps
feeding the same model while frames are drawn in a real window (the Qt platform in use is
printed: offscreen, xcb under Xvfb, ...). Each frame is what the window's frame timer does:
``run.poll`` (time-boxed), ``ChartsPanel.refresh()``, a synchronous ``repaint()`` and
``processEvents()``. As the window's RunDriver does, the garbage collector's view of the
(only growing) model is frozen once a second. The synthetic history ends when the live run
starts, so the charts' live clock and scrolling are on from the first frame.

Four phases, in the same process and on the same model:

* **charts**: ChartsPanel, frames back to back, each a full synchronous ``repaint()`` of the
  charts' view (legends and axes included, whether they changed or not): frames/s is the
  capacity (median of 1 s blocks);
* **dirty region**: the same, but Qt paints only what changed, in ``processEvents()`` (what the
  window's timer gets; the paint events are counted to show every frame was drawn);
* **baseline**: pyqtgraph defaults on the same curves (plain PlotDataItems, antialiasing,
  autorange, the model's lists converted whole every frame), interleaved block by block with
  *charts* so both see the same load and the same history length;
* **paced**: ChartsPanel at the window's 60 Hz frame timer, dirty region only (the window
  path); event-to-screen latency is the time from each event's own timestamp
  (``perf_counter`` in the worker) to the end of the repaint that drew it, as p50/p95/max.

Figures are machine-dependent: compare charts with baseline, measured in the same run.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
from PySide6.QtCore import QEvent, QObject

from engine.config import RunConfig
from engine.distributions import Distribution
from engine.events import Kind
from engine.model import RunModel
from engine.runner import Run

perf_counter = time.perf_counter
FRAME_S = 1 / 60  # the window's frame timer
POLL_BUDGET_S = 0.004  # the window's per-tick drain budget
GC_FREEZE_EVERY_S = 1.0  # gui.run_driver freezes the collector's view of the model this often
SYN_TID_BASE = 1000 << 32  # synthetic task ids never collide with a recorder's (src << 32)


class BenchModel(RunModel):
    """A RunModel that keeps the synthetic run's clock when the real run's RUN_START arrives,
    so the live events continue the pre-filled history instead of restarting it."""

    def _apply(self, src: int, r: tuple, applied: list) -> None:
        if r[0] == Kind.RUN_START and self.t0 is not None:
            applied.append((src, r))
            return
        super()._apply(src, r, applied)


def synthetic_history(points: int, span_s: float, end: float, seed: int = 1) -> BenchModel:
    """A model with ``points`` counter changes over ``span_s`` seconds ending at ``end``
    (a ``perf_counter`` time): one producer, two consumers, tasks of irregular length."""
    rng = np.random.default_rng(seed)
    n = max(1, points // 3)  # a task is three counter changes: put, get, task_done
    t0 = end - span_s
    dt = span_s / (n + 2)
    put = t0 + 0.05 + np.arange(n) * dt
    # Two consumers alternate; a slow spell now and then makes the queue grow and drain.
    service = dt * (1.2 + 0.7 * rng.random(n)) * (1 + 2.5 * (np.sin(np.arange(n) / 900) > 0.7))
    get = np.empty(n)
    done = np.empty(n)
    free = [put[0], put[0]]
    for i in range(n):
        c = i & 1
        g = max(put[i] + 1e-6, free[c])
        get[i] = g
        done[i] = g + service[i]
        free[c] = done[i] + 1e-6
    # Slow spells leave a backlog that would finish seconds after ``end``: squeeze the history
    # so its last event is at ``end``, and the live run's clock takes over from the first frame.
    last = float(done.max())
    if last > end:
        k = (end - t0) / (last - t0)
        put, get, done = (t0 + (a - t0) * k for a in (put, get, done))
    m = BenchModel()
    recs: dict[int, list[tuple]] = {0: [(int(Kind.RUN_START), t0, 1, 2, n)], 1: [], 2: [], 3: []}
    for s in (1, 2, 3):
        recs[s].append((int(Kind.WORKER_START), t0 + 0.01, 0, 0 if s == 1 else 1, s - 1))
    for i in range(n):
        tid = SYN_TID_BASE + i
        recs[1].append((int(Kind.PUT), put[i], put[i], tid, i, 0.5))
        src = 2 + (i & 1)
        recs[src].append((int(Kind.GET), get[i] - 1e-7, get[i], tid))
        recs[src].append((int(Kind.TASK_START), get[i], tid))
        recs[src].append((int(Kind.TASK_DONE), done[i], tid))
    m.feed([(s, 0, r) for s, r in recs.items()])
    return m


class Baseline:
    """The same counter curves the way pyqtgraph's defaults draw them."""

    def __init__(self) -> None:
        import pyqtgraph as pg

        pg.setConfigOptions(antialias=True)
        self.w = pg.GraphicsLayoutWidget()
        self.curves = {}
        p1 = self.w.addPlot(row=0, col=0)
        p2 = self.w.addPlot(row=1, col=0)
        for name in ("in_flight", "unfinished"):
            self.curves[name] = p1.plot(pen=pg.mkPen("b"))
        for name in ("puts", "gets", "dones"):
            self.curves[name] = p2.plot(pen=pg.mkPen("g"))
        p2.setXLink(p1)
        pg.setConfigOptions(antialias=False)

    def refresh(self, m: RunModel) -> None:
        t = np.asarray(m.s_t, dtype=float)
        if t.size < 2:
            return
        p = np.asarray(m.s_puts, dtype=float)
        g = np.asarray(m.s_gets, dtype=float)
        d = np.asarray(m.s_dones, dtype=float)
        x = np.repeat(t, 2)[1:]
        for name, y in (("in_flight", g - d), ("unfinished", p - d), ("puts", p), ("gets", g),
                        ("dones", d)):
            self.curves[name].setData(x, np.repeat(y, 2)[:-1])


class PaintCounter(QObject):
    """Counts paint events of a widget: proves every measured frame was really drawn."""

    def __init__(self) -> None:
        super().__init__()
        self.paints = 0

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            self.paints += 1
        return False


def frame_loop(app, view, refresh, run: Run, seconds: float, paced: bool,
               lat: list[float] | None, full: bool = True) -> list[float]:
    """Draw frames for ``seconds``; return the end time of every frame.

    ``full``: repaint the whole ``view`` each frame (conservative). Otherwise only what Qt
    marked dirty is painted, inside ``processEvents`` — what the window's timer gets.
    """
    ends: list[float] = []
    stop = perf_counter() + seconds
    next_tick = perf_counter()
    next_freeze = 0.0
    while perf_counter() < stop:
        if perf_counter() >= next_freeze:
            # As the window's RunDriver does: the model only grows, and a full collection
            # walking its records would stall a frame for 100+ ms now and then.
            gc.freeze()
            next_freeze = perf_counter() + GC_FREEZE_EVERY_S
        applied = run.poll(POLL_BUDGET_S)
        refresh()
        if full:
            # The graphics view's viewport: QWidget.repaint() on the panel around it does not
            # reach it.
            view.viewport().repaint()
        app.processEvents()
        now = perf_counter()
        ends.append(now)
        if lat is not None:
            lat.extend(now - r[1] for src, r in applied if src)
        if paced:
            next_tick += FRAME_S
            if next_tick > now:
                time.sleep(next_tick - now)
            else:
                next_tick = now
    return ends


def block_fps(ends: list[float], start: float) -> float:
    return (len(ends)) / (ends[-1] - start) if ends and ends[-1] > start else 0.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--points", type=int, default=100_000, help="history per curve")
    ap.add_argument("--seconds", type=float, default=4.0, help="per phase")
    ap.add_argument("--workload", choices=("sleep", "cpu"), default="sleep",
                    help="what the two consumers do per task (cpu: they spin)")
    ap.add_argument("--task-ms", type=float, default=2.0, help="consumer time per task")
    ap.add_argument("--size", default="1280x800")
    ap.add_argument("--json", action="store_true", help="print one JSON line")
    args = ap.parse_args()

    from PySide6.QtWidgets import QApplication

    from gui.charts import ChartsPanel

    app = QApplication.instance() or QApplication([])
    load_start = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    w, h = (int(v) for v in args.size.split("x"))
    build0 = perf_counter()
    model = synthetic_history(args.points, span_s=25.0, end=perf_counter())
    build_s = perf_counter() - build0

    panel = ChartsPanel()
    panel.resize(w, h)
    base = Baseline()
    base.w.resize(w, h)
    cfg = RunConfig(
        producers=1, consumers=2, tasks_per_producer=10_000_000, maxsize=64,
        task_duration=Distribution.constant(args.task_ms / 1000), time_scale=1.0,
        workload=args.workload, sentinels="per_consumer", seed=1,
    )
    points0 = len(model.s_t)
    charts_fps: list[float] = []
    dirty_fps: list[float] = []
    base_fps: list[float] = []
    counter = PaintCounter()
    panel_frames = 0
    lat: list[float] = []
    paced_ends: list[float] = []
    run = Run(cfg)
    run.model = model  # live events continue the synthetic history
    with run:
        panel.show()
        panel.set_model(model)
        t_first = perf_counter()
        panel.refresh()
        panel._glw.viewport().repaint()
        app.processEvents()
        first_frame_ms = (perf_counter() - t_first) * 1000
        # Let the workers start and the live events flow before measuring.
        frame_loop(app, panel._glw, panel.refresh, run, 1.0, False, None)
        blocks = max(2, round(args.seconds))
        for _ in range(blocks):
            for which in ("charts", "baseline"):
                shown = panel if which == "charts" else base.w
                other = base.w if which == "charts" else panel
                other.hide()
                shown.show()
                app.processEvents()
                view = panel._glw if which == "charts" else base.w
                refresh = panel.refresh if which == "charts" else (lambda: base.refresh(model))
                start = perf_counter()
                ends = frame_loop(app, view, refresh, run, args.seconds / blocks, False, None)
                (charts_fps if which == "charts" else base_fps).append(block_fps(ends, start))
        base.w.hide()
        panel.show()
        app.processEvents()
        # The window path: refresh, then Qt paints the dirty region in processEvents.
        viewport = panel.findChild(QObject, "qt_scrollarea_viewport") or panel._glw.viewport()
        viewport.installEventFilter(counter)
        for _ in range(blocks):
            start = perf_counter()
            ends = frame_loop(app, panel._glw, panel.refresh, run, args.seconds / blocks, False,
                              None, full=False)
            panel_frames += len(ends)
            dirty_fps.append(block_fps(ends, start))
        viewport.removeEventFilter(counter)
        run.poll(1.0)
        panel.refresh()
        start = perf_counter()
        paced_ends = frame_loop(app, panel._glw, panel.refresh, run, args.seconds, True, lat,
                                full=False)
        paced_fps = block_fps(paced_ends, start)
        points1 = len(model.s_t)
        live_tasks = model.task_dones - (points0 // 3)
    lat_ms = np.array(lat) * 1000 if lat else np.zeros(1)
    gaps = np.diff(paced_ends) * 1000 if len(paced_ends) > 1 else np.zeros(1)
    load_end = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    res = {
        "platform": app.platformName(),
        "cpus": os.cpu_count(),
        "load_avg_1min": [round(load_start, 2), round(load_end, 2)],
        "size": f"{w}x{h}",
        "workload": args.workload,
        "history_points_start": points0,
        "history_points_end": points1,
        "live_tasks_done": int(live_tasks),
        "build_history_s": round(build_s, 2),
        "first_frame_ms": round(first_frame_ms, 1),
        "charts_fps_median": round(statistics.median(charts_fps), 1),
        "charts_fps_blocks": [round(v, 1) for v in charts_fps],
        "window_path_fps_median": round(statistics.median(dirty_fps), 1),
        "window_path_paints_per_frame": round(counter.paints / max(1, panel_frames), 2),
        "baseline_fps_median": round(statistics.median(base_fps), 1),
        "baseline_fps_blocks": [round(v, 1) for v in base_fps],
        "speedup": round(statistics.median(charts_fps) / max(1e-9, statistics.median(base_fps)),
                         2),
        "paced_fps": round(paced_fps, 1),
        "paced_frame_gap_p99_ms": round(float(np.percentile(gaps, 99)), 1),
        "latency_events": len(lat),
        "latency_p50_ms": round(float(np.percentile(lat_ms, 50)), 1),
        "latency_p95_ms": round(float(np.percentile(lat_ms, 95)), 1),
        "latency_max_ms": round(float(lat_ms.max()), 1),
    }
    if args.json:
        print(json.dumps(res))
        return
    print(f"QueueLab charts benchmark — Qt platform '{res['platform']}', window {res['size']}, "
          f"two '{args.workload}' consumers ({args.task_ms:g} ms/task)")
    print(f"machine: {res['cpus']} CPUs, 1-min load average {load_start:.2f} at start, "
          f"{load_end:.2f} at end (other work on the machine slows every figure alike)")
    print(f"history: {points0:,} points per curve at start, {points1:,} at end "
          f"({res['live_tasks_done']:,} live tasks done during the run)")
    rows = [
        ("ChartsPanel, back to back", f"{res['charts_fps_median']:.1f} fps",
         " ".join(f"{v:.0f}" for v in charts_fps)),
        ("ChartsPanel, dirty region only", f"{res['window_path_fps_median']:.1f} fps",
         " ".join(f"{v:.0f}" for v in dirty_fps)
         + f"  ({res['window_path_paints_per_frame']} paints/frame)"),
        ("pyqtgraph defaults (baseline)", f"{res['baseline_fps_median']:.1f} fps",
         " ".join(f"{v:.0f}" for v in base_fps)),
        ("speed-up", f"{res['speedup']:.2f}x", ""),
        ("ChartsPanel at the 60 Hz timer", f"{res['paced_fps']:.1f} fps",
         f"frame gap p99 {res['paced_frame_gap_p99_ms']} ms"),
        ("event-to-screen latency", f"p95 {res['latency_p95_ms']} ms",
         f"p50 {res['latency_p50_ms']} ms, max {res['latency_max_ms']} ms, "
         f"{res['latency_events']:,} events"),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"{'':{width}}  {'median':>12}  per 1 s block / detail")
    for name, val, detail in rows:
        print(f"{name:{width}}  {val:>12}  {detail}")


if __name__ == "__main__":
    main()
