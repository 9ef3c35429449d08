"""Per-process event recorder: buffers compact records and ships them in numbered batches."""

from __future__ import annotations

import atexit
import io
import itertools
import marshal
import os
import pickle
import select
import signal
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any

from engine.events import Kind

perf_counter = time.perf_counter
_WORKER_EXIT = int(Kind.WORKER_EXIT)  # plain ints: pickling an IntEnum member costs a global lookup

# Batches of this many records keep pickling cost per record near 0.1 µs; the interval bounds
# how long an event may wait in the buffer (the latency goal is 50 ms at p95).
BATCH_RECORDS = 2048
FLUSH_INTERVAL_S = 0.012
TERM_RESEND_S = 0.05  # a caught SIGTERM whose handler has not run by then is sent again


def dumps_batch(batch: tuple[int, int, list[tuple]]) -> bytes:
    """Pickle a batch without the memo: 2-3x faster than ``Connection.send`` for our records.

    The pickler's memo (which lets shared or recursive objects be written once) costs about
    150 ns per record tuple, half of what a traced task spends on recording. Records are flat
    tuples of numbers and short strings, never shared or recursive, so "fast" mode is safe; the
    reader needs nothing special (``Connection.recv`` unpickles it as usual).
    """
    f = io.BytesIO()
    p = pickle.Pickler(f, pickle.HIGHEST_PROTOCOL)
    p.fast = True  # deprecated spelling, still the C pickler's way to skip the memo
    p.dump(batch)
    return f.getvalue()


def encode_batch(batch: tuple[int, int, list[tuple]]) -> bytes:
    """A worker's batch as bytes for its pipe: ``marshal`` (format 2), else pickle.

    Records are flat tuples of ints, floats and short strings, which is what marshal writes
    fastest: ~60 ns a record against the memo-less pickler's ~110, and decoded in ~130 ns
    against ``pickle.loads``' ~155 (2048-record batches). Format 2 keeps no back-references
    (the reference table of 3+ costs as much as pickle's memo). Both ends are the same
    interpreter, so marshal's version-bound format is no concern. A batch holding anything
    marshal refuses (an IntEnum member, say) goes out pickled: :func:`decode_batch` tells the
    two apart by the first byte (pickle's PROTO opcode is 0x80, never a marshal type code of
    format 2).
    """
    try:
        return marshal.dumps(batch, 2)
    except ValueError:
        return dumps_batch(batch)


def decode_batch(payload: bytes) -> tuple[int, int, list[tuple]]:
    """The batch :func:`encode_batch` (or :func:`dumps_batch`) made; raises on a bad payload."""
    if payload[0] == 0x80:
        return pickle.loads(payload)  # type: ignore[no-any-return]
    batch = marshal.loads(payload)
    if type(batch) is not tuple or len(batch) != 3 or type(batch[2]) is not list:
        raise ValueError("not a batch of records")
    return batch  # type: ignore[no-any-return]


def connection_sender(conn: Any) -> Callable[[tuple[int, int, list[tuple]]], None]:
    """A ``send`` for :class:`Recorder` that writes batches to a multiprocessing Connection."""
    send_bytes = conn.send_bytes

    def send(batch: tuple[int, int, list[tuple]]) -> None:
        send_bytes(encode_batch(batch))

    return send


