"""TraceLoader: a trace read, its whole-run model fed and its Replayer made, off the GUI thread."""

from __future__ import annotations

import bisect
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal

from engine.events import effect_time
from engine.gcpause import gc_paused
from engine.inbox import Inbox, ListSource
from engine.model import RunModel
from engine.replay import Replayer
from engine.tracefile import Trace, TraceError, read_trace
from gui.background import BackgroundJob, Current

# Shares of the progress bar: reading the file, then the Replayer's merge of the streams
# (about a fifth of the time of parsing and checking); the rest is feeding the whole-run
# model, which costs about as much as the reading (both bounded by engine/model.py's speed).
READ_SHARE = 0.45
PREPARE_SHARE = 0.1
# How long one feeding step holds the loading thread before it reports progress and lets the
# GUI thread have the interpreter.
FEED_STEP_S = 0.05


class LoadCancelled(Exception):
    """Raised from the progress callback to abandon a load nobody waits for any more."""


@dataclass
class LoadedRun:
    """A trace ready to replay: the file's content, its Replayer, its records' times and the
    model of the whole run (fed once, in file order as ``replay_model``; the flow view cuts
    it at any playhead, forwards and backwards, engine/flow_layout.py)."""

    trace: Trace
    replayer: Replayer
    times: list[float]  # every record's effective time (run-relative s), sorted
    load_s: float  # wall seconds from the start of the load to ready
    model: RunModel | None = None  # the whole run (None: not fed, ``whole=False``)

    @property
    def duration_s(self) -> float:
        return self.replayer.duration_s

    @property
    def n_events(self) -> int:
        return len(self.times)

    def count_until(self, t_s: float) -> int:
        """How many records take effect at or before ``t_s`` (to size feeding steps)."""
        return bisect.bisect_right(self.times, t_s)


def effective_times(trace: Trace, t0: float) -> list[float]:
    """When each record takes effect, as RunModel orders it (puts and gets when they return)."""
    out = [
        effect_time(r) - t0
        for _, _, records in trace.batches
        for r in records
    ]
    out.sort()
    return out


def whole_run_model(
    trace: Trace, progress: Callable[[float], object] | None = None
) -> RunModel:
    """Every batch of ``trace`` fed through an inbox, as :func:`engine.replay.replay_model`
    does (the same chunks, so the same model), reporting 0..1 between steps."""
    model = RunModel()
    source = ListSource(trace.batches)
    inbox = Inbox(model, source)
    total = max(1, source.waiting())
    with gc_paused():
        while inbox.pending:
            inbox.poll(FEED_STEP_S)
            if progress is not None:
                progress(1.0 - source.waiting() / total)
            time.sleep(0)  # let the GUI thread run
    return model


def load_run(
    path: str,
    *,
    on_warning: Callable[[str], object] | None = None,
    progress: Callable[[float], object] | None = None,
    whole: bool = True,
) -> LoadedRun:
    """Read and prepare ``path`` in the calling thread (``whole``: and feed the whole-run
    model). Raises TraceError (or LoadCancelled, from ``progress``)."""
    started = time.perf_counter()
    fed_share = (1.0 - READ_SHARE - PREPARE_SHARE) if whole else 0.0
    scale = 1.0 / (1.0 - fed_share)

    def report(f: float) -> None:
        if progress is not None:
            progress(min(1.0, f))

    trace = read_trace(path, on_warning=on_warning,
                       progress=lambda f: report(f * READ_SHARE * scale))  # fmt: skip
    replayer = Replayer(trace)
    report((READ_SHARE + PREPARE_SHARE * 0.6) * scale)
    times = effective_times(trace, replayer.t0)
    report((READ_SHARE + PREPARE_SHARE) * scale)
    model = None
    if whole:
        base = READ_SHARE + PREPARE_SHARE
        model = whole_run_model(trace, lambda f: report(base + f * fed_share))
    report(1.0)
    return LoadedRun(trace, replayer, times, time.perf_counter() - started, model)


def warn_to_stderr(message: str) -> None:
    print(f"queuelab: warning: {message}", file=sys.stderr)


class TraceLoader(QObject):
    """Loads one trace at a time off the GUI thread; results come back as queued signals.

    Signals are emitted from the worker thread; Qt queues them to this object's (the GUI)
    thread, so slots run there. A newer :meth:`start` or :meth:`cancel` abandons the old load.
    """

    sig_progress = Signal(float)  # 0..1
    sig_warning = Signal(str)
    sig_loaded = Signal(object)  # LoadedRun
    sig_failed = Signal(str)  # one line naming the file and the line

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._job = BackgroundJob("queuelab-trace-load")

    @property
    def busy(self) -> bool:
        return self._job.busy

    def start(self, path: str) -> None:
        path = os.fspath(path)
        self._job.start(lambda current: self._work(path, current))

    def cancel(self) -> None:
        self._job.cancel()

    def wait(self, timeout: float | None = None) -> bool:
        """Join the worker thread (tests, window close); True when it has ended."""
        return self._job.wait(timeout)

    def _work(self, path: str, current: Current) -> None:
        last = [-1.0]

        def progress(f: float) -> None:
            if not current():
                raise LoadCancelled
            # A signal per percent: more would flood the GUI thread's queue for nothing.
            if f - last[0] >= 0.01 or f >= 1.0:
                last[0] = f
                self.sig_progress.emit(f)

        def warning(message: str) -> None:
            warn_to_stderr(message)
            if current():
                self.sig_warning.emit(message)

        try:
            loaded = load_run(path, on_warning=warning, progress=progress)
        except LoadCancelled:
            return
        except TraceError as exc:
            if current():
                self.sig_failed.emit(str(exc))
            return
        except (OSError, MemoryError, ValueError) as exc:
            # No traceback reaches the user, whatever the file did to the reader.
            if current():
                self.sig_failed.emit(f"{path}: cannot load: {exc}")
            return
        if current():
            self.sig_loaded.emit(loaded)
