"""task_done() called more often than tasks were taken."""

from __future__ import annotations

from engine.explain.view import View

ORDER = 70  # where its sentences stand among the findings


def find(v: View) -> list[str]:
    m = v.model
    out: list[str] = []
    for w in sorted(m.workers.values(), key=lambda w: w.src):
        errors = [e for e in w.errors if "too many times" in e]
        if not errors:
            continue
        times = "once" if len(errors) == 1 else f"{len(errors)} times"
        out.append(
            f"{w.name} called task_done() more often than it took tasks: ValueError: "
            f"task_done() called too many times ({times}); the unfinished counter was already 0, "
            "so the call raised instead of lowering it."
        )
    n = m.extra_task_dones
    if n:
        out.append(
            f"task_done() was called {n} time{'s' if n != 1 else ''} more than tasks were taken "
            "while other tasks were unfinished: the unfinished counter fell below the work "
            "left, so queue.join() can return before every task is done."
        )
    return out
