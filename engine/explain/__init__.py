"""What is wrong with a run, in words: one :func:`explain` per tick, rendered by every view.

The package's parts: ``words`` (the shared phrasing), ``view`` (the run as of now),
``pitfalls/`` (one module a finding), ``diagnosis``, ``stall``, ``hopeless``, ``alert`` (the
status bar chip), ``narration`` (tutorial lines) and ``summary`` (``--json`` and text).
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.explain.alert import Alert, AlertLevel, run_alert
from engine.explain.diagnosis import diagnose, findings
from engine.explain.hopeless import hopeless
from engine.explain.narration import Narrator
from engine.explain.stall import STALL_S, detect_stall
from engine.explain.summary import summary_json, summary_lines
from engine.explain.view import SETTLE_S, missing_task_done
from engine.explain.words import exit_words
from engine.model import RunModel

__all__ = [
    "SETTLE_S",
    "STALL_S",
    "Alert",
    "AlertLevel",
    "Explanation",
    "Narrator",
    "detect_stall",
    "diagnose",
    "exit_words",
    "explain",
    "findings",
    "hopeless",
    "missing_task_done",
    "run_alert",
    "summary_json",
    "summary_lines",
]


@dataclass(frozen=True)
class Explanation:
    """Everything said about a run as of one time ``t`` (run-relative seconds).

    ``findings`` are the diagnosis' sentences (the stall's last, when there is one), ``stall``
    the broken-queue sentence or None, ``alert`` the status bar chip or None, ``hopeless`` why
    the run can never end by itself or None, ``deaths`` how many workers had died.
    """

    t: float
    findings: tuple[str, ...]
    stall: str | None
    alert: Alert | None
    hopeless: str | None
    deaths: int

    @property
    def problem(self) -> bool:
        return bool(self.findings)


def explain(model: RunModel, now_t: float | None = None, *, live: bool = False) -> Explanation:
    """Work out, once, everything the views say about ``model`` at ``now_t``.

    ``now_t`` defaults to the last event's time (a finished run, a replay at its end); pass
    the time now while a run goes on, since a hang adds no events. ``live`` makes the chip say
    what to do ("press Stop").
    """
    t = model.last_t if now_t is None else now_t
    stall = detect_stall(model, t)
    found = findings(model, now_t, stall)
    deaths = sum(w.exitcode not in (None, 0) for w in model.workers.values())
    return Explanation(
        t=t,
        findings=tuple(found),
        stall=stall,
        alert=run_alert(model, found, stall, live=live),
        hopeless=hopeless(model, now_t),
        deaths=deaths,
    )
