"""Hang diagnosis: hand-built event streams with known truths, then a real run with a real death.

Whether a run can never end (hopeless) is judged in test_hopeless.py, on this file's Script.
"""

from __future__ import annotations

import copy
import os
import signal
import time
from collections import defaultdict, deque

import pytest

from engine.config import load_preset
from engine.events import LABEL_NONE, ROLE_CONSUMER, ROLE_PRODUCER, Kind
from engine.explain import SETTLE_S, diagnose, exit_words, missing_task_done
from engine.model import RunModel
from engine.runner import Run

K = Kind


class Script:
    """Writes the records a run would send, in engine/events.py shapes, with real tid rules.

    Times are run-relative seconds (RUN_START is at t = 0). task_done() carries the tid of the
    process's most recent get not yet marked done (LIFO), exactly as TracedJoinableQueue does.
    """

    def __init__(self, producers: int = 1, consumers: int = 2, tasks: int = 4) -> None:
        self.producers, self.consumers = producers, consumers
        self.batches: list[tuple[int, int, list[tuple]]] = []
        self.seq: dict[int, int] = defaultdict(int)
        self.taken: dict[int, deque[int]] = defaultdict(deque)
        self.next_tid = 100
        self.unclaimed: dict[int, deque[int]] = defaultdict(deque)
        self.current: dict[int, int] = {}
        self.rec(0, (K.RUN_START, 0.0, producers, consumers, producers * tasks))
        for src in range(1, producers + consumers + 1):
            role = ROLE_PRODUCER if src <= producers else ROLE_CONSUMER
            index = src - 1 if role == ROLE_PRODUCER else src - 1 - producers
            self.rec(src, (K.WORKER_START, 0.01, 1000 + src, role, index))

    def c(self, i: int) -> int:
        """src of consumer-i."""
        return 1 + self.producers + i

    def rec(self, src: int, record: tuple) -> None:
        self.batches.append((src, self.seq[src], [record]))
        self.seq[src] += 1

    def put(self, src: int, t: float, label: int, value: float = 0.1, blocked: float = 0.0) -> int:
        self.next_tid += 1
        self.unclaimed[label].append(self.next_tid)
        self.rec(src, (K.PUT, t - blocked, t, self.next_tid, label, value))
        return self.next_tid

    def get(self, src: int, t: float, label: int, since: float | None = None) -> int:
        """consumer ``src`` takes the oldest queued item with this label."""
        tid = self.unclaimed[label].popleft()
        self.taken[src].append(tid)
        self.current[src] = tid
        self.rec(src, (K.GET, t if since is None else since, t, tid))
        if label != LABEL_NONE:
            self.rec(src, (K.TASK_START, t, tid))
        return tid

    def ok(self, src: int, t: float) -> None:
        self.rec(src, (K.TASK_END, t, self.current[src]))
        self.done(src, t)

    def fail(self, src: int, t: float, label: int) -> None:
        self.rec(src, (K.TASK_FAIL, t, self.current[src], f"TaskFailure: task {label} failed"))

    def done(self, src: int, t: float) -> None:
        tid = self.taken[src].pop() if self.taken[src] else -1
        self.rec(src, (K.TASK_DONE, t, tid))

    def done_error(self, src: int, t: float) -> None:
        self.rec(src, (K.TASK_DONE_ERROR, t, "task_done() called too many times"))

    def exit(self, src: int, t: float, code: int = 0) -> None:
        if code == 0:
            self.rec(src, (K.WORKER_EXIT, t, 0, self.seq[src] + 1))
        self.rec(0, (K.PROC_EXIT, t + 0.001, src, code))

    def join(self, t: float, returned: float | None = None) -> None:
        self.rec(0, (K.JOIN_BEGIN, t))
        if returned is not None:
            self.rec(0, (K.JOIN_END, returned))

    def model(self) -> RunModel:
        m = RunModel()
        m.feed(self.batches)
        return m


