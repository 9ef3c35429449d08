"""run_alert(): the status bar chip's one line (and tooltip) for a run, worst problem first."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from engine.events import ROLE_CONSUMER
from engine.explain.view import missing_task_done
from engine.explain.words import chip_death, chip_more, chip_tasks, chip_where
from engine.model import JoinState, RunModel

__all__ = ["Alert", "AlertLevel", "run_alert"]


class AlertLevel(Enum):
    STALLED = "stalled"  # queue.join() can never return, or the queue itself is broken
    PROBLEM = "problem"  # a death or a diagnosis finding that does not (yet) stall the run


@dataclass(frozen=True)
class Alert:
    """What the status bar's chip says: one line, and every finding for its tooltip."""

    level: AlertLevel
    text: str
    detail: str


def run_alert(
    model: RunModel | None, found: list[str], stall: str | None, *, live: bool
) -> Alert | None:
    """The chip for a run: a death holding tasks or a broken queue first, then other findings.

    ``found`` is every finding and ``stall`` what :func:`~engine.explain.stall.detect_stall`
    said, both as of the same time; ``live`` adds what to do about it ("press Stop") while the
    run still goes on.
    """
    if model is None:
        return None
    detail = "\n".join(found)
    act = "; press Stop" if live else ""
    dead = sorted(model.dead_workers(), key=lambda w: w.src)
    if stall is not None and dead:
        culprit = max(dead, key=lambda w: w.exit_t or 0.0)
        who = chip_death(culprit) + chip_where(culprit) + chip_more(dead, culprit)
        return Alert(AlertLevel.STALLED, f"STALLED: {who} — the queue is unusable{act}", detail)
    holders = [
        (w, labels)
        for w in dead
        if w.role == ROLE_CONSUMER and (labels := missing_task_done(model, w))
    ]
    if holders and model.join_state != JoinState.RETURNED:
        w, labels = holders[0]
        who = f"{chip_death(w)} holding {chip_tasks(labels)}{chip_more(dead, w)}"
        return Alert(AlertLevel.STALLED, f"STALLED: {who} — join() can never return{act}", detail)
    if dead:
        first = dead[0]
        see = " — see Diagnosis" if found else ""
        text = f"{chip_death(first)}{chip_more(dead, first)}{see}"
        return Alert(AlertLevel.PROBLEM, text, detail)
    if found:
        n = len(found)
        text = f"{n} problem{'s' if n != 1 else ''} found — see Diagnosis"
        return Alert(AlertLevel.PROBLEM, text, detail)
    return None
