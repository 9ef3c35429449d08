"""The flow view against the model: every token where the model puts its task, on real runs."""

from __future__ import annotations

import itertools
import math
import os
import signal
import time
from pathlib import Path

import pytest
from PySide6.QtGui import QColor, QImage
from pytestqt.qtbot import QtBot

from engine.config import RunConfig
from engine.config_files import load_preset
from engine.distributions import Distribution
from engine.events import LABEL_NONE, effect_time
from engine.flow_layout import (
    CONSUMER,
    DONE,
    DROPPED,
    GATE_CLOSED,
    GATE_PREMATURE,
    QUEUE,
    SENTINEL,
    UNFINISHED,
    FlowLimits,
    flow_frame,
    latest_time,
)
from engine.model import Activity, RunModel
from engine.replay import Replayer, replay_model
from engine.runner import Run
from engine.tracefile import TraceWriter, read_trace
from gui.charts.palette import qcolor, theme_for_palette
from gui.flow import FlowView
from gui.flow.look import S_SENTINEL, S_TASK, S_UNFINISHED, styles, token_style_key

# Retries (a failed task goes back into the queue from its consumer), two consumers, sentinels.
CFG = RunConfig(
    tasks_per_producer=14, time_scale=0.05, consumers=2, sentinels="per_consumer", seed=3,
    failure_rate=0.3, on_failure="retry",
)  # fmt: skip
ALL = FlowLimits(queue_slots=10**6, held_shown=10**6, done_shown=10**6, dropped_shown=10**6)


def record(path: Path, cfg: RunConfig) -> None:
    with TraceWriter(path, cfg) as writer:
        run = Run(cfg)
        writer.attach(run)
        with run:
            assert run.wait(60), "the recorded run did not end"
    assert writer.error is None


@pytest.fixture(scope="module")
def trace_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("flow") / "retry.qltrace"
    record(path, CFG)
    return path


