"""A traced program behind :class:`~engine.runner.Run`'s interface, for the window's driver.

The window polls, stops and records a run through ``Run``'s methods; :class:`TraceRun` gives
the same ones over a :class:`~engine.trace_session.TraceSession`, and keeps the program's
output (stdout and stderr, merged, read from a pipe) for the console pane.
"""

from __future__ import annotations

import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable

from engine.config import RunConfig
from engine.model import RunModel
from engine.runner import RunStatus
from engine.trace_session import Batch, TraceSession


class TraceRun:
    """``Run``'s face on a traced program: start, poll, stop, ended, end_reason, listeners."""

    def __init__(self, argv: list[str], cfg: RunConfig) -> None:
        self.cfg = cfg
        self.argv = list(argv)
        self.session = TraceSession(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self._status = RunStatus.IDLE
        self.warnings: list[str] = []
        self.output: deque[tuple[float, str]] = deque()  # (run-relative s, text) not shown yet
        self._reader: threading.Thread | None = None

    @property
    def status(self) -> RunStatus:
        if self._status in (RunStatus.RUNNING, RunStatus.STOPPING) and self.session.ended:
            ok = self.session.exit_code == 0 and self.session.end_reason == "exited"
            return RunStatus.FINISHED if ok else RunStatus.STOPPED
        return self._status

    @property
    def model(self) -> RunModel:
        return self.session.model

    def start(self) -> TraceRun:
        self.session.start()
        self._status = RunStatus.RUNNING
        proc = self.session.proc
        if proc is not None and proc.stdout is not None:
            self._reader = threading.Thread(
                target=self._read_output, args=(proc.stdout,), name="queuelab-console",
                daemon=True,
            )  # fmt: skip
            self._reader.start()
        return self

    def _read_output(self, pipe) -> None:  # pipe: the binary file of the program's output
        # read1: whatever the program wrote so far, not a full buffer's worth.
        while chunk := pipe.read1(65536):
            self.output.append((time.perf_counter(), chunk.decode("utf-8", "replace")))
        pipe.close()

    @property
    def output_open(self) -> bool:
        """The program's output may bring more: its reader has not met the pipe's end."""
        return self._reader is not None and self._reader.is_alive()

    def take_output(self) -> list[tuple[float, str]]:
        out = []
        while self.output:
            out.append(self.output.popleft())
        return out

    def add_listener(self, listener: Callable[[Batch], None]) -> None:
        self.session.add_listener(listener)

    def poll(
        self, budget_s: float = 0.01, wait_s: float = 0.0, *, feed: bool = True
    ) -> list[tuple[int, tuple]]:
        return self.session.poll(budget_s, wait_s)

    @property
    def pending(self) -> int:
        return self.session.pending

    @property
    def ended(self) -> bool:
        return self.session.ended

    @property
    def end_reason(self) -> str | None:
        return self.session.end_reason

    def pause(self) -> None:
        """Not offered: a user's program is not told to pause."""

    def resume(self) -> None:
        """Not offered (see pause)."""

    def stop(self, reason: str = "stopped", timeout: float = 2.0) -> None:
        """End the program's whole process tree (nothing to do once it has ended)."""
        if self._status is RunStatus.RUNNING and not self.session.ended:
            self._status = RunStatus.STOPPING
            self.session.stop(reason)
        self.session.close()
