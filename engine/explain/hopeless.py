"""hopeless(): the run can never end by itself (the CLI's exit 3, the unattended window's stop)."""

from __future__ import annotations

import time

from engine.explain.view import SETTLE_S, View
from engine.explain.words import and_list
from engine.model import Activity, JoinState, RunModel

__all__ = ["JoinWatch", "hopeless"]


class JoinWatch:
    """The ``--hang-timeout`` rule: the run (or program) is overdue once that many seconds
    have passed since queue.join() was first seen called (``run`` and ``trace`` share it)."""

    def __init__(self, hang_timeout: float | None) -> None:
        self.hang_timeout = hang_timeout
        self._seen_at: float | None = None  # monotonic seconds

    def overdue(self, model: RunModel) -> bool:
        if model.join_state != JoinState.NOT_CALLED and self._seen_at is None:
            self._seen_at = time.monotonic()
        return (self.hang_timeout is not None and self._seen_at is not None
                and time.monotonic() - self._seen_at > self.hang_timeout)  # fmt: skip


def hopeless(model: RunModel, now_t: float | None = None) -> str | None:
    """Why the run can never end by itself, in words; None while anything may still move.

    The one rule the headless ``run`` (exit 3) and the unattended window (``--quit-when-done``)
    share. The run ends when queue.join() has returned and every worker has exited, so it can
    never end when:

    - join() has not returned, the unfinished counter is above 0 and a worker died: its task or
      its sentinel is never marked done (a fact: no settling needed);
    - every worker exited at least SETTLE_S ago and the counter is still above 0;
    - some consumer is left waiting in get() (for SETTLE_S, as :func:`diagnose` judges it) on an
      empty queue, no producer is left to put (each has exited, or is blocked in put() on a full
      queue no consumer is left to empty), and the main process will not put the sentinels
      either (it puts them only with several producers, before its PRODUCERS_JOINED record,
      and not while it is stuck in join()).

    The caller must have fed every record that arrived: a model lagging behind a flood looks
    idle. A stopped run is not judged (None).
    """
    m = model
    if m.t0 is None or not m.workers or m.stop_t is not None:
        return None
    v = View(m, now_t)
    # A traced program may never call queue.join(): its counter matters once it waits there.
    joins = not v.traced or m.join_state == JoinState.WAITING
    if joins and m.join_returned_t is None and m.unfinished > 0 and m.dead_workers():
        who = and_list(w.name for w in sorted(m.dead_workers(), key=lambda w: w.src))
        return f"{who} died, so queue.join() can never return"
    workers = v.producers + v.consumers
    if all(v.gone(w) for w in workers):
        last_exit = max((w.exit_t or 0.0) for w in workers)
        unfinished = m.unfinished > 0 and m.join_returned_t is None
        if joins and unfinished and v.now - last_exit >= SETTLE_S:
            return (
                f"every worker has exited with {m.unfinished} unfinished, so queue.join() "
                "can never return"
            )
        return None
    live_consumers = [w for w in v.consumers if not v.gone(w)]
    for w in v.producers:
        if v.gone(w):
            continue
        activity, since = v.state(w)
        full = 0 < m.maxsize <= m.depth
        # A put that waits for room shows BLOCK_PUT as it waits (PUT_BLOCKED), RUNNING in a
        # trace recorded before that record existed.
        stuck = activity in (Activity.RUNNING, Activity.BLOCK_PUT)
        if live_consumers or not full or not stuck or v.now - since < SETTLE_S:
            return None  # a live producer may still put (or is blocked only for now)
    if live_consumers and (m.depth > 0 or not all(v.idle_in_get(w) for w in live_consumers)):
        return None
    main_may_put = v.traced_main_may_put() or (
        m.producers > 1
        and m.producers_joined_t is None
        and not (m.join_state == JoinState.WAITING and m.unfinished > 0)
    )
    if main_may_put:
        return None
    if live_consumers:
        names = [w.name for w in live_consumers]
        verb = "waits" if len(names) == 1 else "wait"
        return (
            f"{and_list(names)} {verb} in get() forever: the queue is empty and nothing will put "
            "to it any more"
        )
    stuck = [w.name for w in v.producers if not v.gone(w)]
    verb = "is" if len(stuck) == 1 else "are"
    return (
        f"{and_list(stuck)} {verb} blocked in put() on a full queue that no consumer is left to "
        "empty"
    )
