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

from engine.events import LABEL_NONE, LABEL_OTHER, ROLE_CONSUMER, Kind
from engine.states import Activity, JoinState

if TYPE_CHECKING:
    from engine.model import RunModel

# One handler per record kind: True when the record was applied now (False: held, or it
# appended itself to ``applied`` among the records it released).
def on_put(m: RunModel, src: int, r: tuple, t: float, applied: list) -> bool:
    if m.maxsize and m.depth >= m.maxsize and r[3] not in m._held_gets:
        # A put cannot complete on a full queue: the get that made room is still in
        # another process's pipe. Apply the put right after that get arrives.
        m._held_puts.append((src, r))
        return False
    m._apply_put(src, r, t, applied)
    return False

def on_get(m: RunModel, src: int, r: tuple, t: float, applied: list) -> bool:
    tid = r[3]
    if tid != -1 and tid not in m.tasks:
        for i, (psrc, pr) in enumerate(m._held_puts):
            if pr[3] == tid:  # the get proves its put had room: apply the put first
                del m._held_puts[i]
                m._apply_put(psrc, pr, m.rel(pr[1]), applied)
                break
        else:
            if tid >> 32 not in m._closed_streams:
                m._held_gets[tid] = (src, r)
                return False
            m._stand_in_put(tid, r, applied)
    m._apply_get(src, r, t, applied)
    return False

def on_task_done(m: RunModel, src: int, r: tuple, t: float, applied: list) -> bool:
    tid = r[2]
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
        t_get = float(rows.t_get[i])
        t = max(t, t_get)
        rows.t_done[i] = t
        if rows.label[i] != LABEL_NONE:
            w.tasks_done += 1
            m.done_t.append(t)
            m.done_wait.append(t_get - float(rows.t_put[i]))
            m.done_service.append(t - t_get)
    m._point(t)
    if w.role == ROLE_CONSUMER and w.alive:
        # The consumer loop goes straight back to get(): it waits there from now on.
        m._set(w, t, Activity.WAIT_GET)
    return True

def on_task_start(m: RunModel, src: int, r: tuple, t: float, applied: list) -> bool:
    w = m._worker(src)
    if w.activity != Activity.PROCESS or w.task != r[2]:
        m._set(w, t, Activity.PROCESS, r[2])
    return True

def on_task_fail(m: RunModel, src: int, r: tuple, t: float, applied: list) -> bool:
    w = m._worker(src)
    m.failures += 1
    w.failures += 1
    w.errors.append(r[3])
    # The failed attempt is drawn red from its start to the failure.
    start = w.since if w.activity == Activity.PROCESS else t
    w.intervals.append((start, t, int(Activity.FAILED), m.label_of(r[2])))
    w.activity, w.since, w.task = Activity.PROCESS, t, r[2]
    return True

def on_task_retry(m: RunModel, src: int, r: tuple, t: float, applied: list) -> bool:
    m.retries += 1
    return True

def on_task_result(m: RunModel, src: int, r: tuple, t: float, applied: list) -> bool:
    label = m.label_of(r[2])
    if r[3]:
        m.task_results[label] = r[4]
    else:
        m.task_tracebacks.setdefault(label, []).append((t, r[4]))
    return True

def on_task_done_error(m: RunModel, src: int, r: tuple, t: float, applied: list) -> bool:
    m.task_done_errors += 1
    m._worker(src).errors.append(r[2])
    m.task_done_error_marks.append((t, src, r[2]))
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
        m.puts_at_join_return = m.task_puts
    return True

def on_worker_start(m: RunModel, src: int, r: tuple, t: float, applied: list) -> bool:
    w = m._worker(src)
    w.pid, w.role = r[2], r[3]
    # A traced program's process that only joins (ROLE_COORDINATOR) runs, as a producer does.
    m._set(w, t, Activity.WAIT_GET if w.role == ROLE_CONSUMER else Activity.RUNNING)
    return True

