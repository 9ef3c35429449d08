"""Event-loop gaps of the live window under a flood of no-op tasks (issue: window never freezes).

    python benchmarks/gui_flood.py [--producers 1] [--consumers 2] [--tasks 200000] [--json]
    python benchmarks/gui_flood.py --producers 2 --consumers 2 --tasks 50000   # issue #6 pt 8

Opens the real MainWindow (offscreen unless DISPLAY and QT_QPA_PLATFORM say otherwise), starts a
run of no-op tasks (``--tasks`` per producer) and ticks a 5 ms QTimer the whole time: the gaps
between ticks are how long the event loop was busy. Prints the gap p50/p99/max, the records
sent by the workers, received and lost (and what the status bar says about losses), frames
drawn, and where the GUI thread's time went: wall time per timed call, and (``cpu_*``) its CPU
seconds in each and their p99 per call, the GUI thread's and the whole process's CPU seconds
from Start to the end shown. Under load wall clock is noise (the GUI thread waits for a CPU);
the CPU figures are what the window itself costs.

Diagnostics (not what the window does): ``--nice N`` lowers the workers' CPU priority by N
once they started; ``--switch-interval S`` sets the interpreter's GIL switch interval after
the run set its own; ``--gaps N`` explains the N longest gaps: the GUI thread's own CPU time,
its wait for a CPU (run queue, from /proc schedstat), the rest (blocked: waiting for the GIL,
or idle), the other threads' CPU (the collector's on its own) and the timed calls inside;
``--events N`` charges the GUI thread's CPU to the N costliest Qt (event, receiver) pairs
(it found a ``Signal(list)`` converting every record); ``--profile LABEL`` profiles a call.
"""

from __future__ import annotations