def healthy_tail(s: Script, t: float, labels: list[int], consumer: int) -> float:
    """consumer-i takes and finishes each label in turn from time t; returns the end time."""
    src = s.c(consumer)
    for label in labels:
        s.get(src, t, label)
        s.ok(src, t + 0.1)
        t += 0.2
    return t


# ----------------------------------------------------------------------------- healthy runs


def test_a_healthy_run_in_progress_gives_nothing_however_long_we_wait() -> None:
    s = Script(consumers=2, tasks=4)
    for i in range(2):
        s.put(1, 0.1 + 0.1 * i, i)
    s.get(s.c(0), 0.15, 0)  # consumer-0 is still working on task 0
    s.get(s.c(1), 0.25, 1)
    s.ok(s.c(1), 0.35)  # consumer-1 waits in get() for the producer's next put
    m = s.model()
    assert m.in_flight == 1
    assert diagnose(m, now_t=30.0) == []


def test_a_finished_correct_run_gives_nothing() -> None:
    s = Script(consumers=1, tasks=2)
    for i in range(2):
        s.put(1, 0.1 * (i + 1), i)
    s.put(1, 0.3, LABEL_NONE)
    s.exit(1, 0.31)
    s.join(0.32)
    t = healthy_tail(s, 0.4, [0, 1], 0)
    s.get(s.c(0), t, LABEL_NONE)
    s.done(s.c(0), t + 0.01)
    s.exit(s.c(0), t + 0.02)
    s.rec(0, (K.JOIN_END, t + 0.02))
    m = s.model()
    assert m.unfinished == 0
    assert diagnose(m, now_t=t + 10) == []


def test_diagnose_is_pure() -> None:
    s = Script(consumers=1, tasks=1)
    s.put(1, 0.1, 0)
    s.get(s.c(0), 0.2, 0)
    s.fail(s.c(0), 0.3, 0)
    m = s.model()
    before = copy.deepcopy(m.__dict__)
    first = diagnose(m, now_t=5.0)
    assert first and first == diagnose(m, now_t=5.0)
    assert m.__dict__ == before


# ----------------------------------------------------------------------------- task_done missing


def forgot_script() -> Script:
    """The forgot-task-done lesson: consumer-0 fails task 1 and skips its task_done()."""
    s = Script(consumers=2, tasks=4)
    for i in range(4):
        s.put(1, 0.05 * (i + 1), i)
    s.put(1, 0.21, LABEL_NONE)
    s.put(1, 0.22, LABEL_NONE)
    s.exit(1, 0.23)
    s.join(0.24)
    c0, c1 = s.c(0), s.c(1)
    s.get(c1, 0.3, 0)
    s.get(c0, 0.3, 1)
    s.fail(c0, 0.5, 1)  # back to get() without task_done()
    s.get(c0, 0.51, 2)
    s.ok(c0, 0.7)  # the queue attributes this task_done() to task 2, the one just worked on
    s.ok(c1, 0.6)
    s.get(c1, 0.61, 3)
    s.ok(c1, 0.8)
    s.get(c0, 0.71, LABEL_NONE)
    s.done(c0, 0.72)
    s.get(c1, 0.81, LABEL_NONE)
    s.done(c1, 0.82)
    s.exit(c0, 0.73)
    s.exit(c1, 0.83)
    return s


def test_task_done_missing_names_the_failed_task() -> None:
    m = forgot_script().model()
    c0 = m.workers[2]
    # The queue's LIFO bookkeeping and the loop shape (get -> work -> task_done) agree.
    assert m.held_task_labels(c0) == [1]
    assert missing_task_done(m, c0) == [1]
    assert diagnose(m, now_t=0.9) == [
        "task_done() missing: consumer-0 took task 1 and never called task_done() for it; "
        "every consumer has exited, so the unfinished counter is stuck at 1 and "
        "queue.join() waits forever."
    ]


