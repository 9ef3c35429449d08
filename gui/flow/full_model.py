"""FullModelBuilder: the whole recorded run fed into a model of its own, off the GUI thread.

The replay's playback feeds its model only up to the playhead, bit by bit; a seek forwards in a
1,000,000-event trace would wait for that feeding. Once this model holds the whole run, the
flow view cuts it at any time at once (engine/flow_layout.py), forwards and backwards.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QObject, Signal

from engine.model import RunModel
from engine.tracefile import Trace, gc_paused
from gui.background import BackgroundJob, Current

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
        self._job = BackgroundJob("queuelab-flow-model")
        self.trace: Trace | None = None

    def start(self, trace: Trace) -> None:
        self.trace = trace
        self._job.start(lambda current: self._work(trace, current))

    def cancel(self) -> None:
        self._job.cancel()
        self.trace = None

    def wait(self, timeout: float | None = None) -> bool:
        return self._job.wait(timeout)

    def _work(self, trace: Trace, current: Current) -> None:
        batches = trace.batches
        model = RunModel()
        last = 0.0
        try:
            with gc_paused():
                for i in range(0, len(batches), CHUNK):
                    if not current():
                        raise _Cancelled
                    model.feed(batches[i : i + CHUNK])
                    time.sleep(0)  # let the GUI thread run
                    f = min(1.0, (i + CHUNK) / max(1, len(batches)))
                    if f - last >= PROGRESS_EVERY:
                        last = f
                        self.sig_progress.emit(f)
        except _Cancelled:
            return
        if current():
            self.sig_ready.emit((trace, model))
