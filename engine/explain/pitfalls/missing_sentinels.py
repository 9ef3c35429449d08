"""Consumers wait in get() forever: fewer sentinels than consumers, or none left."""

from __future__ import annotations

from engine.explain.view import View
from engine.explain.words import missing_sentinels_sentence
from engine.states import JoinState

ORDER = 50  # where its sentences stand among the findings


def find(v: View) -> list[str]:
    m = v.model
    # A traced program's main process may be the producer (its puts are main's).
    if m.depth != 0 or not (v.producers or v.traced_main_put()) or not v.consumers:
        return []
    if not all(v.gone(w) for w in v.producers) or v.traced_main_may_put():
        return []  # a producer still running will put more, sentinels included
    if v.traced and m.join_state == JoinState.WAITING and m.unfinished > 0:
        return []  # a program's main may put its sentinels after its join: that join is stuck
    if any(v.busy_or_unsettled(w) for w in v.consumers):
        return []  # a busy consumer may still re-put a task the waiting ones would take
    waiting = [w.name for w in v.consumers if not v.gone(w)]
    if not waiting:
        return []
    return [missing_sentinels_sentence(waiting, m.consumers or len(v.consumers),
                                       m.sentinel_puts)]  # fmt: skip
