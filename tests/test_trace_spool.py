"""TraceSpool: the window's recording spooled as pickles, exported as the TraceWriter's file."""

from __future__ import annotations

import math
import os
from pathlib import Path

import pytest

from engine.config import RunConfig
from engine.runner import Run
from engine.tracefile import TraceWriter, read_trace
from engine.tracefile.spool import TraceSpool

CFG = RunConfig(producers=1, consumers=2, tasks_per_producer=30)


def batches(n: int, first_src: int = 1) -> list[tuple[int, int, list[tuple]]]:
    out = []
    for i in range(n):
        src = first_src + i % 3
        out.append((src, 10 * i, [(2, 100.0 + i + k / 7, i * 5 + k, "x") for k in range(5)]))
    return out


def lines_after_header(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()[1:]


def test_export_writes_what_a_trace_writer_writes_and_only_once(tmp_path: Path) -> None:
    first, second = batches(100), batches(7, first_src=4)
    second[3][2][1] = (2, math.nan, 3, None)  # JSON has no NaN: written as null by both
    want = tmp_path / "want.qltrace"
    with TraceWriter(want, CFG) as w:
        w.write(first)
        w.write(second)
    spool = TraceSpool(tmp_path / "got.qltrace", CFG)
    spool.write(first)
    # Until it is asked for, the trace holds the header only: no JSON while the run goes on.
    assert lines_after_header(Path(spool.path)) == []
    assert spool.export() == spool.path
    spool.write(second)
    spool.export()
    spool.export()  # nothing new: nothing written twice
    assert lines_after_header(Path(spool.path)) == lines_after_header(want)
    assert (spool.batches, spool.records) == (107, 535)
    spool.close()
    assert not os.path.exists(spool.spool_path)


def test_a_run_spooled_exports_the_batches_its_model_got(tmp_path: Path) -> None:
    run = Run(CFG)
    spool = TraceSpool(tmp_path / "run.qltrace", CFG)
    spool.attach(run)
    with pytest.raises(RuntimeError):
        spool.attach(run.start())  # too late: batches would be missing
    assert run.wait(60)
    trace = read_trace(spool.export())
    assert trace.n_events == run.model.events == spool.records
    spool.close()


def test_a_closed_spool_drops_batches_and_keeps_the_export(tmp_path: Path) -> None:
    spool = TraceSpool(tmp_path / "c.qltrace", CFG)
    spool.write(batches(3))
    spool.export()
    spool.close()
    spool.close()
    spool._on_batch(batches(1)[0])  # a late batch of an attached run: dropped, no error
    assert spool.error is None
    assert len(lines_after_header(Path(spool.path))) == 3
