"""A real run recorded to a trace file, for tests that read, replay, export or render one."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from engine.config import RunConfig
from engine.explain import summary_json
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


# ------------------------------------------------------------ shared by tests/test_tracefile_*.py

CFG = RunConfig(tasks_per_producer=20, time_scale=0.02, consumers=2, seed=3)


def record(path: Path, cfg: RunConfig = CFG) -> tuple[Run, TraceWriter]:
    """Run ``cfg`` for real with a TraceWriter attached; the run has ended when this returns."""
    with TraceWriter(path, cfg) as writer:
        run = Run(cfg)
        writer.attach(run)
        with run:
            assert run.wait(60), "the recorded run did not end"
    return run, writer


@pytest.fixture(name="recorded", scope="module")
def fixture_recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, int]:
    """(trace path, the live run's summary, events the live model received)."""
    path = tmp_path_factory.mktemp("trace") / "run.qltrace"
    run, writer = record(path)
    assert writer.error is None
    return path, summary_json(run.model), run.model.events


@pytest.fixture(name="lines")
def fixture_lines(recorded: tuple[Path, dict, int]) -> list[bytes]:
    return recorded[0].read_bytes().splitlines(keepends=True)


def write(tmp_path: Path, data: bytes | list[bytes], name: str = "t.qltrace") -> Path:
    p = tmp_path / name
    p.write_bytes(data if isinstance(data, bytes) else b"".join(data))
    return p


Mutation = Callable[[list[bytes]], list[bytes]]


def _set_header(key: str, value: object) -> Mutation:
    def mutate(lines: list[bytes]) -> list[bytes]:
        header = json.loads(lines[0])
        header[key] = value
        return [json.dumps(header).encode() + b"\n", *lines[1:]]

    return mutate
