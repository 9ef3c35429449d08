"""An item the feeder thread could not pickle: put() returned, the task never arrived."""

from __future__ import annotations

from engine.explain.view import View
from engine.explain.words import lost_item_sentence

ORDER = 20  # where its sentences stand among the findings


def find(v: View) -> list[str]:
    """Items the feeder thread could not pickle: put() returned, the task never arrived."""
    return [lost_item_sentence(label, text)
            for _t, _tid, label, text in getattr(v.model, "lost_items", ())]  # fmt: skip
