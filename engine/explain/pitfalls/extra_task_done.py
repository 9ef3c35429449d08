"""task_done() called more often than tasks were taken."""

from __future__ import annotations

from engine.explain.view import View
from engine.explain.words import extra_task_done_sentence, extra_task_dones_sentence

ORDER = 70  # where its sentences stand among the findings


def find(v: View) -> list[str]:
    m = v.model
    out: list[str] = []
    for w in sorted(m.workers.values(), key=lambda w: w.src):
        errors = [e for e in w.errors if "too many times" in e]
        if errors:
            out.append(extra_task_done_sentence(w.name, len(errors)))
    if m.extra_task_dones:
        out.append(extra_task_dones_sentence(m.extra_task_dones))
    return out
