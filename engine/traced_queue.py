"""TracedJoinableQueue: a multiprocessing JoinableQueue that records what every caller does.

Drop-in for ``multiprocessing.JoinableQueue``: same constructor ``(maxsize=0, *, ctx)``, same
blocking, timeouts, exceptions and pickling. In a process where a recorder is active (see
:mod:`engine.recorder`) each put, get, task_done and join is recorded with the task's identity;
elsewhere every call goes straight to the base class and records nothing.

Identity travels with the item: a traced put sends ``(_MAGIC, tid, item)``. An item that is
not plainly picklable is trial-pickled in put() itself, so one that cannot be pickled is refused
there, before the unfinished counter is raised (cpython#79423: the feeder thread would drop it
later and join() would hang).
"""

from __future__ import annotations

import errno
import os
import pickle
import reprlib
import struct
import sys
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable
from multiprocessing import connection as _mp_conn
from multiprocessing import queues as _mpq
from multiprocessing import util as _mp_util
from multiprocessing.queues import JoinableQueue
from multiprocessing.reduction import ForkingPickler
from multiprocessing.synchronize import SEM_VALUE_MAX
from queue import Empty, Full
from typing import Any

from engine import recorder as _rec
from engine.events import LABEL_NONE, LABEL_OTHER, Kind, label_of

__all__ = ["TracedJoinableQueue", "UnpicklableTaskError"]

_MAGIC = b"\x00ql"  # short: it travels with every item
_PUT, _PUT_FULL, _GET, _GET_EMPTY = int(Kind.PUT), int(Kind.PUT_FULL), int(Kind.GET), int(
    Kind.GET_EMPTY
)
_TD, _TD_ERR, _JB, _JE = (
    int(Kind.TASK_DONE),
    int(Kind.TASK_DONE_ERROR),
    int(Kind.JOIN_BEGIN),
    int(Kind.JOIN_END),
)
_dumps = ForkingPickler.dumps
_plain_dumps = pickle.dumps
_HEADER = struct.Struct("!i")  # Connection.send_bytes' length prefix
_LONG_HEADER = struct.Struct("!Q")  # after a -1 prefix, for messages over 2 GiB
_SMALL_MESSAGE = 16384  # send_bytes writes bigger messages in two writes; so do we, alone
FEED_CHUNK_BYTES = 32768
# Called directly, not through super(): building a super object per call costs ~0.1 µs.
_base_put = JoinableQueue.put
_base_get = JoinableQueue.get
_base_task_done = JoinableQueue.task_done
_loads = pickle.loads  # what ForkingPickler.loads is
_TOO_MANY = "task_done() called too many times"  # JoinableQueue's own words
_read = os.read
perf_counter = time.perf_counter


