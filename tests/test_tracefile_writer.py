"""TraceWriter: a readable prefix while open or killed, non-finite values, attach, a full disk."""

from __future__ import annotations

import io
import math
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine.events import Kind
from engine.replay import replay_model
from engine.runner import Run
from engine.tracefile import TraceWriter, read_trace
from tests.traces import CFG

ROOT = Path(__file__).resolve().parent.parent


def test_writer_streams_a_readable_prefix_while_open(tmp_path: Path) -> None:
    path = tmp_path / "open.qltrace"
    with TraceWriter(path, CFG, flush_interval=0.1, flush_batches=10_000) as w:
        w.write([(0, 0, [(int(Kind.RUN_START), 10.0, 1, 2, 20)])])
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if len(read_trace(path).batches) == 1:
                break
            time.sleep(0.05)
        assert len(read_trace(path).batches) == 1, "the idle writer never flushed"
    with pytest.raises(ValueError, match="closed"):
        w.write([(0, 1, [(int(Kind.RUN_END), 11.0, "joined")])])


_KILLED_WRITER = """
import sys, time
from engine.config import RunConfig
from engine.tracefile import TraceWriter
cfg = RunConfig(tasks_per_producer=20, time_scale=0.02, consumers=2, seed=3)
w = TraceWriter(sys.argv[1], cfg)
seq, t, tid = 0, 100.0, 1
while True:
    records = []
    for _ in range(50):
        tid += 1
        records.append((1, t, t + 1e-6, tid, tid, 0.5))
        t += 1e-5
    w.write([(1, seq, records)])
    seq += len(records)
    time.sleep(0.001)
"""


@pytest.mark.slow
def test_a_killed_writer_leaves_a_readable_prefix(tmp_path: Path) -> None:
    path = tmp_path / "killed.qltrace"
    proc = subprocess.Popen([sys.executable, "-c", _KILLED_WRITER, str(path)], cwd=ROOT)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and (not path.exists() or path.stat().st_size < 50_000):
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(5)
    trace = read_trace(path)
    assert trace.n_events >= 100
    assert all(len(r) == 6 for _, _, rs in trace.batches for r in rs)


def test_nonfinite_values_are_written_as_null(tmp_path: Path) -> None:
    path = tmp_path / "nan.qltrace"
    with TraceWriter(path, CFG) as w:
        w.write(
            [
                (
                    1,
                    0,
                    [
                        (int(Kind.PUT), 1.0, 1.5, 7, 0, math.nan),
                        (int(Kind.PUT), 2.0, 2.5, 8, 1, math.inf),
                    ],
                )
            ]
        )
    text = path.read_text()
    assert "NaN" not in text and "Infinity" not in text
    trace = read_trace(path)
    assert [r[5] for r in trace.batches[0][2]] == [None, None]
    assert replay_model(trace).puts == 2


def test_attach_refuses_a_started_run_or_another_config(tmp_path: Path) -> None:
    with TraceWriter(tmp_path / "a.qltrace", CFG) as w:
        with pytest.raises(ValueError, match="different config"):
            w.attach(Run(CFG.replace(consumers=3)))
        run = Run(CFG)
        with run, pytest.raises(RuntimeError, match="before the run starts"):
            w.attach(run)


class _BrokenFile(io.StringIO):
    def write(self, s: str) -> int:
        raise OSError(28, "No space left on device")


def test_a_failing_disk_never_disturbs_the_run(tmp_path: Path) -> None:
    with TraceWriter(tmp_path / "full.qltrace", CFG) as w:
        run = Run(CFG)
        w.attach(run)
        real, w._file = w._file, _BrokenFile()  # every later write fails as on a full disk
        try:
            with run:
                assert run.wait(60)
        finally:
            real.close()
    assert isinstance(w.error, OSError)
    assert run.model.task_dones == 22 and run.model.join_returned_t is not None
