"""RunModel on hand-made streams whose records arrive late, out of order or never."""

from __future__ import annotations

import pytest

from engine.events import LABEL_NONE, ROLE_CONSUMER, ROLE_PRODUCER, Kind
from engine.model import Activity, JoinState, RunModel
from tests.model_sim import T0


def test_a_lost_tail_is_counted_from_the_workers_total() -> None:
    m = RunModel()
    m.feed([(0, 0, [(Kind.RUN_START, T0, 1, 1, 0)])])
    m.feed([(1, 0, [(Kind.WORKER_START, T0, 11, ROLE_PRODUCER, 0)])])
    # Records 1..3 never arrive; the WORKER_EXIT (seq 4) says 5 were sent.
    m.feed([(1, 4, [(Kind.WORKER_EXIT, T0 + 1, 0, 5)])])
    assert m.events_lost == 3
    assert m.events == 3

def test_premature_join_is_not_claimed_when_put_records_arrive_late() -> None:
    # One producer put both tasks and the sentinel, the consumer did them all, then join()
    # returned: correct. But the producer's batch reaches the parent a poll after JOIN_END
    # (its flush timer is 15 ms; the parent's records are delivered at once).
    p = 1 << 32
    producer = [
        (Kind.WORKER_START, T0, 11, ROLE_PRODUCER, 0),
        (Kind.PUT, T0 + 0.01, T0 + 0.01, p + 1, 0, 0.5),
        (Kind.PUT, T0 + 0.02, T0 + 0.02, p + 2, 1, 0.5),
        (Kind.PUT, T0 + 0.03, T0 + 0.03, p + 3, LABEL_NONE, 0.0),
    ]
    consumer = [
        (Kind.WORKER_START, T0, 12, ROLE_CONSUMER, 0),
        (Kind.GET, T0, T0 + 0.011, p + 1),
        (Kind.TASK_DONE, T0 + 0.015, p + 1),
        (Kind.GET, T0 + 0.015, T0 + 0.021, p + 2),
        (Kind.TASK_DONE, T0 + 0.025, p + 2),
        (Kind.GET, T0 + 0.025, T0 + 0.031, p + 3),
        (Kind.TASK_DONE, T0 + 0.032, p + 3),
    ]
    m = RunModel()
    m.feed([(0, 0, [(Kind.RUN_START, T0, 1, 1, 2)]), (0, 1, [(Kind.JOIN_BEGIN, T0)])])
    m.feed([(2, 0, consumer), (0, 2, [(Kind.JOIN_END, T0 + 0.033)])])
    m.feed([(1, 0, producer)])
    assert (m.puts, m.gets, m.task_dones, m.unfinished) == (3, 3, 3, 0)
    assert m.join_state == JoinState.RETURNED
    assert not m.premature_join, "every task was put before join() returned"


def test_a_put_made_after_the_joins_return_but_arriving_before_it_is_not_counted() -> None:
    # join() returned at 0.016 s (the counter touched zero between the producer's puts), and
    # JOIN_END reaches the model a settle time later: the producer's next put, made at 0.02 s,
    # is in by then. It was not put by the return: two of three tasks were still to come.
    p = 1 << 32
    producer = [
        (Kind.WORKER_START, T0, 11, ROLE_PRODUCER, 0),
        (Kind.PUT, T0 + 0.01, T0 + 0.01, p + 1, 0, 0.5),
        (Kind.PUT, T0 + 0.02, T0 + 0.02, p + 2, 1, 0.5),
    ]
    consumer = [
        (Kind.WORKER_START, T0, 12, ROLE_CONSUMER, 0),
        (Kind.GET, T0, T0 + 0.011, p + 1),
        (Kind.TASK_DONE, T0 + 0.015, p + 1),
    ]
    m = RunModel()
    m.feed([(0, 0, [(Kind.RUN_START, T0, 1, 1, 3)]), (0, 1, [(Kind.JOIN_BEGIN, T0)])])
    m.feed([(1, 0, producer), (2, 0, consumer)])
    m.feed([(0, 2, [(Kind.JOIN_END, T0 + 0.016)])])
    assert (m.puts_at_join_return, m.tasks_not_yet_put, m.premature_join) == (1, 2, True)
    # A put of before the return arriving after the JOIN_END still counts (on_put).
    m.feed([(1, 3, [(Kind.PUT, T0 + 0.005, T0 + 0.005, p + 3, 2, 0.5)])])
    assert (m.puts_at_join_return, m.tasks_not_yet_put) == (2, 1)