import argparse
import collections
import cProfile
import functools
import gc
import json
import os
import pstats
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def percentile(sorted_values: list[float], q: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


def schedstat(tid: int | str) -> tuple[int, int]:
    """(ns on a CPU, ns waiting in the run queue) of a thread of this process, (0, 0) if unknown."""
    path = f"/proc/{tid}/schedstat" if tid == "thread-self" else f"/proc/self/task/{tid}/schedstat"
    try:
        with open(path) as f:
            run_ns, wait_ns, _ = f.read().split()
        return int(run_ns), int(wait_ns)
    except (OSError, ValueError):
        return 0, 0


def explain_gaps(gaps: list[float], gap_ends: list[int], ticks: list, spans: list,
                 n: int, end_at: float = 0.0) -> list[dict]:
    """The ``n`` longest gaps (``gaps``: wall or CPU seconds): where the GUI thread's wall
    time went, and what it called; ``after_end_s``: when, from the run's last record."""
    rows = []
    for i in sorted(range(len(gaps)), key=gaps.__getitem__, reverse=True)[:n]:
        j = gap_ends[i]
        (t1, (run1, wait1), (crun1, _), cpu1), (t0, (run0, wait0), (crun0, _), cpu0) = (
            ticks[j], ticks[j - 1])
        gui_cpu = (run1 - run0) / 1e6
        runq = (wait1 - wait0) / 1e6
        calls: dict[str, float] = collections.defaultdict(float)
        for a, b, label in spans:
            if b > t0 and a < t1:
                calls[label] += (min(b, t1) - max(a, t0)) * 1000
        row = {
            "at_s": round(t0 - ticks[0][0], 2),
            "after_end_s": round(t0 - end_at, 3),
            "wall": round((t1 - t0) * 1000, 1),
            "gui_cpu": round(gui_cpu, 1),
            "runq_wait": round(runq, 1),
            "blocked": round((t1 - t0) * 1000 - gui_cpu - runq, 1),
            "other": round((cpu1 - cpu0) * 1000 - gui_cpu, 1),
            "collector": round((crun1 - crun0) / 1e6, 1),
        }
        row.update({k: round(v, 1) for k, v in sorted(calls.items(), key=lambda kv: -kv[1])})
        rows.append(row)
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--producers", type=int, default=1)
    ap.add_argument("--consumers", type=int, default=2)
    ap.add_argument("--tasks", type=int, default=200_000, help="tasks per producer")
    ap.add_argument("--nice", type=int, default=0, help="diagnostic: renice the workers by N")
    ap.add_argument("--switch-interval", type=float, default=None,
                    help="diagnostic: sys.setswitchinterval(S) once the run started")
    ap.add_argument("--gaps", type=int, default=0,
                    help="diagnostic: explain the N longest gaps (GUI thread CPU, run-queue "
                         "wait, other threads' CPU, calls inside)")
    ap.add_argument("--gaps-by-cpu", action="store_true",
                    help="diagnostic: --gaps explains the gaps of most GUI-thread CPU instead")
    ap.add_argument("--profile", metavar="LABEL", default="",
                    help="diagnostic: profile every call of one timed LABEL (e.g. charts.refresh)"
                         " and print its costliest functions to stderr")
    ap.add_argument("--profile-sort", default="cumulative",
                    help="diagnostic: the profile's order (cumulative, tottime, ...)")
    ap.add_argument("--events", type=int, default=0,
                    help="diagnostic: the N Qt (event type, receiver class) pairs that the GUI "
                         "thread's CPU time went to (time between two events is the first's)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    import psutil
    from PySide6.QtCore import Qt, QTimer

    from engine.config import RunConfig
    from engine.distributions import Distribution
    from engine.inbox import QueueSource
    from engine.model import RunModel
    from engine.runner import Run
    try:  # the window's recording (a TraceWriter before it was spooled)
        from engine.tracefile.spool import TraceSpool as Recording
    except ImportError:
        from engine.tracefile import TraceWriter as Recording
    from gui.main_window import MainWindow
    from gui.qt_app import make_app

    app = make_app()
    cfg = RunConfig(
        producers=args.producers,
        consumers=args.consumers,
        tasks_per_producer=args.tasks,
        # cpu with 0 s is a true no-op; a 0 s sleep task calls sleep(0), as the plain program does
        task_duration=Distribution.constant(0), workload="cpu",
        sentinels="per_consumer",
    )
    w = MainWindow(cfg)
    w.resize(1280, 800)
    w.show()
    import pyqtgraph as pg  # loaded by the window's charts

    gaps: list[float] = []
    last: list[float | None] = [None]
    # --gaps: per tick, (time, GUI thread's schedstat, collector's schedstat, process CPU)
    ticks: list[tuple[float, tuple[int, int], tuple[int, int], float]] = []
    gap_ends: list[int] = []  # index in ticks of each gap's closing tick
    collector_tid = [0]

    # The GUI thread's own CPU time in each gap: what the gap would be on an idle machine (under
    # load most of a gap's wall time is a wait for a CPU, the other engineers' noise).
    gap_cpus: list[float] = []
    last_cpu = [0.0]
    # (wall, GUI thread CPU) at every tick: the CPU the window spent after the run's last record
    cpu_ticks: list[tuple[float, float]] = []

    def tick() -> None:
        now = time.perf_counter()
        cpu_now = time.thread_time()
        if args.gaps and not collector_tid[0]:  # the run's workers (and it) start in a thread
            collector_tid[0] = next((th.native_id for th in threading.enumerate()
                                     if th.name == "queuelab-collector" and th.native_id), 0)
        if args.gaps:
            ticks.append((now, schedstat("thread-self"), schedstat(collector_tid[0]),
                          time.process_time()))
        if last[0] is not None and w.driver.active:
            gaps.append(now - last[0])
            gap_cpus.append(cpu_now - last_cpu[0])
            gap_ends.append(len(ticks) - 1)
            cpu_ticks.append((now, cpu_now))
        last[0] = now
        last_cpu[0] = time.thread_time()  # the tick's own work is the benchmark's, not the window's

    ticker = QTimer()
    ticker.setTimerType(Qt.TimerType.PreciseTimer)
    ticker.timeout.connect(tick)
    ticker.start(5)
    frames = [0]
    w.driver.sig_frame.connect(lambda: frames.__setitem__(0, frames[0] + 1))
    cost: dict[str, list[float]] = collections.defaultdict(list)
    # CPU seconds of the GUI thread inside each timed call (wall time is noise under load).
    cpu: dict[str, float] = collections.defaultdict(float)
    cpu_calls: dict[str, list[float]] = collections.defaultdict(list)
    spans: list[tuple[float, float, str]] = []  # every timed call: (start, end, label)
    profiler = cProfile.Profile()

    def timed(owner: object, name: str, label: str) -> None:
        f = getattr(owner, name)

        @functools.wraps(f)
        def g(*a: object, **k: object) -> object:
            t = time.perf_counter()
            c = time.thread_time()
            try:
                if label == args.profile:
                    return profiler.runcall(f, *a, **k)
                return f(*a, **k)
            finally:
                end = time.perf_counter()
                cpu[label] += time.thread_time() - c
                cpu_calls[label].append(time.thread_time() - c)
                cost[label].append(end - t)
                spans.append((t, end, label))

        setattr(owner, name, g)

    gc_pauses: list[float] = []
    gc_start = [0.0]

    def on_gc(phase: str, info: dict) -> None:
        if phase == "start":
            gc_start[0] = time.perf_counter()
        else:
            gc_pauses.append(time.perf_counter() - gc_start[0])

    gc.callbacks.append(on_gc)
    timed(Run, "poll", "Run.poll")
    # Inside Run.poll: unpickling the batches, the run's recording, the model.
    timed(QueueSource, "take", "inbox.take")
    timed(Recording, "_on_batch", "trace.write")
    timed(RunModel, "feed", "model.feed")
    timed(w.flow_view, "follow", "flow.follow")
    timed(w.charts, "refresh", "charts.refresh")
    timed(pg.GraphicsView, "paintEvent", "charts.paint")
    timed(w.event_log, "flush", "event_log.flush")
    timed(w, "_on_driver_sig_frame", "window.frame")
    timed(w, "_on_driver_sig_applied", "window.applied")
    timed(w, "start_run", "window.start_run")
    timed(w.status_bar, "show_run", "status_bar.show_run")
    timed(w, "_diagnose", "window.diagnose")
    timed(w, "_show_code_lines", "code_view.show_run")
    if args.gaps:
        def on_gc_span(phase: str, info: dict) -> None:
            if phase == "stop" and threading.current_thread() is threading.main_thread():
                spans.append((gc_start[0], time.perf_counter(), f"gc{info['generation']}"))

        gc.callbacks.append(on_gc_span)
    status_lost = [""]
    event_cpu: dict[str, float] = collections.defaultdict(float)
    if args.events:
        from PySide6.QtCore import QObject

        class EventClock(QObject):
            """Charges the GUI thread's CPU time between two events to the first one."""

            def __init__(self) -> None:
                super().__init__()
                self.last = ("start", time.thread_time())

            def eventFilter(self, obj: object, event: object) -> bool:
                now = time.thread_time()
                label, t = self.last
                event_cpu[label] += now - t
                self.last = (f"{event.type().name}:{type(obj).__name__}", now)  # type: ignore[attr-defined]
                return False

        event_clock = EventClock()
        app.installEventFilter(event_clock)

    started_at = [0.0]

    cpu_at: dict[str, float] = {}

    def diagnostics(run: object = None) -> None:
        """--nice, --switch-interval: once the run is launched (its workers started, its own
        switch interval set), which is turns after the Start (gui/run_start.py)."""
        run = w.driver.run
        if args.nice and run is not None:
            for p in run.processes.values():
                try:
                    psutil.Process(p.pid).nice(args.nice)
                except psutil.Error:
                    pass
        if args.switch_interval is not None:
            sys.setswitchinterval(args.switch_interval)

    def start() -> None:
        cpu_at["gui0"], cpu_at["proc0"] = time.thread_time(), time.process_time()
        launching = getattr(w, "run_start", None)  # None: a window that launched in start_run
        if launching is not None:
            launching.sig_launched.connect(diagnostics)
        w.start_run()
        started_at[0] = time.perf_counter()
        if launching is None:
            diagnostics()

    ended_at = [0.0]

    def finish() -> None:
        status_lost[0] = w.status_bar.lost_label.text()
        w.close()

    def on_ended(_reason: str) -> None:
        ended_at[0] = time.perf_counter()
        cpu_at["gui1"], cpu_at["proc1"] = time.thread_time(), time.process_time()
        QTimer.singleShot(300, finish)

    QTimer.singleShot(300, start)
    w.driver.sig_ended.connect(on_ended)
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
        # How long after the run's last record the window had applied everything: a window
        # that cannot keep up with the flood falls behind instead of freezing.
        "drain_lag_s": round(ended_at[0] - m.t0 - (m.end_t or m.last_t), 2),
        "events": m.events,
        "records_sent": sent,
        "records_received": received,
        "events_lost": m.events_lost,
        "received_plus_lost_equals_sent": received + m.events_lost == sent,
        "status_bar_lost": status_lost[0],
        "frames": frames[0],
        "gaps": len(g),
        "gap_p50_ms": round(statistics.median(g) * 1000, 1),
        "gap_p99_ms": round(percentile(g, 0.99) * 1000, 1),
        "gap_max_ms": round(g[-1] * 1000, 1),
        # The same gaps counted in the GUI thread's CPU time (load-independent).
        "gap_cpu_p99_ms": round(percentile(sorted(gap_cpus), 0.99) * 1000, 1),
        "gap_cpu_max_ms": round(max(gap_cpus) * 1000, 1),
        # GUI thread CPU seconds from the run's last record to the end shown: the drain lag on
        # a machine where the window's thread never waits for a CPU (the lag's floor).
        "cpu_after_end_s": round(cpu_at["gui1"] - next(
            (c for t, c in cpu_ticks if t >= m.t0 + (m.end_t or m.last_t)), cpu_at["gui1"]), 3),
        "platform": os.environ["QT_QPA_PLATFORM"],
        "load_avg_1min": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
    }
    if args.nice:
        out["workers_nice"] = args.nice
    if args.switch_interval is not None:
        out["switch_interval_s"] = args.switch_interval
    gc_pauses.sort()
    out["gc_collections"] = len(gc_pauses)
    out["gc_pause_max_ms"] = round(gc_pauses[-1] * 1000, 1) if gc_pauses else 0.0
    for label, v in cost.items():
        v.sort()
        out[f"{label}_p50_ms"] = round(statistics.median(v) * 1000, 2)
        out[f"{label}_p99_ms"] = round(percentile(v, 0.99) * 1000, 1)
        out[f"{label}_max_ms"] = round(v[-1] * 1000, 1)
    # Where the GUI thread's time went while the run was live (nested calls overlap: window.frame
    # holds charts.refresh; the paint and the log's flush come in turns of their own).
    live_s = ended_at[0] - started_at[0]
    out["live_s"] = round(live_s, 2)
    for label in ("Run.poll", "window.frame", "charts.paint", "event_log.flush"):
        busy = sum(b - a for a, b, lb in spans if lb == label and a >= started_at[0])
        out[f"share_{label}_pct"] = round(100 * busy / live_s, 1) if live_s > 0 else None
    # CPU seconds from Start to the end shown: the GUI thread's, the whole window process's
    # (collector and flush threads too), and the GUI thread's inside each timed call (nested:
    # Run.poll holds inbox.take, trace.write and model.feed; window.frame holds charts.refresh,
    # flow.follow, status_bar.show_run, window.diagnose).
    out["cpu_gui_s"] = round(cpu_at["gui1"] - cpu_at["gui0"], 3)
    out["cpu_process_s"] = round(cpu_at["proc1"] - cpu_at["proc0"], 3)
    for label, v in sorted(cpu.items()):
        out[f"cpu_{label}_s"] = round(v, 3)
        calls = sorted(cpu_calls[label])
        out[f"cpu_{label}_p99_ms"] = round(percentile(calls, 0.99) * 1000, 1)
    if args.events:
        top = sorted(event_cpu.items(), key=lambda kv: -kv[1])[: args.events]
        out["event_cpu_s"] = {k: round(v, 3) for k, v in top}
    if args.gaps:
        out["longest_gaps"] = explain_gaps(gap_cpus if args.gaps_by_cpu else gaps, gap_ends,
                                           ticks, spans, args.gaps,
                                           m.t0 + (m.end_t or m.last_t))  # fmt: skip
    if args.profile:
        pstats.Stats(profiler, stream=sys.stderr).sort_stats(args.profile_sort).print_stats(25)
    if args.json:
        print(json.dumps(out))
    else:
        for k, v in out.items():
            if k == "longest_gaps":
                print("longest gaps (ms): wall = gui_cpu + runq_wait + blocked (GIL, sleep);"
                      " other = other threads' CPU; collector = its CPU")
                for row in v:
                    print("  " + "  ".join(f"{a}={b}" for a, b in row.items()))
            else:
                print(f"{k:32} {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
