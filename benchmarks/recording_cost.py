"""Per-operation CPU cost of recording: put/get/task_done on a traced queue vs a plain one.

Usage: python benchmarks/recording_cost.py [--tasks N] [--repeats R] [--maxsize M]
       [--modes M ...] [--stub] [--json]

Load-independent: everything runs in one process and is timed with ``time.process_time`` (CPU
of all its threads, the feeder included), medians of ``--repeats``. Each repeat puts ``chunk``
tutorial items ``(i, 0.0)``, then gets and task_dones them, over and over until ``--tasks``. Modes:
  plain      multiprocessing.JoinableQueue
  queue-only TracedJoinableQueue with no recorder (the transport alone)
  floor      benchmarks/floor_queue.FloorQueue: the least a Python recorder can do (identity
             with the item, one clock reading and one record per operation, nothing shipped)
  no-send    as traced, but the recorder's batches are dropped unencoded (the hot path alone)
  encode-only as traced, but each batch is only encoded, not written
  traced     TracedJoinableQueue with an active recorder whose batches are encoded exactly as
             a worker's (``engine.recorder.connection_sender`` into a pipe a thread drains; the
             drain thread's CPU is the parent's in real life and is excluded by running it in
             a separate process)
``--maxsize M`` (0 or at least ``--chunk``) makes every queue bounded, so the bounded put's path
is measured; it never waits, as nothing takes an item while a chunk is put.
``--stub`` swaps CPython's put/get/task_done under the traced and floor queues for a deque, so
only QueueLab's own Python is left (the pipe reads, which vary by far the most from run to run,
are gone): run one ``--modes M`` under ``valgrind --tool=callgrind`` with ``PYTHONHASHSEED=0``
and ``--repeats 1`` at two ``--tasks`` and divide the difference of the instruction counts by
the difference of the tasks, which does not depend on the machine's load. (``plain`` then
calls the stub directly: compare with ``queue-only``.)
Printed per mode: ns per task for the put phase, the get+task_done phase and the whole; and
each of traced, queue-only and floor minus plain (traced - plain is the CPU recording adds per
task: three records).
"""

from __future__ import annotations

import argparse
import functools
import json
import multiprocessing
import statistics
import sys
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import floor_queue
from benchmarks.floor_queue import FloorQueue
from engine import recorder as _rec
from engine import traced_queue as _tq
from engine.traced_queue import TracedJoinableQueue

MODES = ("plain", "queue-only", "floor", "no-send", "encode-only", "traced")


def _drain(conn: object) -> None:
    """The parent's collector in miniature: read and drop every batch."""
    try:
        while True:
            conn.recv_bytes()  # type: ignore[attr-defined]
    except (EOFError, OSError):
        pass


class _NullConn:
    """A connection that drops what it is sent (encode-only mode)."""

    def send_bytes(self, payload: bytes) -> None:
        pass


@contextmanager
def stub_transport() -> Iterator[tuple[Callable[..., Any], ...]]:
    """CPython's put/get/task_done under the traced and floor queues replaced by a deque."""
    held: deque[Any] = deque()

    def put(q: Any, obj: Any, block: bool = True, timeout: float | None = None) -> None:
        held.append(obj)

    def get(q: Any, block: bool = True, timeout: float | None = None) -> Any:
        return held.popleft()

    def task_done(q: Any) -> None:
        pass

    saved = [(m, m._base_put, m._base_get, m._base_task_done) for m in (_tq, floor_queue)]
    for m, *_ in saved:
        m._base_put, m._base_get, m._base_task_done = put, get, task_done
    try:
        yield put, get, task_done
    finally:
        for m, *base in saved:
            m._base_put, m._base_get, m._base_task_done = base


def one(
    mode: str, tasks: int, chunk: int, maxsize: int = 0, stub: bool = False
) -> tuple[float, float]:
    """CPU seconds of (put phases, get+task_done phases) for ``tasks`` tasks."""
    if stub:
        with stub_transport():
            return _one(mode, tasks, chunk, maxsize, stub)
    return _one(mode, tasks, chunk, maxsize, stub)


