"""Whose recorder hears a call: a child's own, none, a deactivated one, one bound to the queue."""

from __future__ import annotations

import multiprocessing
import queue
from typing import Any

import pytest

from engine import recorder as rec_mod
from engine.events import Kind
from engine.recorder import Recorder, activate
from engine.traced_queue import TracedJoinableQueue
from tests.traced_queues import (
    CHILD_TIMEOUT_S,
    METHODS,
    Records,
    child_consume,
    child_traced_consume,
    child_traced_produce,
    close_queue,
    drain,
    started,
)

# The fixtures ctx and recorded: pytest finds them among this module's names.
from tests.traced_queues import fixture_ctx as fixture_ctx
from tests.traced_queues import fixture_recorded as fixture_recorded


def test_child_get_and_task_done_match_the_parent_put(ctx: Any, recorded: Records) -> None:
    q = TracedJoinableQueue(ctx=ctx)
    items = [(i, i / 4) for i in range(3)]
    for item in items:
        q.put(item)
    reader, writer = ctx.Pipe(duplex=False)
    child_batches: list[tuple] = []
    with started(ctx, child_traced_consume, q, writer, len(items), 5) as p:
        writer.close()
        while True:
            msg = reader.recv()
            if msg[0] == "items":
                got = msg[1]
                break
            child_batches.append(msg)
        q.join()
    assert p.exitcode == 0
    assert got == items
    put_tids = [r[3] for r in recorded.of(Kind.PUT)]
    child = [r for src, _f, recs in child_batches if src == 5 for r in recs]
    assert [r[3] for r in child if r[0] == Kind.GET] == put_tids
    assert [r[2] for r in child if r[0] == Kind.TASK_DONE] == put_tids
    # Same clock in both processes: each get returns after its put began.
    puts = recorded.of(Kind.PUT)
    for put, get in zip(puts, [r for r in child if r[0] == Kind.GET], strict=True):
        assert put[1] <= get[2]
    assert len(recorded.of(Kind.JOIN_END)) == 1
    reader.close()
    close_queue(q)


def test_child_put_tids_reach_the_parent_get(ctx: Any, recorded: Records) -> None:
    q = TracedJoinableQueue(ctx=ctx)
    reader, writer = ctx.Pipe(duplex=False)
    items = [(i, 0.5) for i in range(3)]
    child_batches: list[tuple] = []
    with started(ctx, child_traced_produce, q, writer, items, 9) as p:
        writer.close()
        got = [q.get(timeout=CHILD_TIMEOUT_S) for _ in items]
        while True:
            msg = reader.recv()
            if msg[0] == "done":
                break
            child_batches.append(msg)
    assert p.exitcode == 0
    assert got == items
    for _ in items:
        q.task_done()
    child_puts = [
        r for src, _f, recs in child_batches if src == 9 for r in recs if r[0] == Kind.PUT
    ]
    assert [r[3] >> 32 for r in child_puts] == [9, 9, 9], "a tid says which stream made it"
    assert [r[3] for r in recorded.of(Kind.GET)] == [r[3] for r in child_puts]
    # Three gets, then three task_done() calls: latest get first.
    assert [r[2] for r in recorded.of(Kind.TASK_DONE)] == [r[3] for r in reversed(child_puts)]
    reader.close()
    close_queue(q)


def test_nothing_recorded_without_an_active_recorder(ctx: Any) -> None:
    assert rec_mod.current() is None
    batches: list[tuple] = []
    idle = Recorder(0, batches.append, batch=1)  # exists, but never activated
    q = TracedJoinableQueue(1, ctx=ctx)
    q.put((0, 0.0))
    with pytest.raises(queue.Full):
        q.put((1, 0.0), block=False)
    assert q.get(timeout=5) == (0, 0.0)
    with pytest.raises(queue.Empty):
        q.get(timeout=0.01)
    q.task_done()
    with pytest.raises(ValueError):
        q.task_done()
    q.join()
    idle.flush()
    assert batches == []
    assert idle.records_sent == 0
    assert q.last_tid == -1
    close_queue(q)


def test_deactivated_recorder_stops_recording(recorded: Records) -> None:
    q = TracedJoinableQueue(ctx=multiprocessing.get_context(METHODS[0]))
    q.put((0, 0.0))
    activate(None)
    q.put((1, 0.0))
    assert len(recorded.all()) == 1
    # Items put traced and untraced both come out as they went in.
    assert [q.get(timeout=5), q.get(timeout=5)] == [(0, 0.0), (1, 0.0)]
    q.task_done()
    q.task_done()
    close_queue(q)


def test_bound_recorder_stays_in_the_binding_process(
    ctx: Any, request: pytest.FixtureRequest
) -> None:
    # What Run does: the parent binds its recorder to the queue, each worker activates its own.
    parent = Records()
    q = TracedJoinableQueue(ctx=ctx)
    q.bind_recorder(Recorder(0, parent.send, batch=1))
    items = [(i, 0.0) for i in range(3)]
    for item in items:
        q.put(item)
    reader, writer = ctx.Pipe(duplex=False)
    child: list[tuple] = []
    with started(ctx, child_traced_consume, q, writer, len(items), 5):
        writer.close()
        while (msg := reader.recv())[0] != "items":
            child.extend(r for r in msg[2])
    put_tids = [r[3] for r in parent.of(Kind.PUT)]
    assert len(put_tids) == 3
    assert [r[3] for r in child if r[0] == Kind.GET] == put_tids, "the child's gets went elsewhere"
    assert parent.of(Kind.GET) == []
    reader.close()
    close_queue(q)


def test_parent_recorder_does_not_record_a_child_that_has_none(
    ctx: Any, request: pytest.FixtureRequest
) -> None:
    reader, writer = ctx.Pipe(duplex=False)
    activate(Recorder(0, writer.send, batch=1))
    try:
        q = TracedJoinableQueue(ctx=ctx)
        out = ctx.Queue()
        q.put((0, 0.0))
        with started(ctx, child_consume, q, out, 1, 0.0):
            drain(out, 2)
            q.join()
    finally:
        activate(None)
    writer.close()
    kinds = []
    try:
        while reader.poll(0.2):
            kinds.extend(r[0] for r in reader.recv()[2])
    except EOFError:
        pass  # every writer is closed: all records are read
    # Only the parent's own calls: a child's get would come with stream 0's seq numbers.
    assert kinds == [Kind.PUT, Kind.JOIN_BEGIN, Kind.JOIN_END]
    reader.close()
    close_queue(q)
