"""RunDriver: owns the current engine Run and pumps its events into the GUI on a timer."""

from __future__ import annotations

import gc
import os
import tempfile
import threading
import time

from PySide6.QtCore import QObject, Qt, QTimer, Signal

from engine.config import RunConfig
from engine.model import RunModel
from engine.runner import Run, RunStatus
from engine.tracefile import TraceWriter

# A tick either drains events, starts a frame or updates the event log, one of them only: each
# is one bounded turn of the event loop, and input, paints and other timers get their turn in
# between. Ticks come often so the drain keeps most of the time when frames are cheap.
POLL_INTERVAL_MS = 5
GC_FREEZE_EVERY_S = 1.0
POLL_BUDGET_S = 0.008  # one drain turn
MIN_POLL_BUDGET_S = 0.0002
FRAME_PERIOD_S = 1.0 / 60.0
# The event log gets ticks of its own, not a share of a chart frame's: laying out its lines
# in the same turn as the charts made the longest event-loop gaps under a flood.
LOG_PERIOD_S = 0.1
# A frame (views' refresh + the repaint) may cost more than a tick (big windows, slow GPUs,
# offscreen rasters, a flood): the frame period then stretches so frames take at most this
# share of the time and the drain keeps up.
MAX_PAINT_SHARE = 0.5
# While the drain cannot keep up (a flood), frames get a smaller share so the window falls
# less far behind the run (benchmarks/gui_flood.py, 2+2 workers: everything shown 6.9 s after
# the start at 22 frames/s, against 11.6 s at 33 frames/s with the usual share).
BEHIND_PAINT_SHARE = 0.3
COST_SMOOTHING = 0.3
RATE_WINDOW_S = 1.0


