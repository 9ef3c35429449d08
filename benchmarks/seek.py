"""Seek time of the flow view in a 1,000,000-event trace: anywhere, forwards and backwards.

Usage: python benchmarks/seek.py [--events N] [--runs R] [--seeks S] [--rebuild]

The flow view never rebuilds a model to seek: the model's task table is columnar (each task's
put, get and done times), so the picture at a time is one cut through those columns
(engine/flow_layout.flow_frame). The model is fed once — here up front; in the replay window
on a thread once the flow tab shows (gui/flow/full_model.py; meanwhile the flow view cuts the
furthest model the playback has fed, gui/flow/tabs.ReplayFollower) — and every seek after
that, back or forth, is a cut. Prints the one-time feed, the first seek (which gathers
the columns) and the median seek over ``--runs`` runs of ``--seeks`` random seeks each.
``--rebuild`` also times what a seek backwards costs the charts' Replayer (a rebuild from the
start up to the middle), for comparison. Not a test: machines are noisy.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from trace_load import synthetic_batches

from engine.flow_layout import FlowLimits, flow_frame
from engine.replay import replay_model

GOAL_S = 0.5
LIMITS = FlowLimits(queue_slots=36, done_shown=20)  # about what a 1280x800 view draws


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seeks", type=int, default=20)
    ap.add_argument("--rebuild", action="store_true", help="also time a Replayer rebuild")
    args = ap.parse_args(argv)
    _cfg, batches = synthetic_batches(args.events)
    n = sum(len(r) for _, _, r in batches)
    print(f"trace: {n:,} events (synthetic, benchmarks/trace_load.py)")
    t0 = time.perf_counter()
    model = replay_model(batches)
    feed_s = time.perf_counter() - t0
    span = model.last_t
    print(f"model fed once: {feed_s:.2f} s ({len(model.tasks):,} tasks over {span:.3f} s of run)")
    t0 = time.perf_counter()
    flow_frame(model, span / 2, LIMITS)
    print(f"first seek (gathers the task columns): {(time.perf_counter() - t0) * 1000:.1f} ms")
    rng = random.Random(1)
    medians = []
    worst = 0.0
    for run in range(args.runs):
        times = []
        for _ in range(args.seeks):
            t = rng.uniform(0.0, span)
            t0 = time.perf_counter()
            frame = flow_frame(model, t, LIMITS)
            times.append(time.perf_counter() - t0)
            assert frame.t == t
        medians.append(statistics.median(times))
        worst = max(worst, max(times))
        print(f"run {run + 1}: median seek {medians[-1] * 1000:.1f} ms, "
              f"slowest {max(times) * 1000:.1f} ms over {args.seeks} random seeks")  # fmt: skip
    med = statistics.median(medians)
    verdict = "under" if worst < GOAL_S else "OVER"
    print(f"median seek time: {med * 1000:.1f} ms (median of {args.runs} runs); slowest "
          f"{worst * 1000:.1f} ms: {verdict} the {GOAL_S} s goal")  # fmt: skip
    if args.rebuild:
        # What a seek back costs when the model must be rebuilt from the start (the charts'
        # Replayer does this): feeding half the trace again.
        t0 = time.perf_counter()
        replay_model(batches[: len(batches) // 2])
        print(f"for comparison, rebuilding the model up to the middle: "
              f"{time.perf_counter() - t0:.2f} s")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
