"""ModelAt: what the status bar reads of a whole-run model, as it was at a replay's playhead."""

from __future__ import annotations

from engine.model import RunModel
from engine.states import JoinState


class ModelAt:
    """The status bar's figures of ``whole`` at run time ``t`` (held time taken out).

    ``counts`` (puts, gets, task_dones at ``t``) come from the charts' series of the same
    model; the join state from its times. A cut, not a feed: any ``t``, back or forth, costs
    the same.
    """

    join_words = RunModel.join_words  # the same words as the live status bar's

    def __init__(self, whole: RunModel, t: float, counts: tuple[int, int, int],
                 events: int) -> None:  # fmt: skip
        self.puts, self.gets, self.task_dones = counts
        self.depth = self.puts - self.gets
        self.in_flight = self.gets - self.task_dones
        working = sum(w.on_a_task_at(t) for w in whole.workers.values())
        self.in_progress = max(0, min(self.in_flight, working))
        self.not_marked_done = max(0, self.in_flight - self.in_progress)
        self.unfinished = self.puts - self.task_dones
        self.events = events
        self.events_lost = whole.events_lost
        called, returned = whole.join_called_t, whole.join_returned_t
        self.join_called_t = called if called is not None and called <= t else None
        self.join_returned_t = returned if returned is not None and returned <= t else None
        self.premature_join = self.join_returned_t is not None and whole.premature_join
        if self.join_returned_t is not None:
            self.join_state = JoinState.RETURNED
        elif self.join_called_t is not None:
            self.join_state = JoinState.WAITING
        else:
            self.join_state = JoinState.NOT_CALLED
