"""The frame clock owns pacing and tells views the time to draw; views no longer guess it."""

from __future__ import annotations

import time

from engine.events import Kind
from engine.model import RunModel
from gui.charts import ChartsPanel
from gui.frame_clock import DRAIN, FRAME, LOG, LOG_PERIOD_S, MAX_LOG_SHARE, Frame, FrameClock


def _model_started_2_s_ago() -> RunModel:
    m = RunModel()
    start = time.perf_counter() - 2.0
    m.feed([(0, 0, [(int(Kind.RUN_START), start, 1, 1, 5)]),
            (1, 0, [(int(Kind.PUT), start + 0.5, start + 0.5, 1 << 32, 0, 0.1)])])  # fmt: skip
    return m


def test_charts_draw_to_the_frame_they_are_handed_not_the_wall_clock(qtbot) -> None:
    p = ChartsPanel()
    qtbot.addWidget(p)
    m = _model_started_2_s_ago()  # still "going" by the wall clock, but nobody said live
    p.set_model(m)
    assert p.now == m.last_t  # a replay or a finished run: up to its last event
    p.refresh(Frame(3.0, live=True))  # the driver: the run goes on, draw up to 3 s
    assert p.now == 3.0
    p.refresh(Frame(9.0, live=False))  # not live: a frame's time is not stretched to
    assert p.now == 3.0


def test_the_clock_gives_frames_log_turns_and_drains_their_shares() -> None:
    c = FrameClock()
    ticks = [5.0 + i / 1000 for i in range(1000)]  # a tick a millisecond for a second
    turns = [c.turn(t, frame_wanted=True, log_wanted=False) for t in ticks]
    assert 55 <= turns.count(FRAME) <= 62  # at most 60 a second (and one period caught up)
    c = FrameClock()
    assert c.turn(10.0, frame_wanted=True, log_wanted=True) == FRAME
    assert c.turn(10.002, frame_wanted=False, log_wanted=True) == LOG
    c.log_done(0.05)  # a costly log turn: its period stretches to keep its share
    stretched = 10.002 + 0.05 / MAX_LOG_SHARE
    assert c.turn(stretched - 1e-3, frame_wanted=False, log_wanted=True) == DRAIN
    assert c.turn(stretched, frame_wanted=False, log_wanted=True) == LOG
    c.log_done(0.0)  # cheap again: the usual period
    assert c.turn(stretched + LOG_PERIOD_S / 2, frame_wanted=False, log_wanted=True) == DRAIN
    assert c.turn(stretched + LOG_PERIOD_S, frame_wanted=False, log_wanted=True) == LOG
    budget = c.poll_budget_s
    c.drained(spent_s=4 * budget, behind=True)  # overshot: the next budget is smaller
    assert c.poll_budget_s < budget and c.behind


def test_while_the_drain_is_behind_frames_come_at_most_ten_a_second() -> None:
    """A flood: the drain leaves a backlog every turn. Cheap frames would still come 30 a
    second (their share of the time), each repaint taken from the drain that is behind."""
    from gui.frame_clock import BEHIND_FRAME_S

    c = FrameClock()
    frames = 0
    for i in range(1200):  # a tick a millisecond, every drain left behind; counted after 0.2 s
        turn = c.turn(5.0 + i / 1000, frame_wanted=True, log_wanted=False)
        frames += turn == FRAME and i >= 200
        if turn == DRAIN:
            c.drained(spent_s=0.001, behind=True)
    assert BEHIND_FRAME_S >= 0.1 and frames <= 1 / BEHIND_FRAME_S + 1
    c.drained(spent_s=0.001, behind=False)  # caught up: the usual pace again
    later = [c.turn(7.0 + i / 1000, frame_wanted=True, log_wanted=False) for i in range(1000)]
    assert later.count(FRAME) >= 50


def test_after_the_run_the_backlog_gets_long_drains_and_few_frames() -> None:
    """A flood ended with a backlog: nothing new will happen, so the drain takes long turns
    and the charts a few frames a second until everything is shown; then the usual pace."""
    from gui.frame_clock import CATCH_UP_FRAME_S, CATCH_UP_POLL_BUDGET_S, POLL_BUDGET_S

    c = FrameClock()
    for _ in range(40):  # cheap drains: the budget grows to the catching-up target
        c.drained(spent_s=0.001, behind=True, ended=True)
    assert c.catching_up and c.poll_budget_s == CATCH_UP_POLL_BUDGET_S
    ticks = [5.0 + i / 1000 for i in range(2000)]  # two seconds of ticks
    frames = [c.turn(t, frame_wanted=True, log_wanted=False) for t in ticks].count(FRAME)
    assert frames <= 2 / CATCH_UP_FRAME_S + 2  # (and one period caught up at the start)
    c.drained(spent_s=0.001, behind=False, ended=True)  # all shown
    assert not c.catching_up and c.poll_budget_s <= POLL_BUDGET_S
    c = FrameClock()  # a run still going with a backlog: the usual short drains
    for _ in range(40):
        c.drained(spent_s=0.001, behind=True, ended=False)
    assert not c.catching_up and c.poll_budget_s == POLL_BUDGET_S
