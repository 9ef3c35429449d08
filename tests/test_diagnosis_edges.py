"""Diagnosis edges mutation testing found unguarded: a stopped run, a consumer taking two."""

from __future__ import annotations

import signal

from test_diagnosis import Script, one_sentinel_script

from engine.events import Kind as K
from engine.explain import diagnose, hopeless, missing_task_done


def test_a_run_stopped_after_the_hang_is_diagnosed_as_it_was_at_the_stop() -> None:
    """--hang-timeout stops the run, which kills the consumers left in get(); the diagnosis
    printed then is that of the moment of the stop, the waiting consumers named."""
    s = one_sentinel_script()  # consumer-0 and consumer-2 wait in get() from 0.5 and 0.7 s
    s.rec(0, (K.STOP, 2.0, "hang timeout"))
    for c in (0, 2):
        s.exit(s.c(c), 2.1, code=-signal.SIGTERM)
    m = s.model()
    assert all(m.workers[s.c(c)].exitcode == -signal.SIGTERM for c in (0, 2))
    assert diagnose(m, now_t=5.0) == [
        "missing sentinels: 3 consumers, 1 sentinel — consumer-0 and consumer-2 wait in get() "
        "forever: the queue is empty and every producer has finished; put one None per consumer."
    ]
    assert hopeless(m, now_t=5.0) is None  # already ended: a stopped run is not judged again


def test_a_consumer_that_takes_two_tasks_then_marks_both_done_is_not_blamed() -> None:
    """The loop shape (one task_done() after each get()) does not hold for a consumer that
    takes two before marking them done; the queue's own count says it owes nothing."""
    s = Script(consumers=2, tasks=4)
    for i in range(4):
        s.put(1, 0.1, i)
    s.exit(1, 0.13)
    s.join(0.14)
    c0, c1 = s.c(0), s.c(1)
    s.get(c0, 0.2, 0)
    s.get(c0, 0.21, 1)
    s.ok(c0, 0.3)
    s.done(c0, 0.31)
    s.get(c1, 0.2, 2)
    s.fail(c1, 0.3, 2)  # back to get() without task_done()
    s.get(c1, 0.4, 3)
    s.ok(c1, 0.5)
    m = s.model()
    assert missing_task_done(m, m.workers[c0]) == []
    assert diagnose(m, now_t=5.0) == [
        "task_done() missing: consumer-1 took task 2 and never called task_done() for it; "
        "every consumer is waiting in get(), so the unfinished counter is stuck at 1 and "
        "queue.join() waits forever.",
        "missing sentinels: 2 consumers, 0 sentinels — consumer-0 and consumer-1 wait in get() "
        "forever: the queue is empty and every producer has finished; put one None per consumer.",
    ]


def test_a_producer_left_alone_on_an_unbounded_queue_is_reported_not_hopeless() -> None:
    """Nothing blocks a put on an unbounded queue: the producer may still finish (exit 0)."""
    s = Script(consumers=1, tasks=6)
    for i in range(3):
        s.put(1, 0.1 * (i + 1), i)
    s.exit(s.c(0), 0.35)  # exited cleanly, on a sentinel from elsewhere say
    m = s.model()
    assert m.maxsize == 0
    assert hopeless(m, now_t=5.0) is None
    assert diagnose(m, now_t=5.0) == [
        "producer-0 has put nothing for 4.7 s with 3 items queued and every consumer has "
        "exited; 3 of its tasks are not yet put."
    ]


def test_not_hopeless_while_items_are_queued_for_the_consumers_in_get() -> None:
    """Their get() records are on the way (a get is recorded when it returns)."""
    s = Script(consumers=1, tasks=2)
    s.put(1, 0.1, 0)
    s.exit(1, 0.12)
    s.get(s.c(0), 0.2, 0)
    s.fail(s.c(0), 0.3, 0)
    s.put(s.c(0), 0.31, 0)  # the retry, queued
    s.done(s.c(0), 0.32)
    m = s.model()
    assert m.depth == 1
    assert hopeless(m, now_t=5.0) is None
    assert diagnose(m, now_t=5.0) == []  # nor missing sentinels, until the queue is empty


def test_a_death_is_hopeless_with_one_task_unfinished_and_not_with_none() -> None:
    def two_consumers_one_task() -> Script:
        s = Script(consumers=2, tasks=1)
        s.put(1, 0.1, 0)
        s.exit(1, 0.12)  # no None: consumer-1 waits in get()
        s.join(0.13)
        s.get(s.c(0), 0.2, 0)
        return s

    s = two_consumers_one_task()
    s.exit(s.c(0), 0.3, code=-9)  # killed holding the only task
    m = s.model()
    assert m.unfinished == 1
    assert hopeless(m, now_t=0.4) == "consumer-0 died, so queue.join() can never return"
    s = two_consumers_one_task()
    s.ok(s.c(0), 0.3)
    s.exit(s.c(0), 0.33, code=-9)  # killed after its task_done(): queue.join() is returning
    m = s.model()
    assert m.unfinished == 0 and m.join_returned_t is None
    assert hopeless(m, now_t=0.4) is None


def _consumer_killed(s: Script, t: float) -> list[str]:
    s.exit(s.c(0), t, code=-9)
    return diagnose(s.model(), now_t=3.0)


def test_a_stuck_producer_counts_only_its_own_tasks_as_put() -> None:
    s = Script(producers=2, consumers=1, tasks=3)
    for i in range(3):
        s.put(2, 0.1, 10 + i)  # producer-1 puts all three of its tasks and exits
    s.exit(2, 0.12)
    s.put(1, 0.15, 0)  # producer-0 one of its three
    assert _consumer_killed(s, 0.3)[1] == (
        "producer-0 has put nothing for 2.9 s with 4 items queued and every consumer has exited "
        "or died; 2 of its tasks are not yet put."
    )


def test_a_queue_of_maxsize_1_holding_one_item_is_full() -> None:
    s = Script(consumers=1, tasks=3)
    s.rec(0, (K.QUEUE_INFO, 0.0, 1))
    s.put(1, 0.1, 0)
    assert _consumer_killed(s, 0.3)[1] == (
        "producer-0 is blocked in put() on a full queue (1 of maxsize 1) and every consumer has "
        "exited or died, so nothing will make room; 2 of its tasks are not yet put."
    )


def test_a_re_put_stranded_in_a_run_that_never_put_a_sentinel() -> None:
    s = Script(consumers=1, tasks=1)
    s.put(1, 0.1, 0)
    s.exit(1, 0.12)
    c = s.c(0)
    s.get(c, 0.2, 0)
    s.fail(c, 0.3, 0)
    s.put(c, 0.31, 0)  # re-put; no None was ever put, so none is "the last sentinel"
    s.done(c, 0.32)
    assert _consumer_killed(s, 0.4)[1] == (
        "1 item is still in the queue (task 0 re-put by consumer-0) but every consumer has "
        "exited or died, so nothing will take it and queue.join() will wait forever."
    )
