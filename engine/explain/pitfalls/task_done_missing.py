"""Consumers took tasks and never called task_done(): the counter is stuck."""

from __future__ import annotations

from engine.explain.view import View, missing_task_done
from engine.explain.words import consumers_where, task_done_missing_sentence

ORDER = 40  # where its sentences stand among the findings


def find(v: View) -> list[str]:
    m = v.model
    if m.in_flight <= 0 or not v.consumers:
        return []
    if any(v.busy_or_unsettled(w) for w in v.consumers):
        return []
    parts: list[tuple[str, list[int]]] = []
    total = 0
    for w in v.consumers:
        if v.gone(w) and w.exitcode != 0:
            continue  # a dead worker's tasks are named where its death is reported
        labels = missing_task_done(m, w)
        if labels:
            total += len(labels)
            parts.append((w.name, labels))
    if not parts:
        return []
    alive = sum(1 for w in v.consumers if not v.gone(w))
    ended = "exited or died" if any(w.exitcode not in (None, 0) for w in v.consumers) else "exited"
    where = consumers_where(alive, len(v.consumers), ended)
    return [task_done_missing_sentence(parts, where, total, m)]
