"""TracedJoinableQueue: the standard library's JoinableQueue, with every caller's calls recorded.

Drop-in for ``multiprocessing.JoinableQueue``: same constructor ``(maxsize=0, *, ctx)``, same
blocking, timeouts, exceptions, pickling and transport. Every call goes through CPython's own
``put``/feeder thread/``get``/``task_done``/``join``: this module only adds recording around
them, so a traced run moves items exactly as the user's plain program would. In a process where
a recorder is active (see :mod:`engine.recorder`) each put, get, task_done and join is recorded
with the task's identity; elsewhere every call goes straight to the base class.

Identity travels with the item: a traced put sends ``(_MAGIC, tid, item)`` and a traced get
unwraps it. An item that cannot be pickled is not refused: as in CPython, put() returns, the
feeder thread drops the item after the unfinished counter was raised, and join() can never
return (cpython#79423). The feeder reports that through ``_on_queue_feeder_error``, which is
recorded as FEED_ERROR so the model and the diagnosis can say which task was lost and why.

Private CPython names used, only where recording needs them (all present in 3.10-3.13):
``Queue._on_queue_feeder_error`` (the feeder's documented-in-source error hook, overridden to
record the lost item), ``Queue._maxsize`` (is the queue bounded), and
``JoinableQueue._unfinished_tasks._semlock._is_zero`` in :func:`join_until` (an interruptible
join for the coordinator; the user-facing ``join()`` is CPython's).
"""

from __future__ import annotations

import pickle
import time
from collections import deque
from collections.abc import Callable
from multiprocessing import util as _mp_util
from multiprocessing.queues import JoinableQueue
from multiprocessing.reduction import ForkingPickler
from multiprocessing.synchronize import SEM_VALUE_MAX
from queue import Empty, Full
from typing import Any

from engine import recorder as _rec
from engine.events import LABEL_NONE, LABEL_OTHER, Kind, label_of
from engine.join_pace import JoinPace

__all__ = ["EMPTY_RUN_MAX_S", "TracedJoinableQueue", "join_until"]

# The marker travels with every item: a one-character str, because CPython keeps one object
# per such character and unpickling returns it, so a traced get knows a wrapped item by
# identity (``obj[0] is _MAGIC``: no item's own ``__eq__`` is called, and it is the cheapest
# test). A control character no program's items start with.
_MAGIC = "\x1e"
if pickle.loads(ForkingPickler.dumps((_MAGIC,)))[0] is not _MAGIC:  # pragma: no cover
    raise ImportError("QueueLab needs CPython's shared one-character strings")
_PUT, _PUT_FULL, _GET, _GET_EMPTY = (
    int(Kind.PUT), int(Kind.PUT_FULL), int(Kind.GET), int(Kind.GET_EMPTY)
)
_TD, _TD_ERR, _JB, _JE, _FEED_ERR, _PUT_BLOCKED = (
    int(Kind.TASK_DONE), int(Kind.TASK_DONE_ERROR), int(Kind.JOIN_BEGIN), int(Kind.JOIN_END),
    int(Kind.FEED_ERROR), int(Kind.PUT_BLOCKED),
)
# Called directly, not through super(): building a super object per call costs ~0.1 µs.
_base_put = JoinableQueue.put
_base_get = JoinableQueue.get
_base_task_done = JoinableQueue.task_done
_base_join = JoinableQueue.join
_base_feeder_error = JoinableQueue._on_queue_feeder_error
perf_counter = time.perf_counter
# A run of empty polls is one record; one that goes on is shipped at least this often, so a
# process that polls for a long time still shows live.
EMPTY_RUN_MAX_S = 0.25


