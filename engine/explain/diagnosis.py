"""Hang diagnosis: plain-English explanations, naming workers and tasks, of what holds a run up.

:func:`diagnose` is a pure function of a :class:`~engine.model.RunModel` and the run-relative time
"now": it reads nothing else, so the live window, ``run --json`` and replays agree. It says only
what the recorded events prove. States that could still change by themselves (every consumer
idle in get()) are reported once they have held for :data:`SETTLE_S` seconds; facts that cannot
change (a worker died, join() returned early) are reported at once. Each finding is one module
of engine/explain/pitfalls/.
"""

from __future__ import annotations

from engine.explain.pitfalls import FINDERS
from engine.explain.stall import detect_stall
from engine.explain.view import View
from engine.model import RunModel

__all__ = ["diagnose", "findings"]


def diagnose(model: RunModel, now_t: float | None = None) -> list[str]:
    """Sentences explaining why the run is (or was) stuck; ``[]`` for a healthy run.

    ``now_t`` is the run-relative time now (``model.rel(time.perf_counter())``); it defaults to
    the last event's time, which never advances while a run hangs, so pass it when live.
    """
    view = View(model, now_t)
    found: list[str] = []
    for find in FINDERS:
        found += find(view)
    return found


_UNKNOWN = "?"  # findings() works the stall out itself (None already means "no stall")


def findings(
    model: RunModel, now_t: float | None = None, stall: str | None = _UNKNOWN
) -> list[str]:
    """Every finding: :func:`diagnose`'s, then a broken queue's.

    ``stall`` is :func:`detect_stall`'s answer when the caller has it (explain() has: the
    stall is worked out once per tick), else it is worked out here.
    """
    found = diagnose(model, now_t)
    if stall is _UNKNOWN:
        stall = detect_stall(model, model.last_t if now_t is None else now_t)
    if stall is not None:
        found.append(stall)
    return found
