"""When TracedJoinableQueue's records are shipped, and what a run of Empty, a blocked put and
join_until record. Complements test_traced_queue_semantics.py, test_traced_queue_records.py
and test_traced_queue_recorders.py (semantics and identities).

A recorder ships a batch once it holds ``batch`` records or once ``interval`` s passed since
its last shipment: a worker's records must reach the parent while it still runs (the live
charts), in batches (the cost per record). Everything here runs through the public queue and
recorder API in this process, with a real CPython queue underneath.
"""

from __future__ import annotations

import multiprocessing
import queue
import threading
import time
from collections.abc import Iterator

import pytest

from engine.events import Kind
from engine.recorder import Recorder, activate
from engine.traced_queue import EMPTY_RUN_MAX_S, TracedJoinableQueue, join_until

CTX = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods()
                                  else "spawn")


class Shipped:
    def __init__(self) -> None:
        self.batches: list[tuple[int, int, list[tuple]]] = []

    def __call__(self, batch: tuple[int, int, list[tuple]]) -> None:
        self.batches.append(batch)

    def records(self) -> list[tuple]:
        return [r for _s, _f, recs in self.batches for r in recs]

    def of(self, kind: Kind) -> list[tuple]:
        return [r for r in self.records() if r[0] == kind]


def recording(batch: int, interval: float) -> tuple[Shipped, Recorder]:
    shipped = Shipped()
    rec = Recorder(0, shipped, batch=batch, interval=interval)
    activate(rec)
    return shipped, rec


@pytest.fixture
def q() -> Iterator[TracedJoinableQueue]:
    tq = TracedJoinableQueue(ctx=CTX)
    try:
        yield tq
    finally:
        activate(None)
        tq.close()
        tq.join_thread()


def test_puts_gets_and_task_dones_ship_once_a_batch_is_full(q: TracedJoinableQueue) -> None:
    # A minute between timed shipments: only a full batch ships during this test.
    shipped, rec = recording(batch=3, interval=60.0)
    q.put((0, 0.0))
    q.put((1, 0.0))
    assert shipped.batches == []  # two records: not a batch yet
    q.put((2, 0.0))
    assert [len(b[2]) for b in shipped.batches] == [3]
    q.get(timeout=5)
    q.get(timeout=5)
    assert len(shipped.batches) == 1
    q.get(timeout=5)
    assert [len(b[2]) for b in shipped.batches] == [3, 3]
    q.task_done()
    q.task_done()
    assert len(shipped.batches) == 2
    q.task_done()
    assert [len(b[2]) for b in shipped.batches] == [3, 3, 3]
    assert [r[0] for r in shipped.batches[2][2]] == [Kind.TASK_DONE] * 3
    assert rec.records_sent == 9


def test_records_ship_at_once_when_the_interval_has_passed(q: TracedJoinableQueue) -> None:
    shipped, _rec = recording(batch=1_000_000, interval=0.0)
    q.put((0, 0.0))
    assert len(shipped.of(Kind.PUT)) == 1
    q.get(timeout=5)
    assert len(shipped.of(Kind.GET)) == 1
    q.task_done()
    assert len(shipped.of(Kind.TASK_DONE)) == 1


def test_a_bounded_queue_records_how_long_a_put_waited_for_room() -> None:
    tq = TracedJoinableQueue(1, ctx=CTX)
    shipped, _rec = recording(batch=1, interval=0.0)
    try:
        tq.put((0, 0.0))
        taker = threading.Timer(0.3, lambda: tq.get(timeout=5))
        taker.start()
        tq.put((1, 0.0))  # full: returns once the timer's get made room
        taker.join()
        puts = shipped.of(Kind.PUT)
        assert len(puts) == 2
        _k, t_begin, t_return, *_ = puts[1]
        assert t_return - t_begin >= 0.25, "the wait in put() is not in the record"
    finally:
        activate(None)
        tq.close()
        tq.join_thread()


def test_a_run_of_empty_polls_is_one_record_with_its_count(q: TracedJoinableQueue) -> None:
    shipped, _rec = recording(batch=1, interval=0.0)
    for _ in range(3):
        with pytest.raises(queue.Empty):
            q.get(block=False)
    assert shipped.of(Kind.GET_EMPTY) == []  # still open: the next poll may extend it
    q.put((0, 0.0))  # the run ends with this process's next queue call
    empties = shipped.of(Kind.GET_EMPTY)
    assert len(empties) == 1 and empties[0][3] == 3
    assert empties[0][1] <= empties[0][2] <= shipped.of(Kind.PUT)[0][1]
    q.get(timeout=5)
    q.task_done()


def test_a_long_run_of_empty_polls_ships_while_it_goes_on(q: TracedJoinableQueue) -> None:
    shipped, _rec = recording(batch=1, interval=0.0)
    polls = 0
    start = time.perf_counter()
    # Poll until a record of the run shipped by itself (no other queue call ends it).
    while not shipped.of(Kind.GET_EMPTY):
        with pytest.raises(queue.Empty):
            q.get(timeout=0.02)
        polls += 1
        assert time.perf_counter() - start < 60, "a run of Empty never shipped"
    (run,) = shipped.of(Kind.GET_EMPTY)
    assert run[2] - run[1] >= EMPTY_RUN_MAX_S
    assert run[3] == polls


