"""Items left in the queue with no consumer to take them (a producer stuck on them)."""

from __future__ import annotations

from engine.events import LABEL_NONE, ROLE_CONSUMER
from engine.explain.view import SETTLE_S, View
from engine.explain.words import (
    blocked_producer_sentence,
    idle_producer_sentence,
    nobody_words,
    stranded_sentence,
    task_word,
)
from engine.model import Activity

ORDER = 60  # where its sentences stand among the findings


def find(v: View) -> list[str]:
    """Items in the queue with no consumer left to take them (and a producer stuck on them)."""
    m = v.model
    if m.depth <= 0 or not v.consumers or not all(v.gone(w) for w in v.consumers):
        return []
    queued = sorted((t for t in m.tasks.values() if t[5] is None), key=lambda t: t[3])
    dead = any(w.exitcode not in (None, 0) for w in v.consumers)
    nobody = nobody_words(dead)
    out: list[str] = []
    maxsize = getattr(m, "maxsize", 0)
    per = m.tasks_total // m.producers if m.producers else 0
    for w in v.producers:
        if v.gone(w):
            continue
        activity, since = v.state(w)
        if activity not in (Activity.RUNNING, Activity.BLOCK_PUT) or v.now - since < SETTLE_S:
            continue
        put = sum(1 for t in m.tasks.values() if t[2] == w.src and t[0] >= 0)
        left = max(0, per - put)
        if isinstance(maxsize, int) and 0 < maxsize <= m.depth:
            out.append(blocked_producer_sentence(w.name, m.depth, maxsize, nobody, left))
        else:
            out.append(idle_producer_sentence(w.name, v.now - since, m.depth, nobody, left))
    if out:
        return out
    if any(not v.gone(w) for w in v.producers) or v.traced_main_may_put():
        return []  # a producer still running may yet explain itself; wait for it
    last_sentinel = max((t[3] for t in m.tasks.values() if t[0] == LABEL_NONE), default=None)
    described: list[str] = []
    for t in queued:
        text = task_word(t[0])
        putter = m.workers.get(t[2])
        if putter is not None and putter.role == ROLE_CONSUMER:
            text += f" re-put by {putter.name}"
            if last_sentinel is not None and t[3] > last_sentinel:
                text += " after the last sentinel"
        described.append(text)
    return [stranded_sentence(described, nobody, m)]
