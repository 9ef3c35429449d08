"""Event-log lines for a traced program: its processes by the names it gave them, its items."""

from __future__ import annotations

from engine.events import LABEL_NONE, Kind
from engine.explain import Narrator
from engine.model import RunModel
from engine.trace_lanes import Lane

K = Kind


class TraceNarrator(Narrator):
    """``squarer-0 got an item``, ``main waits in queue.join()``: no tutorial roles assumed.

    ``lane`` (engine/trace_lanes.Lane) is the queue narrated: a multiprocessing.Queue's
    task_done records are QueueLab's own (an item taken counts as done), never said.
    """

    def __init__(self, model: RunModel, lane: Lane | None = None) -> None:
        super().__init__(model)
        self.joinable = lane is None or lane.joinable

    def _name(self, src: int) -> str:
        w = self.model.workers.get(src)
        return "main" if src == 0 else (w.name if w is not None else f"process {src}")

    def _item(self, tid: int) -> str:
        task = self.model.tasks.label_value(tid)
        if task is None or task[0] < LABEL_NONE or task[0] == -2:
            return "an item"
        if task[0] == LABEL_NONE:
            return "None"
        return f"({task[0]}, …)"

    def line(self, src: int, r: tuple) -> str | None:
        kind = r[0]
        m = self.model
        who = self._name(src)
        if kind == K.PROC_INFO:
            return f"{r[3]} started (pid {r[2]})"
        if kind == K.PUT:
            return f"{who} put {self._item(r[3])}"
        if kind == K.GET:
            return f"{who} got {self._item(r[3])}"
        if kind == K.TASK_DONE:
            return f"{who} called task_done()" if self.joinable else None
        if kind == K.TASK_DONE_ERROR:
            return f"!{who}: task_done() raised ValueError: {r[2]}"
        if kind == K.JOIN_BEGIN:
            return f"{who} waits in queue.join()"
        if kind == K.JOIN_END:
            return f"{who}: queue.join() returned"
        if kind == K.FEED_ERROR:
            return f"!{who}'s feeder thread could not send an item: {r[3]}"
        if kind == K.WORKER_EXIT:
            return f"{who} exited with code {r[2]}" if r[2] else f"{who} finished"
        if kind == K.PROC_EXIT and r[3] != 0:
            name = self._name(r[2])
            if m.stop_t is not None and m.rel(r[1]) >= m.stop_t:
                return f"{name} was ended (exit code {r[3]})"
            return f"!{name} died with exit code {r[3]}"
        if kind == K.STOP:
            return f"— {r[2]}"
        return None
