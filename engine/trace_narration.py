"""Event-log lines for a traced program: its processes by the names it gave them, its items."""

from __future__ import annotations

from engine.events import LABEL_NONE, Kind
from engine.explain import Narrator
from engine.model import RunModel
from engine.trace_lanes import Lane

K = Kind


class TraceNarrator(Narrator):
    """``squarer-0 got an item``, ``main waits in queue.join()``: no tutorial roles assumed.

    Explain's narrator with this program's words: one template per record kind (the fields
    are engine/events.py's names), and the rules for an exit that a sentence cannot hold.
    ``lane`` (engine/trace_lanes.Lane) is the queue narrated: a multiprocessing.Queue's
    task_done records are QueueLab's own (an item taken counts as done), never said.
    """

    TEMPLATES = {
        K.PROC_INFO: "{name} started (pid {pid})",
        K.PUT: "{who} put {item}",
        K.PUT_BLOCKED: "{who} is blocked in put(): the queue is full, its item waits for room",
        K.GET: "{who} got {item}",
        K.TASK_DONE: "{who} called task_done()",
        K.TASK_DONE_ERROR: "!{who}: task_done() raised ValueError: {text}",
        K.JOIN_BEGIN: "{who} waits in queue.join()",
        K.JOIN_END: "{who}: queue.join() returned",
        K.FEED_ERROR: "!{who}'s feeder thread could not send an item: {text}",
        K.STOP: "— {reason}",
    }

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
        kind, m = r[0], self.model
        if kind == K.TASK_DONE and not self.joinable:
            return None
        if kind == K.WORKER_EXIT:
            who = self._name(src)
            return f"{who} exited with code {r[2]}" if r[2] else f"{who} finished"
        if kind == K.PROC_EXIT:
            if r[3] == 0:
                return None
            name = self._name(r[2])
            w = m.workers.get(r[2])
            if w is not None and w.ended_by_program:
                return f"{name} was ended by the program (terminate(), exit code {r[3]})"
            if m.stop_t is not None and m.rel(r[1]) >= m.stop_t:
                return f"{name} was ended (exit code {r[3]})"
            return f"!{name} died with exit code {r[3]}"
        return self.templated(src, r)
