"""A replay seeks back from a snapshot of its model, not from the start, and lands on the
same model a fresh replay fed up to that time has (issue 16)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine.config import RunConfig
from engine.explain import summary_json
from engine.inbox import Inbox
from engine.model import RunModel
from engine.replay import Replayer
from engine.tracefile import read_trace
from tests.traces import record_trace

CFG = RunConfig(tasks_per_producer=60, time_scale=0.01, consumers=3, producers=2,
                sentinels="per_consumer", seed=3)  # fmt: skip


@pytest.fixture(scope="module")
def trace_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return record_trace(tmp_path_factory.mktemp("snapshots") / "run.qltrace", CFG)


def state(m: RunModel) -> dict:
    """What the views read of a model: its summary, series, tasks and workers' timelines."""
    return {
        "summary": summary_json(m),
        "series": [np.asarray(a).tolist() for a in (m.s_t, m.s_puts, m.s_gets, m.s_dones,
                                                     m.done_t, m.done_wait, m.done_service)],
        "tasks": sorted((tid, tuple(t)) for tid, t in m.tasks.items()),
        "workers": {src: (w.activity, w.since, w.exitcode, list(w.intervals))
                    for src, w in m.workers.items()},
        "join": (m.join_state, m.join_called_t, m.join_returned_t, m.last_t, m.events),
    }


def test_a_copy_is_fed_on_alone(trace_path: Path) -> None:
    """RunModel.copy: the copy's series read its own points (deepcopy's would read the
    original's), and feeding one leaves the other as it was."""
    r = Replayer(read_trace(trace_path))
    half = r.duration_s / 2
    r.advance(half)
    at_half = state(r.model)
    snap = r.model.copy()
    assert state(snap) == at_half
    # The copy fed on to the end, the original left at half the run.
    c = Replayer(read_trace(trace_path))
    c.advance(half)
    c.model = snap
    c.inbox = Inbox(snap, c.source)
    c.advance(c.duration_s)
    assert state(r.model) == at_half, "feeding the copy changed the original"
    assert state(snap) == state(Replayer(read_trace(trace_path)).seek(c.duration_s))


def test_seeks_start_from_a_snapshot_and_equal_a_fresh_replay(trace_path: Path) -> None:
    trace = read_trace(trace_path)
    n = trace.n_events
    every = max(1, n // 8)
    r = Replayer(trace, snapshot_every=every)
    end = r.duration_s
    r.advance(end)
    assert len(r.snapshots) >= 4
    prev = end
    for frac in (0.8, 0.3, 0.55, 0.05, 0.95, 0.5):
        t = end * frac
        applied = r.advance(t)
        want = Replayer(read_trace(trace_path)).seek(t)
        assert state(r.model) == state(want), f"at {t:.4f} s"
        # Back, or forward past a snapshot: only the records after the last snapshot before
        # t were fed (again).
        way = "back" if t < prev else "forward"
        assert len(applied) < every, f"{way} to {t:.4f} s fed {len(applied)} records"
        prev = t

