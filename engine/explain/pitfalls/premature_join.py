"""queue.join() returned before the producers had put everything."""

from __future__ import annotations

from engine.explain.view import View
from engine.explain.words import premature_join_sentence

ORDER = 30  # where its sentences stand among the findings


def find(v: View) -> list[str]:
    m = v.model
    if not m.premature_join:
        return []
    return [premature_join_sentence(m.producers_running_at_join(), m.tasks_not_yet_put)]
