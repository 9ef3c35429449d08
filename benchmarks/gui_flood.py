"""Event-loop gaps of the live window under a flood of no-op tasks (issue: window never freezes).

Opens the real MainWindow (offscreen unless DISPLAY and QT_QPA_PLATFORM say otherwise), starts a
run of N no-op tasks with two consumers, and ticks a 5 ms QTimer the whole time: the gaps between
ticks are how long the event loop was busy. Prints the gap p50/p99/max, events received and lost,
frames drawn, and where the GUI thread's time went; ``--json`` prints one JSON line.
"""

from __future__ import annotations

import argparse
import collections
import functools
import gc
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", type=int, default=200_000)
    ap.add_argument("--consumers", type=int, default=2)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    from PySide6.QtCore import Qt, QTimer

    from engine.config import RunConfig
    from engine.distributions import Distribution
    from engine.runner import Run
    from gui.app import make_app
    from gui.main_window import MainWindow

    app = make_app()
    cfg = RunConfig(
        consumers=args.consumers,
        tasks_per_producer=args.tasks,
        task_duration=Distribution.constant(0),
        sentinels="per_consumer",
    )
    w = MainWindow(cfg)
    w.resize(1280, 800)
    w.show()
    gaps: list[float] = []
    last: list[float | None] = [None]

    def tick() -> None:
        now = time.perf_counter()
        if last[0] is not None and w.driver.active:
            gaps.append(now - last[0])
        last[0] = now

    ticker = QTimer()
    ticker.setTimerType(Qt.TimerType.PreciseTimer)
    ticker.timeout.connect(tick)
    ticker.start(5)
    frames = [0]
    w.driver.sig_frame.connect(lambda: frames.__setitem__(0, frames[0] + 1))
    cost: dict[str, list[float]] = collections.defaultdict(list)

    def timed(obj: object, name: str, label: str) -> None:
        f = getattr(obj, name)

        @functools.wraps(f)
        def g(*a: object, **k: object) -> object:
            t = time.perf_counter()
            try:
                return f(*a, **k)
            finally:
                cost[label].append(time.perf_counter() - t)

        setattr(obj, name, g)

    gc_pauses: list[float] = []
    gc_start = [0.0]

    def on_gc(phase: str, info: dict) -> None:
        if phase == "start":
            gc_start[0] = time.perf_counter()
        else:
            gc_pauses.append(time.perf_counter() - gc_start[0])

    gc.callbacks.append(on_gc)
    timed(Run, "poll", "Run.poll")
    timed(w.charts, "refresh", "charts.refresh")
    timed(w.event_log, "flush", "event_log.flush")
    QTimer.singleShot(300, w.start_run)
    w.driver.sig_ended.connect(lambda _r: QTimer.singleShot(300, w.close))
    app.exec()
    ticker.stop()
    m = w.model
    g = sorted(gaps)
    out = {
        "tasks": args.tasks,
        "run_s": round(m.end_t or m.last_t, 2),
        "events": m.events,
        "events_lost": m.events_lost,
        "frames": frames[0],
        "gap_p50_ms": round(statistics.median(g) * 1000, 1),
        "gap_p99_ms": round(g[int(0.99 * len(g))] * 1000, 1),
        "gap_max_ms": round(g[-1] * 1000, 1),
        "platform": os.environ["QT_QPA_PLATFORM"],
    }
    gc_pauses.sort()
    out["gc_collections"] = len(gc_pauses)
    out["gc_pause_max_ms"] = round(gc_pauses[-1] * 1000, 1) if gc_pauses else 0.0
    for label, v in cost.items():
        v.sort()
        out[f"{label}_p50_ms"] = round(v[len(v) // 2] * 1000, 2)
        out[f"{label}_max_ms"] = round(v[-1] * 1000, 1)
    if args.json:
        print(json.dumps(out))
    else:
        for k, v in out.items():
            print(f"{k:24} {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
