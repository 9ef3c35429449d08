"""A flood's charts: slices taken between frames without drawing, and no per-frame whole reads."""

from __future__ import annotations

import time

import numpy as np
from PySide6.QtWidgets import QApplication

from engine.config import RunConfig
from engine.distributions import Distribution
from engine.events import LABEL_NONE, Kind
from engine.model import RunModel
from gui.charts import theory_lines
from gui.charts.panel import LIVE_SYNC_POINTS
from gui.frame_clock import DRAIN, FRAME, SYNC, FrameClock
from gui.frame_clock import Frame as ViewFrame


def _live_backlog(n: int, tasks_total: int | None = None) -> RunModel:
    """A run that started 2 s ago and goes on: ``n`` tasks put, got and done (3 points each)."""
    m = RunModel()
    start = time.perf_counter() - 2.0
    total = n if tasks_total is None else tasks_total
    recs: dict[int, list[tuple]] = {0: [(int(Kind.RUN_START), start, 1, 1, total)], 1: [], 2: []}
    for i in range(n):
        t = start + 1.5 * i / max(n, 1)
        tid = (1 << 32) + i
        recs[1].append((int(Kind.PUT), t, t, tid, i, 0.1))
        recs[2].append((int(Kind.GET), t + 1e-5, t + 1e-5, tid))
        recs[2].append((int(Kind.TASK_DONE), t + 2e-5, tid))
    m.feed([(s, 0, r) for s, r in recs.items()])
    return m


def test_a_view_behind_gets_turns_between_drains_but_never_before_a_drain_left_behind() -> None:
    c = FrameClock()
    ticks = iter(5.0 + i / 1000 for i in range(100))
    assert c.turn(next(ticks), frame_wanted=True, log_wanted=False, sync_wanted=True) == FRAME
    turns = [c.turn(next(ticks), frame_wanted=False, log_wanted=False, sync_wanted=True)
             for _ in range(6)]  # fmt: skip
    assert turns == [SYNC, DRAIN] * 3  # the drain keeps up: the two take turns
    c.drained(spent_s=0.001, behind=True)  # records wait: the model comes first
    turns = [c.turn(next(ticks), frame_wanted=False, log_wanted=False, sync_wanted=True)
             for _ in range(4)]  # fmt: skip
    assert turns == [DRAIN] * 4
    c.drained(spent_s=0.001, behind=False)
    assert c.turn(next(ticks), frame_wanted=False, log_wanted=False, sync_wanted=True) == SYNC
    assert c.turn(next(ticks), frame_wanted=False, log_wanted=False) == DRAIN  # nobody asks


def test_a_catch_up_turn_takes_a_live_slice_draws_nothing_and_the_next_frame_draws_it(panel):
    m = _live_backlog(12_000)  # 36,000 points: more than three live slices
    frame = ViewFrame(m.rel(time.perf_counter()), live=True)
    panel.set_model(m, frame)  # a frame: one slice, drawn
    shown = {k: v for k, v in panel.curve_data().items() if k.startswith("shown_")}
    repaints: list[int] = []
    panel.timeline.item.update = lambda *a: repaints.append(1)  # type: ignore[method-assign]
    assert len(panel._series.counters) == LIVE_SYNC_POINTS and panel.behind
    assert panel.catch_up()  # one more slice, still behind
    assert len(panel._series.counters) == 2 * LIVE_SYNC_POINTS
    assert not repaints  # the timeline took its rows' slice without asking for a paint
    for name, (x, y) in shown.items():  # the lines drawn are still the last frame's
        x1, y1 = panel.curve_data()[name]
        np.testing.assert_array_equal(x1, x)
        np.testing.assert_array_equal(y1, y)
    while panel.catch_up():
        pass
    assert len(panel._series.counters) == len(m.s_t)
    panel.refresh(frame)  # the next frame draws all of it, the timeline too
    assert repaints
    data = panel.curve_data()
    np.testing.assert_array_equal(data["puts"][1][0::2], np.asarray(m.s_puts[:], dtype=float))
    for row in panel.timeline.rows:
        np.testing.assert_array_equal(row.t1.view(), [iv[1] for iv in row.worker.intervals])


def test_error_marks_are_not_set_again_while_the_marks_stay_the_same(panel, monkeypatch):
    """The marks' key moves with every record (the model's last time): setting the same
    (empty) data again repainted the timeline in every frame and every catch-up turn."""
    m = _live_backlog(50)
    panel.set_model(m)
    marks = panel.timeline.marks
    calls: list[int] = []
    monkeypatch.setattr(marks.item, "setData", lambda *a, **k: calls.append(1))
    for i in range(5):
        m.last_t += 0.1 * (i + 1)
        marks.update(m, [1, 2])
    assert calls == []


