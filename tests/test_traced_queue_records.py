"""What TracedJoinableQueue records for each call: tids, labels, times, refusals, lost items."""

from __future__ import annotations

import multiprocessing
import queue
import threading
import time
from typing import Any

import pytest

from engine.events import LABEL_NONE, LABEL_OTHER, Kind
from engine.traced_queue import TracedJoinableQueue
from tests.traced_queues import METHODS, Records, close_queue, joins_within

# The fixtures ctx and recorded: pytest finds them among this module's names.
from tests.traced_queues import fixture_ctx as fixture_ctx
from tests.traced_queues import fixture_recorded as fixture_recorded

TD_TOO_MANY = "task_done() called too many times"


def test_records_put_get_task_done_join_with_matched_tids(ctx: Any, recorded: Records) -> None:
    q = TracedJoinableQueue(ctx=ctx)
    q.put((7, 0.25))
    q.put(None)
    first = q.get(timeout=5)
    second = q.get(timeout=5)
    assert (first, second) == ((7, 0.25), None)
    q.task_done()
    q.task_done()
    q.join()

    puts, gets, dones = recorded.of(Kind.PUT), recorded.of(Kind.GET), recorded.of(Kind.TASK_DONE)
    assert len(puts) == 2 and len(gets) == 2 and len(dones) == 2
    for r in puts:
        _k, t_begin, t_return, tid, _label, _value = r
        assert t_begin <= t_return
        assert tid >= 0
    assert puts[0][4:] == (7, 0.25)
    assert puts[1][4:] == (LABEL_NONE, 0.0)
    assert puts[0][3] != puts[1][3]
    for r in gets:
        assert r[1] <= r[2]
    assert [g[3] for g in gets] == [p[3] for p in puts]
    # Two gets, then two task_done() calls: each is matched to the latest get not yet done
    # (the task just worked on, in the get -> work -> task_done loop).
    assert [d[2] for d in dones] == [puts[1][3], puts[0][3]]
    assert [r[0] for r in recorded.of(Kind.JOIN_BEGIN) + recorded.of(Kind.JOIN_END)] == [
        Kind.JOIN_BEGIN,
        Kind.JOIN_END,
    ]
    jb, je = recorded.of(Kind.JOIN_BEGIN)[0], recorded.of(Kind.JOIN_END)[0]
    assert dones[-1][1] <= jb[1] <= je[1]
    assert recorded.seqs() == list(range(len(recorded.all()))), "seq must number every record"
    close_queue(q)


def test_task_done_is_matched_to_the_task_just_taken(recorded: Records) -> None:
    q = TracedJoinableQueue(ctx=multiprocessing.get_context(METHODS[0]))
    for i in range(4):
        q.put((i, 0.0))
    order = []
    for _ in range(2):  # the tutorial's loop: get, work, task_done
        order.append(q.get(timeout=5)[0])
        q.task_done()
    # A failure path that skips task_done for task 2 leaves task 2 held, not task 3.
    q.get(timeout=5)
    q.get(timeout=5)
    q.task_done()
    tid = {r[4]: r[3] for r in recorded.of(Kind.PUT)}
    assert order == [0, 1]
    assert [r[2] for r in recorded.of(Kind.TASK_DONE)] == [tid[0], tid[1], tid[3]]
    assert list(q._taken) == [tid[2]]
    q.task_done()
    close_queue(q)


def test_a_traced_plain_queue_records_gets_as_the_joinable_one_and_keeps_no_task_list(
    recorded: Records,
) -> None:
    """multiprocessing.Queue in a traced program: the same get record (start, return, task id),
    the item unwrapped, and nothing held per task (it has no task_done to match)."""
    from engine.trace_queues import TracedPlainQueue

    q = TracedPlainQueue(ctx=multiprocessing.get_context(METHODS[0]))
    for i in range(50):
        q.put((i, 0.5))
    got = [q.get(timeout=5) for _ in range(50)]
    with pytest.raises(queue.Empty):
        q.get(timeout=0.01)
    assert got == [(i, 0.5) for i in range(50)]
    puts, gets = recorded.of(Kind.PUT), recorded.of(Kind.GET)
    assert [r[3] for r in gets] == [r[3] for r in puts]
    assert all(r[1] <= r[2] for r in gets)  # started, then returned
    assert q.last_tid == puts[-1][3]
    assert len(q._taken) == 0
    close_queue(q)


def test_a_traced_programs_bounded_put_nowait_raises_full_at_once(recorded: Records) -> None:
    """The general put path (a traced program's queues): put(block=False) on a full bounded
    queue raises Full without waiting, and says PUT_FULL, not PUT_BLOCKED."""
    from engine.trace_queues import TracedPlainQueue

    q = TracedPlainQueue(1, ctx=multiprocessing.get_context(METHODS[0]))
    q.put(1)
    outcome: list[str] = []

    def put_nowait() -> None:
        try:
            q.put(2, block=False)
            outcome.append("put")
        except queue.Full:
            outcome.append("Full")

    t = threading.Thread(target=put_nowait, name="test-put-nowait", daemon=True)
    t.start()
    t.join(10)
    got = outcome or ["still waiting"]
    if t.is_alive():
        q.get(timeout=5)  # let the waiting put through, so the thread ends
        t.join(10)
    assert got == ["Full"]
    assert len(recorded.of(Kind.PUT_FULL)) == 1 and not recorded.of(Kind.PUT_BLOCKED)
    assert q.get(timeout=5) == 1
    close_queue(q)