class Recorder:
    """Collects records of one stream (``src``) and hands batches to ``send``.

    ``emit`` is called from any thread of the process without a lock: ``list.append`` is
    atomic under the GIL, and ``flush`` takes a prefix slice and deletes exactly that prefix, so
    a record appended concurrently stays for the next batch instead of being lost.
    """

    def __init__(
        self,
        src: int,
        send: Callable[[tuple[int, int, list[tuple]]], None],
        *,
        batch: int = BATCH_RECORDS,
        interval: float = FLUSH_INTERVAL_S,
        tid_base: int | None = None,
    ) -> None:
        self.src = src
        self._send = send
        self._batch = batch
        self._interval = interval
        self._buf: list[tuple] = []
        self._lock = threading.Lock()
        self._sent = 0
        self._last_flush = perf_counter()
        # When the next record should go out at once (the hot path compares its own clock
        # reading to this instead of subtracting two attributes).
        self.due = self._last_flush + interval
        # Task identities: unique across processes (the stream number in the high bits);
        # itertools.count because a put spends its budget in tens of nanoseconds.
        self.tids = itertools.count(((src if tid_base is None else tid_base) << 32) + 1)
        self._thread: threading.Thread | None = None
        self._closed = threading.Event()
        self._pending: list[Callable[[], None]] = []  # records held open (a run of Empty)
        self.broken = False
        self._wake_r: int | None = None  # read end of the signal wakeup pipe (see _watch_term)
        self._term_since: float | None = None  # a SIGTERM was caught, its handler not yet run
        self._terminating = False
        _recorders.add(self)

    @property
    def records_sent(self) -> int:
        return self._sent

    def emit(self, record: tuple) -> None:
        buf = self._buf
        buf.append(record)
        if len(buf) >= self._batch or record[1] >= self.due:
            self.flush()

    def flush(self) -> None:
        with self._lock:
            self._flush_locked()

    def _flush_locked(self) -> None:
        buf = self._buf
        n = len(buf)
        if not n or self.broken:
            return
        chunk = buf[:n]
        del buf[:n]
        first = self._sent
        self._sent += n
        self._last_flush = now = perf_counter()
        self.due = now + self._interval
        try:
            self._send((self.src, first, chunk))
        except (OSError, EOFError, ValueError):
            # The parent is gone or closed the channel; nobody is left to tell.
            self.broken = True

    def _disown(self) -> None:
        """In a forked child: this copy's records are its parent's, so it ships nothing, ever
        (its atexit hook and SIGTERM handler are still chained there, and would send them
        again with the parent's numbering)."""
        self.broken = True
        self._buf.clear()
        self._pending.clear()
        self._lock = threading.Lock()  # the copy may be held by a thread the child lacks
        self._thread = None
        self._wake_r = None
        self._term_since = None

    def watch_pending(self, close: Callable[[], None]) -> None:
        """``close()`` appends a record still held open; called before the process ends."""
        self._pending.append(close)

    def unwatch_pending(self, close: Callable[[], None]) -> None:
        try:
            self._pending.remove(close)
        except ValueError:
            pass

    def flush_all(self, wait_s: float | None = None) -> bool:
        """Close held records and ship everything; False when the lock could not be had.

        ``wait_s`` bounds the wait for the lock: a signal handler may interrupt this very
        thread inside a flush, and then waiting would never end (the batch in progress is sent
        whole; only what came after it is lost).
        """
        for close in list(self._pending):
            close()
        self._pending.clear()
        if wait_s is None:
            self.flush()
            return True
        if not self._lock.acquire(timeout=wait_s):
            return False
        try:
            self._flush_locked()
        finally:
            self._lock.release()
        return True

    def start_flusher(self) -> None:
        """Flush from a thread too, so events of a worker blocked in get() still arrive."""
        self._thread = threading.Thread(target=self._flush_loop, name="queuelab-flush", daemon=True)
        self._thread.start()

    def _flush_loop(self) -> None:
        # Only for a worker that went quiet (blocked in get, sleeping): a busy one flushes on
        # its own thread. Pickling here would make the two threads trade the GIL, which
        # cost a traced run more than the records themselves.
        #
        # It looks no earlier than a flush could be due. Each look takes the GIL from a
        # main thread that may be computing (a cpu task), and a plain program's worker has
        # no second thread: looking every 6 ms cost a consumer of 1 ms tasks ~2,500 more
        # context switches a second, some while it held the queue's read lock. An empty
        # buffer needs no look before 2 intervals either: a record made after ``due``
        # flushes itself, so only one made just before it can wait here.
        span = 2 * self._interval
        while not self._closed.is_set():
            timeout = span
            if self._buf:
                timeout = max(self._last_flush + span - perf_counter(), self._interval / 2)
            if self._wake_r is None:
                # Capped: flush_at_exit may hand this loop a wakeup pipe once it runs.
                self._closed.wait(min(timeout, TERM_RESEND_S))
            else:
                self._watch_wakeups(timeout)
            if self._buf and perf_counter() - self._last_flush >= span:
                self.flush()

    def _watch_wakeups(self, timeout: float) -> None:
        """Wait up to ``timeout`` on the wakeup pipe; re-send a SIGTERM whose handler is stuck.

        CPython runs a Python signal handler only in the main thread, between bytecodes. A
        SIGTERM caught by another thread, or by the main thread just before it enters a
        blocking call (the semaphore wait of a ``get()``), leaves the handler pending while the
        main thread sleeps, possibly for ever: a plain program, dying of the default action,
        has no such window. Sent again to the main thread itself, the signal interrupts that
        wait, and the handler runs.
        """
        r = self._wake_r
        assert r is not None
        if self._term_since is not None:
            timeout = min(timeout, TERM_RESEND_S)
        if select.select([r], [], [], timeout)[0]:
            try:
                caught = os.read(r, 512)
            except OSError:
                caught = b""
            if signal.SIGTERM in caught and self._term_since is None:
                self._term_since = perf_counter()
        since = self._term_since
        if since is None or self._terminating:
            return
        if perf_counter() - since >= TERM_RESEND_S:
            self._term_since = perf_counter()
            signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGTERM)

    def close(self, exitcode: int | None = None) -> None:
        """Flush everything; with ``exitcode`` first record WORKER_EXIT carrying the total."""
        self._closed.set()
        if self._thread is not None:
            self._thread.join(1.0)
        for close in list(self._pending):
            close()
        self._pending.clear()
        if exitcode is not None:
            total = self._sent + len(self._buf) + 1
            self._buf.append((_WORKER_EXIT, perf_counter(), exitcode, total))
        self.flush()

    def flush_at_exit(self) -> None:
        """Ship this process's last records however it ends, as far as a process can.

        A daemon child is terminated (SIGTERM) when the main program exits, a worker may be
        stopped the same way, and a child started by multiprocessing leaves through
        ``os._exit`` after its finalizers: each path flushes first. SIGTERM then does what it
        did before (the previous handler, or the default death by the signal), so exit codes
        stay what the plain program gives. SIGKILL cannot be caught: its records are counted
        lost. Call from the main thread (signal handlers can only be set there).
        """
        atexit.register(self.flush_all, 0.5)
        from multiprocessing import util

        util.Finalize(None, self.flush_all, args=(0.5,), exitpriority=100)
        try:
            previous = signal.getsignal(signal.SIGTERM)
        except (AttributeError, ValueError):
            return
        # A forked child inherits its parent's handler: what counts is what was there before
        # any recorder (the parent's recorder, copied, has nothing of this process to ship).
        previous = getattr(previous, "queuelab_previous", previous)

        def on_term(signum: int, frame: object) -> None:
            self._terminating = True
            self.flush_all(0.2)
            if callable(previous):
                previous(signum, frame)
                return
            signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)
            os.kill(os.getpid(), signal.SIGTERM)

        on_term.queuelab_previous = previous  # type: ignore[attr-defined]
        try:
            signal.signal(signal.SIGTERM, on_term)
        except ValueError:
            return  # not the main thread: atexit and the finalizer still flush
        if previous in (signal.SIG_DFL, None):
            self._watch_term()

    def _watch_term(self) -> None:
        """Have the flusher thread see each caught signal (``signal.set_wakeup_fd``).

        Only where the plain program would die of SIGTERM's default action: a program with a
        handler of its own has CPython's delays with or without QueueLab. A wakeup fd set by
        the program itself is left alone (there is one per process).
        """
        global _wake_fds
        if not hasattr(signal, "pthread_kill"):
            return
        r, w = os.pipe()
        os.set_blocking(r, False)
        os.set_blocking(w, False)
        try:
            old = signal.set_wakeup_fd(w, warn_on_full_buffer=False)
        except ValueError:
            old = None
        if old != -1:
            if old is not None:
                signal.set_wakeup_fd(old)
            os.close(r)
            os.close(w)
            return
        _wake_fds = (r, w)
        self._wake_r = r
        if self._thread is None:
            self.start_flusher()