def test_the_batch_bound_reads_no_task_durations_until_every_task_is_put(panel, monkeypatch):
    """Each frame of a flood gathered every task's duration to learn that not all were put."""
    cfg = RunConfig(producers=1, consumers=2, tasks_per_producer=400, workload="cpu",
                    task_duration=Distribution.constant(0), sentinels="per_consumer")
    panel.theory.set_config(cfg)
    assert panel.theory.batch
    read: list[int] = []
    durations = theory_lines.task_durations
    monkeypatch.setattr(theory_lines, "task_durations",
                        lambda m: read.append(1) or durations(m))  # fmt: skip
    for n in (10, 100, 399):
        panel.theory.update(_live_backlog(n, tasks_total=400))
    assert read == [] and panel.theory.bound_t is None
    m = _live_backlog(400)
    panel.theory.update(m)
    assert read == [1] and panel.theory.bound_t is not None
    bound_t = panel.theory.bound_t
    t = m.t0 + 1.9  # the sentinels' puts, after every task's: the tasks' part stands
    m.feed([(1, 400, [(int(Kind.PUT), t, t, (1 << 32) + 400 + i, LABEL_NONE, 0.0)
                      for i in range(2)])])  # fmt: skip
    panel.theory.update(m)
    assert m.puts == 402 and read == [1] and panel.theory.bound_t == bound_t


def test_a_paced_frame_after_the_end_reads_no_summary_and_the_reported_end_shows_it(
        panel, short_run_model, monkeypatch):  # fmt: skip
    """The whole-run means walk every task (10 ms after a flood, in a frame of its own): they
    come with the end the driver reports (an unpaced refresh), not in the paced frames."""
    from gui.charts import readout

    m = short_run_model
    summaries: list[int] = []
    whole = readout._whole_run
    monkeypatch.setattr(readout, "_whole_run", lambda mm: summaries.append(1) or whole(mm))
    panel.set_model(m, ViewFrame(m.end_t, live=False, paced=True))
    assert summaries == [] and "last 1 s" in panel.readout_text()
    panel.refresh()  # the driver reported the end: the window's refresh
    assert summaries == [1] and "whole run" in panel.readout_text()


def test_the_window_asks_for_sync_turns_while_its_charts_are_behind(qtbot):
    """A frame that leaves the charts behind asks the driver for sync turns as well as the
    next frame; each turn (sig_sync) takes one more slice and asks again while behind."""
    from gui.main_window import MainWindow

    w = MainWindow(RunConfig(tasks_per_producer=20_000))
    qtbot.addWidget(w)
    w.show()
    m = _live_backlog(20_000)  # 60,000 points
    frame = ViewFrame(m.rel(time.perf_counter()), live=True)
    w.charts.set_model(m, frame)
    w._on_driver_sig_frame(frame)  # the window's frame, as a run's driver calls it
    assert w.driver._sync_wanted and w.charts.behind
    n = len(w.charts._series.counters)
    w.driver._sync_wanted = False
    w.driver.sig_sync.emit()  # the driver's sync turn
    assert len(w.charts._series.counters) == n + LIVE_SYNC_POINTS
    assert w.driver._sync_wanted  # still behind: another turn asked for
    while w.charts.behind:
        w.driver.sig_sync.emit()
    assert len(w.charts._series.counters) == len(m.s_t)
    w.close()


def test_a_picture_taken_while_a_live_frames_repaint_is_held_still_shows_the_charts(panel):
    """The repaint a live frame's refresh holds for the next turn must not hold a picture taken
    in between (the toolbar's screenshot): the picture is drawn as the screen would be."""
    m = _live_backlog(300)
    panel.set_model(m)
    QApplication.processEvents()
    shown = panel.grab().toImage()
    panel.refresh(ViewFrame(m.rel(time.perf_counter()), live=True))
    assert panel._paint_hold.held
    held = panel.grab().toImage()
    background = held.pixel(2, 2)
    drawn = sum(held.pixel(x, y) != background for x in range(0, held.width(), 9)
                for y in range(0, held.height(), 9))  # fmt: skip
    assert drawn > 0.5 * sum(shown.pixel(x, y) != background for x in range(0, shown.width(), 9)
                             for y in range(0, shown.height(), 9))  # fmt: skip
