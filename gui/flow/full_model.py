"""FullModelBuilder: the whole recorded run fed into a model of its own, off the GUI thread.

The replay's playback feeds its model only up to the playhead, bit by bit; a seek forwards in a
1,000,000-event trace would wait for that feeding. Once this model holds the whole run, the
flow view cuts it at any time at once (engine/flow_layout.py), forwards and backwards.
"""

from __future__ import annotations

import threading
import time

from PySide6.QtCore import QObject, Signal

from engine.model import RunModel
from engine.tracefile import Trace, gc_paused

# Batches per feed: small, so the GUI thread gets the interpreter back often (a feed holds it
# through its numpy work); a pause after each lets it in.
CHUNK = 8
PROGRESS_EVERY = 0.02


class _Cancelled(Exception):
    pass


class FullModelBuilder(QObject):
    """Builds one trace's full model on a thread; the result comes back as a queued signal."""

    sig_progress = Signal(float)  # 0..1
    sig_ready = Signal(object)  # (trace, RunModel)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._generation = 0
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.trace: Trace | None = None

    def start(self, trace: Trace) -> None:
        with self._lock:
            self._generation += 1
            gen = self._generation
        self.trace = trace
        self._thread = threading.Thread(
            target=self._work, args=(trace, gen), name="queuelab-flow-model", daemon=True
        )
        self._thread.start()

    def cancel(self) -> None:
        with self._lock:
            self._generation += 1
        self.trace = None

    def wait(self, timeout: float | None = None) -> bool:
        t = self._thread
        if t is not None:
            t.join(timeout)
            return not t.is_alive()
        return True

    def _current(self, gen: int) -> bool:
        with self._lock:
            return gen == self._generation

    def _work(self, trace: Trace, gen: int) -> None:
        batches = trace.batches
        model = RunModel()
        last = 0.0
        try:
            with gc_paused():
                for i in range(0, len(batches), CHUNK):
                    if not self._current(gen):
                        raise _Cancelled
                    model.feed(batches[i : i + CHUNK])
                    time.sleep(0)  # let the GUI thread run
                    f = min(1.0, (i + CHUNK) / max(1, len(batches)))
                    if f - last >= PROGRESS_EVERY:
                        last = f
                        self.sig_progress.emit(f)
        except _Cancelled:
            return
        if self._current(gen):
            self.sig_ready.emit((trace, model))
