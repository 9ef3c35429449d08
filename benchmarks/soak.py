"""Soak: many start/stop cycles; open fds, threads, children and RSS must return to baseline.

Each cycle starts a real run (1 producer, 2 consumers), lets it work, and ends it: odd cycles
stop it mid-run, even ones let it finish. The baseline is taken after a warm-up cycle (the
forkserver, resource tracker and first imports are paid once per process, not per cycle).
Prints a table of deltas against the baseline; ``--json`` prints one JSON line.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.config import RunConfig
from engine.distributions import Distribution
from engine.runner import Run

START_TIMEOUT_S = 20.0


@dataclass(frozen=True)
class Sample:
    fds: int
    threads: int
    children: int
    rss_mb: float


@dataclass(frozen=True)
class SoakResult:
    cycles: int
    seconds: float
    baseline: Sample
    final: Sample
    max_fds: int
    max_threads: int
    max_children: int
    at_last_cycle: Sample  # right after the last stop, before any settling
    leftover_threads: tuple[str, ...]
    # cycles after which extra threads were alive: (cycle, fds, thread names)
    incidents: tuple[tuple[int, int, tuple[str, ...]], ...] = ()

    def deltas(self) -> dict[str, float]:
        b, f = self.baseline, self.final
        return {
            "fds": f.fds - b.fds,
            "threads": f.threads - b.threads,
            "children": f.children - b.children,
            "rss_mb": round(f.rss_mb - b.rss_mb, 2),
        }


def sample() -> Sample:
    gc.collect()
    me = psutil.Process(os.getpid())
    live = [p for p in me.children(recursive=True) if _running(p)]
    return Sample(me.num_fds(), threading.active_count(), len(live), me.memory_info().rss / 2**20)


def _running(p: psutil.Process) -> bool:
    try:
        return p.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def one_cycle(i: int, cfg: RunConfig) -> None:
    with Run(cfg) as run:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            run.poll(0.05, wait_s=0.01)
            if run.model.workers and all(w.pid for w in run.model.workers.values()):
                break
        else:
            raise RuntimeError(f"cycle {i}: the workers did not start")
        if i % 2 == 0 and not run.wait(START_TIMEOUT_S):
            raise RuntimeError(f"cycle {i}: the run did not finish")
    # leaving the with block stops it (odd cycles: mid-run)


def settle(baseline: Sample, timeout: float = 3.0) -> Sample:
    """Stopped workers are reaped a moment later, a finished run's threads end a moment after
    wait() returns: give them that moment (what is still there after it is a leak)."""
    end = time.monotonic() + timeout
    while True:
        s = sample()
        back = (s.fds, s.threads, s.children) <= (baseline.fds, baseline.threads, baseline.children)
        if back or time.monotonic() >= end:
            return s
        time.sleep(0.05)


def soak(cycles: int, start_method: str | None = None) -> SoakResult:
    """Run ``cycles`` start/stop cycles after a warm-up one; final figures are settled ones."""
    changes = {} if start_method is None else {"start_method": start_method}
    cfg = RunConfig(producers=1, consumers=2, tasks_per_producer=50,
                    task_duration=Distribution.constant(0.002), seed=1, **changes)  # fmt: skip
    one_cycle(0, cfg)  # warm-up
    time.sleep(0.2)
    baseline = sample()
    max_fds = max_threads = max_children = 0
    incidents: list[tuple[int, int, tuple[str, ...]]] = []
    t0 = time.monotonic()
    for i in range(1, cycles + 1):
        one_cycle(i, cfg)
        s = sample()
        if s.threads > baseline.threads:
            names = tuple(t.name for t in threading.enumerate() if t is not threading.main_thread())
            incidents.append((i, s.fds, names))
        max_fds, max_threads = max(max_fds, s.fds), max(max_threads, s.threads)
        max_children = max(max_children, s.children)
    seconds = time.monotonic() - t0
    at_last = sample()
    final = settle(baseline)
    names = tuple(t.name for t in threading.enumerate() if t is not threading.main_thread())
    return SoakResult(cycles, seconds, baseline, final, max_fds, max_threads, max_children,
                      at_last, names, tuple(incidents))  # fmt: skip


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cycles", type=int, default=200)
    ap.add_argument("--start-method", default=None)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    r = soak(args.cycles, args.start_method)
    if args.json:
        print(json.dumps({**asdict(r), "deltas": r.deltas()}))
        return 0
    print(f"{r.cycles} start/stop cycles in {r.seconds:.1f} s "
          f"({r.seconds / r.cycles * 1000:.0f} ms per cycle)")  # fmt: skip
    print(f"{'':10}{'baseline':>10}{'final':>10}{'delta':>10}{'max':>10}")
    b, f, d = r.baseline, r.final, r.deltas()
    print(f"{'fds':10}{b.fds:>10}{f.fds:>10}{d['fds']:>10}{r.max_fds:>10}")
    print(f"{'threads':10}{b.threads:>10}{f.threads:>10}{d['threads']:>10}{r.max_threads:>10}")
    print(f"{'children':10}{b.children:>10}{f.children:>10}{d['children']:>10}"
          f"{r.max_children:>10}")  # fmt: skip
    print(f"{'rss MB':10}{b.rss_mb:>10.1f}{f.rss_mb:>10.1f}{d['rss_mb']:>10.2f}")
    a = r.at_last_cycle
    print(f"right after the last stop (before settling): fds {a.fds}, threads {a.threads}, "
          f"children {a.children}")  # fmt: skip
    for i, fds, names in r.incidents[:10]:
        print(f"after cycle {i}: {fds} fds, threads {', '.join(names)}")
    if r.leftover_threads:
        print(f"threads left: {', '.join(r.leftover_threads)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
