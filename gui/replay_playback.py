"""Playback and ReplayCharts: a recorded run as one more run of the RunDriver, up to a playhead."""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable

from engine.applied import Applied, last
from engine.inbox import RecordSource
from engine.model import RunModel
from engine.runner import RunStatus
from engine.tracefile import Trace
from gui.charts import ChartsPanel
from gui.trace_loader import LoadedRun

LOG_TAIL = 400  # lines narrated after a jump: the log shows the last ones before the playhead


class Playback:
    """A recorded run with Run's face, so gui/run_driver.RunDriver drives it as a live run.

    Its records come through the Replayer's :class:`engine.replay.PlayheadSource` (the one
    road to the model, engine/inbox.py); the source's ``now()`` is the playhead the views draw
    at. While playing, each :meth:`poll` (the driver's drain tick) moves the playhead on by
    the wall time since the last one times :attr:`speed`, then feeds towards it within the
    driver's budget. Going back (or far forward) starts a model from the Replayer's last
    snapshot before the playhead while the views keep showing the old one; :attr:`shown`
    switches when the new one has caught up. The charts, status bar and flow view do not wait
    for it: they cut the whole-run model at the playhead (gui/replay_window.py); the
    diagnosis, theory and log read this one.
    """

    live = False  # a replay's frames draw the model whole, up to the playhead (no backlog)
    end_reason: str | None = None
    ended = False  # a replay never ends on its own: the user can always seek back

    def __init__(self, run: LoadedRun, clock: Callable[[], float] = time.monotonic) -> None:
        self.run = run
        self.cfg = run.trace.config
        self.replayer = run.replayer
        self.target = 0.0
        self.speed = 1.0
        self.playing = False
        self.rebuilding = False
        self.applied: deque[tuple[int, tuple]] = deque(maxlen=LOG_TAIL)
        self.shown: RunModel = self.replayer.model
        self._clock = clock
        self._last_tick = clock()
        self._drawn: tuple[float, int, int] | None = None  # (target, id(shown), events) drawn

    # ------------------------------------------------------------------ Run's face
    @property
    def model(self) -> RunModel:
        return self.shown

    @property
    def source(self) -> RecordSource:
        return self.replayer.source

    @property
    def status(self) -> RunStatus:
        return RunStatus.RUNNING if self.playing else RunStatus.PAUSED

    @property
    def pending(self) -> int:
        """1 while the model has not been fed up to the playhead (the drain is behind)."""
        return int(not self.fed)

    def start(self) -> None:
        self._last_tick = self._clock()

    def pause(self) -> None:
        self.set_playing(False)

    def resume(self) -> None:
        self.set_playing(True)

    def stop(self, reason: str = "") -> None:
        self.playing = False

    def poll(self, budget_s: float = 0.01, wait_s: float = 0.0) -> Applied:
        """Move the playhead with the wall clock while playing, then feed towards it."""
        now = self._clock()
        dt, self._last_tick = now - self._last_tick, now
        if self.playing and (self.fed or self.run.model is not None):
            # The charts and the flow view cut the whole-run model: the playhead runs with the
            # wall clock, and the diagnosis, theory and log follow when their model catches
            # up. Without one, while the feeding lags (a seek not reached yet, a dense trace
            # at 16×) the playhead waits for it: it neither runs ahead nor jumps back.
            self.request(self.target + dt * self.speed)
            self._skip_hold()
            if self.target >= self.duration:
                self.playing = False
        result = self.step(budget_s)
        return self.take_applied() if result else []

    # ------------------------------------------------------------------ the playhead
    @property
    def duration(self) -> float:
        return self.run.duration_s

    @property
    def fed(self) -> bool:
        """The shown model holds every record up to the playhead, and none after it."""
        return not self.rebuilding and self.replayer.playhead_s == self.target

    @property
    def caught_up(self) -> bool:
        """Fed up to the playhead, and, once views draw it (:meth:`drawn`), drawn there."""
        drawn = self._drawn is None or self._drawn == (self.target, id(self.shown),
                                                       self.shown.events)  # fmt: skip
        return self.fed and drawn

    def drawn(self) -> None:
        """The views now show :attr:`shown` at :attr:`target`."""
        self._drawn = (self.target, id(self.shown), self.shown.events)

    def set_playing(self, on: bool) -> None:
        if on and self.target >= self.duration:
            self.request(0.0)  # play at the end starts over, like any media player
        self.playing = on
        self._last_tick = self._clock()

    def request(self, t_s: float) -> None:
        self.target = min(max(0.0, t_s), self.duration)

    def _skip_hold(self) -> None:
        """Playing into a pause or a step choice goes on from its end: held time is no run
        time (the charts' clock leaves it out), so nothing would move while it passed."""
        whole, t0 = self.run.model, self.replayer.t0
        end = whole.hold_end(t0 + self.target) if whole is not None else None
        if end is not None:
            self.request(end - t0)

    def _on_charts_clock(self, t_s: float) -> float:
        """``t_s`` seconds of the recording as run seconds, held time taken out."""
        whole = self.run.model
        if whole is None:
            return t_s
        return max(0.0, whole.run_time(self.replayer.t0 + t_s))

    @property
    def run_time(self) -> float:
        """The playhead in the charts' clock."""
        return self._on_charts_clock(self.target)

    @property
    def run_duration(self) -> float:
        """The recording's length in the charts' clock."""
        return self._on_charts_clock(self.duration)

    def step(self, budget_s: float = math.inf) -> str:
        """Feed towards the target for at most ``budget_s``: "", "more" or "reset"."""
        r = self.replayer
        if self.target < r.playhead_s:
            # The Replayer starts a new model; the views keep the old one until it catches up.
            self.applied.clear()
            self.rebuilding = True
        elif r.playhead_s >= self.target and not self.rebuilding:
            return ""
        before = r.model
        got = r.advance(self.target, budget_s)
        if r.model is not before and not self.rebuilding:
            # A jump forward past a snapshot: a new model too, shown once it has caught up.
            self.applied.clear()
            self.rebuilding = True
        self.applied.extend(last(got, LOG_TAIL))
        if r.playhead_s < self.target:
            return "" if self.rebuilding else "more"
        if self.rebuilding:
            self.rebuilding = False
            self.shown = r.model
            return "reset"
        return "more"

    def take_applied(self) -> list[tuple[int, tuple]]:
        out = list(self.applied)
        self.applied.clear()
        return out


class ReplayCharts(ChartsPanel):
    """The live charts with a recorded run's error marks; refreshed without a live Frame,
    they draw up to the playhead only."""

    def set_trace_marks(self, trace: Trace) -> None:
        """Mark the recorded run's task_done() errors (each shows once the playhead passes)."""
        from gui.charts.marks import trace_error_records

        self.timeline.marks.set_fixed(trace_error_records(trace.batches))
        self._last_key = None
