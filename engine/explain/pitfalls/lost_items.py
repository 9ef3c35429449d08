"""An item the feeder thread could not pickle: put() returned, the task never arrived."""

from __future__ import annotations

from engine.explain.view import View

ORDER = 20  # where its sentences stand among the findings


def find(v: View) -> list[str]:
    """Items the feeder thread could not pickle: put() returned, the task never arrived."""
    found = []
    for _t, _tid, label, text in getattr(v.model, "lost_items", ()):
        who = "an item" if label < 0 else f"task {label}"
        found.append(
            f"{who[0].upper()}{who[1:]} could not be pickled ({text}): put() returned, but the "
            "queue's feeder thread dropped it, so it never reached a consumer. It still counts "
            "as unfinished, so queue.join() can never return. Put only picklable objects on a "
            "multiprocessing queue (plain data, module-level functions and classes)."
        )
    return found