def test_join_ends_an_open_run_of_empty_polls_first(q: TracedJoinableQueue) -> None:
    shipped, _rec = recording(batch=1, interval=0.0)
    with pytest.raises(queue.Empty):
        q.get(block=False)
    q.join()  # nothing unfinished: returns at once
    kinds = [r[0] for r in shipped.records()]
    assert kinds == [Kind.GET_EMPTY, Kind.JOIN_BEGIN, Kind.JOIN_END]


def test_close_ships_an_open_run_of_empty_polls(q: TracedJoinableQueue) -> None:
    shipped, rec = recording(batch=1, interval=60.0)
    with pytest.raises(queue.Empty):
        q.get(block=False)
    rec.close()  # the worker's exit: nothing may stay behind
    assert [r[3] for r in shipped.of(Kind.GET_EMPTY)] == [1]


def test_join_until_returns_true_and_records_the_join_when_the_work_is_done(
    q: TracedJoinableQueue,
) -> None:
    shipped, _rec = recording(batch=1, interval=0.0)
    q.put((0, 0.0))
    q.get(timeout=5)
    calls = []

    def work_done_while_joining() -> bool:
        if not calls:  # the join is under way: the task is marked done now
            q.task_done()
        calls.append(1)
        return False

    assert q.join_until(work_done_while_joining)
    kinds = [r[0] for r in shipped.records()]
    assert kinds == [Kind.PUT, Kind.GET, Kind.JOIN_BEGIN, Kind.TASK_DONE, Kind.JOIN_END]


def test_join_until_gives_up_when_told_and_records_no_return(q: TracedJoinableQueue) -> None:
    shipped, _rec = recording(batch=1, interval=0.0)
    q.put((0, 0.0))
    asked = []

    def stop() -> bool:
        asked.append(1)
        return len(asked) >= 3

    assert q.join_until(stop) is False
    assert len(asked) == 3
    assert shipped.of(Kind.JOIN_BEGIN) and not shipped.of(Kind.JOIN_END)
    q.get(timeout=5)
    q.task_done()


def test_join_until_works_on_a_plain_queue() -> None:
    plain = CTX.JoinableQueue()
    shipped = Shipped()
    rec = Recorder(0, shipped, batch=1, interval=0.0)
    t_before = time.perf_counter()
    assert join_until(plain, lambda: False, rec=rec)
    je = shipped.of(Kind.JOIN_END)[0]
    assert t_before <= je[1] <= time.perf_counter()  # stamped when it returned, and shipped
    assert join_until(plain, lambda: True)  # nothing unfinished: returned, not stopped
    plain.close()
    plain.join_thread()


def test_an_item_put_without_a_recorder_comes_out_of_a_traced_get_unchanged(
    q: TracedJoinableQueue,
) -> None:
    # A process without a recorder puts the user's item as it is (no identity wrapper); a
    # 3-tuple led by bytes must not be taken for the wrapper.
    items = [(1, 2, 3), (b"raw", 5, "x"), "text"]
    for item in items:
        q.put(item)  # no recorder active: plain CPython put
    shipped, _rec = recording(batch=1, interval=0.0)
    assert [q.get(timeout=5) for _ in items] == items
    assert [r[3] for r in shipped.of(Kind.GET)] == [-1, -1, -1]  # no identity to record
    for _ in items:
        q.task_done()


def test_a_task_done_that_raised_leaves_the_task_taken(q: TracedJoinableQueue) -> None:
    shipped, rec = recording(batch=1, interval=0.0)
    q.put((0, 0.0))
    q.get(timeout=5)
    activate(None)
    q.task_done()  # another caller without a recorder released the counter
    activate(rec)
    with pytest.raises(ValueError):
        q.task_done()  # too many: nothing is recorded as done, the task stays taken
    assert shipped.of(Kind.TASK_DONE) == [] and len(shipped.of(Kind.TASK_DONE_ERROR)) == 1
    q.put((1, 0.0))
    q.task_done()  # matched to the task this process still holds
    (put0, _put1) = shipped.of(Kind.PUT)
    assert [r[2] for r in shipped.of(Kind.TASK_DONE)] == [put0[3]]


def test_a_get_that_returns_ends_the_run_of_empty_polls_before_its_own_record(
    q: TracedJoinableQueue,
) -> None:
    # The common calls take a shortcut while no run of Empty is open: the run opened by a
    # poll must still be closed, in stream order, by whichever call comes next, and a run
    # opened after that is a new record.
    shipped, rec = recording(batch=1, interval=0.0)
    activate(None)
    q.put((7, 0.5))  # put by another process (no recorder): the get below finds it
    activate(rec)
    while True:  # the feeder may deliver the item late: poll until it is there
        try:
            q.get(block=False)
            break
        except queue.Empty:
            pass
    q.task_done()
    with pytest.raises(queue.Empty):
        q.get(block=False)
    with pytest.raises(queue.Empty):
        q.get(block=False)
    q.put((8, 0.5))
    rec.close()
    kinds = [r[0] for r in shipped.records()]
    got = [Kind.GET, Kind.TASK_DONE, Kind.GET_EMPTY, Kind.PUT]
    if kinds[0] == Kind.GET_EMPTY:  # the first poll missed the item
        got = [Kind.GET_EMPTY, *got]
    assert kinds == got
    assert shipped.of(Kind.GET_EMPTY)[-1][3] == 2
    q.get(timeout=5)
    q.task_done()
