"""A worker died: which tasks it held and what that means for join()."""

from __future__ import annotations

from engine.events import LABEL_NONE, ROLE_PRODUCER
from engine.explain.view import View, missing_task_done
from engine.explain.words import exit_words, tasks_phrase

ORDER = 10  # where its sentences stand among the findings


def find(v: View) -> list[str]:
    m = v.model
    out: list[str] = []
    for w in v.producers + v.consumers:
        if w.exitcode in (None, 0) or not v.gone(w):
            continue
        who = f"{w.name} (pid {w.pid})" if w.pid else w.name
        text = f"{who} died with {exit_words(w.exitcode)}"
        if w.role == ROLE_PRODUCER:
            per = m.tasks_total // m.producers if m.producers else 0
            put = sum(
                1 for t in m.tasks.values() if t[2] == w.src and t[0] != LABEL_NONE and t[0] >= 0
            )
            text += f" after putting {put} of its {per} tasks" if per else ""
        else:
            held = missing_task_done(m, w)
            if held:
                text += (
                    f" while holding {tasks_phrase(held)}: nobody will call task_done() for "
                    f"{'it' if len(held) == 1 else 'them'}, so the unfinished counter cannot "
                    "reach 0 and queue.join() never returns"
                )
            else:
                text += " holding no task"
        if w.errors:
            text += f"; its last error: {w.errors[-1]}"
        out.append(text + ".")
    return out
