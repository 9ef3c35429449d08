"""FrameClock: the one place the GUI decides when to feed, draw and narrate; Frame: what to draw.

No Qt here: a driver's timer asks the clock what each tick is for, and tells it what the
turns cost. Views get a :class:`Frame` - the run's time to draw up to and whether the run is
still live - from their driver instead of guessing "live" from the wall clock.
"""

from __future__ import annotations

from dataclasses import dataclass

# A tick either drains events, starts a frame or updates the event log, one of them only: each
# is one bounded turn of the event loop, and input, paints and other timers get their turn in
# between. Ticks come often so the drain keeps most of the time when frames are cheap.
POLL_INTERVAL_MS = 5
POLL_BUDGET_S = 0.005  # one drain turn (a frame and its paint come on top: ~15 ms in all)
MIN_POLL_BUDGET_S = 0.0002
FRAME_PERIOD_S = 1.0 / 60.0
# The event log gets ticks of its own, not a share of a chart frame's: laying out its lines
# in the same turn as the charts made the longest event-loop gaps under a flood. A log that
# changes faster than this cannot be read anyway.
LOG_PERIOD_S = 0.1
MAX_LOG_SHARE = 0.1  # a flood must not let the log take more than this share of the time
# A frame (views' refresh + the repaint) may cost more than a tick (big windows, slow GPUs,
# offscreen rasters, a flood): the frame period then stretches so frames take at most this
# share of the time and the drain keeps up.
MAX_PAINT_SHARE = 0.5
# While the drain cannot keep up (a flood), frames get a smaller share so the window falls
# less far behind the run (benchmarks/gui_flood.py, 2+2 workers: everything shown 6.9 s after
# the start at 22 frames/s, against 11.6 s at 33 frames/s with the usual share).
BEHIND_PAINT_SHARE = 0.3
# ... and come at most this often: a frame's repaint costs the same whatever it shows (8-15 ms
# of the window's CPU at 1280x800), and at 20 frames a second under a flood that was a third
# of the window's time, taken from the drain it was behind (benchmarks/gui_flood.py). Ten
# frames a second still move; the time they free brings the charts to the run's end sooner.
BEHIND_FRAME_S = 0.1
# The run has ended with a backlog left (a flood outpaced the model): nothing new happens any
# more, so the charts need only a few frames while the drain takes long turns and most of the
# time (input still gets a turn every CATCH_UP_POLL_BUDGET_S).
CATCH_UP_PAINT_SHARE = 0.1
CATCH_UP_FRAME_S = 0.25
CATCH_UP_POLL_BUDGET_S = 0.012
COST_SMOOTHING = 0.3

FRAME, LOG, DRAIN, SYNC = "frame", "log", "drain", "sync"


@dataclass(frozen=True)
class Frame:
    """What a view draws: up to ``now`` (run-relative seconds); ``live``: the run goes on.
    ``paced``: a frame takes a bounded share of a backlog and the rest waits for the next one
    (live, and after a live run's end until its driver reports it ended: a view still behind
    asks the driver for another frame, and the end waits for it); otherwise a view takes the
    model whole (a replay, a finished run)."""

    now: float
    live: bool
    paced: bool = False


class FrameClock:
    """Paces one driver's ticks: frames at most 60 a second within a share of the time, the
    log's turns at most 10 a second within its share, and the drain's adaptive budget."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.frame_cost_s = 0.0  # smoothed time a frame (refresh + repaint) keeps the loop busy
        # Inbox.poll checks its budget between chunks: under a flood a poll overshoots, so the
        # budget given is scaled to land at POLL_BUDGET_S.
        self.poll_budget_s = POLL_BUDGET_S
        self.behind = False  # the last drain left batches waiting
        self.catching_up = False  # ... and the run had ended: only the backlog is left
        self._next_frame = 0.0
        self._frame_started = 0.0  # when the last frame's tick began, until the next tick
        self._frame_ticks = 1  # ticks the frame took (2 when its repaint had one of its own)
        self._next_log = 0.0
        self._log_started = 0.0
        self._synced = False  # the last turn was a SYNC: a backlogged drain gets the next

    def turn(self, tick: float, *, frame_wanted: bool, log_wanted: bool,
             sync_wanted: bool = False) -> str:  # fmt: skip
        """What the tick at monotonic ``tick`` is for: FRAME, LOG, SYNC or DRAIN.

        ``sync_wanted``: a view is behind the model (a flood): it takes a bounded slice of it
        without drawing in a turn of its own between frames, so frames stay short and paced
        while the views keep up. Such turns alternate with the drain while the drain keeps up;
        a drain left behind comes first (everything else is drawn from the model)."""
        if self._frame_started:
            # The last tick started a frame; its repaint ran between that tick and this one.
            cost = max(0.0, tick - self._frame_started - self._frame_ticks * POLL_INTERVAL_MS
                       / 1000.0)  # fmt: skip
            self.frame_cost_s += COST_SMOOTHING * (cost - self.frame_cost_s)
            self._frame_started, self._frame_ticks = 0.0, 1
        if frame_wanted and tick >= self._next_frame:
            if self.catching_up:
                share, least = CATCH_UP_PAINT_SHARE, CATCH_UP_FRAME_S
            else:
                share = BEHIND_PAINT_SHARE if self.behind else MAX_PAINT_SHARE
                least = BEHIND_FRAME_S if self.behind else FRAME_PERIOD_S
            period = max(least, self.frame_cost_s / share)
            # Catch up by at most one period so a late tick does not cause a burst of frames.
            self._next_frame = max(self._next_frame + period, tick - period)
            self._frame_started = tick
            return FRAME
        if log_wanted and self.log_due(tick):
            return LOG
        if sync_wanted and not self.behind and not self._synced:
            self._synced = True
            return SYNC
        self._synced = False
        return DRAIN

    def paint_turn(self) -> None:
        """The tick after the last frame's was its repaint's: the frame's cost spans both."""
        self._frame_ticks += 1

    def log_due(self, tick: float) -> bool:
        """True (and the next log turn scheduled) when the log may take a turn at ``tick``."""
        if tick < self._next_log:
            return False
        self._log_started = tick
        self._next_log = tick + LOG_PERIOD_S
        return True

    def log_done(self, cost_s: float) -> None:
        """The log's turn took ``cost_s``: its period stretches to keep it within its share."""
        self._next_log = self._log_started + max(LOG_PERIOD_S, cost_s / MAX_LOG_SHARE)

    def drained(self, spent_s: float, behind: bool, ended: bool = False) -> None:
        """A drain turn took ``spent_s`` and left a backlog (``behind``) or not; ``ended``:
        the run is over (its backlog is all that is left to show)."""
        self.behind = behind
        self.catching_up = behind and ended
        target = CATCH_UP_POLL_BUDGET_S if self.catching_up else POLL_BUDGET_S
        # The inbox checks its budget between chunks of records: under a flood one chunk may
        # overshoot it, so the budget given adapts to land near the target.
        if spent_s > target:
            self.poll_budget_s = max(MIN_POLL_BUDGET_S, self.poll_budget_s * target / spent_s)
        else:
            self.poll_budget_s = min(target, self.poll_budget_s * 1.25)