class UnpicklableTaskError(TypeError):
    """put() was given an item that cannot cross to another process."""


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
        self.last_tid = -1

    def __setstate__(self, state: tuple) -> None:
        super().__setstate__(state)
        self._init_tracing()
        # A process that got the queue by pickling may fork in turn: reset there too.
        _mp_util.register_after_fork(self, TracedJoinableQueue._init_tracing)

    def _start_thread(self) -> None:
        # CPython's Queue._start_thread (3.11-3.13), starting _feed above instead of its own.
        if not _FAST_FEED:
            return super()._start_thread()
        self._buffer.clear()
        self._thread = threading.Thread(
            target=_feed,
            args=(
                self._buffer, self._notempty, self._send_bytes, self._wlock, self._reader.close,
                self._writer.close, self._ignore_epipe, self._on_queue_feeder_error, self._sem,
                getattr(self._writer, "_send", None),
            ),
            name="QueueFeederThread",
            daemon=True,
        )
        try:
            self._thread.start()
        except BaseException:
            self._thread = None  # gh-109047: starting a thread can fail at interpreter exit
            raise
        if not self._joincancelled:
            self._jointhread = _mp_util.Finalize(
                self._thread, _mpq.Queue._finalize_join, [weakref.ref(self._thread)],
                exitpriority=-5,
            )
        self._close = _mp_util.Finalize(
            self, _mpq.Queue._finalize_close, [self._buffer, self._notempty], exitpriority=10
        )
        return None

    def bind_recorder(self, recorder: _rec.Recorder | None) -> None:
        """Record this instance's calls in this process to ``recorder`` (the parent uses it)."""
        self._recorder = recorder

    def put(self, obj: Any, block: bool = True, timeout: float | None = None) -> None:
        # One pass over the item: is it plainly picklable, and what label does it show?
        # Runs with or without a recorder: an unpicklable item must be refused either way.
        # (This is the hot path: a put's whole budget for tracing is about a microsecond.)
        t = type(obj)
        if t is tuple:
            if len(obj) == 2 and type(obj[0]) is int and type(obj[1]) is float:
                label, value = obj  # the tutorial's (i, random()): the common case first
            else:
                label, value = _tuple_label(obj)
        elif obj is None:
            label, value = LABEL_NONE, 0.0
        else:
            if t not in _SCALARS:
                _check_picklable(obj)
            label, value = LABEL_OTHER, 0.0
        rec = self._recorder or _rec._current
        if rec is None:
            return _base_put(self, obj, block, timeout)
        tid = next(rec.tids)
        t0 = perf_counter()
        try:
            _base_put(self, (_MAGIC, tid, obj), block, timeout)
        except Full:
            rec.emit((_PUT_FULL, t0, perf_counter()))
            raise
        # Inlined Recorder.emit: a method call per record is a measurable share of the
        # tracing budget. Only a bounded queue makes a put wait, so only there is the
        # return worth a second clock reading.
        buf = rec._buf
        t1 = perf_counter() if self._bounded else t0
        buf.append((_PUT, t0, t1, tid, label, value))
        if len(buf) >= rec._batch or t1 - rec._last_flush >= rec._interval:
            rec.flush()
        return None

    def get(self, block: bool = True, timeout: float | None = None) -> Any:
        rec = self._recorder or _rec._current
        t0 = perf_counter() if rec is not None else 0.0
        if block and timeout is None and _FAST_IO and not self._closed:
            # JoinableQueue.get's blocking path, leaner: Connection.recv_bytes spends ~2 µs
            # of Python per message (checks, two BytesIO buffers, struct), a third of what
            # a consumer of small tasks spent. Same lock, framing, errors and result.
            lock = self._rlock._semlock
            lock.acquire()
            try:
                res = _read_message(self._reader)
            finally:
                lock.release()
            self._sem.release()
            obj = _loads(res)
        else:
            try:
                obj = _base_get(self, block, timeout)
            except Empty:
                if rec is not None:
                    rec.emit((_GET_EMPTY, t0, perf_counter()))
                raise
        if rec is None:
            return _unwrap(obj)
        t1 = perf_counter()
        if type(obj) is tuple and len(obj) == 3 and type(obj[0]) is bytes and obj[0] == _MAGIC:
            tid = obj[1]
            obj = obj[2]
        else:
            tid = -1
        self._taken.append(tid)
        self.last_tid = tid
        buf = rec._buf
        buf.append((_GET, t0, t1, tid))
        if len(buf) >= rec._batch or t1 - rec._last_flush >= rec._interval:
            rec.flush()
        return obj

    def task_done(self) -> None:
        rec = self._recorder or _rec._current
        # Stamp before the call: a joiner woken by it must not see its return precede this.
        t = perf_counter() if rec is not None else 0.0
        if _FAST_IO:
            # JoinableQueue.task_done, taking the condition's lock without two Python-level
            # __enter__/__exit__ wrappers in between (it runs once per task).
            lock = self._cond._lock._semlock
            lock.acquire()
            try:
                ok = self._unfinished_tasks.acquire(False)
                if ok and self._unfinished_tasks._semlock._is_zero():
                    self._cond.notify_all()
            finally:
                lock.release()
            if not ok:
                # Recorded after the lock is let go: a flush must never hold other processes.
                if rec is not None:
                    rec.emit((_TD_ERR, perf_counter(), _TOO_MANY))
                raise ValueError(_TOO_MANY)
        else:
            try:
                _base_task_done(self)
            except ValueError as exc:
                if rec is not None:
                    rec.emit((_TD_ERR, perf_counter(), str(exc)))
                raise
        if rec is None:
            return None
        taken = self._taken
        buf = rec._buf
        buf.append((_TD, t, taken.pop() if taken else -1))
        if len(buf) >= rec._batch or t - rec._last_flush >= rec._interval:
            rec.flush()
        return None

    def join(self) -> None:
        rec = self._recorder or _rec._current
        if rec is None:
            return super().join()
        rec.emit((_JB, perf_counter()))
        rec.flush()
        super().join()
        rec.emit((_JE, perf_counter()))
        rec.flush()
        return None

    def join_until(self, should_stop: Callable[[], bool], poll: float = 0.05) -> bool:
        """join() that gives up when ``should_stop()`` says so; True when the join returned."""
        return join_until(self, should_stop, poll, rec=self._recorder or _rec._current)


