"""Hang diagnosis: plain-English explanations, naming workers and tasks, of what holds a run up.

:func:`diagnose` is a pure function of a :class:`~engine.model.RunModel` and the run-relative time
"now": it reads nothing else, so the live window, ``run --json`` and replays agree. It says only
what the recorded events prove. States that could still change by themselves (every consumer
idle in get()) are reported once they have held for :data:`SETTLE_S` seconds; facts that cannot
change (a worker died, join() returned early) are reported at once.
"""

from __future__ import annotations

import bisect
import math
import signal
from collections.abc import Iterable, Sequence

from engine.events import LABEL_NONE, LABEL_OTHER, ROLE_CONSUMER, ROLE_PRODUCER
from engine.model import Activity, JoinState, RunModel, WorkerInfo

__all__ = ["SETTLE_S", "diagnose", "exit_words", "hopeless", "missing_task_done"]

# How long an idle state must hold before it counts as stuck. Events reach the parent within
# tens of milliseconds, so one second leaves no doubt and still reports a hang within 2 s.
SETTLE_S = 1.0

_IDLE = (Activity.WAIT_GET,)


def diagnose(model: RunModel, now_t: float | None = None) -> list[str]:
    """Sentences explaining why the run is (or was) stuck; ``[]`` for a healthy run.

    ``now_t`` is the run-relative time now (``model.rel(time.perf_counter())``); it defaults to
    the last event's time, which never advances while a run hangs, so pass it when live.
    """
    view = _View(model, now_t)
    found: list[str] = []
    found += _deaths(view)
    found += _lost_items(model)
    found += _premature_join(model)
    found += _task_done_missing(view)
    found += _missing_sentinels(view)
    found += _stranded_items(view)
    found += _extra_task_done(model)
    return found


def _lost_items(model: RunModel) -> list[str]:
    """Items the feeder thread could not pickle: put() returned, the task never arrived."""
    found = []
    for _t, _tid, label, text in getattr(model, "lost_items", ()):
        who = "an item" if label < 0 else f"task {label}"
        found.append(
            f"{who[0].upper()}{who[1:]} could not be pickled ({text}): put() returned, but the "
            "queue's feeder thread dropped it, so it never reached a consumer. It still counts "
            "as unfinished, so queue.join() can never return. Put only picklable objects on a "
            "multiprocessing queue (plain data, module-level functions and classes)."
        )
    return found


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
    if m.join_returned_t is None and m.unfinished > 0 and m.dead_workers():
        who = _and(w.name for w in sorted(m.dead_workers(), key=lambda w: w.src))
        return f"{who} died, so queue.join() can never return"
    v = _View(m, now_t)
    workers = v.producers + v.consumers
    if all(v.gone(w) for w in workers):
        last_exit = max((w.exit_t or 0.0) for w in workers)
        if m.unfinished > 0 and m.join_returned_t is None and v.now - last_exit >= SETTLE_S:
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
        if live_consumers or not full or activity != Activity.RUNNING or v.now - since < SETTLE_S:
            return None  # a live producer may still put (or is blocked only for now)
    if live_consumers and (m.depth > 0 or not all(v.idle_in_get(w) for w in live_consumers)):
        return None
    main_may_put = (
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
            f"{_and(names)} {verb} in get() forever: the queue is empty and nothing will put "
            "to it any more"
        )
    stuck = [w.name for w in v.producers if not v.gone(w)]
    verb = "is" if len(stuck) == 1 else "are"
    return (
        f"{_and(stuck)} {verb} blocked in put() on a full queue that no consumer is left to "
        "empty"
    )


# --------------------------------------------------------------------------- the run as of now


class _View:
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
        """The worker had exited (or died) before the run was stopped."""
        if w.exitcode is None:
            return False
        if self.cutoff is None or w.exit_t is None:
            return True
        return w.exit_t < self.cutoff

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


def _after_failure(w: WorkerInfo, activity: Activity, since: float) -> bool:
    """The worker's last event was a failed attempt with no task_done() after it.

    A get() is recorded only when it returns, so a consumer that went back to get() without
    task_done() still looks as if it were processing the failed task; these tell the two apart.
    """
    if activity != Activity.PROCESS:
        return False
    return any(act == Activity.FAILED and t1 == since for _t0, t1, act, _l in w.intervals[-2:])


# --------------------------------------------------------------------------- task accounting


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


# --------------------------------------------------------------------------- findings


