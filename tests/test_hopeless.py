"""Whether a run can never end (engine/explain/hopeless.py), on hand-built event streams.

`run` ends such a run by itself with exit 3; the window says so. Streams are written with
test_diagnosis's Script, in the shapes a real run sends. Until a state has settled (SETTLE_S)
nothing is judged: a late record could still change it.
"""

from __future__ import annotations

from test_diagnosis import Script, forgot_script, one_sentinel_script, producer_stuck_script

from engine.events import LABEL_NONE, Kind
from engine.explain import SETTLE_S, diagnose, hopeless
from engine.states import Activity

K = Kind


def test_hopeless_consumers_left_in_get_after_the_join_returned() -> None:
    m = one_sentinel_script().model()
    assert hopeless(m, now_t=1.0) is None  # consumer-2 has waited only 0.3 s
    assert hopeless(m, now_t=0.7 + SETTLE_S) == (
        "consumer-0 and consumer-2 wait in get() forever: the queue is empty and nothing will "
        "put to it any more"
    )


def test_hopeless_when_every_worker_exited_with_work_unfinished() -> None:
    m = forgot_script().model()
    assert m.unfinished == 1 and m.all_exited()
    assert hopeless(m, now_t=0.84) is None  # the last exit is fresh: a record may be late
    assert hopeless(m, now_t=0.84 + SETTLE_S) == (
        "every worker has exited with 1 unfinished, so queue.join() can never return"
    )


def test_not_hopeless_while_a_producer_may_still_put() -> None:
    s = Script(consumers=2, tasks=3)
    s.put(1, 0.1, 0)
    s.get(s.c(0), 0.2, 0)
    s.fail(s.c(0), 0.3, 0)  # a finding (task_done missing), but the producer lives on
    m = s.model()
    assert diagnose(m, now_t=30.0) and hopeless(m, now_t=30.0) is None


def test_not_hopeless_while_main_still_has_the_sentinels_to_put() -> None:
    # Two producers: main puts the sentinels after both exited, then records PRODUCERS_JOINED.
    s = Script(producers=2, consumers=2, tasks=1)
    s.put(1, 0.1, 0)
    s.put(2, 0.1, 1)
    s.exit(1, 0.15)
    s.exit(2, 0.15)
    for i in range(2):
        s.get(s.c(i), 0.2, i)
        s.ok(s.c(i), 0.3)
    assert hopeless(s.model(), now_t=30.0) is None
    s.rec(0, (K.PRODUCERS_JOINED, 0.4))  # main put no sentinel (sentinels = "none")
    assert hopeless(s.model(), now_t=30.0) is not None


def test_not_hopeless_when_the_join_is_about_to_return() -> None:
    s = Script(consumers=1, tasks=1)
    s.put(1, 0.1, 0)
    s.put(1, 0.11, LABEL_NONE)
    s.exit(1, 0.12)
    s.get(s.c(0), 0.2, 0)
    s.ok(s.c(0), 0.3)
    s.get(s.c(0), 0.31, LABEL_NONE)
    s.done(s.c(0), 0.32)
    s.exit(s.c(0), 0.33)
    m = s.model()
    assert m.unfinished == 0 and m.join_returned_t is None
    assert hopeless(m, now_t=30.0) is None


def test_hopeless_after_a_death_with_work_unfinished_and_not_after_a_stop() -> None:
    m = producer_stuck_script().model()
    assert hopeless(m, now_t=0.4) == "consumer-0 died, so queue.join() can never return"
    s = producer_stuck_script()
    s.rec(0, (K.STOP, 0.3, "stopped"))
    assert hopeless(s.model(), now_t=30.0) is None  # a stopped run is not judged


def test_hopeless_producer_blocked_on_a_full_queue_nobody_empties() -> None:
    s = Script(consumers=1, tasks=6)
    s.rec(0, (K.QUEUE_INFO, 0.0, 2))
    s.put(1, 0.1, 0)
    s.put(1, 0.2, 1)
    s.exit(s.c(0), 0.3)  # exited cleanly (say, on a sentinel put by someone else)
    m = s.model()
    assert hopeless(m, now_t=0.5) is None
    assert hopeless(m, now_t=0.2 + SETTLE_S) == (
        "producer-0 is blocked in put() on a full queue that no consumer is left to empty"
    )


def test_hopeless_producer_seen_waiting_for_room_on_a_full_queue_nobody_empties() -> None:
    """A live run's producer is shown blocked as its put waits (PUT_BLOCKED), no longer
    "producing" until the put returns: the judgement holds for that state too."""
    s = Script(consumers=1, tasks=6)
    s.rec(0, (K.QUEUE_INFO, 0.0, 2))
    s.put(1, 0.1, 0)
    s.put(1, 0.2, 1)
    s.rec(1, (K.PUT_BLOCKED, 0.25, 999, 2, 0.1))
    s.exit(s.c(0), 0.3)
    m = s.model()
    assert m.workers[1].activity == Activity.BLOCK_PUT
    assert hopeless(m, now_t=0.26) is None
    assert hopeless(m, now_t=0.25 + SETTLE_S) == (
        "producer-0 is blocked in put() on a full queue that no consumer is left to empty"
    )
