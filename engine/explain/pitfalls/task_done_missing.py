"""Consumers took tasks and never called task_done(): the counter is stuck."""

from __future__ import annotations

from engine.explain.view import View, missing_task_done
from engine.explain.words import and_list, join_consequence, tasks_phrase

ORDER = 40  # where its sentences stand among the findings


def find(v: View) -> list[str]:
    m = v.model
    if m.in_flight <= 0 or not v.consumers:
        return []
    if any(v.busy_or_unsettled(w) for w in v.consumers):
        return []
    parts: list[str] = []
    total = 0
    for w in v.consumers:
        if v.gone(w) and w.exitcode != 0:
            continue  # a dead worker's tasks are named where its death is reported
        labels = missing_task_done(m, w)
        if labels:
            total += len(labels)
            parts.append(f"{w.name} took {tasks_phrase(labels)}")
    if not parts:
        return []
    alive = [w for w in v.consumers if not v.gone(w)]
    ended = "exited or died" if any(w.exitcode not in (None, 0) for w in v.consumers) else "exited"
    if not alive:
        where = f"every consumer has {ended}"
    elif len(alive) == len(v.consumers):
        where = "every consumer is waiting in get()"
    else:
        where = f"every consumer is waiting in get() or has {ended}"
    them = "it" if total == 1 else "them"
    text = (
        f"task_done() missing: {and_list(parts)} and never called task_done() for {them}; "
        f"{where}, so the unfinished counter is stuck at {m.unfinished}"
    )
    return [text + join_consequence(m) + "."]
