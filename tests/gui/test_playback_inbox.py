"""The replay window's Playback takes the records its Replayer's inbox applied: no patched model."""

from __future__ import annotations

import pytest

from engine.config import RunConfig
from engine.runner import Run
from engine.tracefile import TraceWriter
from gui.replay_playback import Playback
from gui.trace_loader import load_run

CFG = RunConfig(tasks_per_producer=20, time_scale=0.02, consumers=2, seed=3)


def test_playback_narrates_every_applied_record_without_wrapping_feed(tmp_path) -> None:
    path = tmp_path / "run.qltrace"
    with TraceWriter(path, CFG) as writer:
        run = Run(CFG)
        writer.attach(run)
        with run:
            assert run.wait(60)
    loaded = load_run(str(path))
    pb = Playback(loaded)
    pb.request(pb.duration)
    taken = []
    while not pb.caught_up:
        pb.step()
        taken += pb.take_applied()
    assert "feed" not in vars(pb.shown)  # RunModel.feed itself, never a wrapper around it
    assert len(taken) == loaded.n_events == pb.shown.events


def test_a_newer_background_job_abandons_the_older_one() -> None:
    """The trace loader's and the flow model's one thread helper (gui/background.py)."""
    import threading

    from gui.background import BackgroundJob

    job = BackgroundJob("queuelab-test-job")
    go = threading.Event()
    seen: dict[str, list[bool]] = {"a": [], "b": [], "c": []}
    ended = {k: threading.Event() for k in seen}

    def work(name: str, gate: threading.Event = go):
        def run(current) -> None:
            gate.wait(10)
            seen[name].append(current())
            ended[name].set()
        return run

    job.start(work("a"))
    job.start(work("b"))  # the newer start: "a" is abandoned, "b" is the one wanted
    go.set()
    assert ended["a"].wait(10) and ended["b"].wait(10)
    assert seen["a"] == [False] and seen["b"] == [True]
    later = threading.Event()
    job.start(work("c", later))
    job.cancel()
    later.set()
    assert job.wait(10) and not job.busy
    assert seen["c"] == [False]


def test_play_right_after_a_seek_plays_on_from_the_seek(tmp_path) -> None:
    """A seek not yet fed is not undone by Play: while the feeding lags, the playhead waits
    for it (it never jumps back to what was fed so far)."""
    path = tmp_path / "run.qltrace"
    with TraceWriter(path, CFG) as writer:
        run = Run(CFG)
        writer.attach(run)
        with run:
            assert run.wait(60)
    now = [0.0]
    pb = Playback(load_run(str(path), whole=False), clock=lambda: now[0])
    late = pb.duration * 0.7
    pb.request(late)
    pb.set_playing(True)
    now[0] += 0.1
    pb.poll(budget_s=0.0)  # one chunk at most: the feeding has not reached the seek yet
    assert pb.target >= late
    while not pb.fed:
        now[0] += 0.1
        pb.poll(budget_s=0.0)
        assert pb.target == late  # held while the feeding catches up
    step = pb.duration * 0.1  # stays inside the run (a short run ends before late + 0.1 s)
    now[0] += step
    pb.poll()
    assert pb.target == pytest.approx(late + step)
