"""Playback and ReplayCharts: a recorded run fed to the charts up to a playhead, bit by bit."""

from __future__ import annotations

from collections import deque

from engine.model import RunModel
from engine.tracefile import Trace
from gui.charts import ChartsPanel
from gui.trace_loader import LoadedRun

FEED_BUDGET_S = 0.02  # per tick: the rest is left for painting and input
LOG_TAIL = 400  # lines narrated after a jump: the log shows the last ones before the playhead


class Playback:
    """Moves a Replayer towards a target time in bounded steps, so no tick takes long.

    Going back rebuilds a fresh model from the start (the Replayer's way) while the views keep
    showing the old one; :meth:`step` says ``"reset"`` when the new model takes over.
    """

    def __init__(self, run: LoadedRun) -> None:
        self.run = run
        self.replayer = run.replayer
        self.target = 0.0
        self.rebuilding = False
        self.applied: deque[tuple[int, tuple]] = deque(maxlen=LOG_TAIL)
        self.shown: RunModel = self.replayer.model

    @property
    def duration(self) -> float:
        return self.run.duration_s

    @property
    def caught_up(self) -> bool:
        return not self.rebuilding and self.replayer.playhead_s >= self.target

    def request(self, t_s: float) -> None:
        self.target = min(max(0.0, t_s), self.duration)

    def step(self, budget_s: float = FEED_BUDGET_S) -> str:
        """Feed towards the target for at most ``budget_s``: "", "more" or "reset"."""
        r = self.replayer
        if self.target < r.playhead_s:
            # The Replayer starts a new model; the views keep the old one until it catches up.
            self.applied.clear()
            self.rebuilding = True
        elif r.playhead_s >= self.target and not self.rebuilding:
            return ""
        self.applied.extend(r.advance(self.target, budget_s))
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
