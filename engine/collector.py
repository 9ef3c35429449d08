"""The parent's side of the event path: one pipe per worker, drained by one thread.

One channel per process means a worker killed while writing (even holding a lock) can only
break its own pipe (cpython#87971 describes a shared Queue's write lock left held). The same
thread waits on every process's sentinel, so a death is seen as soon as it happens.

The thread only moves bytes: it hands each batch on still encoded. Decoding holds the GIL
(one C call per batch) and, done here, it landed in the middle of the GUI thread's frames; the
consumer (``Run.poll``) decodes within its own time budget instead.
"""

from __future__ import annotations

import selectors
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

Batch = tuple[int, int, list[tuple]]

# After a look that found only a little (short tasks: each shipped before its work), the
# thread waits this long before it looks again. Woken by every batch, it was woken ~2,500
# times a second by eight consumers of 1 ms tasks, and each wake-up preempted a measured
# worker on a 2-core machine: their main threads were switched out twice as often as a plain
# program's. A worker's pipe holds 64 KB, so meanwhile a batch or two wait there and no writer
# blocks; a flood's batches are large and are read without a pause.
PAUSE_S = 0.004
PAUSE_BELOW_BYTES = 16_384


class Collector:
    """``deliver(payload)`` gets each worker batch as the encoded bytes of a :data:`Batch`, in
    the order of its pipe; a worker's batches are all delivered before ``on_exit`` is called."""

    def __init__(self, deliver: Callable[[bytes], None], on_exit: Callable[[int, int], None]):
        self._deliver = deliver
        self._on_exit = on_exit
        self._conns: dict[Any, int] = {}  # reader -> src
        self._procs: dict[Any, tuple[int, Any]] = {}  # sentinel -> (src, process)
        self._reader_of: dict[int, Connection] = {}
        self._lock = threading.Lock()
        # One selector for the thread's whole life, told of each pipe and sentinel once:
        # multiprocessing.connection.wait() builds and fills a new one on every call (~60 us
        # with four pipes on a loaded machine, against ~1 us for a select), and the thread
        # wakes for every batch.
        self._sel = getattr(selectors, "PollSelector", selectors.SelectSelector)()
        self._changed = False  # add() since the selector was last brought up to date
        self._closing = threading.Event()
        self._thread: threading.Thread | None = None
        self.broken_messages = 0

    def add(self, src: int, reader: Connection | None, process: Any) -> None:
        with self._lock:
            if reader is not None:
                self._conns[reader] = src
                self._reader_of[src] = reader
            self._procs[process.sentinel] = (src, process)
            self._changed = True

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="queuelab-collector", daemon=True)
        self._thread.start()

    def close(self, timeout: float = 2.0) -> None:
        """Stop after the processes are gone; their remaining events are still delivered."""
        self._closing.set()
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _loop(self) -> None:
        try:
            self._serve()
        finally:
            self._sel.close()

    def _serve(self) -> None:
        while True:
            with self._lock:
                waitables = list(self._conns) + list(self._procs)
                changed, self._changed = self._changed, False
            if not waitables:
                return
            if changed:
                self._sync(waitables)
            if self._closing.is_set() and not self._procs:
                # Every process is gone and reaped: what is left in the pipes is all there is.
                for reader in list(self._conns):
                    self._drain(reader)
                return
            ready = self._sel.select(0.05)
            got = 0
            while ready:
                for key, _ in ready:
                    obj = key.fileobj
                    if obj in self._conns:
                        got += self._read_one(obj)
                    elif obj in self._procs:
                        self._reap(obj)
                if got >= PAUSE_BELOW_BYTES:
                    break
                # Everything that is there now, so the pause leaves no pipe behind.
                ready = self._sel.select(0)
            if 0 < got < PAUSE_BELOW_BYTES and not self._closing.is_set():
                time.sleep(PAUSE_S)

    def _sync(self, waitables: list[Any]) -> None:
        """Register what add() added since the last look (the collector's thread only)."""
        known = {key.fileobj for key in self._sel.get_map().values()}
        for obj in waitables:
            if obj not in known:
                self._sel.register(obj, selectors.EVENT_READ)

    def _read_one(self, reader: Connection) -> int:
        """Hand on one batch; its size in bytes (0: the pipe ended or broke)."""
        try:
            payload = reader.recv_bytes()
        except EOFError:
            self._drop(reader)
            return 0
        except Exception:
            # A writer killed mid-message leaves a torn batch; its seq gap is counted later.
            self.broken_messages += 1
            self._drop(reader)
            return 0
        self._deliver(payload)
        return len(payload)

    def _drain(self, reader: Connection) -> None:
        # Asks the thread's selector, not reader.poll(0): that builds a selector per call too.
        while reader in self._conns:
            if reader not in {key.fileobj for key, _ in self._sel.select(0)}:
                break
            self._read_one(reader)
        self._drop(reader)

    def _drop(self, reader: Connection) -> None:
        with self._lock:
            src = self._conns.pop(reader, None)
            if src is not None:
                self._reader_of.pop(src, None)
        if src is not None:  # the first drop: still registered and open
            self._forget(reader)
        try:
            reader.close()
        except OSError:
            pass

    def _forget(self, obj: Any) -> None:
        """Stop selecting ``obj`` (before it is closed: a closed pipe has no fileno)."""
        try:
            self._sel.unregister(obj)
        except (KeyError, ValueError):
            pass  # never registered (dropped before the first select)

    def _reap(self, sentinel: Any) -> None:
        with self._lock:
            src, process = self._procs.pop(sentinel)
        self._forget(sentinel)
        process.join(1.0)
        reader = self._reader_of.get(src)
        if reader is not None:
            self._drain(reader)
        code = process.exitcode
        self._on_exit(src, -9 if code is None else code)