class TracedJoinableQueue(JoinableQueue):
    def __init__(self, maxsize: int = 0, *, ctx: Any) -> None:
        super().__init__(maxsize, ctx=ctx)
        self._init_tracing()
        # A forked child inherits this object as it is (no pickling): without this it would
        # keep recording into the parent's recorder, which lives on only in its own memory.
        _mp_util.register_after_fork(self, TracedJoinableQueue._init_tracing)

    def _init_tracing(self) -> None:
        # Per-process state: tasks this process took and has not marked done, and an optional
        # recorder bound to this instance. task_done() is matched to the most recent get
        # (LIFO): in the get -> work -> task_done loop that is the task just worked on, and a
        # failure path that skipped its task_done leaves the right task behind.
        self._taken: deque[int] = deque()
        self._bounded = self._maxsize < SEM_VALUE_MAX  # the base stores 0 (unbounded) as the max
        self._recorder: _rec.Recorder | None = None
        self._empties: list | None = None  # [t_first, t_last, count] of the open run of Empty
        self.last_tid = -1
        # Step mode (engine/step.py): a gate each operation announces itself to and waits at.
        self._step: Any = None
        self._slow = False  # a gate is bound or a run of Empty is open: put's general path

    def __setstate__(self, state: tuple) -> None:
        super().__setstate__(state)
        self._init_tracing()
        # A process that got the queue by pickling may fork in turn: reset there too.
        _mp_util.register_after_fork(self, TracedJoinableQueue._init_tracing)

    def bind_recorder(self, recorder: _rec.Recorder | None) -> None:
        """Record this instance's calls in this process to ``recorder`` (the parent uses it)."""
        self._recorder = recorder

    def bind_gate(self, gate: Any) -> None:
        """Step mode: each traced call waits at ``gate`` (``wait`` before, ``done`` after)."""
        self._step = gate
        self._slow = gate is not None or self._empties is not None

    # put/get/task_done: the common case (no step gate, no run of empty polls open) is
    # written out in full: each attribute look-up, call and test here is paid
    # three times per task, and recording is meant to cost little next to CPython's own
    # transport. Recorder.emit is inlined (a method call per record is a measurable share).
    def put(self, obj: Any, block: bool = True, timeout: float | None = None) -> None:
        rec = self._recorder or _rec._current
        if rec is None:
            return _base_put(self, obj, block, timeout)
        if self._slow:
            return self._put_slow(rec, obj, block, timeout)
        tid = next(rec.tids)
        t0 = perf_counter()
        try:
            if self._bounded and block:
                # Only a bounded queue makes a put wait: try without waiting first (CPython's
                # own acquire tries that way before it sleeps), so a wait is known as it begins.
                try:
                    _base_put(self, (_MAGIC, tid, obj), False)
                except Full:
                    _put_waiting(_base_put, self, rec, tid, obj, t0, timeout)
                t1 = perf_counter()  # its return is worth a second clock reading only here
            else:
                _base_put(self, (_MAGIC, tid, obj), block, timeout)
                t1 = t0
        except Full:
            rec.emit((_PUT_FULL, t0, perf_counter()))
            raise
        if type(obj) is tuple and len(obj) == 2:  # the tutorial's (i, random()): first
            label, value = obj  # unpacked once: cheaper than indexing it in the test and the record
            if type(label) is int and type(value) is float:
                buf = rec._buf
                buf.append((_PUT, t0, t1, tid, label, value))
                if len(buf) >= rec._batch or t1 >= rec.due:
                    rec.flush()
                return None
        _record_put(rec, t0, t1, tid, obj)
        return None

    def get(self, block: bool = True, timeout: float | None = None) -> Any:
        rec = self._recorder or _rec._current
        if rec is None:
            obj = _base_get(self, block, timeout)
            if type(obj) is tuple and len(obj) == 3 and obj[0] is _MAGIC:
                return obj[2]
            return obj
        # One body for every case (the traced plain Queue's too), written out here: a method
        # call more is ~0.1 us of a ~10 us task. Step mode only adds its gate around it.
        step = self._step
        if step is not None:
            step.wait(_GET, -1)
        try:
            t0 = perf_counter()
            try:
                obj = _base_get(self, block, timeout)
            except Empty:
                self._empty(rec, t0)
                raise
            t1 = perf_counter()
            if self._empties is not None:
                self._end_empties(rec)
            if type(obj) is tuple and len(obj) == 3 and obj[0] is _MAGIC:
                _, tid, obj = obj
            else:
                tid = -1
            self._taken.append(tid)
            self.last_tid = tid
            buf = rec._buf
            buf.append((_GET, t0, t1, tid))
            if len(buf) >= rec._batch or t1 >= rec.due:
                rec.flush()
            return obj
        finally:
            if step is not None:
                step.done()

    def task_done(self) -> None:
        rec = self._recorder or _rec._current
        if rec is None:
            return _base_task_done(self)
        # One body, as get's. Stamp and record before the call: a joiner woken by it must not
        # see its return precede this, and a main program whose join() this call releases may
        # end at once and terminate this (daemon) process before another line of ours runs.
        taken = self._taken
        step = self._step
        if step is not None:
            step.wait(_TD, taken[-1] if taken else -1)
        try:
            try:
                tid = taken.pop()
            except IndexError:  # a task_done with no get left to match: rare, so no test first
                tid = -1
            t = perf_counter()
            record = (_TD, t, tid)
            buf = rec._buf
            buf.append(record)
            try:
                _base_task_done(self)
            except ValueError as exc:
                self._task_done_failed(rec, record, exc)
                raise
            if len(buf) >= rec._batch or t >= rec.due:
                rec.flush()
            return None
        finally:
            if step is not None:
                step.done()

    # ------------------------------------------------------------------ the general paths

    def _put_slow(self, rec: _rec.Recorder, obj: Any, block: bool, timeout: float | None) -> None:
        if self._empties is not None:
            self._end_empties(rec)
        tid = next(rec.tids)
        step = self._step
        if step is not None:
            step.wait(_PUT, tid, obj)
        t0 = perf_counter()
        try:
            put_recorded(_base_put, self, rec, tid, obj, block, timeout, t0)
        except Full:
            if step is not None:
                step.done()
            raise
        _record_put(rec, t0, perf_counter() if self._bounded else t0, tid, obj)
        if step is not None:
            step.done()
        return None

    def _task_done_failed(self, rec: _rec.Recorder, record: tuple, exc: Exception) -> None:
        """Called too many times: take the record back (the flusher ships only a buffer that
        was quiet for a while, so it is still there) and say what happened."""
        with rec._lock:
            try:
                rec._buf.remove(record)
            except ValueError:
                pass
        tid = record[2]
        if tid != -1:
            self._taken.append(tid)
        rec.emit((_TD_ERR, perf_counter(), str(exc)))

    def join(self) -> None:
        rec = self._recorder or _rec._current
        if rec is None:
            return _base_join(self)
        if self._empties is not None:
            self._end_empties(rec)
        step = self._step
        if step is not None:
            step.wait(_JB, -1)
        rec.emit((_JB, perf_counter()))
        rec.flush()  # this process may block here for long: ship what it did first
        if step is not None:
            step.entered()  # its JOIN_BEGIN is out: later steps come after it, every time
        _base_join(self)
        rec.emit((_JE, perf_counter()))
        rec.flush()
        if step is not None:
            step.done()
        return None

    def join_until(self, should_stop: Callable[[], bool], poll: float = 0.05) -> bool:
        """join() that gives up when ``should_stop()`` says so; True when the join returned."""
        return join_until(self, should_stop, poll, rec=self._recorder or _rec._current)

    def _on_queue_feeder_error(self, e: Exception, obj: Any) -> None:
        """The feeder thread could not send ``obj``: CPython drops it; record which task it was.

        Runs in the feeder thread of the process that put the item. The unfinished counter
        stays raised, exactly as in CPython, so join() will never return.
        """
        rec = self._recorder or _rec._current
        if rec is not None:
            wrapped = type(obj) is tuple and len(obj) == 3 and obj[0] is _MAGIC
            tid = obj[1] if wrapped else -1
            rec.emit((_FEED_ERR, perf_counter(), tid, f"{type(e).__name__}: {e}"))
            rec.flush()
        _base_feeder_error(e, obj)  # prints the traceback, as CPython does

    def _empty(self, rec: _rec.Recorder, t0: float) -> None:
        """One more empty poll: extend the open run, or open one (one record per run)."""
        t1 = perf_counter()
        run = self._empties
        if run is None:
            self._empties = [t0, t1, 1]
            self._slow = True
            rec.watch_pending(self._flush_empties)
            return
        run[1] = t1
        run[2] += 1
        if t1 - run[0] >= EMPTY_RUN_MAX_S:
            self._end_empties(rec)

    def _end_empties(self, rec: _rec.Recorder) -> None:
        run = self._empties
        self._empties = None
        self._slow = self._step is not None
        if run is not None:
            rec.unwatch_pending(self._flush_empties)
            rec.emit((_GET_EMPTY, run[0], run[1], run[2]))

    def _flush_empties(self) -> None:
        """Called by the recorder when it must ship everything (exit, termination)."""
        rec = self._recorder or _rec._current
        if rec is not None and self._empties is not None:
            run = self._empties
            self._empties = None
            self._slow = self._step is not None
            rec._buf.append((_GET_EMPTY, run[0], run[1], run[2]))