def on_worker_exit(m: RunModel, src: int, r: tuple, t: float, applied: list) -> bool:
    w = m._worker(src)
    w.records_sent = r[3]
    if w.exit_t is None:
        m._set(w, t, Activity.EXITED)
        w.exit_t = t
    w.exitcode = r[2] if w.exitcode is None else w.exitcode
    return True

def on_proc_exit(m: RunModel, src: int, r: tuple, t: float, applied: list) -> bool:
    w = m._worker(r[2])
    m._closed_streams.add(r[2])
    code = r[3]
    w.exitcode = code
    if w.exit_t is None:
        m._set(w, t, Activity.DIED if code else Activity.EXITED)
        w.exit_t = t
    elif code:
        w.activity = Activity.DIED
    applied.append((src, r))
    for tid in [tid for tid in m._held_gets if tid >> 32 == r[2]]:
        m._stand_in_put(tid, m._held_gets[tid][1], applied)
    return False

def on_paused(m: RunModel, src: int, r: tuple, t: float, applied: list) -> bool:
    w = m._worker(src)
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
    m.t0 = r[1]
    m.producers, m.consumers, m.tasks_total = r[2], r[3], r[4]
    for s in range(1, m.producers + m.consumers + 1):
        m._worker(s)
    return True

def on_queue_info(m: RunModel, src: int, r: tuple, t: float, applied: list) -> bool:
    m.maxsize = r[2]
    return True

def on_producers_joined(m: RunModel, src: int, r: tuple, t: float, applied: list) -> bool:
    m.producers_joined_t = t
    return True

def on_pause(m: RunModel, src: int, r: tuple, t: float, applied: list) -> bool:
    m._paused_at = r[1]
    return True

def on_resume(m: RunModel, src: int, r: tuple, t: float, applied: list) -> bool:
    if m._paused_at is not None:
        m._pauses.append(m._paused_at)
        m._pause_total += r[1] - m._paused_at
        m._pause_offsets.append(m._pause_total)
        m._paused_at = None
    _unpause(m, t)
    return True

def on_stop(m: RunModel, src: int, r: tuple, t: float, applied: list) -> bool:
    if m.stop_t is None:
        m.stop_t = t
    return True

def on_run_end(m: RunModel, src: int, r: tuple, t: float, applied: list) -> bool:
    m.end_reason, m.end_t = r[2], t
    return True

def on_stall(m: RunModel, src: int, r: tuple, t: float, applied: list) -> bool:
    m.stalls.append(r[2])
    return True

def on_feed_error(m: RunModel, src: int, r: tuple, t: float, applied: list) -> bool:
    label = m.label_of(r[2])
    m.lost_items.append((t, r[2], label if r[2] in m.tasks else LABEL_OTHER, r[3]))
    m._point(t)
    return True

def on_proc_info(m: RunModel, src: int, r: tuple, t: float, applied: list) -> bool:
    # A traced program's process says who it is: its name as the program gave it, its pid.
    if src:
        w = m._worker(src)
        w.pid, w.name = r[2], r[3]
    return True

def on_line(m: RunModel, src: int, r: tuple, t: float, applied: list) -> bool:
    # A traced process is about to call get(): it waits there from now on, even while it
    # still holds a task it never marked done (a get is recorded only when it returns).
    if src and r[2] == int(Kind.GET):
        w = m._worker(src)
        if w.alive and w.activity != Activity.WAIT_GET:
            m._set(w, t, Activity.WAIT_GET, w.task)
    return True

def on_main_blocked(m: RunModel, src: int, r: tuple, t: float, applied: list) -> bool:
    # (trace) A traced program's main process waits in queue.join() or Process.join(): it puts
    # nothing meanwhile. None (never set) in QueueLab's own runs: engine/explain/view.py.
    m.main_blocked = bool(r[2])
    return True

def on_other(m: RunModel, src: int, r: tuple, t: float, applied: list) -> bool:
    return True  # PUT_FULL, GET_EMPTY, TASK_END: in the log, no state of their own


DISPATCH = {
    int(kind): globals()[f"on_{kind.name.lower()}"]
    for kind in Kind
    if f"on_{kind.name.lower()}" in globals()
}
