"""TraceSpool: the window's recording spooled as pickles, exported as the TraceWriter's file."""

from __future__ import annotations

import math
import os
import types
from pathlib import Path

import pytest

from engine.config import RunConfig
from engine.events import Kind
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


def test_a_workers_batch_is_spooled_in_the_bytes_it_arrived_in(tmp_path: Path, monkeypatch) -> None:
    """Under a flood, encoding each batch the workers sent again was a third of the spool's
    time: a batch that came as bytes is written as those bytes; the export reads both kinds."""
    from engine import recorder
    from engine.inbox import Inbox, QueueSource
    from engine.model import RunModel
    from engine.tracefile import spool as spool_mod

    source = QueueSource()
    run = types.SimpleNamespace(status=None, cfg=CFG, source=source,
                                add_listener=lambda f: inbox.add_listener(f))
    inbox = Inbox(RunModel(), source)
    spool = TraceSpool(tmp_path / "raw.qltrace", CFG)
    spool.attach(run)
    encoded: list[object] = []
    monkeypatch.setattr(spool_mod, "dumps_batch",
                        lambda b: encoded.append(b) or recorder.dumps_batch(b))
    start = (0, 0, [(int(Kind.RUN_START), 10.0, 1, 2, 30)])
    work = (1, 0, [(int(Kind.WORKER_START), 10.1, 99, 0, 0),
                   (int(Kind.PUT), 10.2, 10.2, (1 << 32) + 1, 0, 0.5)])
    source.put(start)  # the parent's own: decoded
    source.put_raw(recorder.encode_batch(work))  # a worker's: bytes from its pipe
    try:
        inbox.poll(1.0)
        assert encoded == [start]
        trace = read_trace(spool.export())
        assert trace.n_events == 3 == spool.records
    finally:
        spool.close()
