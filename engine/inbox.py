"""The one road from a source of records to the model: RecordSource, its kinds, and Inbox.

Every source of records - a live run's worker pipes (engine/runner.py), a traced user program
(engine/trace_session.py), a recorded run being replayed (engine/replay.py) and step mode -
is a :class:`RecordSource`. An :class:`Inbox` takes whole batches from one source, hands each
to its listeners (the trace writer) and feeds the model in chunks within a time budget,
returning the applied ``(src, record)`` pairs (an :class:`~engine.applied.Applied`). How often
and for how long it is polled is the caller's to decide (the GUI's frame clock, the CLI's
loop); nothing here paces itself.

A source is small on purpose (step mode implements it):

- ``take() -> Batch | None``: the next whole batch ``(src, first_seq, [record, ...])``,
  decoded, or None when none is waiting now. Called from the polling thread only.
- ``waiting() -> int``: batches waiting (an estimate is fine; 0 means none).
- ``wait(timeout_s)``: block up to ``timeout_s`` until a batch may be waiting.
- ``done``: True once no batch will ever come again beyond those waiting.
- ``now() -> float | None``: the source's clock in ``perf_counter`` seconds: the wall clock
  for a live source, the playhead for a replay, the held instant for a stepped run; None
  when it has none. Views draw up to it.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from typing import Protocol

from engine.applied import Applied
from engine.recorder import decode_batch

Batch = tuple[int, int, list[tuple]]
perf_counter = time.perf_counter
# Records fed to the model between two looks at the clock: a flood's put/get/task_done runs go
# through the model's bulk path (a few ms for this many); other records cost ~7 µs each.
FEED_CHUNK = 4096


class RecordSource(Protocol):
    """Where an :class:`Inbox` takes its batches from (see the module's docstring)."""

    def take(self) -> Batch | None: ...

    def waiting(self) -> int: ...

    def wait(self, timeout_s: float) -> None: ...

    @property
    def done(self) -> bool: ...

    def now(self) -> float | None: ...


class QueueSource:
    """Batches handed over by other threads (a collector, a socket reader), in arrival order.

    ``put`` takes a decoded batch; ``put_raw`` an encoded one (``engine.recorder.encode_batch``),
    kept encoded until :meth:`take` (on the polling thread) so the delivering thread only moves
    bytes and does not hold the interpreter lock in the middle of the window's frames under a
    flood. A batch that arrived
    whole but will not decode is counted in ``undecodable`` and skipped: its records become
    a sequence gap, counted as lost by the model like those of a torn message.
    """

    def __init__(self) -> None:
        self._q: deque[Batch | bytes] = deque()
        self._wake = threading.Event()
        self._done = threading.Event()
        self.undecodable = 0
        # The bytes the batch :meth:`take` returned last came in (None: it came decoded): a
        # listener that keeps batches as bytes (engine/tracefile/spool.py) writes them as
        # they are instead of encoding the decoded batch again.
        self.last_payload: bytes | None = None

    def put(self, batch: Batch) -> None:
        self._q.append(batch)
        self._wake.set()

    def put_raw(self, payload: bytes) -> None:
        self._q.append(payload)
        self._wake.set()

    def wake(self) -> None:
        """End a :meth:`wait` early with nothing new: something besides records (step
        mode's gate messages) wants the polling thread to look again."""
        self._wake.set()

    def finish(self) -> None:
        """No batch will be put after this one (the run or program has ended)."""
        self._done.set()
        self._wake.set()

    def take(self) -> Batch | None:
        q = self._q
        while q:
            entry = q.popleft()
            if type(entry) is not bytes:
                self.last_payload = None
                return entry  # type: ignore[return-value]
            try:
                batch = decode_batch(entry)
            except Exception:
                self.undecodable += 1
                continue
            self.last_payload = entry
            return batch
        self._wake.clear()
        if q:  # put between the last look and the clear
            self._wake.set()
        return None

    def waiting(self) -> int:
        return len(self._q)

    def wait(self, timeout_s: float) -> None:
        if not self._q:
            self._wake.wait(timeout_s)

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def now(self) -> float | None:
        return None if self.done else perf_counter()


class ListSource:
    """The batches of a recorded run, all there from the start (file order = arrival order)."""

    def __init__(self, batches: Iterable[Batch]) -> None:
        self._batches = list(batches)
        self._i = 0

    def take(self) -> Batch | None:
        if self._i >= len(self._batches):
            return None
        self._i += 1
        return self._batches[self._i - 1]

    def waiting(self) -> int:
        return len(self._batches) - self._i

    def wait(self, timeout_s: float) -> None:
        """Nothing to wait for: every batch is already here."""

    @property
    def done(self) -> bool:
        return True

    def now(self) -> float | None:
        return None


class Inbox:
    """Takes batches from a source, tells the listeners, feeds the model; one thread only."""

    def __init__(self, model, source: RecordSource, *, chunk: int = FEED_CHUNK) -> None:
        self.model = model  # a RunModel (not imported: the model imports nothing of this)
        self.source = source
        self.chunk = chunk
        self._rest: Batch | None = None  # the tail of a batch poll split, fed first next time
        self._listeners: list[Callable[[Batch], None]] = []
        self.received_batches = 0
        self.received_records = 0  # counted only when not feeding (benchmarks)

    def add_listener(self, listener: Callable[[Batch], None]) -> None:
        """Also hand every batch to ``listener``, in the order the model gets them.

        Called as :meth:`poll` takes each whole batch from the source, before the model sees
        any of it. It must not raise; the trace writer uses it.
        """
        self._listeners.append(listener)

    @property
    def pending(self) -> int:
        """Batches (or what is left of one) not fed to the model yet."""
        return self.source.waiting() + (self._rest is not None)

    @property
    def drained(self) -> bool:
        """The source is done and everything it gave was fed."""
        return self.source.done and not self.pending

    def _next(self) -> Batch | None:
        batch, self._rest = self._rest, None
        if batch is not None:
            return batch
        batch = self.source.take()
        if batch is not None:
            self.received_batches += 1
            for listener in self._listeners:
                listener(batch)
        return batch

    def poll(self, budget_s: float = 0.01, wait_s: float = 0.0, *, feed: bool = True) -> Applied:
        """Feed waiting batches to the model for about ``budget_s``; returns what was applied.

        ``wait_s`` blocks that long for the first batch when none is waiting. The budget is
        checked between chunks of ``chunk`` records, so a backlog never holds the caller much
        past it. ``feed=False`` (benchmarks) measures the event path without the reducer.
        """
        if wait_s > 0 and self._rest is None:
            self.source.wait(wait_s)
        deadline = perf_counter() + budget_s
        applied = Applied()
        limit = self.chunk
        while True:
            batches: list[Batch] = []
            n = 0
            while n < limit:
                batch = self._next()
                if batch is None:
                    break
                src, first, records = batch
                if n + len(records) > limit:
                    # A worker's batch holds up to 2048 records (15-30 ms of reducing under a
                    # flood): feed its head now and keep the rest first in line.
                    take = max(limit - n, 1)
                    self._rest = (src, first + take, records[take:])
                    batch = (src, first, records[:take])
                batches.append(batch)
                n += len(batch[2])
            if not batches:
                break
            if feed:
                applied.extend(self.model.feed(batches))
            else:
                self.received_records += n
            if perf_counter() > deadline:
                break
        return applied
