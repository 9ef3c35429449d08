"""What the Run tests share: start methods, the real queue's counter, settling, workers gone."""

from __future__ import annotations

import multiprocessing
import sys
from types import SimpleNamespace

from engine.runner import Run

METHODS = [
    m for m in ("forkserver", "spawn", "fork") if m in multiprocessing.get_all_start_methods()
]
LINUX = sys.platform.startswith("linux")


def real_unfinished(run: Run) -> int:
    return run.queue._unfinished_tasks.get_value()


def assert_all_gone(tools: SimpleNamespace, pids: list[int], timeout: float) -> None:
    left = tools.wait_gone(pids, timeout)
    assert not left, f"worker processes still running: {left}"


def settle(run: Run, quiet_s: float = 0.3) -> None:
    """Feed the model until no batch has arrived for ``quiet_s``."""
    run.drain(quiet_s)