def _deaths(v: _View) -> list[str]:
    m = v.model
    out: list[str] = []
    for w in v.producers + v.consumers:
        if w.exitcode in (None, 0) or not v.gone(w):
            continue
        who = f"{w.name} (pid {w.pid})" if w.pid else w.name
        text = f"{who} died with {exit_words(w.exitcode)}"
        if w.role == ROLE_PRODUCER:
            per = m.tasks_total // m.producers if m.producers else 0
            put = sum(
                1 for t in m.tasks.values() if t[2] == w.src and t[0] != LABEL_NONE and t[0] >= 0
            )
            text += f" after putting {put} of its {per} tasks" if per else ""
        else:
            held = missing_task_done(m, w)
            if held:
                text += (
                    f" while holding {_tasks_phrase(held)}: nobody will call task_done() for "
                    f"{'it' if len(held) == 1 else 'them'}, so the unfinished counter cannot "
                    "reach 0 and queue.join() never returns"
                )
            else:
                text += " holding no task"
        if w.errors:
            text += f"; its last error: {w.errors[-1]}"
        out.append(text + ".")
    return out


def _premature_join(m: RunModel) -> list[str]:
    if not m.premature_join:
        return []
    running = m.producers_running_at_join()
    n = m.tasks_not_yet_put
    left = f"{n} task{'s' if n != 1 else ''} not yet put"
    if running:
        verb = "was" if len(running) == 1 else "were"
        return [f"premature join: returned while {_and(running)} {verb} still running, {left}."]
    return [f"premature join: returned before the producers had put all their tasks, {left}."]


def _task_done_missing(v: _View) -> list[str]:
    m = v.model
    if m.in_flight <= 0 or not v.consumers:
        return []
    if any(v.busy_or_unsettled(w) for w in v.consumers):
        return []
    parts: list[str] = []
    total = 0
    for w in v.consumers:
        if v.gone(w) and w.exitcode != 0:
            continue  # a dead worker's tasks are named where its death is reported
        labels = missing_task_done(m, w)
        if labels:
            total += len(labels)
            parts.append(f"{w.name} took {_tasks_phrase(labels)}")
    if not parts:
        return []
    alive = [w for w in v.consumers if not v.gone(w)]
    ended = "exited or died" if any(w.exitcode not in (None, 0) for w in v.consumers) else "exited"
    if not alive:
        where = f"every consumer has {ended}"
    elif len(alive) == len(v.consumers):
        where = "every consumer is waiting in get()"
    else:
        where = f"every consumer is waiting in get() or has {ended}"
    them = "it" if total == 1 else "them"
    text = (
        f"task_done() missing: {_and(parts)} and never called task_done() for {them}; "
        f"{where}, so the unfinished counter is stuck at {m.unfinished}"
    )
    return [text + _join_consequence(m) + "."]


def _missing_sentinels(v: _View) -> list[str]:
    m = v.model
    if m.depth != 0 or not v.producers or not v.consumers:
        return []
    if not all(v.gone(w) for w in v.producers):
        return []  # a producer still running will put more, sentinels included
    if any(v.busy_or_unsettled(w) for w in v.consumers):
        return []  # a busy consumer may still re-put a task the waiting ones would take
    waiting = [w.name for w in v.consumers if not v.gone(w)]
    if not waiting:
        return []
    n, s = m.consumers or len(v.consumers), m.sentinel_puts
    verb = "waits" if len(waiting) == 1 else "wait"
    stuck = (
        f"{_and(waiting)} {verb} in get() forever: the queue is empty and every producer has "
        "finished"
    )
    if s < n:
        return [
            f"missing sentinels: {n} consumer{'s' if n != 1 else ''}, {s} "
            f"sentinel{'s' if s != 1 else ''} — {stuck}; put one None per consumer."
        ]
    return [f"{stuck}, and no sentinel is left for {'it' if len(waiting) == 1 else 'them'}."]


