"""What a worker and the join are doing: the states the model's timelines are made of."""

from __future__ import annotations

import bisect
from collections import deque
from dataclasses import dataclass, field
from enum import IntEnum

from engine.columns import IntervalLog

# QueueLab's stop sends SIGTERM, and SIGKILL only to what is left this long after (the runner's
# grace; a traced program's is longer): a death by SIGKILL sooner came from someone else.
STOP_GRACE_S = 0.8
_SIGKILL_EXIT = -9


class Activity(IntEnum):
    """What a worker is doing during an interval of its timeline row."""

    STARTING = 0
    RUNNING = 1  # a producer between puts (making or pacing tasks)
    WAIT_GET = 2
    PROCESS = 3
    BLOCK_PUT = 4
    FAILED = 5
    PAUSED = 6
    EXITED = 7
    DIED = 8
    STEP_WAIT = 9  # step mode: at its gate, waiting for permission for its next queue operation


# What a worker may do while it works on a task it took (from get() returning to its
# task_done()): a failure and a retry's re-put are on that path, and a pause or a step holds it
# there. Back in get(), exited or died, the tasks it still holds are not being worked on.
ON_A_TASK = frozenset((Activity.PROCESS, Activity.FAILED, Activity.BLOCK_PUT, Activity.RUNNING,
                       Activity.PAUSED, Activity.STEP_WAIT))  # fmt: skip


class JoinState(IntEnum):
    NOT_CALLED = 0
    WAITING = 1
    RETURNED = 2


@dataclass
class WorkerInfo:
    src: int
    name: str
    role: int
    pid: int = 0
    exitcode: int | None = None
    exit_t: float | None = None  # run-relative seconds
    # When it ended with a nonzero code: later than exit_t when its function returned (exit 0)
    # and its process lived on at its exit until ended (a feeder thread writing a full pipe).
    died_t: float | None = None
    tasks_done: int = 0
    failures: int = 0
    activity: Activity = Activity.STARTING
    since: float = 0.0
    task: int = -1  # tid being processed, -1 none
    held: deque[int] = field(default_factory=deque)  # taken, not yet task_done
    intervals: IntervalLog = field(default_factory=IntervalLog)
    errors: list[str] = field(default_factory=list)
    records_sent: int | None = None  # from WORKER_EXIT: how many records it says it sent
    ended_t: float | None = None  # (trace) when the program called terminate()/kill() on it

    @property
    def alive(self) -> bool:
        return self.exitcode is None

    @property
    def on_a_task(self) -> bool:
        """It works on the latest task it took, not yet marked done (LIFO: the task its next
        task_done() names); any other task it holds is left, not in progress."""
        return self.alive and bool(self.held) and self.activity in ON_A_TASK

    def on_a_task_at(self, t: float) -> bool:
        """:attr:`on_a_task` at run time ``t`` of its timeline (a replay's playhead): a task
        is shown on the interval there. (A retry's re-put shows none: there it reads False.)"""
        if t >= self.since:
            return self.on_a_task
        ivs = self.intervals
        i = bisect.bisect_right(ivs, t, key=lambda iv: iv[0]) - 1
        if i < 0:
            return False
        _t0, t1, act, label = ivs[i]
        return t < t1 and act in ON_A_TASK and label != -1

    def died_before(self, stop_t: float | None) -> bool:
        """It ended with a nonzero code on its own: before Stop was asked for (``stop_t``),
        or by a SIGKILL that QueueLab's stop had not sent yet (``kill -9`` of several workers
        at once: the first death stops the run, the others' exits are seen just after).
        Nor is a death one the program itself asked for (:attr:`ended_by_program`)."""
        if self.exitcode in (None, 0) or self.ended_by_program:
            return False
        t = self.died_t if self.died_t is not None else self.exit_t
        if stop_t is None or (t or 0.0) < stop_t:
            return True
        return self.exitcode == _SIGKILL_EXIT and (t or 0.0) < stop_t + STOP_GRACE_S

    @property
    def ended_by_program(self) -> bool:
        """(trace) It ended with a nonzero code after the program called terminate() or kill()
        on it (``with Pool(...)`` does, so does multiprocessing for daemons at exit)."""
        return self.ended_t is not None and self.exitcode not in (None, 0)

    def stopped_by(self, stop_t: float | None) -> bool:
        """QueueLab ended it (Stop, the hang rule): a nonzero exit not before ``stop_t``."""
        ended = self.exitcode not in (None, 0) and not self.ended_by_program
        return stop_t is not None and ended and not self.died_before(stop_t)


def unfinished_parts(depth: int, in_progress: int, not_marked_done: int) -> str:
    """What the unfinished counter is made of: "3 queued, 1 in progress" and, when a consumer
    left tasks without task_done(), ", 2 not marked done" (every view says it in these words)."""
    words = f"{depth} queued, {in_progress} in progress"
    return words + (f", {not_marked_done} not marked done" if not_marked_done else "")
