"""Extra cost per queue operation of `trace`'s source-line capture (trace_queues.TracedQueue).

Both queues record into an active Recorder whose batches are dropped; each loop puts, gets and
marks done N items in one process. The difference per operation is what noting the calling
line costs (one frame lookup and a comparison; a LINE record only when the line changes).
Prints the minimum of several repeats (noise only adds time). ``--json`` for one object.
"""

from __future__ import annotations

import json
import multiprocessing
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine import recorder
from engine.trace_queues import TracedQueue, _site
from engine.traced_queue import TracedJoinableQueue

N = 1_000  # a pipe holds 64 KiB: every item fits before the gets are timed
REPEATS = 41


def _loop(q) -> float:
    """Puts timed alone, then gets and task_dones of items already in the pipe (the feeder
    thread's hand-off to get() would otherwise dominate, and vary, the time)."""
    t0 = time.perf_counter()
    for i in range(N):
        q.put(i)
    spent = time.perf_counter() - t0
    while q.qsize() and q._buffer:  # let the feeder thread write everything to the pipe
        time.sleep(0.01)
    time.sleep(0.05)
    t0 = time.perf_counter()
    for _ in range(N):
        q.get()
        q.task_done()
    spent += time.perf_counter() - t0
    return spent / (3 * N)


def _site_only() -> float:
    """_site called two frames below the caller, less the same calls doing nothing."""
    rec = recorder.current()

    def op() -> None:
        _site(rec, 1)

    def noop() -> None:
        pass

    def timed(f) -> float:
        t0 = time.perf_counter()
        for _ in range(20 * N):
            f()
        return time.perf_counter() - t0

    return (timed(op) - timed(noop)) / (20 * N)


def main() -> None:
    ctx = multiprocessing.get_context("fork")
    recorder.activate(recorder.Recorder(1, lambda batch: None))
    plain_q, lined_q = TracedJoinableQueue(ctx=ctx), TracedQueue(ctx=ctx)
    plain, lined = [], []
    for _ in range(REPEATS):  # interleaved: a noisy spell hits both
        plain.append(_loop(plain_q))
        lined.append(_loop(lined_q))
    plain, lined = min(plain), min(lined)
    site = min(_site_only() for _ in range(REPEATS))
    out = {
        "traced_op_us": plain * 1e6,
        "traced_with_line_op_us": lined * 1e6,
        "extra_per_op_us": (lined - plain) * 1e6,
        "line_capture_alone_us": site * 1e6,
    }
    if "--json" in sys.argv:
        print(json.dumps(out))
        return
    print(f"traced put/get/task_done:            {out['traced_op_us']:.2f} µs per operation")
    print(f"the same with the calling line noted: {out['traced_with_line_op_us']:.2f} µs")
    print(f"extra per operation:                  {out['extra_per_op_us']:.3f} µs")
    print(f"line capture alone (frame + compare): {out['line_capture_alone_us']:.3f} µs")


if __name__ == "__main__":
    main()