def _stranded_items(v: _View) -> list[str]:
    """Items in the queue with no consumer left to take them (and a producer stuck on them)."""
    m = v.model
    if m.depth <= 0 or not v.consumers or not all(v.gone(w) for w in v.consumers):
        return []
    queued = sorted((t for t in m.tasks.values() if t[5] is None), key=lambda t: t[3])
    dead = any(w.exitcode not in (None, 0) for w in v.consumers)
    nobody = "every consumer has exited or died" if dead else "every consumer has exited"
    out: list[str] = []
    maxsize = getattr(m, "maxsize", 0)
    per = m.tasks_total // m.producers if m.producers else 0
    for w in v.producers:
        if v.gone(w):
            continue
        activity, since = v.state(w)
        if activity not in (Activity.RUNNING, Activity.BLOCK_PUT) or v.now - since < SETTLE_S:
            continue
        put = sum(1 for t in m.tasks.values() if t[2] == w.src and t[0] >= 0)
        left = max(0, per - put)
        not_put = f"{left} of its tasks {'is' if left == 1 else 'are'} not yet put"
        if isinstance(maxsize, int) and 0 < maxsize <= m.depth:
            out.append(
                f"{w.name} is blocked in put() on a full queue ({m.depth} of maxsize {maxsize}) "
                f"and {nobody}, so nothing will make room; {not_put}."
            )
        else:
            out.append(
                f"{w.name} has put nothing for {v.now - since:.1f} s with {m.depth} "
                f"item{'s' if m.depth != 1 else ''} queued and {nobody}; "
                f"{not_put}."
            )
    if out:
        return out
    if any(not v.gone(w) for w in v.producers):
        return []  # a producer still running may yet explain itself; wait for it
    last_sentinel = max((t[3] for t in m.tasks.values() if t[0] == LABEL_NONE), default=None)
    described: list[str] = []
    for t in queued:
        text = _task_word(t[0])
        putter = m.workers.get(t[2])
        if putter is not None and putter.role == ROLE_CONSUMER:
            text += f" re-put by {putter.name}"
            if last_sentinel is not None and t[3] > last_sentinel:
                text += " after the last sentinel"
        described.append(text)
    n = len(queued)
    items = f"{n} item{'s are' if n != 1 else ' is'} still in the queue ({_and(described)})"
    return [
        f"{items} but {nobody}, so nothing will take {'it' if n == 1 else 'them'}"
        + _join_consequence(m)
        + "."
    ]


def _extra_task_done(m: RunModel) -> list[str]:
    out: list[str] = []
    for w in sorted(m.workers.values(), key=lambda w: w.src):
        errors = [e for e in w.errors if "too many times" in e]
        if not errors:
            continue
        times = "once" if len(errors) == 1 else f"{len(errors)} times"
        out.append(
            f"{w.name} called task_done() more often than it took tasks: ValueError: "
            f"task_done() called too many times ({times}); the unfinished counter was already 0, "
            "so the call raised instead of lowering it."
        )
    n = m.extra_task_dones
    if n:
        out.append(
            f"task_done() was called {n} time{'s' if n != 1 else ''} more than tasks were taken "
            "while other tasks were unfinished: the unfinished counter fell below the work "
            "left, so queue.join() can return before every task is done."
        )
    return out


# --------------------------------------------------------------------------- words


def exit_words(code: int | None) -> str:
    """Words for an exit code: "exit code 1", or "exit code -9 (SIGKILL)" for a signal."""
    if code is None:
        return "no exit code yet"
    if code < 0:
        try:
            return f"exit code {code} ({signal.Signals(-code).name})"
        except ValueError:
            pass
    return f"exit code {code}"


def _join_consequence(m: RunModel) -> str:
    if m.join_state == JoinState.WAITING:
        return " and queue.join() waits forever"
    if m.join_state == JoinState.NOT_CALLED:
        return " and queue.join() will wait forever"
    return ""


def _task_word(label: int) -> str:
    if label == LABEL_NONE:
        return "the sentinel None"
    if label == LABEL_OTHER:
        return "an item"
    return f"task {label}"


MAX_LISTED = 8


def _tasks_phrase(labels: Sequence[int]) -> str:
    """Words for task labels: "task 3", "tasks 1 and 5", "task 4 and the sentinel None"."""
    numbers = [str(x) for x in labels if x >= 0]
    if len(numbers) > MAX_LISTED:
        # A flood can strand hundreds of thousands of tasks: name a few, count the rest.
        numbers = [*numbers[:MAX_LISTED], f"{len(numbers) - MAX_LISTED:,} more"]
    others = [_task_word(x) for x in labels if x < 0]
    if not numbers:
        return _and(others)
    head = "task " if len(numbers) == 1 else "tasks "
    return head + (
        ", ".join(numbers + others[:-1]) + " and " + others[-1] if others else _and(numbers)
    )


def _and(items: Iterable[str]) -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]
