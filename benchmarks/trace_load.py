"""Load time and memory of a 1,000,000-event trace file, and its replay into the state model.

Usage: python benchmarks/trace_load.py [--events N] [--repeat R] [--json] [--keep PATH]

The trace is synthetic but valid and shaped like a real run: one producer putting tasks every
5 µs and four consumers each taking every fourth task (get, task start/end, task_done), in
batches of 512 records per stream as the engine ships them. The baseline is bare ``json.loads``
of every line (no checks, no tuples), measured in the same run.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.config import RunConfig
from engine.events import Kind
from engine.replay import replay_model
from engine.tracefile import Batch, TraceWriter, read_trace

BATCH = 512
CONSUMERS = 4
PUT_EVERY_S = 5e-6


def synthetic_batches(events: int) -> tuple[RunConfig, list[Batch]]:
    """A complete run with about ``events`` records (5 per task plus the run's frame)."""
    tasks = max(1, (events - 40) // 5)
    cfg = RunConfig(producers=1, consumers=CONSUMERS, tasks_per_producer=tasks, seed=1)
    t0 = 1000.0
    streams: dict[int, list[tuple]] = {s: [] for s in range(CONSUMERS + 2)}
    streams[0].append((int(Kind.RUN_START), t0, 1, CONSUMERS, tasks))
    streams[1].append((int(Kind.WORKER_START), t0 + 0.01, 4000, 0, 0))
    for c in range(CONSUMERS):
        streams[2 + c].append((int(Kind.WORKER_START), t0 + 0.01, 4001 + c, 1, c))
    last_done = [t0 + 0.02] * CONSUMERS
    base = t0 + 0.05
    put, get, start, end, done = (
        int(k) for k in (Kind.PUT, Kind.GET, Kind.TASK_START, Kind.TASK_END, Kind.TASK_DONE)
    )
    items = [(i, 0.25 + (i % 97) / 200) for i in range(tasks)] + [(-1, 0.0)] * CONSUMERS
    for k, (label, value) in enumerate(items):
        tid = (1 << 32) + k + 1
        tp = base + k * PUT_EVERY_S
        streams[1].append((put, tp, tp + 1e-6, tid, label, value))
        c = k % CONSUMERS
        s = streams[2 + c]
        t_get = tp + 2e-6
        s.append((get, last_done[c] + 5e-7, t_get, tid))
        if label >= 0:
            s.append((start, t_get + 5e-7, tid))
            s.append((end, t_get + 15e-6, tid))
        last_done[c] = t_get + 16e-6
        s.append((done, last_done[c], tid))
    t_end = base + len(items) * PUT_EVERY_S + 1e-3
    for src in range(1, CONSUMERS + 2):
        streams[src].append((int(Kind.WORKER_EXIT), t_end, 0, len(streams[src]) + 1))
    streams[0] += [
        (int(Kind.PRODUCERS_JOINED), t_end + 1e-4),
        (int(Kind.JOIN_BEGIN), t_end + 2e-4),
        (int(Kind.JOIN_END), t_end + 3e-4),
        *[(int(Kind.PROC_EXIT), t_end + 4e-4, s, 0) for s in range(1, CONSUMERS + 2)],
        (int(Kind.RUN_END), t_end + 5e-4, "joined"),
    ]
    batches: list[tuple[float, Batch]] = []
    for src, records in streams.items():
        for i in range(0, len(records), BATCH):
            chunk = records[i : i + BATCH]
            batches.append((chunk[-1][1], (src, i, chunk)))
    batches.sort(key=lambda b: b[0])  # arrival order: a batch ships when its last record is in
    return cfg, [b for _, b in batches]


def _timed(fn: Callable[..., Any], repeat: int, *args: Any) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeat):
        result = None
        gc.collect()
        t = time.perf_counter()
        result = fn(*args)
        best = min(best, time.perf_counter() - t)
    return best, result


def _bare_json(path: Path) -> int:
    n = 0
    with path.open("rb") as f:
        f.readline()
        for line in f:
            n += len(json.loads(line)[2])
    return n


def _peak(fn: Callable[..., Any], *args: Any) -> tuple[int, int, Any]:
    """(peak bytes allocated during fn, bytes still held by its result, result)."""
    gc.collect()
    tracemalloc.start()
    tracemalloc.reset_peak()
    result = fn(*args)
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak, current, result


def _rss() -> int | None:
    try:
        import psutil
    except ImportError:
        return None
    return psutil.Process().memory_info().rss


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=1, help="timing repeats (best is shown)")
    ap.add_argument("--json", action="store_true", help="also print one JSON line")
    ap.add_argument("--keep", metavar="PATH", help="write the trace here and keep it")
    args = ap.parse_args(argv)

    cfg, batches = synthetic_batches(args.events)
    n_events = sum(len(b[2]) for b in batches)
    tmpdir = None
    if args.keep:
        path = Path(args.keep)
    else:
        tmpdir = tempfile.TemporaryDirectory()
        path = Path(tmpdir.name) / "big.qltrace"
    try:
        t = time.perf_counter()
        with TraceWriter(path, cfg) as w:
            w.write(batches)
        write_s = time.perf_counter() - t
        del batches
        size = path.stat().st_size

        bare_s, bare_n = _timed(_bare_json, args.repeat, path)
        assert bare_n == n_events
        rss0 = _rss()
        load_s, trace = _timed(read_trace, args.repeat, path)
        rss1 = _rss()
        assert trace.n_events == n_events and not trace.warnings
        replay_s, model = _timed(replay_model, args.repeat, trace)
        assert model.join_returned_t is not None and model.unfinished == 0
        trace = model = None  # measured again below, under tracemalloc
        load_peak, held, trace = _peak(read_trace, path)
        replay_peak, _, model = _peak(replay_model, trace)
        trace = model = None
    finally:
        if tmpdir is not None:
            tmpdir.cleanup()

    mb = 1 << 20
    figures = {
        "events": n_events,
        "file_mb": round(size / mb, 1),
        "write_s": round(write_s, 2),
        "load_s": round(load_s, 2),
        "load_events_per_s": round(n_events / load_s),
        "bare_json_s": round(bare_s, 2),
        "load_vs_bare_json": round(load_s / bare_s, 2),
        "load_peak_mb": round(load_peak / mb, 1),
        "trace_held_mb": round(held / mb, 1),
        "bytes_per_event": round(held / n_events),
        "rss_growth_mb": None if rss0 is None or rss1 is None else round((rss1 - rss0) / mb, 1),
        "replay_s": round(replay_s, 2),
        "replay_peak_mb": round(replay_peak / mb, 1),
        "python": sys.version.split()[0],
        "cpus": os.cpu_count(),
    }
    rows = [
        ("events in the trace", f"{n_events:,}"),
        ("file size", f"{figures['file_mb']} MB"),
        ("write (TraceWriter)", f"{write_s:.2f} s"),
        ("read_trace (checked)", f"{load_s:.2f} s ({figures['load_events_per_s']:,} events/s)"),
        ("bare json.loads of every line", f"{bare_s:.2f} s"),
        ("read_trace / bare json", f"{figures['load_vs_bare_json']}x"),
        ("read_trace peak allocation", f"{figures['load_peak_mb']} MB (tracemalloc)"),
        ("loaded Trace held", f"{figures['trace_held_mb']} MB, "
                              f"{figures['bytes_per_event']} B/event"),
        ("process RSS growth on load", f"{figures['rss_growth_mb']} MB"),
        ("replay_model (RunModel.feed)", f"{replay_s:.2f} s"),
        ("replay_model peak allocation", f"{figures['replay_peak_mb']} MB (tracemalloc)"),
    ]  # fmt: skip
    width = max(len(a) for a, _ in rows)
    print(f"trace load benchmark ({figures['cpus']} CPUs, Python {figures['python']})")
    for a, b in rows:
        print(f"  {a:<{width}}  {b}")
    if args.json:
        print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
