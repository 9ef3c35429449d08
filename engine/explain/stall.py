"""Stall detection: the queue stopped moving because a killed worker broke it for everyone."""

from __future__ import annotations

from engine.events import ROLE_CONSUMER, ROLE_PRODUCER
from engine.model import Activity, RunModel, WorkerInfo

__all__ = ["STALL_S", "detect_stall"]

# How long nothing may move before it counts as a stall. Events arrive within tens of
# milliseconds, so a second of silence with work queued is no accident of timing.
STALL_S = 1.0


def detect_stall(model: RunModel, now_t: float, stall_s: float = STALL_S) -> str | None:
    """A plain sentence when the queue is stuck after a death, else None.

    Stuck means: items are queued (depth > 0), every live consumer has waited in get() for at
    least ``stall_s``, no get returned in that time, and a worker died (not by Stop) before.
    A process killed inside get() can leave the queue's read lock held (cpython#96062); one
    killed while its put was being written can leave a torn message in the pipe that the next
    reader waits on for ever. Either way no consumer can take anything any more.
    """
    depth = model.depth
    if depth <= 0:
        return None
    stop = model.stop_t
    now = now_t if stop is None else min(now_t, stop)
    dead = [
        w
        for w in sorted(model.workers.values(), key=lambda w: w.src)
        if w.exit_t is not None and w.died_before(stop)
    ]
    if not dead:
        return None
    live = [w for w in model.workers.values() if w.role == ROLE_CONSUMER and w.alive]
    if not live:
        return None  # nobody to stall: the diagnosis of the deaths says it all
    quiet_since = max(w.exit_t or 0.0 for w in dead)
    for w in live:
        if w.activity != Activity.WAIT_GET:
            return None
        quiet_since = max(quiet_since, w.since)
    quiet_since = max(quiet_since, _last_get_t(model))
    if now - quiet_since < stall_s:
        return None
    culprit = dead[-1]
    what = _how_it_died(culprit)
    items = (
        "1 item is queued but no consumer can take it"
        if depth == 1
        else (f"{depth} items are queued but no consumer can take them")
    )
    return (
        f"the queue stalled: {culprit.name} {what}; {items}. Stop the run; the next run gets a "
        "fresh queue."
    )


def _last_get_t(model: RunModel) -> float:
    """When the gets counter last moved (run-relative seconds), 0.0 if it never did."""
    gets, s_t, s_gets = model.gets, model.s_t, model.s_gets
    for i in range(len(s_gets) - 1, -1, -1):
        if s_gets[i] != gets:
            return s_t[i + 1]
    return s_t[0] if gets and s_t else 0.0


def _activity_at_death(w: WorkerInfo) -> Activity:
    if w.intervals:
        return Activity(w.intervals[-1][2])
    return Activity.STARTING


def _how_it_died(w: WorkerInfo) -> str:
    doing = _activity_at_death(w)
    if w.role == ROLE_CONSUMER and doing == Activity.WAIT_GET:
        return "was killed while waiting in get() and may have left the queue's read lock held"
    if w.role == ROLE_PRODUCER:
        return (
            "was killed while its last put was still being written and may have left a torn "
            "message in the queue's pipe (or its write lock held)"
        )
    return f"died (exit code {w.exitcode}) and may have left the queue unusable"
