"""RunDriver: owns the current run (live, traced or replayed) and pumps its records into the GUI."""

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
from engine.tracefile.spool import TraceSpool
from gui.frame_clock import DRAIN, FRAME, LOG, POLL_INTERVAL_MS, SYNC, Frame, FrameClock

GC_FREEZE_EVERY_S = 1.0
RATE_WINDOW_S = 1.0


class RunDriver(QObject):
    """Starts, pauses, stops and discards Runs; polls the live one from the GUI thread.

    A run is any object with Run's face whose records come through an engine inbox (a
    configured run, a traced program, a recorded run played back: gui/replay_playback.py),
    and whose ``source`` (engine/inbox.RecordSource) tells the time: ``source.now()`` is
    where the views draw up to (the wall clock live, the playhead in a replay, the end once
    the source has none). Its :class:`FrameClock` paces every tick: data
    arrives in drain ticks (``sig_applied``), repaints are coalesced to at most 60 per second
    (``sig_frame``, handing the views the :class:`Frame` to draw) and the event log's lines
    to 10 per second within its share of the time (``sig_log_frame``), so a flood of events
    never starves the event loop.
    """

    # [(src, record), ...] applied to the model this tick. ``object``, not ``list``: a list
    # signal converts every pair to a QVariant and back (0.5 µs each, 0.3 s per flood).
    sig_applied = Signal(object)
    sig_frame = Signal(object)  # Frame: time to repaint views from the model
    sig_log_frame = Signal()  # time to bring the event log up to date (a tick of its own)
    sig_sync = Signal()  # a view behind the model may take a slice of it without drawing
    sig_status = Signal(object)  # RunStatus (IDLE when there is no run)
    sig_join_returned = Signal(float)  # run-relative seconds at which queue.join() returned
    sig_ended = Signal(str)  # end reason, after every remaining event was applied

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._run: Run | None = None
        self._trace: TraceSpool | None = None
        self._next_freeze = 0.0
        self._stopper: threading.Thread | None = None
        self._own = False  # the current run is the driver's own Run (started in the background)
        self._unlaunched = False  # start(launch=False) made it; launch() has not started it
        self._end_reported = False
        self._join_reported = False
        self.clock = FrameClock()
        self._dirty = False
        self._log_dirty = False  # records applied since the log's last tick
        self._sync_wanted = False  # a view asked for a turn to take a slice of the model
        self._paint_turn = False  # the last tick drew a live frame: the next is its repaint's
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

    @property
    def frame_cost_s(self) -> float:
        return self.clock.frame_cost_s

    @property
    def poll_budget_s(self) -> float:
        return self.clock.poll_budget_s

    def frame(self) -> Frame:
        """What the views draw now: the charts' clock, and whether the run still goes on
        (a replay is never live: its model is drawn whole, up to the playhead)."""
        run = self._run
        paced = run is not None and not self._end_reported and getattr(run, "live", True)
        return Frame(self.elapsed(), paced and run.model.end_t is None, paced)

    def elapsed(self) -> float:
        """Seconds of the charts' clock, from the run's ``source.now()``: run-relative, paused
        time taken out, frozen at the end (when the source has no clock any more)."""
        m = self.model
        if m is None or m.t0 is None:
            return 0.0
        source = getattr(self._run, "source", None)  # a run without one: the wall clock
        now = source.now() if source is not None else time.perf_counter()
        if self._end_reported or now is None:
            return m.end_t if m.end_t is not None else m.last_t
        return max(m.last_t, m.rel(now))

    # ------------------------------------------------------------------ commands
    def start(self, cfg: RunConfig, run: Run | None = None, *, record: bool = True,
              launch: bool = True) -> Run:  # fmt: skip
        """Discard any previous run and start a fresh one (a Run is one-shot).

        ``run``: an object with Run's interface to start instead of ``Run(cfg)`` (a traced
        program: engine/trace_run.py; a replay: gui/replay_playback.Playback). ``record``:
        write its records to a temporary trace (False for a replay: it is one already).
        ``launch=False``: the run is made, not started; :meth:`launch` starts it (a window
        readies its views for the run's model first, before the workers share the CPU).
        """
        self.discard()
        own = run is None
        run = Run(cfg) if own else run
        self._run = run
        if record:
            # Every run is recorded as it goes, so File ▸ Save run… can keep it afterwards.
            fd, path = tempfile.mkstemp(prefix="queuelab-", suffix=".qltrace")
            os.close(fd)
            # Spooled, not JSON per batch: a quarter of the window's time under a flood.
            self._trace = TraceSpool(path, cfg)
            self._trace.attach(run)
        self._end_reported = False
        self._join_reported = False
        self._dirty = True
        self._log_dirty = self._sync_wanted = False
        self.clock.reset()
        self._rate_t = time.monotonic()
        self._rate_events = 0
        self.events_per_s = 0.0
        self._own, self._unlaunched = own, True
        if launch:
            self.launch()
        return run

    def launch(self) -> None:
        """Start the run :meth:`start` made with ``launch=False``: its clock, its workers."""
        run = self._run
        if run is None or not self._unlaunched:
            return
        self._unlaunched = False
        if self._own:
            # Its workers start in a thread: each is a round trip to the forkserver, and the
            # event loop goes on meanwhile (the charts' clock runs from the run's start).
            run.start(background=True)
        else:
            run.start()
        self._timer.start()
        self.sig_status.emit(run.status)

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
        return self._trace.export()

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

    def request_frame(self) -> None:
        """Ask for a frame although no record came (a replay's playhead moved)."""
        self._dirty = True

    def request_sync(self) -> None:
        """Ask for a turn between frames (``sig_sync``) to take more of the model without
        drawing: a view fell behind a flood and must not catch up in its frames alone."""
        self._sync_wanted = True

    def request_log_frame(self) -> None:
        """Ask for another event-log tick (the log held lines back to keep its time share)."""
        self._log_dirty = True

    # ------------------------------------------------------------------ pump
    def _on_timer_timeout(self) -> None:
        run = self._run
        if run is None:
            self._timer.stop()
            return
        if self._paint_turn:
            # The tick after a live frame is its repaint's alone (the views hold it until the
            # event loop's next turn: gui/charts/paint_hold.py), not shared with a drain.
            self._paint_turn = False
            self.clock.paint_turn()
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
        m = run.model
        finished = ended and run.pending == 0
        # While running the clock moves even without events, so the charts keep scrolling.
        turn = self.clock.turn(
            tick,
            frame_wanted=(self._dirty or run.status is RunStatus.RUNNING) and not finished,
            log_wanted=self._log_dirty and not finished,
            sync_wanted=self._sync_wanted and not finished,
        )
        if finished and (self._dirty or self._sync_wanted):
            # Every record is applied, but a view asked for another frame (a flood's backlog
            # taken in bounded steps): frames back to back until it has all; then the end.
            self._dirty = self._sync_wanted = False
            self.sig_frame.emit(self.frame())
            return
        if finished:
            pass
        elif turn == FRAME:
            self._dirty = False
            frame = self.frame()
            self._paint_turn = frame.live
            self.sig_frame.emit(frame)
        elif turn == LOG:
            self._log_dirty = False
            self.sig_log_frame.emit()
            self.clock.log_done(time.monotonic() - tick)
        elif turn == SYNC:
            self._sync_wanted = False
            self.sig_sync.emit()
        elif turn == DRAIN:
            self._drain(run, tick)
        self._note_progress(m)
        if finished:
            self._finish(run)

    def _drain(self, run: Run, tick: float) -> None:
        model, status, behind = run.model, run.status, run.pending > 0
        applied = run.poll(budget_s=self.clock.poll_budget_s)
        self.clock.drained(time.monotonic() - tick, behind=run.pending > 0, ended=run.ended)
        if run.model is not model or run.status is not status or (behind and not run.pending):
            # Caught up, or a replay went back (its rebuilt model takes over) or played to
            # its end: worth a frame even without a new record.
            self._dirty = True
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
            self.sig_frame.emit(self.frame())
        self.sig_status.emit(run.status)
        self.sig_ended.emit(run.end_reason or "ended")
