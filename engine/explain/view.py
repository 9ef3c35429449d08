"""The run as of "now" that every finding reads, and the task accounting they share."""

from __future__ import annotations

import bisect
import math

from engine.events import ROLE_CONSUMER, ROLE_PRODUCER
from engine.model import Activity, RunModel, WorkerInfo

__all__ = ["SETTLE_S", "View", "missing_task_done"]

# How long an idle state must hold before it counts as stuck. Events reach the parent within
# tens of milliseconds, so one second leaves no doubt and still reports a hang within 2 s.
SETTLE_S = 1.0

_IDLE = (Activity.WAIT_GET,)


class View:
    """The model as of ``now``; a stopped run is judged as it was when the stop began."""

    def __init__(self, model: RunModel, now_t: float | None) -> None:
        self.model = model
        now = model.last_t if now_t is None else max(now_t, model.last_t)
        # The stop kills every worker; those deaths are QueueLab's doing, not the program's.
        stop = getattr(model, "stop_t", None)
        self.cutoff: float | None = stop if isinstance(stop, (int, float)) else None
        self.now = now if self.cutoff is None else min(now, self.cutoff)
        workers = sorted(model.workers.values(), key=lambda w: w.src)
        self.producers = [w for w in workers if w.role == ROLE_PRODUCER]
        self.consumers = [w for w in workers if w.role == ROLE_CONSUMER]

    def gone(self, w: WorkerInfo) -> bool:
        """The worker had exited (or died) before the run was stopped, or died of a SIGKILL
        the stop had not sent (:meth:`WorkerInfo.died_before`: one rule with the narration)."""
        if w.exitcode is None:
            return False
        if self.cutoff is None or w.exit_t is None:
            return True
        return w.exit_t < self.cutoff or w.died_before(self.cutoff)

    def state(self, w: WorkerInfo) -> tuple[Activity, float]:
        """(activity, since) of a worker that is not gone, as of the stop if there was one."""
        if w.exitcode is None or not w.intervals:
            return w.activity, w.since
        # Killed by the stop: its last interval is what it was doing when the stop came.
        t0, _t1, activity, _label = w.intervals[-1]
        return Activity(activity), t0

    def idle_in_get(self, w: WorkerInfo) -> bool:
        """A live consumer has waited in get() for at least SETTLE_S."""
        activity, since = self.state(w)
        if activity in _IDLE or _after_failure(w, activity, since):
            return self.now - since >= SETTLE_S
        return False

    def busy_or_unsettled(self, w: WorkerInfo) -> bool:
        return not self.gone(w) and not self.idle_in_get(w)

    # (trace) A traced program's main process puts whenever it likes; it is known not to only
    # while it waits in queue.join() or Process.join() (MAIN_BLOCKED, engine/trace_lanes.py).
    @property
    def traced(self) -> bool:
        return getattr(self.model, "main_blocked", None) is not None

    def traced_main_may_put(self) -> bool:
        """A traced program's main process may still put (False in QueueLab's own runs)."""
        return self.traced and not self.model.main_blocked

    def traced_main_put(self) -> bool:
        """A traced program's main process put items on this queue (its producer)."""
        return self.traced and any(t[2] == 0 for t in self.model.tasks.values())


def _after_failure(w: WorkerInfo, activity: Activity, since: float) -> bool:
    """The worker's last event was a failed attempt with no task_done() after it.

    A get() is recorded only when it returns, so a consumer that went back to get() without
    task_done() still looks as if it were processing the failed task; these tell the two apart.
    """
    if activity != Activity.PROCESS:
        return False
    return any(act == Activity.FAILED and t1 == since for _t0, t1, act, _l in w.intervals[-2:])


def missing_task_done(model: RunModel, w: WorkerInfo) -> list[int]:
    """Labels of the tasks ``w`` took and never marked done, in the order it took them.

    A task_done() record carries the task of the process's most recent get() not yet marked
    done (LIFO, engine/traced_queue.py): in the get -> work -> task_done loop that is the task
    just worked on, so the model's ``held`` names the skipped tasks. The loop shape says the
    same independently: a task_done() belongs to the get() before it, so a task is unfinished
    when no task_done() of this worker falls between its get() and the next one; when the two
    disagree (two bugs at once, the loop shape broken) the queue's count is trusted. The last
    task counts too: call this for a worker that is idle, gone or dead.
    """
    mine = [(tid, task) for tid, task in model.tasks.items() if task[4] == w.src]
    taken = sorted((task[5], tid) for tid, task in mine if task[5] is not None)
    dones = sorted(task[6] for _tid, task in mine if task[6] is not None)
    missing: list[int] = []
    for k, (t_get, tid) in enumerate(taken):
        t_next = taken[k + 1][0] if k + 1 < len(taken) else math.inf
        i = bisect.bisect_left(dones, t_get)
        if i == len(dones) or dones[i] >= t_next:
            missing.append(model.tasks[tid][0])
    held = model.held_task_labels(w)
    if len(missing) != len(held):
        # The loop shape did not hold (e.g. two bugs at once): trust the queue's own count.
        return held
    return missing