def test_task_done_missing_waits_for_idle_consumers_to_settle() -> None:
    s = Script(consumers=1, tasks=2)
    s.put(1, 0.1, 0)
    s.put(1, 0.2, 1)
    c0 = s.c(0)
    s.get(c0, 0.3, 0)
    s.fail(c0, 0.4, 0)  # skipped task_done(): the consumer now waits in get(), unseen
    s.get(c0, 0.41, 1)
    s.ok(c0, 0.5)  # waits in get() from here on
    m = s.model()
    assert diagnose(m, now_t=0.5 + SETTLE_S - 0.1) == []
    found = diagnose(m, now_t=0.5 + SETTLE_S + 0.1)
    assert found == [
        "task_done() missing: consumer-0 took task 0 and never called task_done() for it; "
        "every consumer is waiting in get(), so the unfinished counter is stuck at 1 and "
        "queue.join() will wait forever."
    ]


def test_a_consumer_back_in_get_after_a_failure_counts_as_idle() -> None:
    s = Script(consumers=1, tasks=1)
    s.put(1, 0.1, 0)
    s.get(s.c(0), 0.2, 0)
    s.fail(s.c(0), 0.3, 0)  # last event: the get() it now waits in is recorded only on return
    m = s.model()
    assert diagnose(m, now_t=0.35) == []
    assert "consumer-0 took task 0" in diagnose(m, now_t=0.3 + SETTLE_S)[0]


def test_several_tasks_and_the_sentinel_are_listed_per_consumer() -> None:
    s = Script(consumers=2, tasks=3)
    for i in range(3):
        s.put(1, 0.1, i)
    s.put(1, 0.11, LABEL_NONE)
    s.put(1, 0.12, LABEL_NONE)
    s.exit(1, 0.13)
    c0, c1 = s.c(0), s.c(1)
    s.get(c0, 0.2, 0)
    s.fail(c0, 0.3, 0)
    s.get(c0, 0.31, 2)
    s.fail(c0, 0.4, 2)
    s.get(c0, 0.41, LABEL_NONE)  # no task_done() for the sentinel either
    s.exit(c0, 0.42)
    s.get(c1, 0.2, 1)
    s.fail(c1, 0.3, 1)
    s.get(c1, 0.31, LABEL_NONE)
    s.done(c1, 0.32)
    s.exit(c1, 0.33)
    m = s.model()
    (text,) = diagnose(m, now_t=0.5)
    assert text.startswith(
        "task_done() missing: consumer-0 took tasks 0, 2 and the sentinel None and consumer-1 "
        "took task 1 and never called task_done() for them;"
    )
    assert "stuck at 4" in text


# ----------------------------------------------------------------------------- sentinels


def one_sentinel_script() -> Script:
    s = Script(consumers=3, tasks=3)
    for i in range(3):
        s.put(1, 0.1, i)
    s.put(1, 0.11, LABEL_NONE)
    s.exit(1, 0.12)
    s.join(0.13)
    for i in range(3):
        s.get(s.c(i), 0.2, i)
        s.ok(s.c(i), 0.5 + 0.1 * i)
    s.get(s.c(1), 0.61, LABEL_NONE)
    s.done(s.c(1), 0.62)
    s.exit(s.c(1), 0.63)
    s.rec(0, (K.JOIN_END, 0.62))
    return s


def test_missing_sentinels_names_the_consumers_left_waiting() -> None:
    m = one_sentinel_script().model()
    assert diagnose(m, now_t=1.0) == []  # consumer-2 has waited only 0.3 s
    assert diagnose(m, now_t=0.7 + SETTLE_S) == [
        "missing sentinels: 3 consumers, 1 sentinel — consumer-0 and consumer-2 wait in get() "
        "forever: the queue is empty and every producer has finished; put one None per consumer."
    ]


def test_no_sentinel_while_a_producer_is_still_running() -> None:
    s = Script(consumers=2, tasks=3)
    s.put(1, 0.1, 0)
    s.get(s.c(0), 0.2, 0)
    s.ok(s.c(0), 0.3)
    assert diagnose(s.model(), now_t=20.0) == []  # the producer may still put tasks and Nones


# ----------------------------------------------------------------------------- deaths


