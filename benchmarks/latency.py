"""Event latency: time from a record's timestamp in a worker to its arrival in the parent.

Scenarios: a producer that never blocks (no-op tasks, unbounded queue) and a paced tutorial-like
run; the parent either only collects, or also feeds the model as the window does (8 ms budget
per 16 ms frame). Prints p50/p95/p99 in milliseconds; ``--json`` prints one JSON line.
"""

from __future__ import annotations

import argparse
import itertools
import json
import pickle
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.config import RunConfig
from engine.distributions import Distribution
from engine.runner import Run

SCENARIOS = {
    "never-blocking producer": dict(
        consumers=2, tasks_per_producer=100_000, task_duration=Distribution.constant(0),
        workload="cpu",
    ),
    "paced (tutorial-like)": dict(
        consumers=2,
        tasks_per_producer=300,
        task_duration=Distribution.uniform(0, 0.02),
        put_interval=Distribution.exponential(0.005),
    ),
}


def measure(overrides: dict, mode: str) -> list[float]:
    cfg = RunConfig(sentinels="per_consumer", seed=1, **overrides)
    run = Run(cfg)
    arrivals: list[tuple[float, bytes]] = []
    deliver = run.collector._deliver

    def stamped(payload: bytes) -> None:
        # The collector hands worker batches on still pickled: note when they arrived and
        # read them after the run, so the measurement adds no work to the event path.
        arrivals.append((time.perf_counter(), payload))
        deliver(payload)

    run.collector._deliver = stamped
    with run:
        if mode == "collect":
            run.wait(300, feed=False)
        else:
            # As the window does: an 8 ms feeding budget per 16 ms frame tick.
            while not run.ended:
                tick = time.perf_counter()
                run.poll(0.008)
                time.sleep(max(0.0, 0.016 - (time.perf_counter() - tick)))
            run.wait(10)
    lat: list[float] = []
    for now, payload in arrivals:
        _src, _first, records = pickle.loads(payload)
        lat.extend(now - r[2] if r[0] in (1, 3) else now - r[1] for r in records)
    return lat


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))] * 1000


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    out = {}
    for (name, overrides), mode in itertools.product(SCENARIOS.items(), ("collect", "gui-feed")):
        lat = measure(overrides, mode)
        key = name.split()[0].replace("-", "_") + "_" + mode.replace("-", "_")
        name = f"{name} / {mode}"
        out[key] = {
            "events": len(lat),
            "p50_ms": round(pct(lat, 0.50), 2),
            "p95_ms": round(pct(lat, 0.95), 2),
            "p99_ms": round(pct(lat, 0.99), 2),
            "mean_ms": round(statistics.fmean(lat) * 1000, 2),
        }
        if not args.json:
            o = out[key]
            print(f"{name:36} {o['events']:>8} events  p50 {o['p50_ms']:6.2f} ms  "
                  f"p95 {o['p95_ms']:6.2f} ms  p99 {o['p99_ms']:6.2f} ms")
    if args.json:
        print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
