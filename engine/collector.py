"""The parent's side of the event path: one pipe per worker, drained by one thread.

One channel per process means a worker killed while writing (even holding a lock) can only
break its own pipe (cpython#87971 describes a shared Queue's write lock left held). The same
thread waits on every process's sentinel, so a death is seen as soon as it happens.

The thread only moves bytes: it hands each batch on still encoded. Decoding holds the GIL
(one C call per batch) and, done here, it landed in the middle of the GUI thread's frames; the
consumer (``Run.poll``) decodes within its own time budget instead.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from multiprocessing.connection import Connection, wait
from typing import Any

Batch = tuple[int, int, list[tuple]]


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
        self._closing = threading.Event()
        self._thread: threading.Thread | None = None
        self.broken_messages = 0

    def add(self, src: int, reader: Connection | None, process: Any) -> None:
        with self._lock:
            if reader is not None:
                self._conns[reader] = src
                self._reader_of[src] = reader
            self._procs[process.sentinel] = (src, process)

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
        while True:
            with self._lock:
                waitables = list(self._conns) + list(self._procs)
            if not waitables:
                return
            if self._closing.is_set() and not self._procs:
                # Every process is gone and reaped: what is left in the pipes is all there is.
                for reader in list(self._conns):
                    self._drain(reader)
                return
            for obj in wait(waitables, timeout=0.05):
                if obj in self._conns:
                    self._read_one(obj)
                elif obj in self._procs:
                    self._reap(obj)

    def _read_one(self, reader: Connection) -> bool:
        try:
            payload = reader.recv_bytes()
        except EOFError:
            self._drop(reader)
            return False
        except Exception:
            # A writer killed mid-message leaves a torn batch; its seq gap is counted later.
            self.broken_messages += 1
            self._drop(reader)
            return False
        self._deliver(payload)
        return True

    def _drain(self, reader: Connection) -> None:
        while reader in self._conns:
            try:
                if not reader.poll(0):
                    break
            except (OSError, EOFError):
                self._drop(reader)
                break
            self._read_one(reader)
        self._drop(reader)

    def _drop(self, reader: Connection) -> None:
        with self._lock:
            src = self._conns.pop(reader, None)
            if src is not None:
                self._reader_of.pop(src, None)
        try:
            reader.close()
        except OSError:
            pass

    def _reap(self, sentinel: Any) -> None:
        with self._lock:
            src, process = self._procs.pop(sentinel)
        process.join(1.0)
        reader = self._reader_of.get(src)
        if reader is not None:
            self._drain(reader)
        code = process.exitcode
        self._on_exit(src, -9 if code is None else code)
