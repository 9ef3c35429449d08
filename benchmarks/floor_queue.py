"""FloorQueue: the least a Python-level recorder can do per task (benchmarks only, never the app).

What the model needs from a traced queue, and nothing else: the task's identity travels with
the item (a put sends ``(tid, item)``, a get unwraps it), and each put, get and task_done takes
one clock reading and appends one record. Nothing is shipped: records go into a bounded deque
that drops the oldest (so memory and the garbage collector see what a buffer that is emptied
every batch would). No second clock reading, no label, no step gate, no Empty runs, no
bounded-queue path, no flush test: every one of those is something the real recorder
(``engine/traced_queue.py``) must do and this one skips, so its cost is a lower bound for any
recorder written in Python around CPython's own put/get/task_done.

Lives in its own module so a forkserver or spawn child can unpickle the class by name
(``benchmarks.floor_queue``: the benchmarks put the repository root on ``sys.path``).
"""

from __future__ import annotations

import itertools
import time
from collections import deque
from multiprocessing.queues import JoinableQueue
from typing import Any

_base_put = JoinableQueue.put
_base_get = JoinableQueue.get
_base_task_done = JoinableQueue.task_done
perf_counter = time.perf_counter
_PUT, _GET, _TD = 1, 3, 5
# A process's records: the newest batch's worth, as a buffer shipped every 2048 would hold.
_records: deque[tuple] = deque(maxlen=2048)
_tids = itertools.count(1)


class FloorQueue(JoinableQueue):
    """CPython's JoinableQueue with one clock reading and one record per put/get/task_done."""

    last_tid = -1  # the consumer reads it as it reads a TracedJoinableQueue's

    def put(self, obj: Any, block: bool = True, timeout: float | None = None) -> None:
        tid = next(_tids)
        _base_put(self, (tid, obj), block, timeout)
        _records.append((_PUT, perf_counter(), tid))

    def get(self, block: bool = True, timeout: float | None = None) -> Any:
        tid, obj = _base_get(self, block, timeout)
        _records.append((_GET, perf_counter(), tid))
        self.last_tid = tid
        return obj

    def task_done(self) -> None:
        _records.append((_TD, perf_counter(), self.last_tid))
        _base_task_done(self)


def records_kept() -> int:
    """How many records this process holds (a check that the floor did record)."""
    return len(_records)
