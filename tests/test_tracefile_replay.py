"""A recorded run's trace reads back whole, with progress, and replays to the live summary."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.explain import summary_json
from engine.replay import Replayer, replay_model, replay_summary
from engine.tracefile import FORMAT_VERSION, iter_trace, read_trace
from tests.traces import CFG

# The fixture recorded: pytest finds it among this module's names.
from tests.traces import fixture_recorded as fixture_recorded


def test_recorded_run_replays_to_the_live_summary(recorded: tuple[Path, dict, int]) -> None:
    path, live, live_events = recorded
    trace = read_trace(path)
    assert trace.warnings == ()
    assert trace.version == FORMAT_VERSION
    assert trace.config == CFG
    assert trace.n_events == live_events > 0
    summary = replay_summary(path)
    theory = summary.pop("theory")  # run --json's too; compared in tests/test_theory.py
    assert summary == live
    assert theory["kind"] == "batch"
    assert summary["task_dones"] == 22 and summary["join_returned"] is True  # 20 tasks + 2 None

def test_iter_trace_yields_the_same_batches(recorded: tuple[Path, dict, int]) -> None:
    path = recorded[0]
    cfg, batches = iter_trace(path)
    assert cfg == CFG
    assert list(batches) == read_trace(path).batches


def test_progress_reports_rising_fractions_up_to_one(recorded: tuple[Path, dict, int]) -> None:
    seen: list[float] = []
    read_trace(recorded[0], progress=seen.append)
    assert seen[0] == 0.0 and seen[-1] == 1.0
    assert seen == sorted(seen)


def test_an_exception_in_progress_cancels_the_load(recorded: tuple[Path, dict, int]) -> None:
    class Cancelled(Exception):
        pass

    def cancel(fraction: float) -> None:
        if fraction > 0:
            raise Cancelled

    with pytest.raises(Cancelled):
        read_trace(recorded[0], progress=cancel)


def test_replayer_seeks_forward_and_back(recorded: tuple[Path, dict, int]) -> None:
    trace = read_trace(recorded[0])
    rp = Replayer(trace)
    assert rp.seek(0.0).puts == 0
    counts = []
    for i in range(11):
        m = rp.seek(rp.duration_s * i / 10)
        counts.append((m.puts, m.gets, m.task_dones))
        assert m.unfinished >= 0 and m.depth >= 0
    assert counts == sorted(counts)
    assert rp.at_end
    assert summary_json(rp.model) == summary_json(replay_model(trace))
    back = rp.seek(rp.duration_s / 2)
    assert (back.puts, back.gets, back.task_dones) == counts[5]