def _one(mode: str, tasks: int, chunk: int, maxsize: int, stub: bool) -> tuple[float, float]:
    ctx = multiprocessing.get_context("fork")
    if mode == "plain":
        q = ctx.JoinableQueue(maxsize)
    else:
        q = (FloorQueue if mode == "floor" else TracedJoinableQueue)(maxsize, ctx=ctx)
    reader = writer = proc = None
    if mode == "traced":
        reader, writer = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=_drain, args=(reader,), daemon=True)
        proc.start()
        reader.close()
        _rec.activate(_rec.Recorder(1, _rec.connection_sender(writer)))
    elif mode == "no-send":
        _rec.activate(_rec.Recorder(1, lambda batch: None))
    elif mode == "encode-only":
        _rec.activate(_rec.Recorder(1, _rec.connection_sender(_NullConn())))
    put, get, task_done = q.put, q.get, q.task_done
    if stub and mode == "plain":
        put, get, task_done = (functools.partial(f, q) for f in (_tq._base_put, _tq._base_get,
                                                                  _tq._base_task_done))  # fmt: skip
    items = [(i, 0.0) for i in range(chunk)]
    cpu = time.process_time
    t_put = t_get = 0.0
    try:
        for _ in range(max(1, tasks // chunk)):
            a = cpu()
            for item in items:
                put(item)
            b = cpu()
            for _ in items:
                get()
                task_done()
            t_put += b - a
            t_get += cpu() - b
    finally:
        rec = _rec.current()
        if rec is not None:
            rec.close()
            _rec.activate(None)
        if writer is not None:
            writer.close()
        if proc is not None:
            proc.join(5)
        q.close()
        q.join_thread()
    return t_put, t_get


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", type=int, default=100_000)
    ap.add_argument("--chunk", type=int, default=500)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--maxsize", type=int, default=0, help="0 (unbounded) or >= --chunk")
    ap.add_argument("--modes", nargs="+", default=list(MODES), choices=MODES)
    ap.add_argument("--stub", action="store_true", help="a deque instead of CPython's transport")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if 0 < args.maxsize < args.chunk:
        ap.error("--maxsize must be 0 or at least --chunk: one process puts a whole chunk")
    modes = [m for m in MODES if m in args.modes]
    res: dict[str, list[tuple[float, float]]] = {m: [] for m in modes}
    for r in range(args.repeats):
        for mode in modes if r % 2 == 0 else reversed(modes):
            res[mode].append(one(mode, args.tasks, args.chunk, args.maxsize, args.stub))
    n = max(1, args.tasks // args.chunk) * args.chunk
    out: dict[str, float] = {}
    for mode in modes:
        put_ns = statistics.median(p for p, _ in res[mode]) / n * 1e9
        get_ns = statistics.median(g for _, g in res[mode]) / n * 1e9
        tot_ns = statistics.median(p + g for p, g in res[mode]) / n * 1e9
        key = mode.replace("-", "_")
        out.update({f"{key}_put_ns": round(put_ns), f"{key}_get_td_ns": round(get_ns),
                    f"{key}_task_ns": round(tot_ns)})  # fmt: skip
    for name, mode in (("recording", "traced"), ("queue_only", "queue_only"), ("floor", "floor")):
        if "plain_task_ns" in out and f"{mode}_task_ns" in out:
            out[f"{name}_ns_per_task"] = out[f"{mode}_task_ns"] - out["plain_task_ns"]
    if args.json:
        print(json.dumps(out))
        return 0
    print(f"{n} tasks per repeat, medians of {args.repeats}, CPU ns per task (process_time)")
    print(f"{'mode':>12} {'put':>8} {'get+td':>8} {'task':>8}")
    for mode in modes:
        key = mode.replace("-", "_")
        print(f"{mode:>12} {out[key + '_put_ns']:>8} {out[key + '_get_td_ns']:>8}"
              f" {out[key + '_task_ns']:>8}")  # fmt: skip
    added = ", ".join(f"{k[:-12]} {v}" for k, v in out.items() if k.endswith("_ns_per_task"))
    print(f"ns per task over plain: {added}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
