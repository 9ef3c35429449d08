"""queue.join() returned before the producers had put everything."""

from __future__ import annotations

from engine.explain.view import View
from engine.explain.words import and_list

ORDER = 30  # where its sentences stand among the findings


def find(v: View) -> list[str]:
    m = v.model
    if not m.premature_join:
        return []
    running = m.producers_running_at_join()
    n = m.tasks_not_yet_put
    left = f"{n} task{'s' if n != 1 else ''} not yet put"
    if running:
        verb = "was" if len(running) == 1 else "were"
        return [f"premature join: returned while {and_list(running)} {verb} still running, {left}."]
    return [f"premature join: returned before the producers had put all their tasks, {left}."]
