"""Load time of a 1,000,000-event trace in the replay window, and its seek times from then on.

Usage: python benchmarks/seek.py [--events N] [--runs R] [--seeks S] [--chart-seeks C] [--json]

The replay window's loader (gui/trace_loader.load_run, no Qt needed) reads the file, merges
its streams for the playback and feeds the model of the whole run once; the window is
usable when it returns ("load"). From that moment:
- the flow view seeks by one cut of the whole-run model's columns at the playhead
  (engine/flow_layout.flow_frame), forwards and backwards; the first cut gathers the columns;
- the charts and the status bar cut the same model at the playhead (ChartsPanel.set_until,
  gui/replay_cut.ModelAt): ``--chart-seeks C`` times C of those on a real ChartsPanel
  (offscreen, 1280x800), each with one paint.
Load is bounded by engine/model.py's speed (the feed) and read_trace's (the reading); both
are printed with their CPU time. Not a test: machines are noisy (the CPU times less so).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from trace_load import synthetic_batches

from engine.flow_layout import FlowLimits, flow_frame
from engine.tracefile import TraceWriter
from gui.trace_loader import LoadedRun, load_run

GOAL_S = 0.5
LIMITS = FlowLimits(queue_slots=36, done_shown=20)  # about what a 1280x800 view draws


def _clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def _since(start: tuple[float, float]) -> tuple[float, float]:
    wall, cpu = _clock()
    return wall - start[0], cpu - start[1]


def _chart_seeks(loaded: LoadedRun, seeks: int, rng: random.Random) -> dict[str, float]:
    """The replay's charts (a real ChartsPanel, 1280x800 offscreen) and status bar cut at
    random playheads, back and forth: set_until + refresh + one paint, from the whole-run
    model the loader fed (the panel syncs it once first: timed apart)."""
    import os

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from gui.charts import ChartsPanel
    from gui.replay_cut import ModelAt

    app = QApplication.instance() or QApplication([])
    panel = ChartsPanel()
    panel.resize(1280, 800)
    panel.show()
    app.processEvents()
    whole = loaded.model
    assert whole is not None
    start = _clock()
    panel.set_model(whole)
    panel.set_follow(False)
    panel.rates.plot.setXRange(0.0, loaded.duration_s * 1.02, padding=0)
    panel.set_until(0.0)
    panel.refresh()
    panel.grab()
    sync_s, sync_cpu = _since(start)
    print(f"charts: first sync of the whole-run model into the panel: {sync_s:.2f} s wall, "
          f"{sync_cpu:.2f} s CPU (once, after the load)")  # fmt: skip
    times, cpus = [], []
    prev = 0.0
    for _ in range(seeks):
        t = rng.uniform(0.0, loaded.duration_s)
        start = _clock()
        panel.set_until(t)
        panel.refresh()
        panel.set_playhead(t)
        ModelAt(whole, t, panel.counts_at(t), loaded.count_until(t))
        panel.grab()  # the paint a user waits for
        wall, cpu = _since(start)
        times.append(wall)
        cpus.append(cpu)
        way = "back" if t < prev else "forward"
        prev = t
        print(f"charts' seek {way} to {t:.3f} s: {wall * 1000:.1f} ms wall, "
              f"{cpu * 1000:.1f} ms CPU")  # fmt: skip
    med, worst = statistics.median(times), max(times)
    verdict = "under" if worst < GOAL_S else "OVER"
    print(f"charts + status, cut at the playhead: median seek {med * 1000:.1f} ms "
          f"({statistics.median(cpus) * 1000:.1f} ms CPU), slowest {worst * 1000:.1f} ms: "
          f"{verdict} the {GOAL_S} s goal")  # fmt: skip
    panel.close()
    return {"chart_sync_s": round(sync_s, 3), "chart_seek_median_ms": round(med * 1000, 1),
            "chart_seek_median_cpu_ms": round(statistics.median(cpus) * 1000, 1),
            "chart_seek_slowest_ms": round(worst * 1000, 1)}


def _playback_seeks(loaded: LoadedRun, seeks: int, rng: random.Random) -> dict[str, float]:
    """The playback's own model (the diagnosis, theory and log read it): one pass to the end
    in 0.1 s steps of run time (as playing does; snapshots are taken on the way), then random
    seeks, each fed from the last snapshot before it when going back."""
    r = loaded.replayer
    start = _clock()
    t = 0.0
    while t < loaded.duration_s:
        t = min(loaded.duration_s, t + 0.1)
        r.advance(t)
    wall, cpu = _since(start)
    print(f"playback model: one pass to the end {wall:.2f} s wall, {cpu:.2f} s CPU, "
          f"{len(r.snapshots)} snapshots")  # fmt: skip
    times = {"back": [], "forward": []}
    for _ in range(seeks):
        t = rng.uniform(0.0, loaded.duration_s)
        way = "back" if t < r.playhead_s else "forward"
        start = _clock()
        r.advance(t)
        wall, cpu = _since(start)
        times[way].append(wall)
        print(f"playback model's seek {way} to {t:.3f} s: {wall * 1000:.0f} ms wall, "
              f"{cpu * 1000:.0f} ms CPU")  # fmt: skip
    out = {}
    for way, ts in times.items():
        if ts:
            print(f"playback model, seeks {way}: median {statistics.median(ts) * 1000:.0f} ms, "
                  f"slowest {max(ts) * 1000:.0f} ms over {len(ts)}")  # fmt: skip
            out[f"playback_seek_{way}_median_ms"] = round(statistics.median(ts) * 1000, 1)
            out[f"playback_seek_{way}_slowest_ms"] = round(max(ts) * 1000, 1)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seeks", type=int, default=20, help="flow-view seeks per run")
    ap.add_argument("--chart-seeks", type=int, default=0,
                    help="also time this many seeks of the charts (a real panel, offscreen)")
    ap.add_argument("--playback-seeks", type=int, default=0,
                    help="also time this many seeks of the playback's model (the diagnosis, "
                         "theory and log), after one pass to the end")  # fmt: skip
    ap.add_argument("--json", action="store_true", help="also print one JSON line")
    args = ap.parse_args(argv)
    cfg, batches = synthetic_batches(args.events)
    n = sum(len(r) for _, _, r in batches)
    out: dict[str, object] = {"events": n}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.qltrace"
        with TraceWriter(path, cfg) as w:
            w.write(batches)
        del batches
        phases: dict[str, float] = {}
        last = [0.0]

        def progress(f: float) -> None:
            # The loader's progress shares (read, prepare, feed): when each phase ended.
            for name, share in (("read", 0.45), ("prepare", 0.55)):
                if f >= share and last[0] < share:
                    phases[name] = time.perf_counter()
            last[0] = f

        start = _clock()
        loaded = load_run(str(path), progress=progress)
        load_wall, load_cpu = _since(start)
    model = loaded.model
    assert model is not None and model.events == n
    print(f"trace: {n:,} events (synthetic, benchmarks/trace_load.py), "
          f"{loaded.duration_s:.3f} s of run")  # fmt: skip
    read_s = phases.get("read", start[0]) - start[0]
    feed_s = time.perf_counter() - phases.get("prepare", start[0])
    print(f"load (read + merge + whole-run model): {load_wall:.2f} s wall, {load_cpu:.2f} s CPU "
          f"(reading ~{read_s:.2f} s; the end of the merge to ready ~{feed_s:.2f} s: "
          f"{n / max(load_cpu, 1e-9):,.0f} events per CPU second overall)")  # fmt: skip
    out.update(load_s=round(load_wall, 3), load_cpu_s=round(load_cpu, 3))
    span = loaded.duration_s
    start = _clock()
    flow_frame(model, span / 2, LIMITS)
    first_ms, first_cpu_ms = (x * 1000 for x in _since(start))
    print(f"first flow seek after the load (gathers the task columns): {first_ms:.1f} ms "
          f"({first_cpu_ms:.1f} ms CPU)")  # fmt: skip
    rng = random.Random(1)
    medians, cpu_medians = [], []
    worst = first_ms / 1000
    for run in range(args.runs):
        times, cpus = [], []
        for _ in range(args.seeks):
            t = rng.uniform(0.0, span)
            start = _clock()
            frame = flow_frame(model, t, LIMITS)
            wall, cpu = _since(start)
            times.append(wall)
            cpus.append(cpu)
            assert frame.t == t
        medians.append(statistics.median(times))
        cpu_medians.append(statistics.median(cpus))
        worst = max(worst, max(times))
        print(f"run {run + 1}: flow median seek {medians[-1] * 1000:.1f} ms "
              f"({cpu_medians[-1] * 1000:.1f} ms CPU), slowest {max(times) * 1000:.1f} ms "
              f"over {args.seeks} random seeks")  # fmt: skip
    med, med_cpu = statistics.median(medians), statistics.median(cpu_medians)
    verdict = "under" if worst < GOAL_S else "OVER"
    print(f"flow view, from the moment the trace is loaded: median seek {med * 1000:.1f} ms "
          f"({med_cpu * 1000:.1f} ms CPU), slowest {worst * 1000:.1f} ms (the first "
          f"included): {verdict} the {GOAL_S} s goal")  # fmt: skip
    out.update(first_flow_seek_ms=round(first_ms, 1), flow_seek_median_ms=round(med * 1000, 1),
               flow_seek_median_cpu_ms=round(med_cpu * 1000, 1),
               flow_seek_slowest_ms=round(worst * 1000, 1))  # fmt: skip
    if args.chart_seeks:
        out.update(_chart_seeks(loaded, args.chart_seeks, rng))
    if args.playback_seeks:
        out.update(_playback_seeks(loaded, args.playback_seeks, rng))
    if args.json:
        print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
