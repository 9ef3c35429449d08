"""The phrasing every explanation shares: lists, tasks, exit codes, deaths, join() consequences."""

from __future__ import annotations

import signal
from collections.abc import Iterable, Sequence

from engine.events import LABEL_NONE, LABEL_OTHER, ROLE_CONSUMER, ROLE_PRODUCER
from engine.model import Activity, JoinState, RunModel, WorkerInfo

MAX_LISTED = 8  # task numbers a finding names before it counts the rest
MAX_TASKS_NAMED = 3  # the status bar's chip is one line: the tooltip has the full diagnosis


def and_list(items: Iterable[str]) -> str:
    """ "a", "a and b", "a, b and c"."""
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def exit_words(code: int | None) -> str:
    """Words for an exit code: "exit code 1", or "exit code -9 (SIGKILL)" for a signal."""
    if code is None:
        return "no exit code yet"
    if code < 0:
        try:
            return f"exit code {code} ({signal.Signals(-code).name})"
        except ValueError:
            pass
    return f"exit code {code}"


def join_consequence(m: RunModel) -> str:
    """What a stuck counter means for queue.join(), as a clause (empty once it returned)."""
    if m.join_state == JoinState.WAITING:
        return " and queue.join() waits forever"
    if m.join_state == JoinState.NOT_CALLED:
        return " and queue.join() will wait forever"
    return ""


def task_word(label: int) -> str:
    """ "task 3", "the sentinel None" or "an item" (not one of the lesson's tasks)."""
    if label == LABEL_NONE:
        return "the sentinel None"
    if label == LABEL_OTHER:
        return "an item"
    return f"task {label}"


def tasks_phrase(labels: Sequence[int]) -> str:
    """Words for task labels: "task 3", "tasks 1 and 5", "task 4 and the sentinel None"."""
    numbers = [str(x) for x in labels if x >= 0]
    if len(numbers) > MAX_LISTED:
        # A flood can strand hundreds of thousands of tasks: name a few, count the rest.
        numbers = [*numbers[:MAX_LISTED], f"{len(numbers) - MAX_LISTED:,} more"]
    others = [task_word(x) for x in labels if x < 0]
    if not numbers:
        return and_list(others)
    head = "task " if len(numbers) == 1 else "tasks "
    return head + (
        ", ".join(numbers + others[:-1]) + " and " + others[-1] if others else and_list(numbers)
    )


# ----------------------------------------------------------------- the status bar's chip (short)


def chip_tasks(labels: list[int]) -> str:
    """Task labels for the one-line chip: at most MAX_TASKS_NAMED, then "N more"."""
    words = [
        f"{x}" if x >= 0 else ("the sentinel None" if x == LABEL_NONE else "an item")
        for x in labels
    ]
    if len(words) > MAX_TASKS_NAMED:
        words = [*words[: MAX_TASKS_NAMED - 1], f"{len(labels) - MAX_TASKS_NAMED + 1} more"]
    head = "task " if len(labels) == 1 else "tasks "
    if labels and all(x < 0 for x in labels):
        head = ""
    return head + (words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1])


def chip_death(w: WorkerInfo) -> str:
    """ "consumer-1 killed (SIGKILL)" or "producer died (exit code 1)"."""
    code = w.exitcode
    if code is not None and code < 0:
        try:
            return f"{w.name} killed ({signal.Signals(-code).name})"
        except ValueError:
            return f"{w.name} killed (signal {-code})"
    return f"{w.name} died (exit code {code})"


def chip_where(w: WorkerInfo) -> str:
    """What the worker was in when it died, when that is what broke the queue."""
    doing = Activity(w.intervals[-1][2]) if w.intervals else w.activity
    if w.role == ROLE_CONSUMER and doing == Activity.WAIT_GET:
        return " in get()"
    if w.role == ROLE_PRODUCER:
        return " during put()"
    return ""


def chip_more(dead: list[WorkerInfo], named: WorkerInfo) -> str:
    """ " (+2 more dead)" when the chip names one of several dead workers."""
    others = len(dead) - 1 if named in dead else len(dead)
    return f" (+{others} more dead)" if others > 0 else ""