def join_until(
    queue: JoinableQueue,
    should_stop: Callable[[], bool],
    poll: float = 0.05,
    rec: _rec.Recorder | None = None,
    settle_s: float = 0.0,
) -> bool:
    """Wait like ``queue.join()`` but give up when ``should_stop()``; True when it returned.

    A plain join() cannot be interrupted, which would leave the caller's thread blocked on a
    queue nobody uses any more once a run is stopped. Works on plain JoinableQueues too.
    """
    if rec is not None:
        rec.emit((_JB, perf_counter()))
        rec.flush()
    # Polls the counter instead of waiting on the queue's condition: Condition.wait takes
    # the lock back without a timeout, and a worker killed inside task_done() (which holds
    # it) would leave this thread blocked for good. A 2 ms poll still sees the counter touch
    # zero between a producer's puts, which is what the join race is about.
    is_zero = queue._unfinished_tasks._semlock._is_zero
    while not is_zero():
        if should_stop():
            return False
        time.sleep(min(poll, 0.002))
    if rec is not None:
        t = perf_counter()
        if settle_s > 0:
            # The task_done records that brought the counter to zero may still sit in the
            # workers' buffers (flushed every few ms); let them arrive first, so every log
            # shows them before "all tasks are processed". The record keeps its true time.
            time.sleep(settle_s)
        rec.emit((_JE, t))
        rec.flush()
    return True


def _read_exact(fd: int, n: int) -> bytes:
    """``Connection._recv``: EOFError when nothing came at all, OSError when cut short."""
    if n <= 0:
        return b""
    data = _read(fd, n)
    return data if len(data) == n else _read_rest(fd, data, n)


def _read_rest(fd: int, data: bytes, n: int) -> bytes:
    """Complete a short read of ``n`` bytes that began with ``data`` (a pipe may split one)."""
    if not data:
        raise EOFError
    parts = [data]
    remaining = n - len(data)
    while remaining > 0:
        data = _read(fd, remaining)
        if not data:
            raise OSError("got end of file during message")
        parts.append(data)
        remaining -= len(data)
    return b"".join(parts)


def _read_message(conn: Any) -> bytes:
    """``Connection.recv_bytes`` for a pipe: the same framing, errors and result."""
    fd = conn._handle
    if fd is None:
        conn._check_closed()  # raises the OSError recv_bytes would
    head = _read(fd, 4)
    if len(head) != 4:
        head = _read_rest(fd, head, 4)
    size = _HEADER.unpack(head)[0]
    if size == -1:
        size = _LONG_HEADER.unpack(_read_exact(fd, 8))[0]
    if size <= 0:
        return b""
    data = _read(fd, size)
    return data if len(data) == size else _read_rest(fd, data, size)


def _unwrap(obj: Any) -> Any:
    if type(obj) is tuple and len(obj) == 3 and type(obj[0]) is bytes and obj[0] == _MAGIC:
        return obj[2]
    return obj


_SCALARS = frozenset((type(None), bool, int, float, str, bytes, complex))
# What the C pickler writes itself, never asking a dispatch table: the same bytes whatever
# reducers ForkingPickler was given (complex is pickled through copyreg, so it is not here).
_FEED_PLAIN = _SCALARS - {complex}


def _tuple_label(obj: tuple) -> tuple[int, float]:
    """Label and value of a tuple item; trial-pickles it unless it holds only scalars."""
    if len(obj) > 16 or any(type(x) not in _SCALARS for x in obj):
        _check_picklable(obj)
    return label_of(obj)


def _check_picklable(obj: Any) -> None:
    """Trial-pickle an item that is not plainly picklable (costs ~5 µs, so only for those)."""
    try:
        _dumps(obj)
    except Exception as exc:
        raise UnpicklableTaskError(
            f"task {reprlib.repr(obj)} cannot be put on the queue: it cannot be pickled "
            f"({type(exc).__name__}: {exc})"
        ) from exc


def _feed_dumps(obj: Any) -> Any:
    """Pickle one queued item as ``ForkingPickler.dumps`` would, 5-10x faster for plain items.

    ForkingPickler builds a pickler and copies its dispatch table for every item (about 4 µs
    here, most of what a queue's feeder thread spends per item); for numbers, strings, None
    and tuples of them the C pickler writes the very same bytes in a tenth of the time.
    Anything else (connections, sockets, user classes) still goes through ForkingPickler.
    """
    inner = obj[2] if type(obj) is tuple and len(obj) == 3 and obj[0] is _MAGIC else obj
    t = type(inner)
    if t is tuple:
        if (len(inner) == 2 and type(inner[0]) is int and type(inner[1]) is float) or (
            len(inner) <= 16 and all(type(x) in _FEED_PLAIN for x in inner)
        ):
            return _plain_dumps(obj)
    elif t in _FEED_PLAIN:
        return _plain_dumps(obj)
    return _dumps(obj)


