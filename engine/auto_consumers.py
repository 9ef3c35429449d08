"""consumers = "auto": how many consumers a machine gets, and the lesson's sentence saying why."""

from __future__ import annotations

import os

__all__ = ["AUTO_CONSUMERS", "AUTO_MIN_CONSUMERS", "MAX_WORKERS", "auto_consumers",
           "auto_consumers_note", "with_auto_note"]  # fmt: skip

# consumers = "auto": the pool-sized choice a reader asked about, os.cpu_count() - 1, but at
# least AUTO_MIN_CONSUMERS (the many-consumers lesson must show the work being shared on a
# 2-CPU laptop too) and at most the consumers limit. Resolved when the config is read, so a
# RunConfig always holds a number.
AUTO_CONSUMERS = "auto"
AUTO_MIN_CONSUMERS = 3
MAX_WORKERS = 64
# The explanation gets one paragraph saying what "auto" found; it starts with this, so a later
# resolution replaces it instead of adding another.
_AUTO_NOTE_START = 'consumers = "auto" on this machine: '


def auto_consumers(cpus: int | None = None) -> int:
    """What consumers = "auto" means with ``cpus`` CPUs (default: os.cpu_count())."""
    n = os.cpu_count() if cpus is None else cpus
    return min(MAX_WORKERS, max(AUTO_MIN_CONSUMERS, (n or 0) - 1))


def auto_consumers_note(cpus: int | None = None) -> str:
    """One sentence for the lesson: how many CPUs "auto" found and why it chose its count."""
    n = os.cpu_count() if cpus is None else cpus
    chosen = auto_consumers(n)
    head = f"{_AUTO_NOTE_START}{chosen} consumers, "
    if not n:
        return head + (
            "since os.cpu_count() could not tell how many CPUs there are; "
            f"{AUTO_MIN_CONSUMERS} is the fewest that show the work being shared."
        )
    found = f"os.cpu_count() found {n} CPU{'s' if n != 1 else ''}"
    if n - 1 < AUTO_MIN_CONSUMERS:
        return head + (
            f"since {found}: one per CPU but one would be {n - 1}, too few to show the work "
            f"being shared, so auto takes at least {AUTO_MIN_CONSUMERS} (they take turns on the "
            "CPUs)."
        )
    if n - 1 > MAX_WORKERS:
        return head + (
            f"since {found}: one per CPU but one would be {n - 1}, more than the limit of "
            f"{MAX_WORKERS} consumers."
        )
    return head + f"one per CPU but one, since {found}."


def with_auto_note(explanation: object, cpus: int | None) -> object:
    """The explanation with its "auto" paragraph (re)written; non-text is left for validation."""
    if not isinstance(explanation, str):
        return explanation
    kept = [p for p in explanation.split("\n\n") if p and not p.startswith(_AUTO_NOTE_START)]
    return "\n\n".join([*kept, auto_consumers_note(cpus)])
