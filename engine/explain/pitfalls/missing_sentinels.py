"""Consumers wait in get() forever: fewer sentinels than consumers, or none left."""

from __future__ import annotations

from engine.explain.view import View
from engine.explain.words import missing_sentinels_sentence

ORDER = 50  # where its sentences stand among the findings


def find(v: View) -> list[str]:
    m = v.model
    if m.depth != 0 or not v.producers or not v.consumers:
        return []
    if not all(v.gone(w) for w in v.producers):
        return []  # a producer still running will put more, sentinels included
    if any(v.busy_or_unsettled(w) for w in v.consumers):
        return []  # a busy consumer may still re-put a task the waiting ones would take
    waiting = [w.name for w in v.consumers if not v.gone(w)]
    if not waiting:
        return []
    return [missing_sentinels_sentence(waiting, m.consumers or len(v.consumers),
                                       m.sentinel_puts)]  # fmt: skip
