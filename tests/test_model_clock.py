"""RunModel's clock for moments no record marks (a replay's playhead): run_time, hold_end,
and the run's own figures around holds and deaths, worked out by hand from known times."""

from __future__ import annotations

import pytest

from engine.events import ROLE_CONSUMER, ROLE_PRODUCER, Kind
from engine.model import RunModel

T0 = 100.0
K = Kind


def _recs(*recs: tuple) -> list[tuple]:
    return [(int(r[0]), *r[1:]) for r in recs]


def held_model(open_hold: bool = False) -> RunModel:
    """Paused 1.0-3.0 s and 5.0-5.5 s after the start (2.5 s held), optionally again from 7 s."""
    recs = [
        (K.RUN_START, T0, 1, 1, 1),
        (K.PAUSE, T0 + 1.0),
        (K.RESUME, T0 + 3.0),
        (K.PAUSE, T0 + 5.0),
        (K.RESUME, T0 + 5.5),
    ]
    if open_hold:
        recs.append((K.PAUSE, T0 + 7.0))
    m = RunModel()
    m.feed([(0, 0, _recs(*recs))])
    return m


@pytest.mark.parametrize(
    ("at", "want"),
    [
        (0.0, 0.0),
        (0.5, 0.5),
        (1.0, 1.0),  # a hold's start
        (2.0, 1.0),  # inside the first hold: its start
        (3.0, 1.0),  # its end
        (4.0, 2.0),
        (5.25, 3.0),  # inside the second
        (6.0, 3.5),  # after both: 2.5 s held
    ],
)
def test_run_time_takes_the_held_time_out(at: float, want: float) -> None:
    m = held_model()
    assert m.run_time(T0 + at) == pytest.approx(want)
    # Where a record could mark the moment, the charts' clock says the same.
    assert m.rel(T0 + at) == pytest.approx(want)


def test_run_time_inside_a_hold_that_has_not_ended() -> None:
    m = held_model(open_hold=True)
    assert m.paused
    assert m.run_time(T0 + 6.5) == pytest.approx(4.0)
    assert m.run_time(T0 + 9.0) == pytest.approx(4.5)  # held since 7 s: stays at 7 - 2.5
    assert RunModel().run_time(T0) == 0.0  # before any record


@pytest.mark.parametrize(
    ("at", "want"),
    [(0.5, None), (1.0, 3.0), (2.9, 3.0), (3.0, None), (4.0, None), (5.2, 5.5), (6.0, None)],
)
def test_hold_end_is_the_end_of_the_hold_a_moment_falls_in(at: float, want: float | None) -> None:
    end = held_model().hold_end(T0 + at)
    assert (end is None) if want is None else end == pytest.approx(T0 + want)


def small_run() -> list[tuple[int, int, list[tuple]]]:
    p = 1 << 32
    main = _recs((K.RUN_START, T0, 1, 1, 2), (K.QUEUE_INFO, T0, 0), (K.JOIN_BEGIN, T0 + 0.3))
    producer = _recs(
        (K.WORKER_START, T0, 11, ROLE_PRODUCER, 0),
        (K.PUT, T0 + 0.1, T0 + 0.1, p + 1, 0, 0.5),
        (K.PUT, T0 + 0.2, T0 + 0.2, p + 2, 1, 0.5),
    )
    consumer = _recs(
        (K.WORKER_START, T0, 12, ROLE_CONSUMER, 0),
        (K.GET, T0 + 0.1, T0 + 0.15, p + 1),
        (K.TASK_DONE, T0 + 0.4, p + 1),
    )
    return [(0, 0, main), (1, 0, producer), (2, 0, consumer)]


def test_a_copy_is_a_model_of_its_own() -> None:
    m = RunModel()
    m.feed(small_run())
    c = m.copy()
    assert c is not m and c.last_t == m.last_t == pytest.approx(0.4)
    assert list(c.done_t) == list(m.done_t) == [pytest.approx(0.4)]
    c.feed([(2, 3, _recs((K.GET, T0 + 0.4, T0 + 0.45, (1 << 32) + 2),
                         (K.TASK_DONE, T0 + 0.6, (1 << 32) + 2)))])  # fmt: skip
    assert len(c.done_t) == 2 and len(m.done_t) == 1, "feeding the copy moved the original"
    assert c.last_t == pytest.approx(0.6) and m.last_t == pytest.approx(0.4)


def test_who_was_running_at_the_join_and_who_died() -> None:
    p = 1 << 32
    main = _recs(
        (K.RUN_START, T0, 1, 2, 2),  # 2 tasks: one is put before join() returns
        (K.QUEUE_INFO, T0, 0),
        (K.JOIN_BEGIN, T0 + 0.05),
        (K.JOIN_END, T0 + 0.2),
        (K.PROC_EXIT, T0 + 0.2, 1, 0),  # the producer exits as join() returns: not running
        (K.PROC_EXIT, T0 + 0.25, 2, -9),  # a death before the stop
        (K.STOP, T0 + 0.3, "user"),
        (K.PROC_EXIT, T0 + 0.3, 3, -15),  # ended by the stop, at its very moment
    )
    producer = _recs((K.WORKER_START, T0, 11, ROLE_PRODUCER, 0),
                     (K.PUT, T0 + 0.1, T0 + 0.1, p + 1, 0, 0.5))  # fmt: skip
    c0 = _recs((K.WORKER_START, T0, 12, ROLE_CONSUMER, 0))
    c1 = _recs((K.WORKER_START, T0, 13, ROLE_CONSUMER, 1))
    m = RunModel()
    m.feed([(0, 0, main), (1, 0, producer), (2, 0, c0), (3, 0, c1)])
    assert m.producers_running_at_join() == []
    assert [w.name for w in m.dead_workers()] == ["consumer-0"]
    assert m.premature_join and m.tasks_not_yet_put == 1
