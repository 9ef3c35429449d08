"""The diagnosis of a traced program whose main process is the producer (engine/explain).

A traced program's lanes (engine/trace_lanes.py) start with RUN_START of no producers and no
consumers, say whether main waits in a join (MAIN_BLOCKED) and name a worker's role by what it
does; main's own puts come from src 0. Hand-built streams in those shapes, the words as text.
"""

from __future__ import annotations

from test_diagnosis import Script

from engine.events import LABEL_NONE, ROLE_CONSUMER
from engine.events import Kind as K
from engine.explain import diagnose, hopeless
from engine.model import RunModel
from engine.states import JoinState
from engine.trace_narration import TraceNarrator

MAIN = 0


def traced(consumers: int) -> Script:
    """A traced program's opening records: main not blocked, ``consumers`` consumer processes."""
    s = Script(producers=0, consumers=0)
    s.rec(MAIN, (K.QUEUE_INFO, 0.0, 0))
    s.rec(MAIN, (K.MAIN_BLOCKED, 0.0, 0))
    for i in range(consumers):
        s.rec(s.c(i), (K.WORKER_START, 0.01, 2000 + i, ROLE_CONSUMER, 0))
    return s


def one_none_for_two() -> Script:
    """Main puts three tasks and one None for two consumers; consumer-1 takes the None."""
    s = traced(consumers=2)
    for i in range(3):
        s.put(MAIN, 0.1, i)
    s.put(MAIN, 0.11, LABEL_NONE)
    for c, label, t in ((0, 0, 0.2), (1, 1, 0.2), (0, 2, 0.4)):
        s.get(s.c(c), t, label)
        s.ok(s.c(c), t + 0.1)
    s.get(s.c(1), 0.6, LABEL_NONE)
    s.done(s.c(1), 0.61)
    s.exit(s.c(1), 0.62)
    return s


def test_main_as_producer_is_judged_once_it_waits_in_a_join() -> None:
    s = one_none_for_two()
    m = s.model()
    # Main is not blocked: it may still put consumer-0's None.
    assert diagnose(m, now_t=5.0) == []
    assert hopeless(m, now_t=5.0) is None
    s.rec(MAIN, (K.MAIN_BLOCKED, 0.7, 1))  # main waits in Process.join(): it puts no more
    m = s.model()
    assert diagnose(m, now_t=5.0) == [
        "missing sentinels: 2 consumers, 1 sentinel — consumer-0 waits in get() forever: the "
        "queue is empty and every producer has finished; put one None per consumer."
    ]
    assert hopeless(m, now_t=5.0) == (
        "consumer-0 waits in get() forever: the queue is empty and nothing will put to it any more"
    )


def forgot_one(main_in_queue_join: bool) -> RunModel:
    """Main put two tasks and no None; consumer-1 fails task 1 and skips its task_done()."""
    s = traced(consumers=2)
    for i in range(2):
        s.put(MAIN, 0.1, i)
    s.get(s.c(0), 0.2, 0)
    s.ok(s.c(0), 0.3)
    s.get(s.c(1), 0.2, 1)
    s.fail(s.c(1), 0.3, 1)  # back to get() without task_done()
    if main_in_queue_join:
        s.rec(MAIN, (K.JOIN_BEGIN, 0.4))
    s.rec(MAIN, (K.MAIN_BLOCKED, 0.4, 1))
    return s.model()


FORGOT = ("task_done() missing: consumer-1 took task 1 and never called task_done() for it; "
          "every consumer is waiting in get(), so the unfinished counter is stuck at 1 and "
          "queue.join() {} forever.")


def test_a_main_stuck_in_queue_join_is_not_told_to_put_sentinels() -> None:
    """Main would put its sentinels after queue.join(): that join is the hang, not the Nones."""
    m = forgot_one(main_in_queue_join=True)
    assert m.join_state == JoinState.WAITING and m.unfinished == 1
    assert diagnose(m, now_t=5.0) == [FORGOT.format("waits")]


def test_a_main_stuck_in_process_join_is_told_both() -> None:
    m = forgot_one(main_in_queue_join=False)
    assert m.join_state == JoinState.NOT_CALLED and m.unfinished == 1
    assert diagnose(m, now_t=5.0) == [
        FORGOT.format("will wait"),
        "missing sentinels: 2 consumers, 0 sentinels — consumer-0 and consumer-1 wait in get() "
        "forever: the queue is empty and every producer has finished; put one None per consumer.",
    ]


def test_a_traced_programs_event_log_names_main_and_its_items() -> None:
    """The traced program's lines (engine/trace_narration.py, explain's templated lines)."""
    s = one_none_for_two()
    applied = [(src, r) for src, _seq, records in s.batches for r in records]
    lines = TraceNarrator(s.model()).lines(applied)
    assert lines[:5] == ["main put (0, …)", "main put (1, …)", "main put (2, …)", "main put None",
                         "consumer-0 got (0, …)"]
    assert lines[-3:] == ["consumer-1 got None", "consumer-1 called task_done()",
                          "consumer-1 finished"]


def test_a_traced_programs_blocked_put_is_said_with_its_process_name() -> None:
    """A traced process (named by the program, no tutorial role) that waits for room in put():
    the window's log says so under its name (explain's Narrator would say ".consumer")."""
    s = traced(consumers=1)
    feeder = s.c(0)
    s.rec(feeder, (K.PROC_INFO, 0.02, 2000, "feeder-0"))
    s.rec(feeder, (K.PUT_BLOCKED, 0.1, (feeder << 32) + 1, 0, 0.1))
    lines = TraceNarrator(s.model()).lines([(feeder, r) for src, _, rs in s.batches
                                            for r in rs if src == feeder])  # fmt: skip
    assert lines[-1] == "feeder-0 is blocked in put(): the queue is full, its item waits for room"


def test_a_process_the_program_terminated_is_ended_not_dead() -> None:
    """PROC_END (the program's terminate()) before its SIGTERM exit: the log says the program
    ended it, the diagnosis names no death; a process that died on its own still is one."""
    s = traced(consumers=2)
    s.rec(MAIN, (K.PROC_END, 0.5, 2000))  # consumer-0's pid: terminated by the program
    s.rec(MAIN, (K.PROC_EXIT, 0.51, s.c(0), -15))
    s.rec(MAIN, (K.PROC_EXIT, 0.52, s.c(1), -9))  # killed by someone else
    m = s.model()
    applied = [(src, r) for src, _seq, records in s.batches for r in records]
    lines = TraceNarrator(m).lines(applied)
    assert "consumer-0 was ended by the program (terminate(), exit code -15)" in lines
    assert "!consumer-1 died with exit code -9" in lines
    assert [w.name for w in m.dead_workers()] == ["consumer-1"]
    found = diagnose(m)
    assert any("consumer-1" in line for line in found)
    assert not any("consumer-0" in line for line in found)