class RunDriver(QObject):
    """Starts, pauses, stops and discards Runs; polls the live one from the GUI thread.

    Data arrives in drain ticks (``sig_applied``) while repaints are coalesced to at most
    60 per second (``sig_frame``, in ticks of their own) and the event log's lines to 10 per
    second (``sig_log_frame``, in ticks of their own too), so a flood of events never starves
    the event loop.
    """

    sig_applied = Signal(list)  # [(src, record), ...] applied to the model this tick
    sig_frame = Signal()  # time to repaint views from the model
    sig_log_frame = Signal()  # time to bring the event log up to date (a tick of its own)
    sig_status = Signal(object)  # RunStatus (IDLE when there is no run)
    sig_join_returned = Signal(float)  # run-relative seconds at which queue.join() returned
    sig_ended = Signal(str)  # end reason, after every remaining event was applied

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._run: Run | None = None
        self._trace: TraceWriter | None = None
        self._next_freeze = 0.0
        self._stopper: threading.Thread | None = None
        self._end_reported = False
        self._join_reported = False
        self._next_frame = 0.0
        self._frame_started = 0.0  # when the last frame's tick began, until the next tick
        self.frame_cost_s = 0.0  # smoothed time a frame (refresh + repaint) keeps the loop busy
        # Run.poll checks its budget while taking batches, before the model is fed: under a
        # flood a poll overshoots, so the budget given is scaled to land at POLL_BUDGET_S.
        self.poll_budget_s = POLL_BUDGET_S
        self._dirty = False
        self._log_dirty = False  # records applied since the log's last tick
        self._behind = False  # the last drain left batches waiting
        self._next_log = 0.0
        self._rate_t = 0.0
        self._rate_events = 0
        self.events_per_s = 0.0
        self._timer = QTimer(self)
        self._timer.setObjectName("run_driver_poll")
        # Coarse timers may fire 5% late, which shows as a stuttering scroll.
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(POLL_INTERVAL_MS)
        self._timer.timeout.connect(self._on_timer_timeout)

    # ------------------------------------------------------------------ state
    @property
    def run(self) -> Run | None:
        return self._run

    @property
    def model(self) -> RunModel | None:
        return self._run.model if self._run is not None else None

    @property
    def status(self) -> RunStatus:
        return self._run.status if self._run is not None else RunStatus.IDLE

    @property
    def active(self) -> bool:
        """A run exists and has not ended (its processes may be alive)."""
        return self._run is not None and not self._end_reported

    @property
    def polling(self) -> bool:
        return self._timer.isActive()

    def elapsed(self) -> float:
        """Seconds of the charts' clock: run-relative, paused time taken out, frozen at the end."""
        m = self.model
        if m is None or m.t0 is None:
            return 0.0
        if self._end_reported:
            return m.end_t if m.end_t is not None else m.last_t
        return max(m.last_t, m.rel(time.perf_counter()))

    # ------------------------------------------------------------------ commands
    def start(self, cfg: RunConfig, run: Run | None = None) -> Run:
        """Discard any previous run and start a fresh one (a Run is one-shot).

        ``run``: an object with Run's interface to start instead of ``Run(cfg)`` (a traced
        program: engine/trace_run.py).
        """
        self.discard()
        run = Run(cfg) if run is None else run
        self._run = run
        # Every run is recorded as it goes, so File ▸ Save run… can keep it afterwards.
        fd, path = tempfile.mkstemp(prefix="queuelab-", suffix=".qltrace")
        os.close(fd)
        self._trace = TraceWriter(path, cfg)
        self._trace.attach(run)
        self._end_reported = False
        self._join_reported = False
        self._dirty = True
        self._log_dirty = False
        self._behind = False
        self._next_frame = 0.0
        self._next_log = 0.0
        self._frame_started = 0.0
        self.frame_cost_s = 0.0
        self.poll_budget_s = POLL_BUDGET_S
        self._rate_t = time.monotonic()
        self._rate_events = 0
        self.events_per_s = 0.0
        run.start()
        self._timer.start()
        self.sig_status.emit(run.status)
        return run

    def pause(self) -> None:
        if self._run is not None and self._run.status is RunStatus.RUNNING:
            self._run.pause()
            self.sig_status.emit(self._run.status)

    def resume(self) -> None:
        if self._run is not None and self._run.status is RunStatus.PAUSED:
            self._run.resume()
            self.sig_status.emit(self._run.status)

    def stop(self, reason: str = "stopped by user") -> None:
        """Ask the run to end without blocking the GUI; sig_ended follows within ~2 s."""
        run = self._run
        if run is None or run.ended or self._stopper is not None:
            return
        # Run.stop() may wait up to 2 s for processes that ignore SIGTERM; the timer keeps
        # draining their last events meanwhile.
        self._stopper = threading.Thread(
            target=run.stop,
            kwargs={"reason": reason},
            name="queuelab-gui-stop",
            daemon=True,
        )
        self._stopper.start()
        self.sig_status.emit(RunStatus.STOPPING)

    def shutdown(self) -> None:
        """Synchronously end the run and the timer: no child process, no running timer."""
        run = self._run
        if self._stopper is not None:
            self._stopper.join(3.0)
            self._stopper = None
        if run is not None:
            run.stop(reason="window closed")
        self._timer.stop()
        if self._trace is not None:
            self._trace.flush()

    @property
    def trace_path(self) -> str | None:
        """The current run's recording, complete up to now (None before the first run)."""
        if self._trace is None:
            return None
        self._trace.flush()
        return str(self._trace.path)

    def drop_recording(self) -> None:
        if self._trace is not None:
            self._trace.close()
            try:
                os.unlink(self._trace.path)
            except OSError:
                pass
            self._trace = None

    def discard(self) -> None:
        """Forget the current run (stopping it first), leaving the driver idle."""
        self.shutdown()
        self.drop_recording()
        if self._run is not None:
            self._run = None
            gc.unfreeze()  # let the collector see the dropped run's objects again
            self._end_reported = False
            self.events_per_s = 0.0
            self.sig_status.emit(RunStatus.IDLE)

    def request_log_frame(self) -> None:
        """Ask for another event-log tick (the log held lines back to keep its time share)."""
        self._log_dirty = True

    # ------------------------------------------------------------------ pump
    def _on_timer_timeout(self) -> None:
        run = self._run
        if run is None:
            self._timer.stop()
            return
        # Read before polling: if it is set, every event was delivered before the poll.
        ended = run.ended
        tick = time.monotonic()
        if tick >= self._next_freeze:
            # The model only grows, and a full collection walking hundreds of thousands of
            # its records froze the window for 100-300 ms at a time. Frozen objects are
            # skipped by the collector (refcounting still frees them when a run is dropped).
            gc.freeze()
            self._next_freeze = tick + GC_FREEZE_EVERY_S
        if self._frame_started:
            # The last tick started a frame; its repaint ran between that tick and this one.
            cost = max(0.0, tick - self._frame_started - POLL_INTERVAL_MS / 1000.0)
            self.frame_cost_s += COST_SMOOTHING * (cost - self.frame_cost_s)
            self._frame_started = 0.0
        m = run.model
        finished = ended and run.pending == 0
        # While running the clock moves even without events, so the charts keep scrolling.
        frame_due = (self._dirty or run.status is RunStatus.RUNNING or finished) and (
            tick >= self._next_frame)
        if frame_due and not finished:
            share = BEHIND_PAINT_SHARE if self._behind else MAX_PAINT_SHARE
            period = max(FRAME_PERIOD_S, self.frame_cost_s / share)
            # Catch up by at most one period so a late tick does not cause a burst of frames.
            self._next_frame = max(self._next_frame + period, tick - period)
            self._dirty = False
            self._frame_started = tick
            self.sig_frame.emit()
        elif self._log_dirty and tick >= self._next_log and not finished:
            self._log_dirty = False
            self._next_log = tick + LOG_PERIOD_S
            self.sig_log_frame.emit()
        elif not finished:
            self._drain(run, tick)
        self._note_progress(m)
        if finished:
            self._finish(run)

    def _drain(self, run: Run, tick: float) -> None:
        applied = run.poll(budget_s=self.poll_budget_s)
        spent = time.monotonic() - tick
        self._behind = run.pending > 0  # the budget ran out before the inbox did
        # Run.poll checks its budget between chunks of records: under a flood one chunk may
        # overshoot it, so the budget given adapts to land near POLL_BUDGET_S.
        if spent > POLL_BUDGET_S:
            self.poll_budget_s = max(MIN_POLL_BUDGET_S, self.poll_budget_s * POLL_BUDGET_S / spent)
        else:
            self.poll_budget_s = min(POLL_BUDGET_S, self.poll_budget_s * 1.25)
        if applied:
            self._dirty = self._log_dirty = True
            self.sig_applied.emit(applied)

    def _note_progress(self, m: RunModel) -> None:
        now = time.monotonic()
        if now - self._rate_t >= RATE_WINDOW_S:
            self.events_per_s = (m.events - self._rate_events) / (now - self._rate_t)
            self._rate_t, self._rate_events = now, m.events
        if not self._join_reported and m.join_returned_t is not None:
            self._join_reported = True
            self.sig_join_returned.emit(m.join_returned_t)

    def _finish(self, run: Run) -> None:
        self._timer.stop()
        if self._stopper is not None:
            self._stopper.join(3.0)
            self._stopper = None
        self._end_reported = True
        self.events_per_s = 0.0
        if self._dirty:
            self._dirty = False
            self.sig_frame.emit()
        self.sig_status.emit(run.status)
        self.sig_ended.emit(run.end_reason or "ended")