def sample_times(path: Path, n: int = 14) -> list[float]:
    """Times halfway between consecutive records' effects: no record takes effect there."""
    trace = read_trace(path)
    times = sorted({effect_time(r) - trace.t0 for _, _, recs in trace.batches for r in recs})
    mids = [(a + b) / 2 for a, b in itertools.pairwise(times) if b - a > 1e-6]
    step = max(1, len(mids) // n)
    return mids[::step]


def places_in(m: RunModel) -> dict[int, tuple[str, int]]:
    """Where the model fed up to a time says each task is: its own counters and held lists."""
    cons = sorted(w.src for w in m.workers.values() if w.role == 1 and w.src)
    out: dict[int, tuple[str, int]] = {}
    for tid in m.tasks:
        task = m.tasks[tid]
        if task.t_done is not None:
            out[tid] = (DONE, -1)
        elif task.t_get is None:
            out[tid] = (QUEUE, -1)
    for i, src in enumerate(cons):
        for tid in m.workers[src].held:
            out[tid] = (CONSUMER, i)
    return out


def test_every_token_is_where_the_model_says_at_sampled_times(
    qtbot: QtBot, trace_path: Path
) -> None:
    trace = read_trace(trace_path)
    full = replay_model(trace)
    assert full.retries >= 1, "the run should have retried a failed task"
    view = FlowView()
    qtbot.addWidget(view)
    view.resize(1280, 800)
    view.show()
    qtbot.waitExposed(view)
    view.set_model(full)
    checked = 0
    for t in sample_times(trace_path):
        at_t = Replayer(trace).seek(t)  # the model fed only what had happened by t
        want = places_in(at_t)
        frame = flow_frame(full, t, ALL)
        got = {tok.tid: (tok.place, tok.station if tok.place == CONSUMER else -1)
               for tok in frame.tokens}  # fmt: skip
        assert len(frame.tokens) == len(got), "a task drawn twice"
        assert got == want, f"at {t:.3f} s"
        assert frame.depth == at_t.depth and frame.unfinished == at_t.unfinished
        # The drawn tokens rest in their places' areas (the view shows the first of each).
        view.set_time(t)
        view.advance(10.0)
        g = view.geometry_
        for tid, (x, y) in view.token_positions().items():
            place, i = want[tid]
            if place == QUEUE:
                lx, ly, lw, lh = g.lane
                assert lx <= x <= lx + lw and ly <= y <= ly + lh, (t, tid)
            elif place == CONSUMER:
                bx, by, bw, bh = g.consumers[i]
                assert bx <= x <= bx + bw and by <= y <= by + bh, (t, tid)
            else:
                dx, dy, dw, dh = g.done_area
                assert dx <= x <= dx + dw and dy <= y <= dy + dh, (t, tid)
        checked += len(want)
    assert checked > 40


def test_a_retried_task_goes_back_from_its_consumer(trace_path: Path) -> None:
    full = replay_model(read_trace(trace_path))
    end = flow_frame(full, full.last_t, ALL)
    retried = [tok for tok in end.tokens if tok.retried]
    failed = [tok for tok in end.tokens if tok.failed]
    assert retried and failed
    assert all(tok.origin == CONSUMER for tok in retried)
    assert {tok.text for tok in retried} <= {tok.text for tok in failed}


def test_sentinels_look_different(qtbot: QtBot, trace_path: Path) -> None:
    full = replay_model(read_trace(trace_path))
    view = FlowView()
    qtbot.addWidget(view)
    view.resize(1000, 700)
    view.show()
    view.set_model(full)
    view.set_time(full.last_t, snap=True)
    sentinels = [it for it in view.items.values() if it.tok.kind == SENTINEL]
    tasks = [it for it in view.items.values() if it.tok.kind != SENTINEL and not it.tok.failed]
    assert sentinels and tasks
    assert all(it.tok.text == "None" for it in sentinels)
    look = styles(theme_for_palette())
    assert all(it.style == look[S_SENTINEL] for it in sentinels)
    assert look[S_SENTINEL].shape != look[S_TASK].shape
    assert look[S_SENTINEL].fill != look[S_TASK].fill
    assert all(it.style.shape == "round" for it in tasks)


def _has_colour(img: QImage, colour: QColor, box: tuple[float, float, float, float] | None = None,
                tol: int = 12) -> bool:  # fmt: skip
    x0, y0, w, h = box if box is not None else (0, 0, img.width(), img.height())
    want = (colour.red(), colour.green(), colour.blue())
    for y in range(max(0, int(y0)), min(img.height(), int(y0 + h))):
        for x in range(max(0, int(x0)), min(img.width(), int(x0 + w)), 2):
            c = img.pixelColor(x, y)
            if all(abs(a - b) <= tol for a, b in zip((c.red(), c.green(), c.blue()), want,
                                                    strict=True)):  # fmt: skip
                return True
    return False


def test_premature_join_shows_a_red_gate(qtbot: QtBot, tmp_path: Path) -> None:
    cfg = load_preset("join-race").replace(time_scale=0.1, tasks_per_producer=6)
    path = tmp_path / "race.qltrace"
    record(path, cfg)
    m = replay_model(read_trace(path))
    assert m.premature_join
    view = FlowView()
    qtbot.addWidget(view)
    view.resize(1280, 800)
    view.show()
    view.set_model(m)
    before = m.join_called_t - 1e-6
    after = m.join_returned_t + 1e-6
    assert flow_frame(m, before).gate != GATE_PREMATURE
    view.set_time(after, snap=True)
    assert view.frame.gate == GATE_PREMATURE
    out = tmp_path / "gate.png"
    view.export_image(str(out))
    img = QImage(str(out))
    red = qcolor(theme_for_palette().warning)
    assert _has_colour(img, red, view.geometry_.gate), "no red in the join gate"


def test_gate_is_closed_while_join_waits(short_run_model: RunModel) -> None:
    m = short_run_model
    assert m.join_returned_t is not None and m.join_called_t < m.join_returned_t
    mid = (m.join_called_t + m.join_returned_t) / 2
    f = flow_frame(m, mid)
    assert f.gate == GATE_CLOSED and f.unfinished > 0
    assert flow_frame(m, m.join_returned_t).unfinished == 0


def test_exported_png_holds_the_tokens_colours(qtbot: QtBot, tmp_path: Path,
                                               trace_path: Path) -> None:  # fmt: skip
    full = replay_model(read_trace(trace_path))
    view = FlowView()
    qtbot.addWidget(view)
    view.resize(1280, 800)
    view.show()
    view.set_model(full)
    # A time with tasks queued or held and some done.
    t = next(t for t in sample_times(trace_path, 40)
             if {QUEUE, DONE} <= {tok.place for tok in flow_frame(full, t).tokens}
             or {CONSUMER, DONE} <= {tok.place for tok in flow_frame(full, t).tokens})
    view.set_time(t, snap=True)
    out = tmp_path / "flow.png"
    view.export_image(str(out))
    img = QImage(str(out))
    assert (img.width(), img.height()) == (view.viewport().width(), view.viewport().height())
    look = styles(theme_for_palette())
    above_legend = (0, 0, img.width(), view.geometry_.legend[1])  # the legend has samples
    assert _has_colour(img, look[S_TASK].fill, above_legend), "no task token in the picture"
    assert _has_colour(img, look["done"].fill, above_legend), "no done token in the picture"
    svg = tmp_path / "flow.svg"
    view.export_image(str(svg))
    text = svg.read_text(encoding="utf-8")
    # Vectors: the words are text and the tokens shapes, not pictures of them.
    assert "<svg" in text and "Producers" in text and "<image" not in text


def test_a_killed_worker_drops_its_token(qtbot: QtBot) -> None:
    cfg = RunConfig(consumers=2, tasks_per_producer=12, task_duration=Distribution.constant(0.4),
                    seed=2)  # fmt: skip
    victim = 2  # consumer-0
    with Run(cfg) as run:
        m = run.model
        end = time.monotonic() + 30
        while time.monotonic() < end:
            run.poll(0.01, wait_s=0.005)
            w = m.workers.get(victim)
            if w is not None and w.activity == Activity.PROCESS and w.task != -1 and w.pid:
                break
        w = m.workers[victim]
        tid = w.task
        os.kill(w.pid, signal.SIGKILL)
        end = time.monotonic() + 10
        while w.exitcode is None and time.monotonic() < end:
            run.poll(0.01, wait_s=0.005)
        assert w.exitcode == -signal.SIGKILL
        run.stop()
    assert tid in w.held
    view = FlowView()
    qtbot.addWidget(view)
    view.resize(1280, 800)
    view.show()
    view.set_model(m)
    view.set_time(w.exit_t + 0.01, snap=True)
    tok = view.frame.token(tid)
    assert tok is not None and tok.place == DROPPED and tok.station == 0
    assert view.frame.consumers[0].activity == int(Activity.DIED)
    _x, y = view.token_positions()[tid]
    _bx, by, _bw, bh = view.geometry_.consumers[0]
    assert y > by + bh, "the dropped token should fall below its dead consumer"
    # Before the death it was held by its consumer: between its get and the death (the kill
    # can follow the get by well under a millisecond, so not "a millisecond before").
    rows, i = m.tasks.find(tid)
    t_get = float(rows.t_get[i])
    assert not math.isnan(t_get) and t_get < w.exit_t
    before = flow_frame(m, (t_get + w.exit_t) / 2)
    assert before.token(tid).place == CONSUMER
    assert m.tasks[tid].label != LABEL_NONE


def test_a_worker_stopped_holding_a_task_is_drawn_stopped_not_dead(
    qtbot: QtBot, tmp_path: Path
) -> None:
    # Stop ends consumer-0 in the middle of a 60 s task: live and in the replay of its trace
    # (which the video export draws), the view shows a stopped worker, not a death.
    cfg = RunConfig(consumers=1, tasks_per_producer=3, task_duration=Distribution.constant(60.0))
    path = tmp_path / "stopped.qltrace"
    with TraceWriter(path, cfg) as writer:
        run = Run(cfg)
        writer.attach(run)
        with run:
            end = time.monotonic() + 60
            while time.monotonic() < end and run.model.workers.get(2, None) is None:
                run.poll(0.01, wait_s=0.005)
            w = run.model.workers[2]
            while time.monotonic() < end and not (w.activity == Activity.PROCESS and w.task != -1):
                run.poll(0.01, wait_s=0.005)  # gated on the model: the consumer holds a task
            tid = w.task
            run.stop()
            assert run.wait(30)
    look = styles(theme_for_palette())
    for m in (run.model, replay_model(read_trace(path))):
        view = FlowView()
        qtbot.addWidget(view)
        view.resize(1280, 800)
        view.show()
        view.set_model(m)
        view.set_time(latest_time(m), snap=True)
        tok = view.frame.token(tid)
        assert tok is not None and tok.place == UNFINISHED, "left unfinished, not dropped"
        assert token_style_key(tok) == S_UNFINISHED and view.frame.consumers[0].stopped
        bx, by, bw, bh = view.geometry_.consumers[0]
        x, y = view.token_positions()[tid]
        assert bx < x < bx + bw and by < y < by + bh, "in its stopped consumer's hands"
        out = tmp_path / "stopped.png"
        view.export_image(str(out))
        img = QImage(str(out))
        corner = (bx + bw - view.geometry_.unit, by, view.geometry_.unit, view.geometry_.unit)
        theme = theme_for_palette()
        assert not _has_colour(img, qcolor(theme.warning), corner, tol=30), "no red ✗ of a death"
        assert _has_colour(img, qcolor(theme.activities[Activity.EXITED]), corner, tol=4)
        assert _has_colour(img, look[S_UNFINISHED].fill, (bx, by, bw, bh)), "its token's look"
        svg = tmp_path / "stopped.svg"
        view.export_image(str(svg))
        text = svg.read_text(encoding="utf-8")
        words = (">stopped by QueueLab</text>", ">stopped</text>")  # a station's, not the legend's
        assert any(w in text for w in words) and ">died</text>" not in text
        assert ">left 1 unfinished</text>" in text
        assert "left unfinished (worker stopped)" in text  # the legend says what it is
        view.close()


def test_main_window_flow_tab_follows_the_live_run(qtbot: QtBot) -> None:
    from gui.main_window import MainWindow

    # About a second of work: the driver draws many frames meanwhile.
    cfg = RunConfig(consumers=2, tasks_per_producer=30, seed=7,
                    task_duration=Distribution.uniform(0.05, 0.1))  # fmt: skip
    w = MainWindow(cfg)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    w.show_flow()
    assert w.view_tabs is not None and w.view_tabs.flow_shown
    seen: list[tuple[int, int, int, int]] = []

    def check() -> None:
        m, f = w.model, w.flow_view.frame
        if m is not None and f is not None and m.t0 is not None:
            # The live picture is the model now: its counters, not a moment before.
            seen.append((f.unfinished, m.unfinished, f.depth, m.depth))

    w.driver.sig_frame.connect(check)
    assert w.start_run()
    qtbot.waitUntil(lambda: not w.driver.active, timeout=60_000)
    m = w.model
    f = w.flow_view.frame
    assert f is not None and f.gate == "open" and f.unfinished == 0 == m.unfinished
    assert f.done == len(m.done_t) == 30
    assert len(seen) >= 3
    assert [s for s in seen if s[0] != s[1] or s[2] != s[3]] == []
    w.close()


def test_replay_flow_follows_the_scrubber_back_and_forth(qtbot: QtBot, trace_path: Path) -> None:
    from gui.replay_window import ReplayWindow

    w = ReplayWindow()
    qtbot.addWidget(w)
    w.resize(1280, 800)
    w.show()
    w.open_path(str(trace_path))
    qtbot.waitUntil(lambda: w.playback is not None, timeout=20_000)
    w.view_tabs.show_flow()
    full = replay_model(read_trace(trace_path))
    end = w.playback.duration
    for t in (end * 0.8, end * 0.3, end * 0.6, end * 0.1):
        w.seek(t)
        w.settle()
        f = w.flow_view.frame
        assert f is not None and abs(f.t - t) < 1e-9
        limits = w.flow_view._limits()  # as many tokens one by one as the view has room for
        want = {tok.tid: tok.place for tok in flow_frame(full, t, limits).tokens}
        assert {tok.tid: tok.place for tok in f.tokens} == want, f"at {t:.3f} s"
    # Once the whole run is fed on its thread, any seek is one cut of that model: no waiting
    # for the playback's feeding forwards, no rebuild backwards.
    qtbot.waitUntil(lambda: w.flow_follower.fed_to == math.inf, timeout=30_000)
    whole = w.flow_follower.model
    for t in (end * 0.9, end * 0.05, end * 0.7):
        w.seek(t)  # no settle(): the picture must not wait for the charts' feeding
        f = w.flow_view.frame
        assert w.flow_view.model is whole and f.t == pytest.approx(t)
        want = {tok.tid: tok.place for tok in flow_frame(full, t, w.flow_view._limits()).tokens}
        assert {tok.tid: tok.place for tok in f.tokens} == want, f"at {t:.3f} s"
    w.close()


def test_the_replay_keeps_cutting_the_furthest_fed_model(qtbot: QtBot) -> None:
    from gui.flow.tabs import ReplayFollower

    far, rebuilt = RunModel(), RunModel()
    f = ReplayFollower()
    assert f.offer(far, 5.0) is far
    # A seek back: the playback starts a fresh model from the start; the flow view keeps the
    # one fed to 5 s (it knows everything before 5 s) until the new one gets further.
    assert f.offer(rebuilt, -1e9) is far and f.offer(rebuilt, 4.0) is far
    assert f.fed_to == 5.0
    assert f.offer(rebuilt, 5.5) is rebuilt and f.fed_to == 5.5
