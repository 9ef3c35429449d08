"""The model's reducers, one per record kind: how each record changes a RunModel.

``DISPATCH`` maps a record kind to its handler; :meth:`engine.model.RunModel._apply` calls it
after the checks every kind shares (a record held with its task's get, the clock). A handler
returns True when the record was applied now; False when it was held, or appended itself to
``applied`` among the records it released. A new kind is one handler here plus its schema line
in engine/events.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from engine.events import FIELD_NAMES, LABEL_NONE, LABEL_OTHER, ROLE_CONSUMER, Kind
from engine.points import DONE, DONE_REAL, MARK
from engine.states import Activity, JoinState

if TYPE_CHECKING:
    from engine.model import RunModel


def _at(kind: Kind, name: str) -> int:
    """Where field ``name`` sits in a record of ``kind`` (the kind itself is at 0)."""
    return 1 + FIELD_NAMES[kind].index(name)


# Record fields by name, from the one schema (engine/events.py): r[T] is a record's time.
T = 1
PUT_T_RETURN, PUT_TID = _at(Kind.PUT, "t_return"), _at(Kind.PUT, "tid")
PUT_LABEL, PUT_VALUE = _at(Kind.PUT, "label"), _at(Kind.PUT, "value")
GET_T_RETURN, GET_TID = _at(Kind.GET, "t_return"), _at(Kind.GET, "tid")
# A task's start, end, failure, retry and abandon name it at one place: a held get holds them.
STEP_TID = _at(Kind.TASK_START, "tid")
assert all(_at(k, "tid") == STEP_TID
           for k in (Kind.TASK_END, Kind.TASK_FAIL, Kind.TASK_RETRY,
                     Kind.TASK_ABANDON))  # fmt: skip
DONE_TID = _at(Kind.TASK_DONE, "tid")
START_TID = _at(Kind.TASK_START, "tid")
FAIL_TID, FAIL_TEXT = _at(Kind.TASK_FAIL, "tid"), _at(Kind.TASK_FAIL, "text")
DONE_ERROR_TEXT = _at(Kind.TASK_DONE_ERROR, "text")
WSTART_PID, WSTART_ROLE = _at(Kind.WORKER_START, "pid"), _at(Kind.WORKER_START, "role")
WEXIT_CODE = _at(Kind.WORKER_EXIT, "exitcode")
WEXIT_SENT = _at(Kind.WORKER_EXIT, "records_sent")
PEXIT_SRC, PEXIT_CODE = _at(Kind.PROC_EXIT, "worker_src"), _at(Kind.PROC_EXIT, "exitcode")
RUN_PRODUCERS = _at(Kind.RUN_START, "producers")
RUN_CONSUMERS = _at(Kind.RUN_START, "consumers")
RUN_TASKS = _at(Kind.RUN_START, "tasks_total")
QUEUE_MAXSIZE = _at(Kind.QUEUE_INFO, "maxsize")
END_REASON = _at(Kind.RUN_END, "reason")
STALL_TEXT = _at(Kind.STALL, "text")
FEED_TID, FEED_TEXT = _at(Kind.FEED_ERROR, "tid"), _at(Kind.FEED_ERROR, "text")
BLOCKED_TID = _at(Kind.PUT_BLOCKED, "tid")
BLOCKED_LABEL, BLOCKED_VALUE = _at(Kind.PUT_BLOCKED, "label"), _at(Kind.PUT_BLOCKED, "value")
FULL_T_RAISE = _at(Kind.PUT_FULL, "t_raise")
INFO_PID, INFO_NAME = _at(Kind.PROC_INFO, "pid"), _at(Kind.PROC_INFO, "name")
END_PID = _at(Kind.PROC_END, "pid")
LINE_OP = _at(Kind.LINE, "op")
RESULT_TID, RESULT_OK = _at(Kind.TASK_RESULT, "tid"), _at(Kind.TASK_RESULT, "ok")
RESULT_TEXT = _at(Kind.TASK_RESULT, "text")
MAIN_BLOCKED = _at(Kind.MAIN_BLOCKED, "blocked")
STEP_HELD = _at(Kind.STEP_HOLD, "held")

# One handler per record kind: True when the record was applied now (False: held, or it
# appended itself to ``applied`` among the records it released).
def on_put(m: RunModel, src: int, r: tuple, t: float, applied: list) -> bool:
    if m.maxsize and m.depth >= m.maxsize and r[PUT_TID] not in m._held_gets:
        # A put cannot complete on a full queue: the get that made room is still in
        # another process's pipe. Apply the put right after that get arrives.
        m._held_puts.append((src, r))
        return False
    m._apply_put(src, r, t, applied)
    return False

def on_put_blocked(m: RunModel, src: int, r: tuple, t: float, applied: list) -> bool:
    # The put found the queue full and waits for room from t: blocked now, live, not only once
    # its PUT (recorded on return) arrives. That PUT, or a PUT_FULL, ends the wait.
    if src:
        w = m._worker(src)
        if w.alive:
            m._set(w, t, Activity.BLOCK_PUT)
            m.blocked_puts[src] = r
    return True

def on_put_full(m: RunModel, src: int, r: tuple, t: float, applied: list) -> bool:
    # put(timeout=...) gave up: the wait a PUT_BLOCKED began ends at the raise (a Full raised
    # before that wait began was another put's, one that did not wait).
    waiting = m.blocked_puts.get(src)
    if waiting is not None and r[FULL_T_RAISE] >= waiting[T]:
        del m.blocked_puts[src]
        w = m._worker(src)
        if w.activity == Activity.BLOCK_PUT:
            m._set(w, m.rel(r[FULL_T_RAISE]), Activity.RUNNING)
    return True

def on_get(m: RunModel, src: int, r: tuple, t: float, applied: list) -> bool:
    tid = r[GET_TID]
    if tid != -1 and tid not in m.tasks:
        for i, (psrc, pr) in enumerate(m._held_puts):
            if pr[PUT_TID] == tid:  # the get proves its put had room: apply the put first
                del m._held_puts[i]
                m._apply_put(psrc, pr, m.rel(pr[T]), applied)
                break
        else:
            if tid >> 32 not in m._closed_streams:
                m._held_gets[tid] = (src, r)
                return False
            m._stand_in_put(tid, r, applied)
    m._apply_get(src, r, t, applied)
    return False

def on_task_done(m: RunModel, src: int, r: tuple, t: float, applied: list) -> bool:
    tid = r[DONE_TID]
    found = m.tasks.find(tid)
    if tid != -1 and (found is None or np.isnan(found[0].t_get[found[1]])):
        m._held_dones.setdefault(tid, []).append((src, r))  # its get is not in yet
        return False
    m.task_dones += 1
    w = m._worker(src)
    if tid in w.held:
        w.held.remove(tid)
    else:
        m.extra_task_dones += 1
    if found is not None:
        rows, i = found
        if rows.t_done[i] == rows.t_done[i]:  # done twice (a damaged trace): a row of its own
            rows, i = m.tasks.movable(tid)
        t_get = float(rows.t_get[i])
        t = max(t, t_get)
        rows.t_done[i] = t
        if rows.label[i] != LABEL_NONE:
            w.tasks_done += 1
            m.points.add(DONE_REAL, tid, t, t_get - float(rows.t_put[i]), t - t_get)
        else:
            m.points.add(DONE, tid, t)
    else:
        m.points.add(DONE, tid, t)
    if w.role == ROLE_CONSUMER and w.alive:
        # The consumer loop goes straight back to get(): it waits there from now on.
        m._set(w, t, Activity.WAIT_GET, hint=tid)
    return True

def on_task_start(m: RunModel, src: int, r: tuple, t: float, applied: list) -> bool:
    w = m._worker(src)
    tid = r[START_TID]
    if w.activity != Activity.PROCESS or w.task != tid:
        m._set(w, t, Activity.PROCESS, tid)
    return True

def on_task_fail(m: RunModel, src: int, r: tuple, t: float, applied: list) -> bool:
    w = m._worker(src)
    m.failures += 1
    w.failures += 1
    tid = r[FAIL_TID]
    w.errors.append(r[FAIL_TEXT])
    # The failed attempt is drawn red from its start to the failure.
    start = w.since if w.activity == Activity.PROCESS else t
    w.intervals.append((start, t, int(Activity.FAILED), m.label_of(tid)), tid)
    w.activity, w.since, w.task = Activity.PROCESS, t, tid
    return True

def on_task_abandon(m: RunModel, src: int, r: tuple, t: float, applied: list) -> bool:
    # The failure path skips task_done(): the consumer is back in get() (recorded only when it
    # returns), still holding the task, not working on it.
    w = m._worker(src)
    if w.alive:
        m._set(w, t, Activity.WAIT_GET, hint=r[STEP_TID])
    return True

def on_task_retry(m: RunModel, src: int, r: tuple, t: float, applied: list) -> bool:
    m.retries += 1
    return True

def on_task_result(m: RunModel, src: int, r: tuple, t: float, applied: list) -> bool:
    label = m.label_of(r[RESULT_TID])
    if r[RESULT_OK]:
        m.task_results[label] = r[RESULT_TEXT]
    else:
        m.task_tracebacks.setdefault(label, []).append((t, r[RESULT_TEXT]))
    return True

def on_task_done_error(m: RunModel, src: int, r: tuple, t: float, applied: list) -> bool:
    m.task_done_errors += 1
    text = r[DONE_ERROR_TEXT]
    m._worker(src).errors.append(text)
    m.task_done_error_marks.append((t, src, text))
    return True

def on_join_begin(m: RunModel, src: int, r: tuple, t: float, applied: list) -> bool:
    if src == 0:
        m.join_state = JoinState.WAITING
        m.join_called_t = t
    return True

def on_join_end(m: RunModel, src: int, r: tuple, t: float, applied: list) -> bool:
    if src == 0:
        m.join_state = JoinState.RETURNED
        m.join_returned_t = t
        # Put by then: by their times, as a put arriving after this record is (on_put). A put
        # made after the return may be in already: JOIN_END reaches the model a settle time
        # after it was stamped (engine/runner.py), and the producers' pipes go on meanwhile.
        m.puts_at_join_return = m.task_puts - m.tasks.puts_after(t, LABEL_NONE)
    return True

def on_worker_start(m: RunModel, src: int, r: tuple, t: float, applied: list) -> bool:
    w = m._worker(src)
    w.pid, w.role = r[WSTART_PID], r[WSTART_ROLE]
    # A traced program's process that only joins (ROLE_COORDINATOR) runs, as a producer does.
    m._set(w, t, Activity.WAIT_GET if w.role == ROLE_CONSUMER else Activity.RUNNING)
    return True

def on_worker_exit(m: RunModel, src: int, r: tuple, t: float, applied: list) -> bool:
    w = m._worker(src)
    w.records_sent = r[WEXIT_SENT]
    if w.exit_t is None:
        m._set(w, t, Activity.EXITED)
        w.exit_t = t
    w.exitcode = r[WEXIT_CODE] if w.exitcode is None else w.exitcode
    if w.exitcode and w.died_t is None:
        w.died_t = t
    return True

def on_proc_exit(m: RunModel, src: int, r: tuple, t: float, applied: list) -> bool:
    gone = r[PEXIT_SRC]
    w = m._worker(gone)
    m._closed_streams.add(gone)
    code = r[PEXIT_CODE]
    w.exitcode = code
    if code and w.died_t is None:
        w.died_t = t
    died = bool(code) and w.ended_t is None  # ended by the program: its planned end
    if w.exit_t is None:
        m._set(w, t, Activity.DIED if died else Activity.EXITED)
        w.exit_t = t
    elif died:
        w.activity = Activity.DIED
    applied.append((src, r))
    for tid in [tid for tid in m._held_gets if tid >> 32 == gone]:
        m._stand_in_put(tid, m._held_gets[tid][1], applied)
    return False

def on_paused(m: RunModel, src: int, r: tuple, t: float, applied: list) -> bool:
    w = m._worker(src)
    if m.hold_end(r[T]) is not None:
        # Its pause has ended already (PAUSED travels through the worker's pipe, RESUME
        # through the parent's): RESUME put the worker back, it is not held now.
        return True
    if w.activity != Activity.PAUSED:
        m._resume_to[src] = w.activity
    m._set(w, t, Activity.PAUSED, w.task)
    return True

def _unpause(m: RunModel, t: float) -> None:
    """Workers held at the pause gate go back to what they were doing when it closed: a
    worker says nothing when released, and one released into a blocking get() may not
    speak again for a long time."""
    for src, before in m._resume_to.items():
        w = m.workers.get(src)
        if w is not None and w.alive and w.activity == Activity.PAUSED:
            m._set(w, max(t, w.since), before, w.task)
    m._resume_to.clear()

def on_run_start(m: RunModel, src: int, r: tuple, t: float, applied: list) -> bool:
    m.t0 = r[T]
    m.producers, m.consumers = r[RUN_PRODUCERS], r[RUN_CONSUMERS]
    m.tasks_total = r[RUN_TASKS]
    for s in range(1, m.producers + m.consumers + 1):
        m._worker(s)
    return True

def on_queue_info(m: RunModel, src: int, r: tuple, t: float, applied: list) -> bool:
    m.maxsize = r[QUEUE_MAXSIZE]
    return True

def on_producers_joined(m: RunModel, src: int, r: tuple, t: float, applied: list) -> bool:
    m.producers_joined_t = t
    return True

def on_pause(m: RunModel, src: int, r: tuple, t: float, applied: list) -> bool:
    _hold(m, "pause", r[T])
    return True

def on_resume(m: RunModel, src: int, r: tuple, t: float, applied: list) -> bool:
    _release(m, "pause", r[T])
    _unpause(m, t)
    return True

# Step mode. A gate's wait shows on the worker's row; the user's think time (every process at
# a gate, waiting for a choice) leaves the clock as a pause does: it is not the program's time.
def on_step_gate(m: RunModel, src: int, r: tuple, t: float, applied: list) -> bool:
    w = m.workers.get(src) if src else None  # main has no row: its join has the join band
    if w is not None and w.activity != Activity.STEP_WAIT:
        m._set(w, t, Activity.STEP_WAIT, w.task)
    return True

def on_step_hold(m: RunModel, src: int, r: tuple, t: float, applied: list) -> bool:
    if r[STEP_HELD]:
        _hold(m, "step", r[T])
    else:
        _release(m, "step", r[T])
    return True

def _hold(m: RunModel, why: str, at: float) -> None:
    """The clock stops at ``at`` (absolute) for ``why`` ("pause", "step"); held already for
    the other reason, it just counts this one too (overlaps are taken out once)."""
    if why in m._holds:
        return
    m._holds[why] = at
    if m._paused_at is None:
        m._paused_at = at

def _release(m: RunModel, why: str, at: float) -> None:
    start = m._holds.pop(why, None)
    if start is None:
        return
    m.held_s[why] = m.held_s.get(why, 0.0) + max(0.0, at - start)
    if not m._holds and m._paused_at is not None:
        m._pauses.append(m._paused_at)
        m._pause_total += max(0.0, at - m._paused_at)
        m._pause_offsets.append(m._pause_total)
        m._paused_at = None

def on_stop(m: RunModel, src: int, r: tuple, t: float, applied: list) -> bool:
    if m.stop_t is None:
        m.stop_t = t
    return True

def on_run_end(m: RunModel, src: int, r: tuple, t: float, applied: list) -> bool:
    m.end_reason, m.end_t = r[END_REASON], t
    return True

def on_stall(m: RunModel, src: int, r: tuple, t: float, applied: list) -> bool:
    m.stalls.append(r[STALL_TEXT])
    return True

def on_feed_error(m: RunModel, src: int, r: tuple, t: float, applied: list) -> bool:
    tid = r[FEED_TID]
    label = m.label_of(tid)
    m.lost_items.append((t, tid, label if tid in m.tasks else LABEL_OTHER, r[FEED_TEXT]))
    m.points.add(MARK, -1, t)
    return True

def on_proc_info(m: RunModel, src: int, r: tuple, t: float, applied: list) -> bool:
    # A traced program's process says who it is: its name as the program gave it, its pid.
    if src:
        w = m._worker(src)
        w.pid, w.name = r[INFO_PID], r[INFO_NAME]
    return True

def on_proc_end(m: RunModel, src: int, r: tuple, t: float, applied: list) -> bool:
    # (trace) The program ended that process itself (terminate(), kill()): the death that
    # follows is the program's doing, not a fault (WorkerInfo.died_before).
    for w in m.workers.values():
        if w.pid == r[END_PID] and w.ended_t is None:
            w.ended_t = t
            if w.activity == Activity.DIED:  # its exit was seen first
                w.activity = Activity.EXITED
    return True

def on_line(m: RunModel, src: int, r: tuple, t: float, applied: list) -> bool:
    # A traced process is about to call get(): it waits there from now on, even while it
    # still holds a task it never marked done (a get is recorded only when it returns).
    if src and r[LINE_OP] == int(Kind.GET):
        w = m._worker(src)
        if w.alive and w.activity != Activity.WAIT_GET:
            m._set(w, t, Activity.WAIT_GET, w.task)
    return True

def on_main_blocked(m: RunModel, src: int, r: tuple, t: float, applied: list) -> bool:
    # (trace) A traced program's main process waits in queue.join() or Process.join(): it puts
    # nothing meanwhile. None (never set) in QueueLab's own runs: engine/explain/view.py.
    m.main_blocked = bool(r[MAIN_BLOCKED])
    return True

def on_other(m: RunModel, src: int, r: tuple, t: float, applied: list) -> bool:
    return True  # GET_EMPTY, TASK_END: in the log, no state of their own


DISPATCH = {
    int(kind): globals()[f"on_{kind.name.lower()}"]
    for kind in Kind
    if f"on_{kind.name.lower()}" in globals()
}
