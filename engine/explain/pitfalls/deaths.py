"""A worker died: which tasks it held and what that means for join()."""

from __future__ import annotations

from engine.events import LABEL_NONE, ROLE_PRODUCER
from engine.explain.view import View, missing_task_done
from engine.explain.words import death_sentence

ORDER = 10  # where its sentences stand among the findings


def find(v: View) -> list[str]:
    m = v.model
    out: list[str] = []
    for w in v.producers + v.consumers:
        if not v.gone(w) or not w.died_before(v.cutoff):
            continue
        who = f"{w.name} (pid {w.pid})" if w.pid else w.name
        put_of = held = None
        if w.role == ROLE_PRODUCER:
            per = m.tasks_total // m.producers if m.producers else 0
            put = sum(
                1 for t in m.tasks.values() if t[2] == w.src and t[0] != LABEL_NONE and t[0] >= 0
            )
            put_of = (put, per)
        else:
            held = missing_task_done(m, w)
        last_error = w.errors[-1] if w.errors else None
        out.append(death_sentence(who, w.exitcode, put_of=put_of, held=held,
                                  last_error=last_error))  # fmt: skip
    return out
