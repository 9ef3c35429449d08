"""The replay window's Playback takes the records its Replayer's inbox applied: no patched model."""

from __future__ import annotations

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