def put_recorded(
    base: Callable[..., None], q: Any, rec: _rec.Recorder, tid: int, obj: Any, block: bool,
    timeout: float | None, t0: float,
) -> None:
    """``base`` (a CPython put) of the wrapped item, saying PUT_BLOCKED when it must wait and
    PUT_FULL when it raises Full; the caller records the PUT on return. (The straight path
    of TracedJoinableQueue.put writes this out inline: it is paid on every put.)"""
    try:
        if q._bounded and block:
            try:
                base(q, (_MAGIC, tid, obj), False)
            except Full:
                _put_waiting(base, q, rec, tid, obj, t0, timeout)
        else:
            base(q, (_MAGIC, tid, obj), block, timeout)
    except Full:
        rec.emit((_PUT_FULL, t0, perf_counter()))
        raise


def _put_waiting(
    base: Callable[..., None], q: Any, rec: _rec.Recorder, tid: int, obj: Any, t0: float,
    timeout: float | None,
) -> None:
    """The bounded queue is full: say so now, then wait in CPython's put (``base``) for room.

    Shipped at once: the process may wait for long, and until its put returns the window would
    otherwise show it producing. Full (a timeout) propagates to the caller, as CPython's does.
    """
    label, value = label_of(obj)
    rec.emit((_PUT_BLOCKED, t0, tid, label, value))
    rec.flush()
    base(q, (_MAGIC, tid, obj), True, timeout)


