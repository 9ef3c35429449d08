"""How a run ended, in words: joined, stopped before join() returned, or a worker died."""

from __future__ import annotations

from engine.model import RunModel
from engine.states import unfinished_parts


def _tasks(n: int) -> str:
    return f"{n} task{'s' if n != 1 else ''}"


def ended_cleanly(m: RunModel) -> bool:
    """queue.join() returned and no worker died: the run did what it was meant to."""
    return m.join_returned_t is not None and not m.dead_workers()


def ending_words(m: RunModel) -> str:
    """One sentence: how the run ended (or where it is, for a run still going)."""
    dead = m.dead_workers()
    if m.join_returned_t is not None:
        words = f"queue.join() returned at {m.join_returned_t:.2f} s"
        if m.premature_join:
            words += f", too early: {_tasks(m.tasks_not_yet_put)} not put yet"
        if dead:
            words += f"; {', '.join(w.name for w in dead)} died"
        return words
    parts = unfinished_parts(m.depth, m.in_progress, m.not_marked_done)
    unfinished = f"{_tasks(m.unfinished)} unfinished ({parts})"
    if dead:
        names = ", ".join(f"{w.name} (exit code {w.exitcode})" for w in dead)
        return f"queue.join() never returned: {names} died; {unfinished}"
    if m.stop_t is not None:
        reason = m.end_reason or "stopped"
        if reason in ("stopped", "stopped by user"):
            how = "stopped by the user"
        else:
            how = f"stopped ({reason})"
        return f"{how} at {m.stop_t:.2f} s before queue.join() returned: {unfinished}"
    if m.end_reason:
        return f"ended ({m.end_reason}) before queue.join() returned: {unfinished}"
    return f"not ended: {m.join_words()}"
