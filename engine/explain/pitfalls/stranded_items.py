"""Items left in the queue with no consumer to take them (a producer stuck on them)."""

from __future__ import annotations

from engine.events import LABEL_NONE, ROLE_CONSUMER
from engine.explain.view import SETTLE_S, View
from engine.explain.words import and_list, join_consequence, task_word
from engine.model import Activity

ORDER = 60  # where its sentences stand among the findings


def find(v: View) -> list[str]:
    """Items in the queue with no consumer left to take them (and a producer stuck on them)."""
    m = v.model
    if m.depth <= 0 or not v.consumers or not all(v.gone(w) for w in v.consumers):
        return []
    queued = sorted((t for t in m.tasks.values() if t[5] is None), key=lambda t: t[3])
    dead = any(w.exitcode not in (None, 0) for w in v.consumers)
    nobody = "every consumer has exited or died" if dead else "every consumer has exited"
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
        not_put = f"{left} of its tasks {'is' if left == 1 else 'are'} not yet put"
        if isinstance(maxsize, int) and 0 < maxsize <= m.depth:
            out.append(
                f"{w.name} is blocked in put() on a full queue ({m.depth} of maxsize {maxsize}) "
                f"and {nobody}, so nothing will make room; {not_put}."
            )
        else:
            out.append(
                f"{w.name} has put nothing for {v.now - since:.1f} s with {m.depth} "
                f"item{'s' if m.depth != 1 else ''} queued and {nobody}; "
                f"{not_put}."
            )
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
    n = len(queued)
    items = f"{n} item{'s are' if n != 1 else ' is'} still in the queue ({and_list(described)})"
    return [
        f"{items} but {nobody}, so nothing will take {'it' if n == 1 else 'them'}"
        + join_consequence(m)
        + "."
    ]