def _record_put(rec: _rec.Recorder, t0: float, t1: float, tid: int, obj: Any) -> None:
    """A PUT of any item: its label and value as label_of says (engine/events.py)."""
    if obj is None:
        label, value = LABEL_NONE, 0.0
    elif type(obj) is tuple:
        label, value = label_of(obj)
    else:
        label, value = LABEL_OTHER, 0.0
    buf = rec._buf
    buf.append((_PUT, t0, t1, tid, label, value))
    if len(buf) >= rec._batch or t1 >= rec.due:
        rec.flush()


def join_until(
    queue: JoinableQueue,
    should_stop: Callable[[], bool],
    poll: float = 0.05,
    rec: _rec.Recorder | None = None,
    paced: bool = False,
) -> bool:
    """Wait like ``queue.join()`` but give up when ``should_stop()``; True when it returned.

    A plain join() cannot be interrupted, which would leave the caller's thread blocked on a
    queue nobody uses any more once a run is stopped. Works on plain JoinableQueues too.
    ``paced`` (fid): nothing can raise the counter any more, so the looks follow its pace
    (engine/join_pace.py) instead of one every 2 ms.
    """
    step = getattr(queue, "_step", None)  # step mode: main's join waits for its turn too
    if step is not None:
        step.wait(_JB, -1)
    if rec is not None:
        rec.emit((_JB, perf_counter()))
        rec.flush()
    if step is not None:
        step.entered()  # its JOIN_BEGIN is out: later steps come after it, every time
    # Polls the counter instead of waiting on the queue's condition: Condition.wait takes
    # the lock back without a timeout, and a worker killed inside task_done() (which holds
    # it) would leave this thread blocked for good. A 2 ms poll still sees the counter touch
    # zero between a producer's puts, which is what the join race is about.
    is_zero = queue._unfinished_tasks._semlock._is_zero
    pace = JoinPace(queue._unfinished_tasks) if paced else None
    while not is_zero():
        if should_stop():
            return False
        time.sleep(pace.next_sleep() if pace is not None else min(poll, 0.002))
    try:
        return _join_returned(rec)
    finally:
        if step is not None:
            step.done()


def _join_returned(rec: _rec.Recorder | None) -> bool:
    if rec is not None:
        rec.emit((_JE, perf_counter()))
        rec.flush()
    return True
