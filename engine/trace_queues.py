"""The queues a traced program gets: each one with an id, its creation line, and its calls' lines.

:class:`TracedQueue` (a ``JoinableQueue``) and :class:`TracedPlainQueue` (a
``multiprocessing.Queue``: puts and gets only, it has no unfinished counter) are what the
program's ``JoinableQueue()`` and ``Queue()`` return under ``main.py trace`` (engine/tracer.py
patches the factories). Each queue has an id that travels with it into other processes (fork
copies it, pickling carries it); a process records a ``QUEUE`` record whenever the queue it
acts on differs from the one it acted on last, so every record after it belongs to that queue
(the session splits the streams into one lane per queue: engine/trace_lanes.py). Creating a
queue records ``QUEUE_NEW`` with the program's source line, from which the session names it.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections import deque
from multiprocessing import queues as _mpq
from multiprocessing import util as _mp_util
from multiprocessing.synchronize import SEM_VALUE_MAX as _SEM_MAX
from typing import Any

from engine import recorder as _rec
from engine.events import Kind, label_of
from engine.traced_queue import _MAGIC, TracedJoinableQueue, put_recorded

_PUT, _GET, _TD, _JB, _LINE, _QUEUE = (
    int(Kind.PUT), int(Kind.GET), int(Kind.TASK_DONE), int(Kind.JOIN_BEGIN), int(Kind.LINE),
    int(Kind.QUEUE),
)  # fmt: skip
_getframe = sys._getframe
perf_counter = time.perf_counter
_MP_DIR = os.path.dirname(_mpq.__file__)
_ENGINE_DIR = os.path.dirname(os.path.abspath(__file__))

# Per process: the queue this process acted on last (its records go to that queue's lane) and
# the calling line last reported per operation kind (a LINE record only when it changes).
_state: dict[str, Any] = {"qid": None}
_last_site: dict[int, tuple[Any, int]] = {}
_made = [0]  # queues created in this process, for unique ids
_id_lock = threading.Lock()


def reset_process() -> None:
    """A new process (a child's recorder starts): nothing reported from here yet."""
    _state["qid"] = None
    _last_site.clear()
    _made[0] = 0


def _switch(rec: _rec.Recorder, qid: int) -> None:
    """Say which queue the records that follow are about (only when it changes)."""
    if _state["qid"] != qid:
        _state["qid"] = qid
        rec.emit((_QUEUE, perf_counter(), qid))


def _note(rec: _rec.Recorder, op: int, f: Any) -> None:
    _last_site[op] = (f.f_code, f.f_lineno)
    rec.emit((_LINE, perf_counter(), op, f.f_code.co_filename, f.f_lineno))


def _site(rec: _rec.Recorder, op: int) -> None:
    """Record the caller's caller's line when it differs from this op's last one (the
    methods below inline this; benchmarks/trace_line_cost.py times it alone)."""
    f = _getframe(2)
    if _last_site.get(op) != (f.f_code, f.f_lineno):
        _note(rec, op, f)


def _program_frame() -> Any:
    """The first frame outside multiprocessing and QueueLab: where the program made a queue."""
    f = _getframe(2)
    while f is not None:
        name = f.f_code.co_filename
        if not (name.startswith(_MP_DIR) or name.startswith(_ENGINE_DIR)):
            return f
        f = f.f_back
    return None


def _created(maxsize: int, joinable: bool) -> int:
    """A new queue's id; its QUEUE_NEW record names the line that made it."""
    with _id_lock:
        _made[0] += 1
        qid = os.getpid() * 1000 + _made[0]
    rec = _rec._current
    if rec is not None:
        f = _program_frame()
        where = ("", 0) if f is None else (f.f_code.co_filename, f.f_lineno)
        bound = maxsize if 0 < maxsize < _SEM_MAX else 0
        rec.emit((int(Kind.QUEUE_NEW), perf_counter(), qid, bound, int(joinable), *where))
        if _made[0] <= 2:
            # For a replay of the saved trace (one model for every queue): the first queue's
            # bound, no bound once there are several. The lanes have their own.
            rec.emit((int(Kind.QUEUE_INFO), perf_counter(), bound if _made[0] == 1 else 0))
    return qid


def _flush_empties(q: Any) -> None:
    """At exit: a run of empty polls still open is shipped, after its queue's QUEUE record."""
    rec = _rec._current
    if rec is not None and q._empties is not None and _state["qid"] != q._qid:
        _state["qid"] = q._qid
        rec._buf.append((_QUEUE, perf_counter(), q._qid))
    TracedJoinableQueue._flush_empties(q)


_traced_put = TracedJoinableQueue.put
_traced_get = TracedJoinableQueue.get
_traced_task_done = TracedJoinableQueue.task_done
_traced_join = TracedJoinableQueue.join
_traced_feeder_error = TracedJoinableQueue._on_queue_feeder_error


class TracedQueue(TracedJoinableQueue):
    """TracedJoinableQueue with an id, and the source line of each operation."""

    def __init__(self, maxsize: int = 0, *, ctx: Any) -> None:
        super().__init__(maxsize, ctx=ctx)
        self._qid = _created(maxsize, True)

    def __getstate__(self) -> tuple:
        return (super().__getstate__(), self._qid)

    def __setstate__(self, state: tuple) -> None:
        base, self._qid = state
        super().__setstate__(base)

    # put/get/task_done inline the line check: a function call more is ~0.1 µs per operation.
    def put(self, obj: Any, block: bool = True, timeout: float | None = None) -> None:
        rec = _rec._current
        if rec is not None:
            if _state["qid"] != self._qid:
                _switch(rec, self._qid)
            f = _getframe(1)
            if _last_site.get(_PUT) != (f.f_code, f.f_lineno):
                _note(rec, _PUT, f)
        return _traced_put(self, obj, block, timeout)

    def get(self, block: bool = True, timeout: float | None = None) -> Any:
        rec = _rec._current
        if rec is not None:
            if _state["qid"] != self._qid:
                _switch(rec, self._qid)
            f = _getframe(1)
            # Holding a task not marked done, this get would look like work on it: say it
            # waits here (only then: a get is otherwise recorded when it returns).
            if self._taken or _last_site.get(_GET) != (f.f_code, f.f_lineno):
                _note(rec, _GET, f)
        return _traced_get(self, block, timeout)

    def task_done(self) -> None:
        rec = _rec._current
        if rec is not None:
            if _state["qid"] != self._qid:
                _switch(rec, self._qid)
            f = _getframe(1)
            if _last_site.get(_TD) != (f.f_code, f.f_lineno):
                _note(rec, _TD, f)
        return _traced_task_done(self)

    def join(self) -> None:
        rec = _rec._current
        if rec is not None:
            _switch(rec, self._qid)
            _note(rec, _JB, _getframe(1))
        return _traced_join(self)

    def _on_queue_feeder_error(self, e: Exception, obj: Any) -> None:
        rec = _rec._current
        if rec is not None:
            # The feeder thread: its record is about this queue, whatever the program's own
            # thread did last (which then says its queue again).
            rec.emit((_QUEUE, perf_counter(), self._qid))
            _state["qid"] = None
        _traced_feeder_error(self, e, obj)

    def _flush_empties(self) -> None:
        _flush_empties(self)


_base_qput = _mpq.Queue.put
_base_qget = _mpq.Queue.get


class TracedPlainQueue(_mpq.Queue):
    """``multiprocessing.Queue`` with its puts and gets recorded (it has no task_done/join)."""

    def __init__(self, maxsize: int = 0, *, ctx: Any) -> None:
        super().__init__(maxsize, ctx=ctx)
        self._qid = _created(maxsize, False)
        self._init_tracing()
        _mp_util.register_after_fork(self, TracedPlainQueue._init_tracing)

    def _init_tracing(self) -> None:
        self._empties: list | None = None
        self._step = None  # read by the shared _end_empties (no step mode for a traced program)
        self._slow = False
        self._bounded = self._maxsize < _SEM_MAX
        self._recorder = None
        # The shared get body notes each taken task for task_done; a plain queue has none, so
        # the note is dropped at once (maxlen 0) instead of piling up for the whole run.
        self._taken: deque[int] = deque(maxlen=0)
        self.last_tid = -1

    def __getstate__(self) -> tuple:
        return (super().__getstate__(), self._qid)

    def __setstate__(self, state: tuple) -> None:
        base, self._qid = state
        super().__setstate__(base)
        self._init_tracing()
        _mp_util.register_after_fork(self, TracedPlainQueue._init_tracing)

    # Gets and the runs of empty polls are recorded as the JoinableQueue's are.
    _empty = TracedJoinableQueue._empty
    _end_empties = TracedJoinableQueue._end_empties

    def _flush_empties(self) -> None:
        _flush_empties(self)

    def put(self, obj: Any, block: bool = True, timeout: float | None = None) -> None:
        rec = _rec._current
        if rec is None:
            return _base_qput(self, obj, block, timeout)
        if _state["qid"] != self._qid:
            _switch(rec, self._qid)
        f = _getframe(1)
        if _last_site.get(_PUT) != (f.f_code, f.f_lineno):
            _note(rec, _PUT, f)
        if self._empties is not None:
            self._end_empties(rec)
        tid = next(rec.tids)
        t0 = perf_counter()
        put_recorded(_base_qput, self, rec, tid, obj, block, timeout, t0)
        label, value = label_of(obj)
        rec.emit((_PUT, t0, perf_counter() if self._bounded else t0, tid, label, value))
        return None

    def get(self, block: bool = True, timeout: float | None = None) -> Any:
        rec = _rec._current
        if rec is None:
            obj = _base_qget(self, block, timeout)
            if type(obj) is tuple and len(obj) == 3 and obj[0] is _MAGIC:
                return obj[2]
            return obj
        if _state["qid"] != self._qid:
            _switch(rec, self._qid)
        f = _getframe(1)
        if _last_site.get(_GET) != (f.f_code, f.f_lineno):
            _note(rec, _GET, f)
        return _traced_get(self, block, timeout)  # type: ignore[arg-type]  # its body

    def _on_queue_feeder_error(self, e: Exception, obj: Any) -> None:
        rec = _rec._current
        if rec is not None:
            rec.emit((_QUEUE, perf_counter(), self._qid))
            _state["qid"] = None
            wrapped = type(obj) is tuple and len(obj) == 3 and obj[0] is _MAGIC
            tid = obj[1] if wrapped else -1
            rec.emit((int(Kind.FEED_ERROR), perf_counter(), tid, f"{type(e).__name__}: {e}"))
            rec.flush()
        _mpq.Queue._on_queue_feeder_error(e, obj)
