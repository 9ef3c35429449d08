"""TracedJoinableQueue is a JoinableQueue: FIFO across processes, Full/Empty, task_done, join."""

from __future__ import annotations

import multiprocessing
import pickle
import queue
import threading
import time
from typing import Any

import pytest

from engine.traced_queue import TracedJoinableQueue
from tests.traced_queues import (
    CHILD_TIMEOUT_S,
    METHODS,
    child_consume,
    child_count_then_done,
    child_produce,
    close_queue,
    drain,
    joins_within,
    started,
)

# The fixtures ctx and recorded: pytest finds them among this module's names.
from tests.traced_queues import fixture_ctx as fixture_ctx
from tests.traced_queues import fixture_recorded as fixture_recorded


def test_is_a_joinable_queue_with_its_constructor() -> None:
    ctx = multiprocessing.get_context(METHODS[0])
    q = TracedJoinableQueue(3, ctx=ctx)
    assert isinstance(q, multiprocessing.queues.JoinableQueue)
    assert q._maxsize == 3
    with pytest.raises(TypeError):
        TracedJoinableQueue(3, ctx)  # type: ignore[misc]  # ctx is keyword-only, as in the base
    close_queue(q)


@pytest.mark.parametrize("traced", [False, True], ids=["no-recorder", "recorder"])
def test_put_get_across_processes_is_fifo_and_join_returns(
    ctx: Any, traced: bool, request: pytest.FixtureRequest
) -> None:
    if traced:
        request.getfixturevalue("recorded")
    q = TracedJoinableQueue(ctx=ctx)
    out = ctx.Queue()
    items: list[Any] = [(i, i / 10) for i in range(8)] + ["text", {"k": [1, 2]}, None]
    for item in items:
        q.put(item)
    with started(ctx, child_consume, q, out, len(items), 0.0) as p:
        got = drain(out, len(items) + 1)
        assert joins_within(q, 10), "join() did not return after the child's task_done() calls"
    assert p.exitcode == 0
    assert [g for tag, g in got if tag == "got"] == items  # same objects, same order
    assert got[-1] == ("done", len(items))
    assert q._unfinished_tasks.get_value() == 0
    close_queue(q)


def test_child_puts_parent_gets_in_order(ctx: Any) -> None:
    q = TracedJoinableQueue(ctx=ctx)
    items = [(i, float(i)) for i in range(20)]
    with started(ctx, child_produce, q, items) as p:
        got = [q.get(timeout=CHILD_TIMEOUT_S) for _ in items]
    assert p.exitcode == 0
    assert got == items
    for _ in items:
        q.task_done()
    assert joins_within(q, 5)
    close_queue(q)


def test_full_and_empty_with_timeouts(ctx: Any) -> None:
    q = TracedJoinableQueue(1, ctx=ctx)
    with pytest.raises(queue.Empty):
        q.get(block=False)
    t0 = time.monotonic()
    with pytest.raises(queue.Empty):
        q.get(timeout=0.1)
    waited = time.monotonic() - t0
    assert 0.09 <= waited < 2.0, f"get(timeout=0.1) raised Empty after {waited:.3f} s"

    q.put((0, 0.0))
    with pytest.raises(queue.Full):
        q.put((1, 0.0), block=False)
    t0 = time.monotonic()
    with pytest.raises(queue.Full):
        q.put((1, 0.0), timeout=0.1)
    waited = time.monotonic() - t0
    assert 0.09 <= waited < 2.0, f"put(timeout=0.1) raised Full after {waited:.3f} s"
    # The refused puts did not count as tasks.
    assert q._unfinished_tasks.get_value() == 1
    assert q.get(timeout=5) == (0, 0.0)
    q.task_done()
    assert joins_within(q, 2)
    close_queue(q)


def test_full_queue_unblocks_when_a_child_takes(ctx: Any) -> None:
    q = TracedJoinableQueue(1, ctx=ctx)
    out = ctx.Queue()
    q.put((0, 0.0))
    with started(ctx, child_consume, q, out, 2, 0.0):
        q.put((1, 0.0), timeout=CHILD_TIMEOUT_S)  # blocks until the child got the first one
        got = drain(out, 3)
    assert got == [("got", (0, 0.0)), ("got", (1, 0.0)), ("done", 2)]
    assert joins_within(q, 5)
    close_queue(q)


def test_task_done_too_many_times_raises_value_error(ctx: Any) -> None:
    q = TracedJoinableQueue(ctx=ctx)
    with pytest.raises(ValueError, match=r"^task_done\(\) called too many times$"):
        q.task_done()
    q.put("x")
    assert q.get(timeout=5) == "x"
    q.task_done()
    with pytest.raises(ValueError, match=r"^task_done\(\) called too many times$"):
        q.task_done()
    assert q._unfinished_tasks.get_value() == 0
    close_queue(q)


def test_join_waits_for_every_task_done(ctx: Any) -> None:
    q = TracedJoinableQueue(ctx=ctx)
    counter = ctx.Value("i", 0)
    n = 4
    for i in range(n):
        q.put((i, 0.0))
    joined_at: list[int] = []

    def joiner() -> None:
        q.join()
        joined_at.append(counter.value)

    with started(ctx, child_count_then_done, q, counter, n, 0.1):
        t = threading.Thread(target=joiner, name="test-join", daemon=True)
        t.start()
        time.sleep(0.15)
        # Early on, at most one or two of the four tasks can be done: join must still wait.
        assert t.is_alive(), "join() returned before the tasks were done"
        t.join(CHILD_TIMEOUT_S)
    assert not t.is_alive()
    assert joined_at == [n], "join() returned before every task_done()"
    close_queue(q)


def test_join_on_empty_queue_returns_at_once(ctx: Any) -> None:
    q = TracedJoinableQueue(ctx=ctx)
    assert joins_within(q, 2)
    close_queue(q)


def test_pickles_into_children_only(ctx: Any) -> None:
    q = TracedJoinableQueue(ctx=ctx)
    # Like every multiprocessing queue, it is shared by inheritance, not by pickling.
    with pytest.raises(RuntimeError):
        pickle.dumps(q)
    close_queue(q)
