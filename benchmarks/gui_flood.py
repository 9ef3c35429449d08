"""Event-loop gaps of the live window under a flood of no-op tasks (issue: window never freezes).

    python benchmarks/gui_flood.py [--producers 1] [--consumers 2] [--tasks 200000] [--json]
    python benchmarks/gui_flood.py --producers 2 --consumers 2 --tasks 50000   # issue #6 pt 8

Opens the real MainWindow (offscreen unless DISPLAY and QT_QPA_PLATFORM say otherwise), starts a
run of no-op tasks (``--tasks`` per producer) and ticks a 5 ms QTimer the whole time: the gaps
between ticks are how long the event loop was busy. Prints the gap p50/p99/max, the records
sent by the workers, received and lost (and what the status bar says about losses), frames
drawn, and where the GUI thread's time went.

Diagnostics (not what the window does): ``--nice N`` lowers the workers' CPU priority by N
once they started; ``--switch-interval S`` sets the interpreter's GIL switch interval after
the run set its own; ``--split-batches N`` makes ``Run.poll`` feed batches in slices of at
most N records (a proposed engine change: today a poll feeds whole batches of up to 2048
records, 15-30 ms each, whatever its budget). They show where the gaps come from.
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


def percentile(sorted_values: list[float], q: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


def split_batches(run_cls: type, most: int) -> None:
    """Diagnostic: Run.poll as proposed for the engine. It is today's poll, except that a
    chunk holds at most ``most`` records: a longer batch is cut, ``(src, first_seq,
    records[:k])`` fed now and ``(src, first_seq + k, records[k:])`` put back at the head of
    the inbox, so the time budget holds whatever the workers' batch size (2048 records)."""

    def sliced_poll(self: object, budget_s: float = 0.01, wait_s: float = 0.0, *,
                    feed: bool = True) -> list:
        inbox = self._inbox
        if not inbox and wait_s > 0:
            self._wake.wait(wait_s)
        self._wake.clear()
        deadline = time.perf_counter() + budget_s
        applied: list = []
        while inbox:
            batches = []
            n = 0
            while inbox and n < most:
                src, first, records = inbox.popleft()
                room = most - n
                if len(records) > room:
                    inbox.appendleft((src, first + room, records[room:]))
                    records = records[:room]
                batches.append((src, first, records))
                n += len(records)
            self.received_batches += len(batches)
            applied.extend(self.model.feed(batches))
            if time.perf_counter() > deadline:
                break
        if inbox:
            self._wake.set()
        return applied

    run_cls.poll = sliced_poll


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--producers", type=int, default=1)
    ap.add_argument("--consumers", type=int, default=2)
    ap.add_argument("--tasks", type=int, default=200_000, help="tasks per producer")
    ap.add_argument("--nice", type=int, default=0, help="diagnostic: renice the workers by N")
    ap.add_argument("--switch-interval", type=float, default=None,
                    help="diagnostic: sys.setswitchinterval(S) once the run started")
    ap.add_argument("--split-batches", type=int, default=0,
                    help="diagnostic: Run.poll feeds at most N records at a time")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    import psutil
    from PySide6.QtCore import Qt, QTimer

    from engine.config import RunConfig
    from engine.distributions import Distribution
    from engine.runner import Run
    from gui.app import make_app
    from gui.main_window import MainWindow

    app = make_app()
    cfg = RunConfig(
        producers=args.producers,
        consumers=args.consumers,
        tasks_per_producer=args.tasks,
        task_duration=Distribution.constant(0),
        sentinels="per_consumer",
    )
    w = MainWindow(cfg)
    w.resize(1280, 800)
    w.show()
    import pyqtgraph as pg  # loaded by the window's charts

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

    def timed(owner: object, name: str, label: str) -> None:
        f = getattr(owner, name)

        @functools.wraps(f)
        def g(*a: object, **k: object) -> object:
            t = time.perf_counter()
            try:
                return f(*a, **k)
            finally:
                cost[label].append(time.perf_counter() - t)

        setattr(owner, name, g)

    gc_pauses: list[float] = []
    gc_start = [0.0]

    def on_gc(phase: str, info: dict) -> None:
        if phase == "start":
            gc_start[0] = time.perf_counter()
        else:
            gc_pauses.append(time.perf_counter() - gc_start[0])

    gc.callbacks.append(on_gc)
    if args.split_batches:
        split_batches(Run, args.split_batches)
    timed(Run, "poll", "Run.poll")
    timed(w.charts, "refresh", "charts.refresh")
    timed(pg.GraphicsView, "paintEvent", "charts.paint")
    timed(w.event_log, "flush", "event_log.flush")
    timed(w, "_on_driver_sig_frame", "window.frame")
    status_lost = [""]

    def start() -> None:
        w.start_run()
        run = w.driver.run
        if args.nice and run is not None:
            for p in run.processes.values():
                try:
                    psutil.Process(p.pid).nice(args.nice)
                except psutil.Error:
                    pass
        if args.switch_interval is not None:
            sys.setswitchinterval(args.switch_interval)

    def finish() -> None:
        status_lost[0] = w.status_bar.lost_label.text()
        w.close()

    QTimer.singleShot(300, start)
    w.driver.sig_ended.connect(lambda _r: QTimer.singleShot(300, finish))
    app.exec()
    ticker.stop()
    m = w.model
    # Accounting as in tests/faults/test_flood.py: every worker says in its WORKER_EXIT record
    # how many records it sent; the model knows how many of each stream it received.
    sent = sum(wk.records_sent or 0 for wk in m.workers.values())
    received = sum(m._expect_seq.get(src, 0) for src in m.workers)
    g = sorted(gaps)
    workers = args.producers + args.consumers
    out = {
        "shape": f"{args.producers} producers + {args.consumers} consumers ({workers} workers), "
                 f"{args.tasks:,} no-op tasks per producer = {args.producers * args.tasks:,}",
        "end_reason": m.end_reason,
        "run_s": round(m.end_t or m.last_t, 2),
        "events": m.events,
        "records_sent": sent,
        "records_received": received,
        "events_lost": m.events_lost,
        "received_plus_lost_equals_sent": received + m.events_lost == sent,
        "status_bar_lost": status_lost[0],
        "frames": frames[0],
        "gap_p50_ms": round(statistics.median(g) * 1000, 1),
        "gap_p99_ms": round(percentile(g, 0.99) * 1000, 1),
        "gap_max_ms": round(g[-1] * 1000, 1),
        "platform": os.environ["QT_QPA_PLATFORM"],
        "load_avg_1min": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
    }
    if args.nice:
        out["workers_nice"] = args.nice
    if args.switch_interval is not None:
        out["switch_interval_s"] = args.switch_interval
    if args.split_batches:
        out["split_batches"] = args.split_batches
    gc_pauses.sort()
    out["gc_collections"] = len(gc_pauses)
    out["gc_pause_max_ms"] = round(gc_pauses[-1] * 1000, 1) if gc_pauses else 0.0
    for label, v in cost.items():
        v.sort()
        out[f"{label}_p50_ms"] = round(statistics.median(v) * 1000, 2)
        out[f"{label}_p99_ms"] = round(percentile(v, 0.99) * 1000, 1)
        out[f"{label}_max_ms"] = round(v[-1] * 1000, 1)
    if args.json:
        print(json.dumps(out))
    else:
        for k, v in out.items():
            print(f"{k:32} {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
