"""How long main's join() may sleep between two looks at the unfinished counter (join_until)."""

from __future__ import annotations

import time
from typing import Any

perf_counter = time.perf_counter
FLOOR_S = 0.002  # near the end, and whenever the counter's progress is unknown
CEIL_S = 0.01  # the latest a join that returned is seen: 10 ms of a run's makespan at worst
MARGIN = 8  # sleep an eighth of the time the counter needs to reach zero at its pace so far


class JoinPace:
    """Sleeps that follow the counter's own pace once nothing can raise it any more.

    A 2 ms poll for the whole run cost the parent 500 wake-ups a second (as much CPU as the
    model's feeding), taken from the workers it measures on a small machine. Only for a
    counter that can only come down (every producer has exited): then a sleep of an eighth of
    the time left at the pace so far ends well before zero, and the last ones are 2 ms again.
    """

    def __init__(self, unfinished: Any) -> None:
        self._value = getattr(unfinished, "get_value", None)
        self._first: tuple[float, int] | None = None

    def next_sleep(self) -> float:
        try:
            left = int(self._value()) if self._value is not None else -1
        except (NotImplementedError, OSError):  # macOS has no sem_getvalue
            left = -1
        now = perf_counter()
        if left <= 0:
            return FLOOR_S
        if self._first is None:
            self._first = (now, left)
            return FLOOR_S
        t0, v0 = self._first
        done = v0 - left
        if done <= 0:
            return FLOOR_S
        eta = left * (now - t0) / done
        return min(CEIL_S, max(FLOOR_S, eta / MARGIN))