def test_a_worker_whose_process_outlived_its_function_until_the_stop_did_not_die() -> None:
    # The producer's function returned (WORKER_EXIT 0), but its process lived on at its exit
    # (its feeder thread writing into a full pipe) until Stop ended it (SIGTERM): the stop's
    # doing, as for a worker still running then. One killed before the stop did die.
    m = RunModel()
    m.feed([(0, 0, [(Kind.RUN_START, T0, 1, 1, 1)])])
    m.feed([(1, 0, [(Kind.WORKER_START, T0, 11, ROLE_PRODUCER, 0),
                    (Kind.WORKER_EXIT, T0 + 0.1, 0, 2)]),
            (2, 0, [(Kind.WORKER_START, T0, 12, ROLE_CONSUMER, 0)])])  # fmt: skip
    m.feed([(0, 1, [(Kind.PROC_EXIT, T0 + 0.2, 2, -9), (Kind.STOP, T0 + 0.3, "worker died"),
                    (Kind.PROC_EXIT, T0 + 0.4, 1, -15)])])  # fmt: skip
    producer, consumer = m.workers[1], m.workers[2]
    assert (producer.exitcode, producer.activity) == (-15, Activity.DIED)
    assert m.dead_workers() == [consumer]


def test_get_before_its_put_is_held_until_the_put_arrives() -> None:
    m = RunModel()
    m.feed([(0, 0, [(Kind.RUN_START, T0, 1, 1, 1)])])
    tid = (1 << 32) + 1
    m.feed([(2, 0, [(Kind.GET, T0, T0 + 0.2, tid)])])
    assert (m.puts, m.gets, m.unfinished) == (0, 0, 0)
    m.feed([(1, 0, [(Kind.PUT, T0 + 0.1, T0 + 0.1, tid, 0, 0.5)])])
    assert (m.puts, m.gets, m.depth, m.in_flight) == (1, 1, 0, 1)
    w = m.workers[2]
    assert w.activity == Activity.PROCESS and list(w.held) == [tid]
    assert m.held_task_labels(w) == [0]
    assert m.tasks[tid][5] == pytest.approx(0.2)


def _killed_producer_feed(proc_exit_first: bool) -> RunModel:
    """producer-0 (src 1) put task 0 but was SIGKILLed before that record left its buffer."""
    tid = (1 << 32) + 1
    main = [(int(Kind.RUN_START), 1.0, 1, 1, 1)]
    get = (2, 0, [(int(Kind.WORKER_START), 1.1, 200, ROLE_CONSUMER, 0),
                  (int(Kind.GET), 1.2, 1.5, tid)])
    death = (0, 1, [(int(Kind.PROC_EXIT), 1.6, 1, -9)])
    m = RunModel()
    m.feed([(0, 0, main)])
    m.feed([death] if proc_exit_first else [get])
    m.feed([get] if proc_exit_first else [death])
    return m


@pytest.mark.parametrize("proc_exit_first", [False, True], ids=["get-first", "death-first"])
def test_get_of_a_put_lost_with_its_killed_producer_is_not_held_forever(
    proc_exit_first: bool,
) -> None:
    m = _killed_producer_feed(proc_exit_first)
    consumer = m.workers[2]
    # The get proves the put: both count, the consumer shows the task, the loss is counted.
    assert (m.puts, m.gets, m.unfinished, m.depth, m.in_flight) == (1, 1, 1, 0, 1)
    assert list(consumer.held) == [(1 << 32) + 1]
    assert consumer.activity == Activity.PROCESS
    assert m.events_lost == 1
    assert m.workers[1].activity == Activity.DIED


@pytest.mark.parametrize("late", [False, True], ids=["in-order", "paused-record-late"])
def test_resume_returns_held_workers_to_what_they_were_doing(late: bool) -> None:
    """A worker says PAUSED when held and nothing when released: RESUME puts it back to its
    activity before the pause, also when its PAUSED record reaches the model after RESUME
    (it travels through the worker's own pipe, RESUME through the parent's): the pause then
    takes no time on the charts' clock, and the worker must not be left "paused"."""
    m = RunModel()
    tid = 1 << 32  # producer 1's first task
    m.feed([(0, 0, [(Kind.RUN_START, T0, 1, 1, 1)])])
    m.feed([(1, 0, [(Kind.WORKER_START, T0, 11, ROLE_PRODUCER, 0),
                    (Kind.PUT, T0 + 0.05, T0 + 0.05, tid, 0, 1.0)])])  # fmt: skip
    m.feed([(2, 0, [(Kind.WORKER_START, T0, 12, ROLE_CONSUMER, 0),
                    (Kind.GET, T0 + 0.1, T0 + 0.2, tid),
                    (Kind.TASK_START, T0 + 0.2, tid)])])  # fmt: skip
    worker = m.workers[2]
    paused = (2, 3, [(Kind.PAUSED, T0 + 0.31)])
    parent = [(0, 1, [(Kind.PAUSE, T0 + 0.3)]), (0, 2, [(Kind.RESUME, T0 + 0.9)])]
    for batch in ([*parent, paused] if late else [parent[0], paused, parent[1]]):
        m.feed([batch])
    assert not m.paused
    assert worker.activity == Activity.PROCESS and worker.task == tid
