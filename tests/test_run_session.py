"""RunSession alone (no Qt): diagnosis cadence, the unattended hang rule, the screenshot steps."""

from __future__ import annotations

from types import SimpleNamespace

from engine.explain import Explanation
from gui.run_session import (
    DIAGNOSE_PERIOD_S,
    EXIT_JOINED,
    EXIT_NOT_JOINED,
    UNATTENDED_HANG_S,
    RunSession,
    ShotStep,
    exit_code,
)


def model(*codes: int | None, joined: bool = False, premature: bool = False, exited: bool = False):
    """What the session reads of a RunModel: workers' exit codes, join(), premature join."""
    workers = {i: SimpleNamespace(exitcode=c) for i, c in enumerate(codes, start=1)}
    return SimpleNamespace(
        workers=workers,
        join_returned_t=1.0 if joined else None,
        premature_join=premature,
        all_exited=lambda: exited,
    )


def said(*findings: str, hopeless: str | None = None) -> Explanation:
    return Explanation(t=0.0, findings=findings, stall=None, alert=None, hopeless=hopeless,
                       deaths=0)


def test_explains_twice_a_second_and_at_once_after_a_death() -> None:
    s = RunSession()
    m = model(None, None)
    assert s.explain_due(m, 10.0, active=True)
    assert not s.explain_due(m, 10.0 + DIAGNOSE_PERIOD_S / 2, active=True)
    m.workers[2].exitcode = -9  # a death: said now, not at the next half second
    assert s.explain_due(m, 10.0 + DIAGNOSE_PERIOD_S / 2, active=True)
    assert not s.explain_due(m, 10.0 + DIAGNOSE_PERIOD_S / 2, active=True)
    assert s.explain_due(m, 10.0 + DIAGNOSE_PERIOD_S * 2, active=True)
    assert not s.explain_due(m, 99.0, active=False)  # an ended run is explained by its end
    s.start()
    assert s.explain_due(m, 99.0, active=True)


def test_each_sentence_is_logged_once_per_run() -> None:
    s = RunSession()
    assert s.new_sentences(("a", "b")) == ["a", "b"]
    assert s.new_sentences(("b", "c")) == ["c"]
    s.start()
    assert s.new_sentences(("a",)) == ["a"]


def test_the_unattended_window_stops_a_hopeless_or_long_stuck_run() -> None:
    m = model(None)
    attended = RunSession()
    assert not attended.should_stop(said("x", hopeless="never"), m, 0.0)
    s = RunSession(quit_when_done=True)
    assert s.should_stop(said(hopeless="consumer-1 died"), m, 0.0)
    assert not s.should_stop(said("stuck"), m, 1.0)
    assert not s.should_stop(said("stuck"), m, 1.0 + UNATTENDED_HANG_S / 2)
    assert not s.should_stop(said(), m, 2.0 + UNATTENDED_HANG_S)  # healthy again: clock reset
    assert not s.should_stop(said("stuck"), m, 10.0)
    assert s.should_stop(said("stuck"), m, 10.0 + UNATTENDED_HANG_S)
    assert not s.should_stop(said("x", hopeless="y"), model(None, joined=True), 20.0)


def test_the_unattended_screenshot_waits_for_the_words_then_is_taken_once() -> None:
    assert not RunSession().join_returned(0.0)  # nobody asked for a picture
    s = RunSession(screenshot="/tmp/x.png")
    assert s.join_returned(100.0)
    running = model(None, joined=True)
    assert s.shot_step(running, active=True, explained=False, now=100.5) is ShotStep.RETRY
    assert s.shot_step(running, active=True, explained=True, now=100.5) is ShotStep.FINISH
    assert s.shot_step(running, active=True, explained=False, now=200.0) is ShotStep.FINISH
    done = model(0, joined=True, exited=True)
    assert s.shot_step(done, active=True, explained=False, now=100.5) is ShotStep.FINISH
    assert not s.ended(timer_active=True)  # the timer will take it
    assert s.ended(timer_active=False)
    s.auto_done = True
    assert not s.join_returned(300.0) and not s.ended(timer_active=False)


def test_a_premature_join_waits_for_the_runs_end() -> None:
    s = RunSession(quit_when_done=True)
    assert s.join_returned(0.0)
    m = model(None, joined=True, premature=True)
    assert s.shot_step(m, active=True, explained=True, now=0.5) is ShotStep.WAIT_FOR_END
    assert s.ended(timer_active=True)  # the end takes the picture, timer or not
    s.reset_shot()
    assert not s.ended(timer_active=True)


def test_exit_code() -> None:
    assert exit_code(None) == EXIT_NOT_JOINED
    assert exit_code(model(None)) == EXIT_NOT_JOINED
    assert exit_code(model(0, joined=True)) == EXIT_JOINED