def test_a_traced_programs_put_that_must_wait_says_so_before_it_waits(
    recorded: Records,
) -> None:
    """The general put path: PUT_BLOCKED is shipped while the put still waits for room."""
    from engine.trace_queues import TracedPlainQueue

    q = TracedPlainQueue(1, ctx=multiprocessing.get_context(METHODS[0]))
    q.put(1)
    t = threading.Thread(target=q.put, args=(2,), name="test-put-waits", daemon=True)
    t.start()
    deadline = time.monotonic() + 10
    while not recorded.of(Kind.PUT_BLOCKED) and time.monotonic() < deadline:
        time.sleep(0.01)
    blocked_while_waiting = bool(recorded.of(Kind.PUT_BLOCKED)) and t.is_alive()
    assert q.get(timeout=5) == 1  # room: the put returns
    t.join(10)
    assert blocked_while_waiting, "no PUT_BLOCKED while the put waited for room"
    assert not t.is_alive() and q.get(timeout=5) == 2
    blocked, put = recorded.of(Kind.PUT_BLOCKED)[0], recorded.of(Kind.PUT)[-1]
    assert blocked[2] == put[3]  # the same task id
    close_queue(q)


def test_only_a_bounded_queues_put_reads_the_clock_on_return(recorded: Records) -> None:
    """An unbounded queue's put never waits, so its PUT holds one time (t0 == t1); a bounded
    one's may wait, so its return is read too (t1 >= t0)."""
    ctx = multiprocessing.get_context(METHODS[0])
    free, bounded = TracedJoinableQueue(ctx=ctx), TracedJoinableQueue(5, ctx=ctx)
    for i in range(3):
        free.put((i, 0.0))
    for i in range(3):
        bounded.put((i, 0.0))
    puts = recorded.of(Kind.PUT)
    assert [r[1] == r[2] for r in puts[:3]] == [True] * 3
    assert [r[2] >= r[1] for r in puts[3:]] == [True] * 3
    for q in (free, bounded):
        for _ in range(3):
            q.get(timeout=5)
            q.task_done()
        close_queue(q)


def test_records_labels_of_other_items(recorded: Records) -> None:
    q = TracedJoinableQueue(ctx=multiprocessing.get_context(METHODS[0]))
    for item in ("text", (1,), ("a", 2.0), (3, "not a float")):
        q.put(item)
    labels = [r[4:] for r in recorded.of(Kind.PUT)]
    assert labels == [(LABEL_OTHER, 0.0), (1, 0.0), (LABEL_OTHER, 0.0), (3, 0.0)]
    for _ in range(4):
        q.get(timeout=5)
        q.task_done()
    close_queue(q)


def test_records_full_empty_and_task_done_error(ctx: Any, recorded: Records) -> None:
    q = TracedJoinableQueue(1, ctx=ctx)
    with pytest.raises(queue.Empty):
        q.get(timeout=0.05)
    q.put((0, 0.0))
    with pytest.raises(queue.Full):
        q.put((1, 0.0), block=False)
    with pytest.raises(queue.Full):
        q.put((1, 0.0), timeout=0.05)
    q.get(timeout=5)
    q.task_done()
    with pytest.raises(ValueError):
        q.task_done()

    empty = recorded.of(Kind.GET_EMPTY)
    full = recorded.of(Kind.PUT_FULL)
    assert len(empty) == 1 and empty[0][2] - empty[0][1] >= 0.04
    assert len(full) == 2 and full[1][2] - full[1][1] >= 0.04
    assert all(r[1] <= r[2] for r in empty + full)
    assert len(recorded.of(Kind.PUT)) == 1, "a refused put must not be recorded as a put"
    assert len(recorded.of(Kind.TASK_DONE)) == 1
    errors = recorded.of(Kind.TASK_DONE_ERROR)
    assert len(errors) == 1 and errors[0][2] == TD_TOO_MANY
    close_queue(q)


@pytest.mark.parametrize(
    "item",
    [
        lambda: None,
        threading.Lock(),
        (3, threading.Lock()),
        (4, [lambda: None]),
        {"f": min.__self__},
    ],
    ids=["lambda", "lock", "tuple-with-lock", "nested-lambda", "module-in-dict"],
)
def test_unpicklable_item_is_lost_as_in_cpython_and_recorded(recorded: Records, item: Any) -> None:
    # cpython#79423: put() returns, the feeder drops the item, the counter stays raised.
    ctx = multiprocessing.get_context(METHODS[0])
    plain, q = ctx.JoinableQueue(), TracedJoinableQueue(ctx=ctx)
    for each in (plain, q):
        each.put(item)  # no exception, as in CPython
        each.put((1, 0.0))
        assert each.get(timeout=5) == (1, 0.0), "the next item still arrives"
        each.task_done()
        with pytest.raises(queue.Empty):
            each.get(timeout=0.2)  # the unpicklable item never arrives
        assert each._unfinished_tasks.get_value() == 1
        assert not joins_within(each, 0.5), "join() returned although a task was lost"
    lost = recorded.of(Kind.FEED_ERROR)
    assert len(lost) == 1, "the feeder's error is recorded once"
    put_tids = [r[3] for r in recorded.of(Kind.PUT)]
    assert lost[0][2] == put_tids[0], "the lost task is named by its identity"
    assert "pickle" in lost[0][3].lower() or "Can't" in lost[0][3], lost[0][3]
    for each in (plain, q):
        each._unfinished_tasks.acquire()  # let the helper threads' join() return
        with each._cond:
            each._cond.notify_all()
        close_queue(each)
