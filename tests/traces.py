"""A real run recorded to a trace file, for tests that replay, export or render one."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from engine.config import RunConfig
from engine.model import RunModel
from engine.runner import Run
from engine.tracefile import TraceWriter
from tests.faults import poll_until


def record_trace(path: Path, cfg: RunConfig) -> Path:
    """Run ``cfg`` with real processes to its end, writing every record to ``path``."""
    with TraceWriter(path, cfg) as writer:
        run = Run(cfg)
        writer.attach(run)
        with run:
            assert run.wait(60)
    return path


def record_until(path: Path, cfg: RunConfig, until: Callable[[RunModel], bool]) -> Path:
    """Run ``cfg`` with real processes until ``until(model)`` holds, then stop it (a run whose
    queue.join() never returns), writing every record to ``path``."""
    with TraceWriter(path, cfg) as writer:
        run = Run(cfg)
        writer.attach(run)
        with run:
            assert poll_until(run, until, 60)
            run.stop()
    return path
