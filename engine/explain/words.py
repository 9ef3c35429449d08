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


def left_undone_words(n: int, *, gone: bool) -> tuple[str, str, str]:
    """``n`` tasks a consumer took and left without task_done(), longest words first (a flow
    station shows the longest that fits): back in get(), "not marked done"; ``gone`` (exited
    or died), "never marked done" — the status line's figure, in the same words — and, in
    the narrowest box, what was left out: "no task_done()"."""
    never = "never" if gone else "not"
    return f"{n} task{_s(n)} {never} marked done", f"{never} marked done", "no task_done()"


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


# ----------------------------------------------------------------- the pitfalls' sentences
# Each pitfall (engine/explain/pitfalls/) finds the facts; its sentences are written here, so
# every finding's words can be read, and kept consistent, in one place.


def _s(n: int, one: str = "", many: str = "s") -> str:
    return one if n == 1 else many


def death_sentence(who: str, code: int | None, *, put_of: tuple[int, int] | None = None,
                   held: Sequence[int] | None = None, last_error: str | None = None) -> str:
    """deaths: ``put_of`` (put, per producer) for a producer, ``held`` for a consumer."""
    text = f"{who} died with {exit_words(code)}"
    if put_of is not None:
        put, per = put_of
        text += f" after putting {put} of its {per} tasks" if per else ""
    elif held:
        text += (
            f" while holding {tasks_phrase(held)}: nobody will call task_done() for "
            f"{_s(len(held), 'it', 'them')}, so the unfinished counter cannot "
            "reach 0 and queue.join() never returns"
        )
    else:
        text += " holding no task"
    if last_error:
        text += f"; its last error: {last_error}"
    return text + "."


def lost_item_sentence(label: int, text: str) -> str:
    """lost_items: an item the feeder thread could not pickle."""
    who = "an item" if label < 0 else f"task {label}"
    return (
        f"{who[0].upper()}{who[1:]} could not be pickled ({text}): put() returned, but the "
        "queue's feeder thread dropped it, so it never reached a consumer. It still counts "
        "as unfinished, so queue.join() can never return. Put only picklable objects on a "
        "multiprocessing queue (plain data, module-level functions and classes)."
    )


def premature_join_sentence(running: list[str], not_put: int) -> str:
    """premature_join: ``running``, the producers still running when join() returned."""
    left = f"{not_put} task{_s(not_put)} not yet put"
    if running:
        verb = _s(len(running), "was", "were")
        return f"premature join: returned while {and_list(running)} {verb} still running, {left}."
    return f"premature join: returned before the producers had put all their tasks, {left}."


def task_done_missing_sentence(parts: list[tuple[str, list[int]]], where: str, total: int,
                               m: RunModel) -> str:
    """task_done_missing: ``parts`` (consumer, tasks it took), ``where`` the consumers are."""
    took = and_list(f"{name} took {tasks_phrase(labels)}" for name, labels in parts)
    text = (
        f"task_done() missing: {took} and never called task_done() for "
        f"{_s(total, 'it', 'them')}; {where}, so the unfinished counter is stuck at "
        f"{m.unfinished}"
    )
    return text + join_consequence(m) + "."


def consumers_where(alive: int, total: int, ended: str) -> str:
    """Where the consumers are: "every consumer is waiting in get()" and the like."""
    if not alive:
        return f"every consumer has {ended}"
    if alive == total:
        return "every consumer is waiting in get()"
    return f"every consumer is waiting in get() or has {ended}"


def missing_sentinels_sentence(waiting: list[str], consumers: int, sentinels: int) -> str:
    """missing_sentinels: consumers ``waiting`` in get() on an empty queue, producers done."""
    stuck = (
        f"{and_list(waiting)} {_s(len(waiting), 'waits', 'wait')} in get() forever: the queue "
        "is empty and every producer has finished"
    )
    if sentinels < consumers:
        return (
            f"missing sentinels: {consumers} consumer{_s(consumers)}, {sentinels} "
            f"sentinel{_s(sentinels)} — {stuck}; put one None per consumer."
        )
    return f"{stuck}, and no sentinel is left for {_s(len(waiting), 'it', 'them')}."


def blocked_producer_sentence(name: str, depth: int, maxsize: int, nobody: str,
                              left: int) -> str:
    """stranded_items: a producer blocked in put() on a full queue nobody empties."""
    return (
        f"{name} is blocked in put() on a full queue ({depth} of maxsize {maxsize}) "
        f"and {nobody}, so nothing will make room; {_not_put(left)}."
    )


def idle_producer_sentence(name: str, idle_s: float, depth: int, nobody: str,
                           left: int) -> str:
    """stranded_items: a producer that has put nothing for a while, items queued."""
    return (
        f"{name} has put nothing for {idle_s:.1f} s with {depth} "
        f"item{_s(depth)} queued and {nobody}; {_not_put(left)}."
    )


def _not_put(left: int) -> str:
    if left == 0:
        return "all of its tasks are put"
    return f"{left} of its tasks {_s(left, 'is', 'are')} not yet put"


def stranded_sentence(described: list[str], nobody: str, m: RunModel) -> str:
    """stranded_items: items still in the queue that no consumer is left to take."""
    n = len(described)
    items = f"{n} item{_s(n, ' is', 's are')} still in the queue ({and_list(described)})"
    return (
        f"{items} but {nobody}, so nothing will take {_s(n, 'it', 'them')}"
        + join_consequence(m)
        + "."
    )


def nobody_words(dead: bool) -> str:
    return "every consumer has exited or died" if dead else "every consumer has exited"


def extra_task_done_sentence(name: str, errors: int) -> str:
    """extra_task_done: a worker's task_done() raised ValueError ``errors`` times."""
    times = "once" if errors == 1 else f"{errors} times"
    return (
        f"{name} called task_done() more often than it took tasks: ValueError: "
        f"task_done() called too many times ({times}); the unfinished counter was already 0, "
        "so the call raised instead of lowering it."
    )


def extra_task_dones_sentence(n: int) -> str:
    """extra_task_done: calls that lowered the counter below the work left."""
    return (
        f"task_done() was called {n} time{_s(n)} more than tasks were taken "
        "while other tasks were unfinished: the unfinished counter fell below the work "
        "left, so queue.join() can return before every task is done."
    )
