"""A replay cuts its whole-run model at the playhead: seeks back and forth show at once what a
model fed up to then shows, an operation in progress shows as such, and a paused run's
playhead runs on the charts' clock (issue 16)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from engine.config import load_preset
from engine.model import Activity, RunModel
from engine.replay import Replayer
from engine.runner import Run
from engine.tracefile import TraceWriter, read_trace
from gui.replay_playback import Playback
from gui.replay_window import ReplayWindow
from gui.trace_loader import load_run

LOAD_TIMEOUT_MS = 20_000
CFG = load_preset("bounded-queue")  # the producer spends most of the run blocked in put()
HOLD_S = 1.0  # how long the recorded run stays paused


def record(path: Path, pause: bool = False) -> None:
    """Run CFG with a TraceWriter attached (``pause``: held for HOLD_S after 4 task_dones)."""
    with TraceWriter(path, CFG) as writer:
        run = Run(CFG)
        writer.attach(run)
        with run:
            if pause:
                end = time.monotonic() + 60
                while run.model.task_dones < 4 and time.monotonic() < end:
                    run.poll(0.05, wait_s=0.05)
                assert run.model.task_dones >= 4
                run.pause()
                time.sleep(HOLD_S)  # makes the held time (not a gate: nothing is awaited)
                run.resume()
            assert run.wait(60), "the recorded run did not end"
    assert writer.error is None


@pytest.fixture(scope="module")
def traces(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("replay_cut")
    free, paused = d / "free.qltrace", d / "paused.qltrace"
    record(free)
    record(paused, pause=True)
    return {"free": free, "paused": paused}


def open_window(qtbot: QtBot, path: Path) -> ReplayWindow:
    w = ReplayWindow()
    qtbot.addWidget(w)
    w.resize(1280, 800)
    w.show()
    w.open_path(str(path))
    qtbot.waitUntil(lambda: w.loaded is not None, timeout=LOAD_TIMEOUT_MS)
    return w


def seek(qtbot: QtBot, w: ReplayWindow, raw_s: float) -> float:
    """Move the scrubber to ``raw_s``; returns the run time the charts then show (the next
    frame's cut; the playback's own feeding is not waited for)."""
    w.slider.setValue(round(raw_s * 1000))
    pb = w.playback
    assert pb is not None
    qtbot.waitUntil(lambda: w.charts.until == pb.run_time, timeout=10_000)
    assert w.charts.until is not None
    return w.charts.until


def counts(m: RunModel) -> str:
    return f"put {m.puts:,} · get {m.gets:,} · task_done {m.task_dones:,}"


def test_seeks_back_and_forth_show_a_model_fed_up_to_the_playhead_at_once(
    qtbot: QtBot, traces: dict[str, Path]
) -> None:
    path = traces["free"]
    w = open_window(qtbot, path)
    whole = w.loaded.model
    dur = w.playback.duration
    for frac in (0.9, 0.3, 0.6, 0.1, 0.75):
        at = round(dur * frac * 1000) / 1000
        until = seek(qtbot, w, at)
        ref = Replayer(read_trace(path)).seek(at)  # a model of its own, fed up to the playhead
        assert w.charts.model is whole, "the charts' model was replaced"
        assert until == pytest.approx(at, abs=1e-6)
        assert w.status.counts_label.text() == counts(ref), f"at {at}"
        assert w.status.join_label.text() == ref.join_words(), f"at {at}"
        assert w.charts.counts_at(until) == (ref.puts, ref.gets, ref.task_dones)
        data = w.charts.curve_data()
        x, y = data["unfinished"]
        assert x[-1] == pytest.approx(until) and y[-1] == ref.unfinished
        assert x.max() <= until + 1e-12, "the charts draw past the playhead"
        g, _rate = data["rate"]
        assert g.size == 0 or g.max() <= until
        markers = w.charts.markers()
        assert (markers["join_returned"] is None) == (ref.join_returned_t is None)


def test_a_put_called_but_not_returned_at_the_playhead_shows_as_blocked(
    qtbot: QtBot, traces: dict[str, Path]
) -> None:
    """A put still blocked at T: the whole-run model cut at T shows the producer's row blocked
    there, as a model fed the records up to T does (PUT_BLOCKED is recorded when the wait
    begins, not when the put returns)."""
    path = traces["free"]
    w = open_window(qtbot, path)
    whole = w.loaded.model
    producer = next(src for src, wk in whole.workers.items() if wk.name == "producer-0")
    blocked = [(t0, t1) for t0, t1, a, _l in whole.workers[producer].intervals
               if a == Activity.BLOCK_PUT and t1 - t0 > 0.1]  # fmt: skip
    assert blocked, "the bounded queue never held the producer up"
    t0, t1 = blocked[len(blocked) // 2]
    mid = (t0 + t1) / 2
    raw = mid + (whole.t0 - read_trace(path).t0)  # no pause: run time = raw time - offset
    until = seek(qtbot, w, raw)
    row = w.charts.timeline_rows().index("producer-0")
    hit = w.charts.timeline.rows[row].at(until, until, until)
    assert hit is not None and hit[2] == int(Activity.BLOCK_PUT)
    assert hit[1] == pytest.approx(until)  # the interval open at the playhead ends there
    ref = Replayer(read_trace(path)).seek(round(raw * 1000) / 1000)
    assert ref.workers[producer].activity == Activity.BLOCK_PUT


def test_a_paused_runs_playhead_runs_on_the_charts_clock(
    qtbot: QtBot, traces: dict[str, Path]
) -> None:
    """The recorded run was paused for HOLD_S: the model's clock leaves that out, and so do
    the playhead, the time shown, the charts' cut and the flow view's time."""
    path = traces["paused"]
    w = open_window(qtbot, path)
    whole = w.loaded.model
    pb = w.playback
    held = whole.held_s.get("pause", 0.0)
    assert held >= HOLD_S
    assert pb.run_duration == pytest.approx(whole.last_t, abs=1e-6)
    assert pb.duration - pb.run_duration == pytest.approx(held, abs=1e-6)
    w.view_tabs.show_flow()
    t0 = pb.replayer.t0
    start = whole._pauses[0]  # the hold's start, perf_counter seconds
    inside = start + held / 2 - t0
    until = seek(qtbot, w, inside)
    assert until == pytest.approx(start - whole.t0, abs=1e-3)  # the clock stands still
    after = start + held + 0.2 - t0
    until = seek(qtbot, w, after)
    assert until == pytest.approx(after - held + (t0 - whole.t0), abs=1e-3)
    ref = Replayer(read_trace(path)).seek(round(after * 1000) / 1000)
    assert w.status.counts_label.text() == counts(ref)
    assert ref.last_t <= until
    assert playhead_lines(w) == [pytest.approx(until)] * 4
    assert w.flow_view.frame is not None and w.flow_view.frame.t == pytest.approx(until)
    assert w.time_label.text().split(" s")[0].strip() == f"{until:.2f}"


def playhead_lines(w: ReplayWindow) -> list[float]:
    return [line.value() for line in w.charts._playhead if line.isVisible()]


def test_playing_into_a_pause_goes_on_from_its_end(traces: dict[str, Path]) -> None:
    """Held time is no run time: played, it would be a stretch where nothing moves."""
    now = [0.0]
    loaded = load_run(str(traces["paused"]))
    pb = Playback(loaded, clock=lambda: now[0])
    whole = loaded.model
    t0 = pb.replayer.t0
    start = whole._pauses[0]
    end = start + whole.held_s["pause"]
    pb.request(start - t0 - 0.01)
    pb.step()
    pb.set_playing(True)
    now[0] += 0.02  # 20 ms of play at 1x crosses into the hold
    pb.poll(budget_s=1.0)
    assert pb.target == pytest.approx(end - t0, abs=1e-9)
    assert pb.run_time == pytest.approx(start - whole.t0, abs=1e-6)


def test_the_playbacks_model_jumps_from_snapshots_back_and_forth(
    traces: dict[str, Path]
) -> None:
    """The diagnosis, theory and log read the playback's own model: after a seek either way
    it is shown once it holds the run up to the playhead, fed from the last snapshot before
    it (never from the start once one is there), and equals a fresh replay's."""
    loaded = load_run(str(traces["free"]))
    r = loaded.replayer
    r.snapshot_every = 10
    pb = Playback(loaded)
    end = pb.duration
    pb.request(end)
    while pb.step():  # one pass to the end, snapshots on the way
        pass
    assert len(r.snapshots) >= 4
    for frac in (0.3, 0.9, 0.5, 0.05, 0.7):
        old = pb.shown
        pb.request(end * frac)
        while not pb.fed:
            pb.step()
        assert pb.shown is r.model and pb.shown is not old
        want = Replayer(read_trace(traces["free"])).seek(end * frac)
        assert (pb.shown.events, pb.shown.puts, pb.shown.gets, pb.shown.task_dones,
                pb.shown.last_t) == (want.events, want.puts, want.gets, want.task_dones,
                                     want.last_t), f"at {frac}"  # fmt: skip
