"""How fast the parent takes in a run's events: bare decoding vs decoding into the state model.

Usage: python benchmarks/ingest.py [--tasks N] [--repeats R] [--json]

The batches are what a flood of no-op tasks sends (1 producer, 2 consumers; put, get and
task_done per task, encoded by the workers' own ``engine.recorder.encode_batch`` in batches of
up to 2048 records, interleaved by stream as a live run delivers them). Printed:
``decode_events_per_s`` (``decode_batch`` of every batch, as the inbox does: the limit),
``model_events_per_s`` (decoding plus ``RunModel.feed`` in chunks of
``engine.runner.FEED_CHUNK`` records, as ``Run.poll`` does), and ``bytes_per_task`` (memory the
model holds per task after the whole run, measured with tracemalloc). Goals (issue 11):
model_events_per_s >= 1,000,000 and bytes_per_task <= 100. The same two rates from the
process's CPU time (``*_cpu_events_per_s``) are less hurt by other programs on a busy machine
than the wall-clock ones; ``model_vs_decode`` is the ratio of the wall-clock rates.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.events import Kind
from engine.model import RunModel
from engine.recorder import decode_batch, encode_batch
from engine.runner import FEED_CHUNK

BATCH = 2048
CONSUMERS = 2
GOAL_EVENTS_PER_S = 1_000_000
GOAL_BYTES_PER_TASK = 100


def flood_batches(tasks: int) -> list[bytes]:
    """The encoded batches of a whole run, in an order a live run could deliver them."""
    put, get, done = int(Kind.PUT), int(Kind.GET), int(Kind.TASK_DONE)
    t0 = 1000.0
    streams: dict[int, list[tuple]] = {s: [] for s in range(CONSUMERS + 2)}
    streams[0] += [(int(Kind.RUN_START), t0, 1, CONSUMERS, tasks), (int(Kind.QUEUE_INFO), t0, 0)]
    streams[1].append((int(Kind.WORKER_START), t0 + 0.01, 4000, 0, 0))
    for c in range(CONSUMERS):
        streams[2 + c].append((int(Kind.WORKER_START), t0 + 0.01, 4001 + c, 1, c))
    dt = 1e-5  # 100,000 tasks/s
    last = [t0 + 0.02] * CONSUMERS
    for k in range(tasks + CONSUMERS):
        tid = (1 << 32) + k + 1
        tp = t0 + 0.05 + k * dt
        label, value = (k, 0.0) if k < tasks else (-1, 0.0)
        streams[1].append((put, tp, tp, tid, label, value))
        c = k % CONSUMERS
        tg = tp + 3e-6
        streams[2 + c].append((get, last[c], tg, tid))
        last[c] = tg + 2e-6
        streams[2 + c].append((done, last[c], tid))
    t_end = t0 + 0.1 + (tasks + CONSUMERS) * dt
    streams[0].append((int(Kind.JOIN_BEGIN), t0 + 0.06))
    out: list[bytes] = []
    cursors = {s: 0 for s in streams}
    while any(cursors[s] < len(r) for s, r in streams.items()):
        for s, recs in streams.items():  # round robin: the collector's order under a flood
            i = cursors[s]
            if i < len(recs):
                out.append(encode_batch((s, i, recs[i : i + BATCH])))
                cursors[s] = i + BATCH
    # The parent's last records come when the run ends, after everything else.
    end = [(int(Kind.JOIN_END), t_end), (int(Kind.RUN_END), t_end + 0.01, "joined")]
    out.append(encode_batch((0, len(streams[0]), end)))
    return out


def decode(payloads: list[bytes]) -> int:
    loads = decode_batch
    return sum(len(loads(p)[2]) for p in payloads)


def into_model(payloads: list[bytes]) -> RunModel:
    """Decode and feed as ``Run.poll`` does: up to FEED_CHUNK records per ``feed`` call."""
    m = RunModel()
    loads = decode_batch
    group: list = []
    n = 0
    for p in payloads:
        batch = loads(p)
        group.append(batch)
        n += len(batch[2])
        if n >= FEED_CHUNK:
            m.feed(group)
            group, n = [], 0
    m.feed(group)
    return m


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", type=int, default=200_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    payloads = flood_batches(args.tasks)
    events = sum(len(decode_batch(p)[2]) for p in payloads)
    t_decode, t_model, c_decode, c_model = [], [], [], []
    for _ in range(args.repeats):
        gc.collect()
        t, c = time.perf_counter(), time.process_time()
        decode(payloads)
        t_decode.append(time.perf_counter() - t)
        c_decode.append(time.process_time() - c)
        gc.collect()
        t, c = time.perf_counter(), time.process_time()
        m = into_model(payloads)
        t_model.append(time.perf_counter() - t)
        c_model.append(time.process_time() - c)
        assert m.task_dones == args.tasks + CONSUMERS and m.unfinished == 0, "model disagrees"
        del m
    gc.collect()
    tracemalloc.start()
    m = into_model(payloads)
    held, _peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    result = {
        "tasks": args.tasks,
        "events": events,
        "repeats": args.repeats,
        "decode_events_per_s": round(events / statistics.median(t_decode)),
        "model_events_per_s": round(events / statistics.median(t_model)),
        "bytes_per_task": round(held / args.tasks, 1),
        "decode_cpu_events_per_s": round(events / statistics.median(c_decode)),
        "model_cpu_events_per_s": round(events / statistics.median(c_model)),
    }
    result["model_vs_decode"] = round(
        result["model_events_per_s"] / result["decode_events_per_s"], 3
    )
    del m
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"{args.tasks} no-op tasks, {events} events, medians of {args.repeats}")
    print(f"  decode only      {result['decode_events_per_s']:>12,} events/s")
    print(f"  decode + model   {result['model_events_per_s']:>12,} events/s"
          f"   (goal >= {GOAL_EVENTS_PER_S:,}; {result['model_vs_decode']:.3f} of decode)")
    print(f"  (CPU time: decode {result['decode_cpu_events_per_s']:,}, decode + model "
          f"{result['model_cpu_events_per_s']:,} events/s)")
    print(f"  model memory     {result['bytes_per_task']:>12} bytes per task"
          f"   (goal <= {GOAL_BYTES_PER_TASK})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
