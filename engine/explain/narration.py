"""Tutorial-style lines ("Producer starting", ".consumer got (0, 0.17…)") from applied records."""

from __future__ import annotations

from engine.events import FIELD_NAMES, LABEL_NONE, ROLE_PRODUCER, Kind, worker_name
from engine.explain.words import tasks_phrase
from engine.handlers import BLOCKED_LABEL, BLOCKED_VALUE, STEP_TID
from engine.model import RunModel

K = Kind


class Narrator:
    """Turns ``(src, record)`` pairs, as RunModel.feed returns them, into printable lines.

    With one producer and one consumer the lines are the tutorial's own; with more, each line
    names its worker (``.consumer-2 got (7, 0.31…)``).
    """

    # Lines that are one sentence over the record's named fields (engine/events.py's names)
    # plus {who} (the process) and {item} (its item, for records that name one): a narrator
    # for other programs (engine/trace_narration.py) is this table and a few rules.
    TEMPLATES: dict[int, str] = {}

    def __init__(self, model: RunModel) -> None:
        self.model = model

    def _name(self, src: int) -> str:
        return self._who(src)[0]

    def _item(self, tid: int) -> str:
        return self._task(tid)

    def templated(self, src: int, r: tuple) -> str | None:
        """The record's line from :attr:`TEMPLATES`, None when it has none."""
        template = self.TEMPLATES.get(r[0])
        if template is None:
            return None
        fields = dict(zip(FIELD_NAMES[r[0]], r[1:], strict=False))
        if "{item}" in template:
            fields["item"] = self._item(fields["tid"])
        return template.format(who=self._name(src), **fields)

    def _who(self, src: int) -> tuple[str, bool]:
        m = self.model
        name = worker_name(src, m.producers)
        role_count = m.producers if src <= m.producers else m.consumers
        return name, role_count > 1

    def _task(self, tid: int) -> str:
        task = self.model.tasks.label_value(tid)
        if task is None:
            return "a task"
        if task[0] == LABEL_NONE:
            return "None"
        return f"({task[0]}, {task[1]!r})"

    def unprinted(self, src: int, r: tuple) -> str | None:
        """The window log's line for what the tutorial's program prints nothing about, so
        ``run`` (which prints what it would) has no line for it either: a put that waits for
        room on a full bounded queue (PUT_BLOCKED, said as the wait begins) and a failed task
        left without task_done() (TASK_ABANDON, the forgot-task-done lesson's bug)."""
        kind = r[0]
        if kind not in (K.PUT_BLOCKED, K.TASK_ABANDON) or src == 0:
            return None
        name, many = self._who(src)
        role = "producer" if src <= self.model.producers else "consumer"
        who = name if many else role
        if kind == K.TASK_ABANDON:
            return (
                f"!{who} went back to get() without calling task_done() for "
                f"{self._task(r[STEP_TID])}: it will never be marked done, so queue.join() "
                "will wait forever"
            )
        label, value = r[BLOCKED_LABEL], r[BLOCKED_VALUE]
        task = "None" if label == LABEL_NONE else f"({label}, {value!r})"
        size = f" (maxsize {self.model.maxsize})" if self.model.maxsize else ""
        return (
            f".{who} is blocked in put(): the queue is full{size}, so {task} waits until a "
            "consumer takes an item"
        )

    def lines(self, applied: list[tuple[int, tuple]]) -> list[str]:
        out: list[str] = []
        for src, r in applied:
            line = self.line(src, r)
            if line is not None:
                out.append(line)
        return out

    def line(self, src: int, r: tuple) -> str | None:
        kind = r[0]
        m = self.model
        if src == 0:
            if kind == K.PRODUCERS_JOINED:
                many = m.producers > 1
                return f"Main found that the producer{'s have' if many else ' has'} finished"
            if kind == K.JOIN_BEGIN:
                return None
            if kind == K.JOIN_END:
                return "Main found that all tasks are processed"
            if kind == K.PROC_EXIT and r[3] != 0:
                w = m.workers.get(r[2])
                held = tasks_phrase(m.held_task_labels(w)) if w else ""
                name = w.name if w else f"worker {r[2]}"
                if (w.stopped_by(m.stop_t) if w else  # one rule with the diagnosis
                        m.stop_t is not None and m.rel(r[1]) >= m.stop_t):
                    # Ended by the stop (Stop, a hang, Ctrl+C): QueueLab's doing, not a death.
                    text = f"Main stopped {name} (exit code {r[3]})"
                else:
                    text = f"!{name} died with exit code {r[3]}"
                return text + (f" while holding {held}" if held else "")
            if kind == K.STOP:
                return f"Main stopped the run ({r[2]})"
            if kind == K.STALL:
                return f"!{r[2]}"
            return None
        name, many = self._who(src)
        role = "Producer" if src <= m.producers else "Consumer"
        lower = name if many else role.lower()
        if kind == K.WORKER_START:
            return f"{role} {name.split('-')[1]} starting" if many else f"{role} starting"
        if kind == K.WORKER_EXIT:
            if r[2] != 0:
                return f"!{name} exited with code {r[2]}"
            return f"{role} {name.split('-')[1]} finished" if many else f"{role} finished"
        if kind == K.PUT:
            if r[4] == LABEL_NONE:
                return None  # the tutorial prints nothing for the sentinel
            task = self._task(r[3])
            if m.workers.get(src) and m.workers[src].role == ROLE_PRODUCER:
                return f".{lower} added {task}"
            return f".{lower} re-put {task}"
        if kind == K.TASK_DONE:
            task = m.tasks.label_value(r[2])
            if task is None or task[0] == LABEL_NONE:
                return None
            # The tutorial prints "got" right before task_done(); TASK_DONE is stamped there.
            got = f".{lower} got ({task[0]}, {task[1]!r})"
            result = m.task_results.get(task[0])  # the user's own function's (workload)
            return got if result is None else f"{got}, returned {result}"
        if kind == K.TASK_FAIL:
            return f"!{lower} failed on {self._task(r[2])}: {r[3]}"
        if kind == K.TASK_RETRY:
            return f".{lower} retries {self._task(r[2])} (attempt {r[3] + 1})"
        if kind == K.TASK_DONE_ERROR:
            return f"!{lower}: ValueError: {r[2]}"
        if kind == K.PUT_FULL:
            return f"!{lower}: queue.Full"
        return None
