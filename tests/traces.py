"""A real run recorded to a trace file, for tests that replay, export or render one."""

from __future__ import annotations

from pathlib import Path

from engine.config import RunConfig
from engine.runner import Run
from engine.tracefile import TraceWriter


def record_trace(path: Path, cfg: RunConfig) -> Path:
    """Run ``cfg`` with real processes to its end, writing every record to ``path``."""
    with TraceWriter(path, cfg) as writer:
        run = Run(cfg)
        writer.attach(run)
        with run:
            assert run.wait(60)
    return path
