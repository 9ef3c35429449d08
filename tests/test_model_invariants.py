"""RunModel invariants: valid event streams from the simulator, delivered out of order."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from engine.events import ROLE_CONSUMER, ROLE_PRODUCER, Kind
from engine.model import Activity, JoinState, RunModel
from tests.model_sim import Batch, Case, Sim, deliveries, make_case


def expected_counts(delivered: list[tuple[int, tuple]]) -> tuple[int, int, int]:
    """What the model can count from these records: a get needs its put, a done its get.

    A get stands in for its put once the putting worker's process is known gone (PROC_EXIT):
    nothing more can come from that worker, so the put's record was lost with it.
    """
    gone = {r[2] for _s, r in delivered if r[0] == Kind.PROC_EXIT}
    put_tids = {r[3] for _s, r in delivered if r[0] == Kind.PUT}
    put_tids |= {r[3] for _s, r in delivered if r[0] == Kind.GET and r[3] >> 32 in gone}
    got_tids = {r[3] for _s, r in delivered if r[0] == Kind.GET and r[3] in put_tids}
    dones = sum(1 for _s, r in delivered if r[0] == Kind.TASK_DONE and r[2] in got_tids)
    return len(put_tids), len(got_tids), dones


def check_invariants(m: RunModel, delivered: list[tuple[int, tuple]], maxsize: int) -> None:
    assert m.events == len(delivered)
    puts, gets, dones = expected_counts(delivered)
    if maxsize:
        # A put that would overfill the queue waits for the get that made room for it.
        assert m.depth <= maxsize, "depth above maxsize"
        assert m.puts <= puts and m.gets <= gets and m.task_dones <= dones
    else:
        assert (m.puts, m.gets, m.task_dones) == (puts, gets, dones)
    assert m.depth == m.puts - m.gets >= 0
    assert m.in_flight == m.gets - m.task_dones >= 0
    assert m.unfinished == m.depth + m.in_flight >= 0
    assert min(m.puts, m.gets, m.task_dones, m.events) >= 0
    n = len(m.s_t)
    assert len(m.s_puts) == len(m.s_gets) == len(m.s_dones) == n
    assert all(a <= b for a, b in itertools.pairwise(m.s_t)), "series time goes backwards"
    for series in (m.s_puts, m.s_gets, m.s_dones):
        assert all(a <= b for a, b in itertools.pairwise(series)), "a cumulative count went down"
    for p, g, d in zip(m.s_puts, m.s_gets, m.s_dones, strict=True):
        assert 0 <= d <= g <= p
    if n:
        assert (m.s_puts[-1], m.s_gets[-1], m.s_dones[-1]) == (m.puts, m.gets, m.task_dones)
    assert all(w >= 0 for w in m.done_wait)
    assert all(s >= 0 for s in m.done_service)


def feed_all(m: RunModel, sim: Sim, polls: list[list[Batch]], dropped: Batch | None = None) -> None:
    delivered: list[tuple[int, tuple]] = []
    for poll in polls:
        kept = [b for b in poll if b is not dropped]
        m.feed(kept)
        delivered.extend((src, r) for src, _f, recs in kept for r in recs)
        check_invariants(m, delivered, sim.maxsize)
        if dropped is not None:
            assert 0 <= m.events_lost <= len(dropped[2])
        else:
            assert m.events_lost == 0


SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.slow
@SETTINGS
@given(deliveries())
def test_identities_hold_after_every_feed(case: Case) -> None:
    check_case(case)


# Found by Hypothesis (maxsize=1): producer-0 puts task 0, the consumer gets it, producer-1 puts
# task 2 into the room that made; producer-0's batch arrives last. Its put is held for a get
# that is itself held for that put, for ever: the model stays at 1 put and 0 gets.
BOUNDED_LATE_PUT = make_case((2, 1, 2, True, 1), [0, 8, 4], [True], [2], [1])


@SETTINGS
@example(BOUNDED_LATE_PUT)
@given(deliveries(bounded=True))
def test_identities_hold_on_a_bounded_queue(case: Case) -> None:
    check_case(case)


def check_case(case: Case) -> None:
    sim, polls = case
    m = RunModel()
    feed_all(m, sim, polls)
    # Everything arrived: the model agrees with what really happened.
    assert (m.puts, m.gets, m.task_dones) == (sim.puts, sim.gets, sim.task_dones)
    assert m.depth == len(sim.queue)
    assert m.in_flight == sum(len(h) for h in sim.held.values())
    assert m.unfinished == sim.unfinished
    assert m.task_puts == sim.task_puts
    assert m.events == sum(len(s) for s in sim.streams.values())
    for src, held in sim.held.items():
        w = m.workers[src]
        assert list(w.held) == list(held)
        assert w.tasks_done == sim.done_by[src]
        assert m.held_task_labels(w) == [sim.label_of[t] for t in held]
    for src in sim.srcs:
        w = m.workers[src]
        assert w.pid == 1000 + src
        assert w.role == (ROLE_PRODUCER if sim.is_producer(src) else ROLE_CONSUMER)
        assert (w.exitcode == 0) == (src in sim.exited)
        assert w.exit_t is not None or src not in sim.exited
        for t0, t1, _activity, _label in w.intervals:
            assert t0 <= t1
    for _label, _v, _ps, t_put, get_src, t_get, t_done in m.tasks.values():
        if get_src != -1:
            assert t_put <= t_get
        if t_done is not None:
            assert t_get <= t_done
    if sim.join_end_step is not None:
        assert m.join_state == JoinState.RETURNED
    else:
        assert m.join_state == JoinState.WAITING


# The smallest case Hypothesis found: the consumer's batch (its get of the sentinel, then its
# exit) arrives before the producer's put of that sentinel.
GET_BEFORE_PUT_THEN_EXIT = make_case((1, 1, 0, False, 0), [0] * 10, [True], [2], [1])


@SETTINGS
@example(GET_BEFORE_PUT_THEN_EXIT)
@given(deliveries())
def test_worker_timelines_follow_each_workers_own_order(case: Case) -> None:
    sim, polls = case
    m = RunModel()
    for poll in polls:
        m.feed(poll)
    for src in sim.srcs:
        w = m.workers[src]
        for (a0, a1, *_), (b0, b1, *_) in itertools.pairwise(w.intervals):
            assert a0 <= a1 <= b0 <= b1, f"{w.name}: intervals overlap or go back in time"
        if src in sim.exited:
            expected, task = Activity.EXITED, -1
        elif sim.is_producer(src):
            expected, task = Activity.RUNNING, -1
        elif sim.held[src]:
            expected, task = Activity.PROCESS, sim.held[src][0]
        else:
            expected, task = Activity.WAIT_GET, -1
        assert w.activity == expected, f"{w.name} shows {w.activity.name}, is {expected.name}"
        if expected == Activity.PROCESS:
            assert w.task == task


@SETTINGS
@given(deliveries(), st.data())
def test_a_dropped_batch_is_counted_as_lost(case: Case, data: st.DataObject) -> None:
    sim, polls = case
    last = {}
    for poll in polls:
        for b in poll:
            last[b[0]] = b
    # A worker's batch (the parent's own records never cross a pipe), but not its last one:
    # that carries the worker's total (WORKER_EXIT), or is missing because it is still running.
    candidates = [b for poll in polls for b in poll if b[0] and b is not last[b[0]]]
    assume(candidates)  # nothing droppable proves nothing (it returned here, unasserted)
    dropped = data.draw(st.sampled_from(candidates))
    m = RunModel()
    feed_all(m, sim, polls, dropped)
    assert m.events_lost == len(dropped[2])
    assert m.events == sum(len(s) for s in sim.streams.values()) - len(dropped[2])

@SETTINGS
@given(deliveries())
def test_premature_join_follows_event_times_in_order_delivery(
    case: Case,
) -> None:
    sim, polls = case
    m = RunModel()
    # Everything in one poll: the model orders records by time.
    m.feed([b for poll in polls for b in poll])
    if sim.premature is None:
        assert not m.premature_join
    else:
        assert m.premature_join == sim.premature
