"""TracedJoinableQueue test helpers: child processes, start-method contexts, an active recorder."""

from __future__ import annotations

import multiprocessing
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from engine.events import Kind
from engine.recorder import Recorder, activate

METHODS = [
    m for m in ("spawn", "forkserver", "fork") if m in multiprocessing.get_all_start_methods()
]
CHILD_TIMEOUT_S = 30.0  # generous: spawn children import this module (and pytest) first


# ----------------------------------------------------------------------------- child processes
# Module level so spawn and forkserver children can unpickle them by reference.


def _title() -> None:
    # Named like a worker so the leak check in conftest.py catches a child this file leaves.
    import setproctitle

    setproctitle.setproctitle("queuelab test-child")


def child_consume(q: Any, out: Any, n: int, work_s: float) -> None:
    """Get ``n`` items, report each, then task_done() it (after ``work_s``)."""
    _title()
    for _ in range(n):
        item = q.get(timeout=CHILD_TIMEOUT_S)
        time.sleep(work_s)
        out.put(("got", item))
        q.task_done()
    out.put(("done", n))


def child_produce(q: Any, items: list[Any]) -> None:
    _title()
    for item in items:
        q.put(item)


def child_count_then_done(q: Any, counter: Any, n: int, work_s: float) -> None:
    """Count each task in a shared counter *before* its task_done(), so join() can check it."""
    _title()
    for _ in range(n):
        q.get(timeout=CHILD_TIMEOUT_S)
        time.sleep(work_s)
        with counter.get_lock():
            counter.value += 1
        q.task_done()


def child_traced_consume(q: Any, conn: Any, n: int, src: int) -> None:
    """Like a consumer worker: its own recorder, its events sent over ``conn``."""
    _title()
    rec = Recorder(src, conn.send)
    activate(rec)
    items = []
    for _ in range(n):
        items.append(q.get(timeout=CHILD_TIMEOUT_S))
        q.task_done()
    rec.close()
    activate(None)
    conn.send(("items", items))
    conn.close()


def child_traced_produce(q: Any, conn: Any, items: list[Any], src: int) -> None:
    _title()
    rec = Recorder(src, conn.send)
    activate(rec)
    for item in items:
        q.put(item)
    rec.close()
    activate(None)
    conn.send(("done", len(items)))
    conn.close()


# ----------------------------------------------------------------------------- helpers


@pytest.fixture(name="ctx", params=METHODS)
def fixture_ctx(request: pytest.FixtureRequest) -> Any:
    return multiprocessing.get_context(request.param)


@contextmanager
def started(ctx: Any, target: Callable[..., None], *args: Any) -> Iterator[Any]:
    """A started child process that is joined (or killed) when the block ends."""
    p = ctx.Process(target=target, args=args, daemon=True)
    p.start()
    try:
        yield p
    finally:
        p.join(CHILD_TIMEOUT_S)
        if p.exitcode is None:
            p.kill()
            p.join(5)


class Records:
    """What an active recorder sent, read fresh each time (batches keep arriving)."""

    def __init__(self) -> None:
        self._batches: list[tuple[int, int, list[tuple]]] = []

    def send(self, batch: tuple[int, int, list[tuple]]) -> None:
        self._batches.append(batch)

    def all(self) -> list[tuple]:
        return [r for _src, _first, recs in self._batches for r in recs]

    def of(self, kind: Kind) -> list[tuple]:
        return [r for r in self.all() if r[0] == kind]

    def seqs(self) -> list[int]:
        return [first + i for _s, first, recs in self._batches for i in range(len(recs))]


@pytest.fixture(name="recorded")
def fixture_recorded() -> Iterator[Records]:
    """An active recorder (stream 0, one record per batch) in this process."""
    records = Records()
    activate(Recorder(0, records.send, batch=1))
    try:
        yield records
    finally:
        activate(None)


def joins_within(q: Any, timeout: float) -> bool:
    """Call q.join() on a helper thread; True if it returned within ``timeout``."""
    t = threading.Thread(target=q.join, name="test-join", daemon=True)
    t.start()
    t.join(timeout)
    return not t.is_alive()


def drain(out: Any, n: int) -> list[tuple]:
    return [out.get(timeout=CHILD_TIMEOUT_S) for _ in range(n)]


def close_queue(q: Any) -> None:
    q.close()
    q.join_thread()