def _feed(
    buffer: deque,
    notempty: threading.Condition,
    send_bytes: Callable[[Any], None],
    writelock: Any,
    reader_close: Callable[[], None],
    writer_close: Callable[[], None],
    ignore_epipe: bool,
    onerror: Callable[[Exception, Any], None],
    queue_sem: Any,
    send_raw: Callable[[Any], None] | None = None,
) -> None:
    """CPython's ``Queue._feed`` (the same in 3.10-3.13), with two changes that keep the bytes
    on the pipe identical: ``_feed_dumps`` pickles, and with ``send_raw`` (the pipe's own
    write-all) the messages of items queued together go out in one write of up to
    ``FEED_CHUNK_BYTES`` instead of one write each.

    One write per item costs a system call and usually a wake-up of the reader: under a flood
    that made the feeder, not the consumers, the slowest part of a run. The reader still gets
    one message per item, each framed as ``Connection.send_bytes`` frames it.
    """
    nacquire = notempty.acquire
    nrelease = notempty.release
    nwait = notempty.wait
    bpopleft = buffer.popleft
    sentinel = _mpq._sentinel
    if sys.platform != "win32":
        wacquire = writelock.acquire
        wrelease = writelock.release
    else:
        wacquire = None
        send_raw = None
    pack = _HEADER.pack
    chunk: list[Any] = []  # framed messages waiting for one write
    in_chunk = 0  # items framed in ``chunk``: what a failed write takes with it
    in_hand = False  # an item taken from the buffer, neither framed nor written yet
    size = 0  # bytes in ``chunk``
    closing = False  # the sentinel was taken: the thread ends whatever happens next
    last: Any = None  # the last item taken, for ``onerror``

    def write(data: Any, raw: bool) -> None:
        send = send_raw if raw else send_bytes
        if wacquire is None:
            send(data)
            return
        wacquire()
        try:
            send(data)
        finally:
            wrelease()

    def flush() -> None:
        nonlocal in_chunk, size
        if chunk:
            data = b"".join(chunk)
            chunk.clear()
            write(data, True)  # if it raises, in_chunk still counts what was lost
        in_chunk = size = 0

    while True:
        try:
            nacquire()
            try:
                if not buffer:
                    nwait()
            finally:
                nrelease()
            try:
                while True:
                    obj = bpopleft()
                    if obj is sentinel:
                        closing = True
                        flush()
                        reader_close()
                        writer_close()
                        return
                    last = obj
                    in_hand = True
                    try:
                        data = _feed_dumps(obj)
                    except Exception:
                        flush()  # only this item is lost (as in CPython), not the ones before
                        raise
                    n = len(data)
                    if send_raw is None or n > _SMALL_MESSAGE:
                        flush()
                        write(data, False)
                        in_hand = False
                        continue
                    chunk.append(pack(n))
                    chunk.append(data)
                    in_chunk += 1
                    in_hand = False
                    size += n + 4
                    if size >= FEED_CHUNK_BYTES:
                        flush()
            except IndexError:
                flush()
        except Exception as e:
            lost = in_chunk + in_hand
            chunk.clear()
            in_chunk = size = 0
            in_hand = False
            if ignore_epipe and getattr(e, "errno", 0) == errno.EPIPE:
                return
            if _mp_util.is_exiting():
                _mp_util.info("error in queue thread: %s", e)
                return
            # Items that never reached the pipe: give their slots back, as CPython's feeder
            # does for its one item. (A write that fails part-way may have put whole
            # messages before the failure on the pipe; only EPIPE does that, and then no
            # one reads them.)
            for _ in range(lost):
                queue_sem.release()
            onerror(e, last)
            if closing:
                # close() was called: end as CPython's feeder would after its last item.
                reader_close()
                writer_close()
                return


# Our feeder replaces CPython's only where its internals are the ones it was copied from.
_FEED_ARGS = (
    "buffer", "notempty", "send_bytes", "writelock", "reader_close", "writer_close",
    "ignore_epipe", "onerror", "queue_sem",
)
_code = _mpq.Queue._feed.__code__
_FAST_FEED = _code.co_varnames[: _code.co_argcount] == _FEED_ARGS and hasattr(_mpq, "_sentinel")
# The lean get/task_done read a POSIX pipe's fd and a SemLock's C object directly.
_FAST_IO = sys.platform != "win32" and hasattr(_mp_conn.Connection, "_recv")
