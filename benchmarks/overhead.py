"""Tracing overhead: a traced run of N no-op tasks against the same run on a plain JoinableQueue.

Both use QueueLab's own producer and consumer processes; ``trace=False`` swaps in a plain
``multiprocessing.JoinableQueue`` and records nothing. Modes, alternated within each repeat so
drift on a shared machine hits them alike:
  raw        plain JoinableQueue, no events
  queue-only TracedJoinableQueue with no recorder anywhere: what the queue itself costs (it is
             CPython's transport unchanged, so this must stay within 0.90-1.10 of raw)
  floor      benchmarks/floor_queue.FloorQueue: the least a Python-level recorder can do (the
             task's identity with the item, one clock reading and one record per put, get and
             task_done, nothing shipped); its ratio to raw bounds what any such recorder reaches
  traced     TracedJoinableQueue, every event shipped to the parent and counted there
  traced+model  as traced, and the parent also reduces every event into the RunModel live
Prints a table of median seconds and ratios to raw, plus traced ÷ queue-only: the cost of
recording alone. ``--json`` prints one JSON line with ``ratio_median_c1``, ``ratio_median_c2``,
``ratio_median_c4`` (traced ÷ raw), ``ratio_recording_c1`` ... (traced ÷ queue-only) and
``floor_ratio_c1`` ... (floor ÷ raw).

CPU seconds are measured too (``cpu_ratio_c1`` ...: traced ÷ raw of the CPU every process of
the run used, parent included): on a loaded machine the wall-clock ratios are noise, the CPU a
run costs is not. The workers' CPU is only seen with ``--start-method fork`` (then they are
this process's children); with forkserver the CPU figures are the parent's alone. The parent's
own CPU (its collector and the decoding of every batch) is also printed apart, as
``parent_cpu_s_<mode>_c<n>``.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import multiprocessing
from collections.abc import Iterator
from contextlib import contextmanager

from benchmarks.floor_queue import FloorQueue
from engine.config import RunConfig
from engine.distributions import Distribution
from engine.runner import Run
from engine.traced_queue import TracedJoinableQueue

MODES = ("raw", "queue-only", "floor", "traced", "traced+model")
UNTRACED = {"queue-only": TracedJoinableQueue, "floor": FloorQueue}  # mode -> queue class


@contextmanager
def queue_class(start_method: str, cls: type) -> Iterator[None]:
    """Make an untraced Run use queue class ``cls`` (benchmark only: Run picks its queue)."""
    ctx_cls = type(multiprocessing.get_context(start_method))
    original = ctx_cls.JoinableQueue

    def make(self: object, maxsize: int = 0) -> object:
        return cls(maxsize, ctx=self.get_context())  # type: ignore[attr-defined]

    ctx_cls.JoinableQueue = make  # type: ignore[method-assign]
    try:
        yield
    finally:
        ctx_cls.JoinableQueue = original  # type: ignore[method-assign]


def _children_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def one_run(
    tasks: int, consumers: int, mode: str, start_method: str
) -> tuple[float, int, float, float]:
    """Wall seconds, events received, CPU seconds (this process and its reaped children), and
    this process's own CPU seconds."""
    cfg = RunConfig(
        producers=1,
        consumers=consumers,
        tasks_per_producer=tasks,
        # cpu with 0 s is a true no-op; a 0 s sleep task calls sleep(0), as the plain program does
        task_duration=Distribution.constant(0), workload="cpu",
        put_interval=Distribution.constant(0),
        sentinels="per_consumer",
        start_method=start_method,
        trace=mode not in ("raw", *UNTRACED),
        seed=1,
    )
    run = Run(cfg)
    own0 = time.process_time()
    cpu0 = own0 + _children_cpu()
    t0 = time.perf_counter()
    if mode in UNTRACED:
        with queue_class(start_method, UNTRACED[mode]):
            run.start()
        assert type(run.queue) is UNTRACED[mode]
    else:
        run.start()
    ok = run.wait(600, feed=mode == "traced+model")
    elapsed = time.perf_counter() - t0
    run.stop()
    own = time.process_time()
    cpu = own + _children_cpu() - cpu0  # stop() reaped the workers
    if not ok or run.end_reason != "joined":
        raise SystemExit(f"run did not finish: {run.end_reason}")
    events = run.model.events if mode == "traced+model" else run.received_records
    return elapsed, events, cpu, own - own0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", type=int, default=200_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--consumers", type=int, nargs="+", default=[1, 2, 4])
    ap.add_argument("--modes", nargs="+", default=list(MODES), choices=MODES)
    ap.add_argument("--start-method", default="forkserver")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    times: dict[tuple[int, str], list[float]] = {}
    cpus: dict[tuple[int, str], list[float]] = {}
    owns: dict[tuple[int, str], list[float]] = {}
    events: dict[tuple[int, str], int] = {}
    for c in args.consumers:
        for r in range(args.repeats):
            order = args.modes if r % 2 == 0 else list(reversed(args.modes))
            for mode in order:
                secs, n, cpu, own = one_run(args.tasks, c, mode, args.start_method)
                times.setdefault((c, mode), []).append(secs)
                cpus.setdefault((c, mode), []).append(cpu)
                owns.setdefault((c, mode), []).append(own)
                events[(c, mode)] = n
                if not args.json:
                    print(f"  c={c} {mode:13} {secs:7.2f} s  {cpu:7.2f} s CPU"
                          f" ({own:5.2f} parent)  {n:>9} events", flush=True)  # fmt: skip
    result: dict[str, float] = {}
    for (c, mode), own_s in owns.items():
        name = mode.replace("-", "_").replace("+", "_")
        result[f"parent_cpu_s_{name}_c{c}"] = round(statistics.median(own_s), 3)
    rows = []
    cpu_rows = []
    for c in args.consumers:
        cpu_raw = statistics.median(cpus[(c, "raw")])
        cpu_row = [f"{c}", f"{cpu_raw:.2f}"]
        for mode in args.modes[1:]:
            med = statistics.median(cpus[(c, mode)])
            cpu_row += [f"{med:.2f}", f"{med / cpu_raw:.3f}"]
            result[f"cpu_s_{mode.replace('-', '_').replace('+', '_')}_c{c}"] = round(med, 3)
            if mode == "traced":
                result[f"cpu_ratio_c{c}"] = round(med / cpu_raw, 4)
            elif mode == "floor":
                result[f"floor_cpu_ratio_c{c}"] = round(med / cpu_raw, 4)
        result[f"cpu_s_raw_c{c}"] = round(cpu_raw, 3)
        cpu_rows.append(cpu_row)
        raw = statistics.median(times[(c, "raw")])
        row = [f"{c}", f"{raw:.2f}"]
        for mode in args.modes[1:]:
            med = statistics.median(times[(c, mode)])
            ratio = med / raw
            row += [f"{med:.2f}", f"{ratio:.3f}"]
            key = {
                "traced": "ratio_median", "queue-only": "ratio_queue_only_median",
                "floor": "floor_ratio",
            }.get(mode, "ratio_model_median")
            result[f"{key}_c{c}"] = round(ratio, 4)
            if mode == "queue-only":
                result[f"queue_only_ratio_c{c}"] = round(ratio, 4)  # the name for it
            result[f"events_c{c}"] = events[(c, "traced")] if "traced" in args.modes else 0
        if "traced" in args.modes and "queue-only" in args.modes:
            rec = statistics.median(times[(c, "traced")]) / statistics.median(
                times[(c, "queue-only")]
            )
            row.append(f"{rec:.3f}")
            result[f"ratio_recording_c{c}"] = round(rec, 4)
        rows.append(row)
    if args.json:
        result.update(tasks=args.tasks, repeats=args.repeats)
        print(json.dumps(result))
        return 0
    print(f"\n{args.tasks} no-op tasks, 1 producer, medians of {args.repeats}"
          f" ({args.start_method})")
    head = ["consumers", "raw s"]
    for mode in args.modes[1:]:
        head += [f"{mode} s", "ratio"]
    if "traced" in args.modes and "queue-only" in args.modes:
        head.append("rec. ratio")
    print("  ".join(f"{h:>13}" for h in head))
    for row in rows:
        print("  ".join(f"{x:>13}" for x in row))
    print("\nCPU seconds of the run (parent" + (" and workers)" if args.start_method == "fork"
                                              else " only: use --start-method fork for all)"))
    print("  ".join(f"{h:>13}" for h in head[: 2 + 2 * (len(args.modes) - 1)]))
    for row in cpu_rows:
        print("  ".join(f"{x:>13}" for x in row))
    return 0


if __name__ == "__main__":
    sys.exit(main())
