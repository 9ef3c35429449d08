"""SignalGuard: a command's own signal handlers for the length of a ``with`` block."""

from __future__ import annotations

import signal
from collections.abc import Callable
from typing import Any

Handler = Callable[[int, Any], None]


class SignalGuard:
    """Installs :meth:`handlers` on entry and puts the previous handlers back on exit.

    Commands turn SIGINT/SIGTERM into flags their loops check, instead of an exception that
    could land in the middle of the model's feed and leave it half-updated.
    """

    def handlers(self) -> dict[int, Handler]:
        raise NotImplementedError

    def __enter__(self) -> Any:  # the subclass itself
        self._previous: dict[int, Any] = {}
        for sig, handler in self.handlers().items():
            self._previous[sig] = signal.signal(sig, handler)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
