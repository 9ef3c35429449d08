"""A plain consumer for fidelity tests: standard library only, so it starts as fast as a user's."""

from __future__ import annotations

from typing import Any


def spin(n: int) -> None:
    for _ in range(n):
        pass


def consumer(q: Any, ready: Any, n: int) -> None:
    ready.put(1)
    while q.get() is not None:
        spin(n)
        q.task_done()
    q.task_done()