_current: Recorder | None = None
_recorders: weakref.WeakSet[Recorder] = weakref.WeakSet()  # every recorder of this process
_wake_fds: tuple[int, int] | None = None  # this process's wakeup pipe, if a recorder set one
_fork_mask: set[int] | None = None  # the forking thread's mask, while SIGTERM is held


def current() -> Recorder | None:
    return _current


def activate(recorder: Recorder | None) -> None:
    """Make ``recorder`` the one every TracedJoinableQueue in this process reports to."""
    global _current
    _current = recorder


def _ours(handler: object) -> bool:
    return hasattr(handler, "queuelab_previous")


def _before_fork() -> None:
    # A SIGTERM that reaches the child before it has run its at-fork hooks would meet our
    # handler there (CPython then forgets it: the plain program's child dies of it), or write
    # to the wakeup pipe the child shares with this process (which would take it for its
    # own). The forking thread holds SIGTERM back; the child takes it once its handler is
    # the plain program's again.
    global _fork_mask
    if _ours(signal.getsignal(signal.SIGTERM)):
        _fork_mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})


def _after_fork_in_parent() -> None:
    global _fork_mask
    if _fork_mask is not None:
        mask, _fork_mask = _fork_mask, None
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)


def _after_fork_in_child() -> None:
    # A forked child must not write into its parent's stream with the parent's numbering,
    # nor ship the parent's buffered records at its exit or on SIGTERM, nor write its caught
    # signals into the parent's wakeup pipe: everything of the parent's recorder is dropped,
    # and SIGTERM is handled as the program itself had it.
    global _wake_fds, _fork_mask
    activate(None)
    for rec in list(_recorders):
        rec._disown()
    if _wake_fds is not None:
        r, w = _wake_fds
        _wake_fds = None
        try:
            old = signal.set_wakeup_fd(-1)
            if old != w:
                signal.set_wakeup_fd(old)
        except ValueError:
            pass
        os.close(r)
        os.close(w)
    handler = signal.getsignal(signal.SIGTERM)
    if _ours(handler):
        previous = handler.queuelab_previous  # type: ignore[attr-defined]
        try:
            signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)
        except ValueError:
            pass
    if _fork_mask is not None:
        mask, _fork_mask = _fork_mask, None
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)  # a SIGTERM held back arrives now


if hasattr(os, "register_at_fork"):
    os.register_at_fork(
        before=_before_fork,
        after_in_parent=_after_fork_in_parent,
        after_in_child=_after_fork_in_child,
    )
