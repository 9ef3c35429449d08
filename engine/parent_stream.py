"""The parent's own stream (0) on its way to the source: in order, held a moment at a join's end."""

from __future__ import annotations

import threading
from collections.abc import Callable

from engine.events import Kind

Batch = tuple[int, int, list[tuple]]
_JOIN_END = int(Kind.JOIN_END)


class ParentStream:
    """Hands the parent's batches on in their order; once armed, holds them back from the
    batch holding JOIN_END until :meth:`release`.

    The join's end is stamped when the counter reached zero, but the workers' task_done
    records that brought it there may still be in their buffers for a few milliseconds: the
    hold lets them reach the model first, so every log shows them before "all tasks are
    processed". Holding the stream, not that one record, keeps the stream in time order (a
    record sent late with its early stamp went out behind the collector's later PROC_EXITs).
    """

    def __init__(self, put: Callable[[Batch], None]) -> None:
        self._put = put
        self._lock = threading.Lock()
        self._armed = False
        self._held: list[Batch] | None = None

    def deliver(self, batch: Batch) -> None:
        """The recorder's ``send``: called in the stream's order (under its lock)."""
        with self._lock:
            if self._armed and any(r[0] == _JOIN_END for r in batch[2]):
                self._armed = False
                self._held = []
            if self._held is not None:
                self._held.append(batch)
                return
            self._put(batch)

    def arm(self) -> None:
        """Hold from the next JOIN_END on."""
        with self._lock:
            self._armed = True

    def release(self) -> None:
        """Hand on what was held, and hold no more (nor later: disarmed)."""
        with self._lock:
            held, self._held, self._armed = self._held or [], None, False
            for batch in held:
                self._put(batch)