def dead_holder_script() -> Script:
    """consumer-1 killed (SIGKILL) at 0.3 s while holding task 2 (tests/test_explain.py too)."""
    s = Script(consumers=2, tasks=3)
    for i in range(3):
        s.put(1, 0.1, i)
    s.get(s.c(1), 0.2, 2)
    s.exit(s.c(1), 0.3, code=-9)
    return s


def test_a_dead_consumer_is_named_with_pid_signal_and_the_task_it_held() -> None:
    found = diagnose(dead_holder_script().model(), now_t=0.31)
    assert found == [
        "consumer-1 (pid 1003) died with exit code -9 (SIGKILL) while holding task 2: nobody "
        "will call task_done() for it, so the unfinished counter cannot reach 0 and "
        "queue.join() never returns."
    ]


def test_a_dead_producer_says_how_far_it_got() -> None:
    s = Script(consumers=1, tasks=5)
    s.put(1, 0.1, 0)
    s.put(1, 0.2, 1)
    s.exit(1, 0.3, code=1)
    (text,) = diagnose(s.model(), now_t=0.3)
    assert text == "producer-0 (pid 1001) died with exit code 1 after putting 2 of its 5 tasks."


def test_exit_words() -> None:
    assert exit_words(1) == "exit code 1"
    assert exit_words(-signal.SIGTERM) == "exit code -15 (SIGTERM)"
    assert exit_words(-999) == "exit code -999"


def test_workers_killed_by_a_stop_are_not_reported_as_deaths() -> None:
    s = forgot_script()
    m = s.model()
    stop_t = 0.9
    m.stop_t = stop_t  # type: ignore[attr-defined]  # what a stopped run's model records
    s2 = Script(consumers=2, tasks=3)
    for i in range(3):
        s2.put(1, 0.1, i)
    s2.get(s2.c(0), 0.2, 0)  # consumer-0 is busy with task 0 when the run is stopped
    s2.rec(0, (K.STOP, 1.0, "stopped"))
    for src in (1, 2, 3):
        s2.exit(src, 1.1, code=-signal.SIGTERM)
    m2 = s2.model()
    m2.stop_t = 1.0  # type: ignore[attr-defined]
    assert diagnose(m2, now_t=5.0) == []
    # ...while the findings of before the stop still stand.
    assert diagnose(m, now_t=5.0)[0].startswith("task_done() missing: consumer-0 took task 1")


# ----------------------------------------------------------------------------- joins


def test_premature_join_names_the_running_producer_and_what_it_had_left() -> None:
    s = Script(consumers=1, tasks=4)
    s.join(0.05, returned=0.06)
    for i in range(4):
        s.put(1, 0.3 * (i + 1), i)
    assert diagnose(s.model(), now_t=1.3) == [
        "premature join: returned while producer-0 was still running, 4 tasks not yet put."
    ]


# ----------------------------------------------------------------------------- stranded items


def test_a_task_re_put_after_the_sentinels_is_stranded() -> None:
    s = Script(consumers=1, tasks=1)
    s.put(1, 0.1, 0)
    s.put(1, 0.11, LABEL_NONE)
    s.exit(1, 0.12)
    s.join(0.13)
    c0 = s.c(0)
    s.get(c0, 0.2, 0)
    s.fail(c0, 0.3, 0)
    s.rec(c0, (K.TASK_RETRY, 0.3, s.current[c0], 1))
    s.put(c0, 0.31, 0)  # behind the None
    s.done(c0, 0.32)
    s.get(c0, 0.33, LABEL_NONE)
    s.done(c0, 0.34)
    s.exit(c0, 0.35)
    assert diagnose(s.model(), now_t=0.4) == [
        "1 item is still in the queue (task 0 re-put by consumer-0 after the last sentinel) but "
        "every consumer has exited, so nothing will take it and queue.join() waits forever."
    ]


def producer_stuck_script() -> Script:
    s = Script(consumers=1, tasks=6)
    for i in range(3):
        s.put(1, 0.1 * (i + 1), i)
    s.exit(s.c(0), 0.35, code=-9)
    return s


