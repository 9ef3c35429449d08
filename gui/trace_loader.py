"""TraceLoader: reads a trace file and prepares its Replayer on a worker thread, with progress."""

from __future__ import annotations

import bisect
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal

from engine.events import effect_time
from engine.replay import Replayer
from engine.tracefile import Trace, TraceError, read_trace
from gui.background import BackgroundJob, Current

# Share of the progress bar given to reading the file; the rest is the Replayer's merge of the
# streams, which takes about a fifth of the time of parsing and checking.
READ_SHARE = 0.85


class LoadCancelled(Exception):
    """Raised from the progress callback to abandon a load nobody waits for any more."""


@dataclass
class LoadedRun:
    """A trace ready to replay: the file's content, its Replayer and its records' times."""

    trace: Trace
    replayer: Replayer
    times: list[float]  # every record's effective time (run-relative s), sorted
    load_s: float  # wall seconds from the start of the load to ready

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


def load_run(
    path: str,
    *,
    on_warning: Callable[[str], object] | None = None,
    progress: Callable[[float], object] | None = None,
) -> LoadedRun:
    """Read and prepare ``path`` in the calling thread. Raises TraceError (or LoadCancelled)."""
    started = time.perf_counter()

    def read_progress(f: float) -> None:
        if progress is not None:
            progress(f * READ_SHARE)

    trace = read_trace(path, on_warning=on_warning, progress=read_progress)
    replayer = Replayer(trace)
    if progress is not None:
        progress(READ_SHARE + (1 - READ_SHARE) * 0.6)
    times = effective_times(trace, replayer.t0)
    if progress is not None:
        progress(1.0)
    return LoadedRun(trace, replayer, times, time.perf_counter() - started)


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
