"""BackgroundJob: one job at a time on a daemon thread; a newer start or a cancel abandons it."""

from __future__ import annotations

import threading
from collections.abc import Callable

# What a job is handed: it answers True while the job is still the one wanted. A job checks
# it between steps (and before handing a result back) and stops quietly once it is False.
Current = Callable[[], bool]


class BackgroundJob:
    """Runs ``work(current)`` on a thread, one generation at a time.

    No Qt here: the owner (a QObject) emits its own signals from ``work``; Qt queues them to
    the owner's thread. Starting a new job or cancelling bumps the generation, so the old
    job's ``current()`` turns False and its results are dropped, never shown late.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self._generation = 0
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    @property
    def busy(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, work: Callable[[Current], None]) -> None:
        """Abandon any job in progress and run ``work`` on a new daemon thread."""
        with self._lock:
            self._generation += 1
            gen = self._generation
        self._thread = threading.Thread(
            target=work, args=(lambda: self._current(gen),), name=self.name, daemon=True
        )
        self._thread.start()

    def cancel(self) -> None:
        """Abandon the job in progress (its thread ends at its next check)."""
        with self._lock:
            self._generation += 1

    def wait(self, timeout: float | None = None) -> bool:
        """Join the thread (tests, window close); True when it has ended."""
        t = self._thread
        if t is not None:
            t.join(timeout)
            return not t.is_alive()
        return True

    def _current(self, gen: int) -> bool:
        with self._lock:
            return gen == self._generation