def test_a_producer_stuck_with_no_consumer_alive() -> None:
    m = producer_stuck_script().model()
    assert diagnose(m, now_t=1.0)[1:] == []  # only the death, until the producer has settled
    found = diagnose(m, now_t=2.3)
    assert found[1] == (
        "producer-0 has put nothing for 2.0 s with 3 items queued and every consumer has exited "
        "or died; 3 of its tasks are not yet put."
    )


def test_a_producer_blocked_on_a_full_queue_when_maxsize_is_known() -> None:
    m = producer_stuck_script().model()
    m.maxsize = 3  # type: ignore[attr-defined]
    assert diagnose(m, now_t=2.3)[1] == (
        "producer-0 is blocked in put() on a full queue (3 of maxsize 3) and every consumer has "
        "exited or died, so nothing will make room; 3 of its tasks are not yet put."
    )


# ----------------------------------------------------------------------------- extra task_done


def test_extra_task_done_error_names_the_worker() -> None:
    s = Script(consumers=2, tasks=1)
    s.put(1, 0.1, 0)
    s.get(s.c(1), 0.2, 0)
    s.ok(s.c(1), 0.3)
    s.done_error(s.c(1), 0.31)
    found = diagnose(s.model(), now_t=0.4)
    assert found == [
        "consumer-1 called task_done() more often than it took tasks: ValueError: task_done() "
        "called too many times (once); the unfinished counter was already 0, so the call "
        "raised instead of lowering it."
    ]


def test_a_silent_extra_task_done_is_reported() -> None:
    s = Script(consumers=1, tasks=2)
    s.put(1, 0.1, 0)
    s.put(1, 0.1, 1)
    s.get(s.c(0), 0.2, 0)
    s.ok(s.c(0), 0.3)
    s.done(s.c(0), 0.31)  # nothing taken: the counter drops for task 1, still queued
    m = s.model()
    assert m.extra_task_dones == 1
    assert diagnose(m, now_t=0.4) == [
        "task_done() was called 1 time more than tasks were taken while other tasks were "
        "unfinished: the unfinished counter fell below the work left, so queue.join() can "
        "return before every task is done."
    ]


# ----------------------------------------------------------------------------- a real death


def _poll_until(run: Run, pred, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run.poll(0.05, wait_s=0.05)
        if pred():
            return True
    return False


def _now(run: Run) -> float:
    return run.model.rel(time.perf_counter())


@pytest.mark.slow
def test_real_run_consumer_killed_while_holding_a_task() -> None:
    cfg = load_preset("bounded-queue").replace(time_scale=1.0, consumers=1)
    with Run(cfg) as run:
        m = run.model
        assert _poll_until(run, lambda: 2 in m.workers, 10)
        c0 = m.workers[2]
        assert _poll_until(run, lambda: c0.pid and c0.task in m.tasks, 10)
        os.kill(c0.pid, signal.SIGKILL)
        assert _poll_until(run, lambda: not c0.alive, 10)
        # The truth, from the get and task_done records: what it took and never marked done.
        held = [t[0] for t in m.tasks.values() if t[4] == c0.src and t[6] is None]
        assert len(held) <= 1
        found = diagnose(m, _now(run))
        died = f"consumer-0 (pid {c0.pid}) died with exit code -9 (SIGKILL)"
        if held:  # killed while processing, as nearly always
            assert found[0].startswith(
                f"{died} while holding task {held[0]}: nobody will call task_done() for it"
            )
        else:  # killed in the instant between its task_done() and its next get()
            assert found[0] == f"{died} holding no task."
        # The producer is then stuck on the full queue, and says so once it has settled.
        assert _poll_until(
            run, lambda: any("producer-0" in f for f in diagnose(m, _now(run))), 3 + SETTLE_S
        )
        text = next(f for f in diagnose(m, _now(run)) if f.startswith("producer-0"))
        assert "every consumer has exited or died" in text
        assert f"{m.depth} items queued" in text or f"({m.depth} of maxsize 3)" in text
