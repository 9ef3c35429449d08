"""RunModel's figures a person reads: summary means, makespan, join words, pauses, deaths.

Hand-made record streams with known times (the simulator's tests, test_model_invariants.py,
check counts and order; this checks the numbers derived from times). Only the public feed()
and what the model shows are used, so these hold whatever the model's internals become.
"""

from __future__ import annotations

import pytest

from engine.events import LABEL_NONE, ROLE_CONSUMER, ROLE_PRODUCER, Kind
from engine.model import Activity, JoinState, RunModel

T0 = 500.0
P = 1 << 32  # producer-0's task ids (src 1)
K = Kind


def _main(*recs: tuple) -> list[tuple]:
    return [(int(r[0]), *r[1:]) for r in recs]


def healthy_run(join_end: float = 0.56) -> tuple[list, list, list]:
    """1 producer, 1 consumer, 2 tasks: task 0 waits 0.05 s and takes 0.3 s, task 1 0.25/0.1."""
    main = _main(
        (K.RUN_START, T0, 1, 1, 2),
        (K.QUEUE_INFO, T0, 0),
        (K.JOIN_BEGIN, T0 + 0.3),
        (K.JOIN_END, T0 + join_end),
    )
    producer = _main(
        (K.WORKER_START, T0, 11, ROLE_PRODUCER, 0),
        (K.PUT, T0 + 0.1, T0 + 0.1, P + 1, 0, 0.5),
        (K.PUT, T0 + 0.2, T0 + 0.2, P + 2, 1, 0.5),
        (K.PUT, T0 + 0.3, T0 + 0.3, P + 3, LABEL_NONE, 0.0),
        (K.WORKER_EXIT, T0 + 0.35, 0, 5),
    )
    consumer = _main(
        (K.WORKER_START, T0, 12, ROLE_CONSUMER, 0),
        (K.GET, T0 + 0.02, T0 + 0.15, P + 1),
        (K.TASK_DONE, T0 + 0.45, P + 1),
        (K.GET, T0 + 0.45, T0 + 0.45, P + 2),
        (K.TASK_DONE, T0 + 0.55, P + 2),
        (K.GET, T0 + 0.55, T0 + 0.55, P + 3),
        (K.TASK_DONE, T0 + 0.555, P + 3),
        (K.WORKER_EXIT, T0 + 0.6, 0, 8),
    )
    return main, producer, consumer


def fed(main: list, producer: list, consumer: list) -> RunModel:
    m = RunModel()
    m.feed([(0, 0, main), (1, 0, producer), (2, 0, consumer)])
    return m


def total(w, activity: Activity) -> float:
    return sum(t1 - t0 for t0, t1, a, _label in w.intervals if a == int(activity))


def test_summary_figures_follow_the_record_times() -> None:
    m = fed(*healthy_run())
    s = m.summary(("a finding",))
    assert (s.puts, s.gets, s.task_dones, s.unfinished, s.depth, s.in_flight) == (3, 3, 3, 0, 0, 0)
    assert s.join_returned and s.join_returned_at_s == pytest.approx(0.56)
    assert not s.premature_join
    # The join returned after the last task_done: the run's work ended with the join.
    assert s.makespan_s == pytest.approx(0.56)
    assert s.throughput_per_s == pytest.approx(2 / 0.56)
    # Wait: put -> get returned (0.15 - 0.1, 0.45 - 0.2); service: get -> task_done.
    assert s.mean_wait_s == pytest.approx((0.05 + 0.25) / 2)
    assert s.mean_service_s == pytest.approx((0.3 + 0.1) / 2)
    assert s.events == 4 + 5 + 8 and s.events_lost == 0
    assert (s.failures, s.retries, s.task_done_errors) == (0, 0, 0)
    assert [(w.name, w.pid, w.exitcode, w.tasks_done) for w in s.workers] == [
        ("producer-0", 11, 0, 0), ("consumer-0", 12, 0, 2)]
    assert s.diagnosis == ("a finding",)
    assert m.all_exited()


def test_makespan_is_the_last_task_done_when_the_join_returned_earlier() -> None:
    main, producer, consumer = healthy_run(join_end=0.5)
    m = fed(main, producer, consumer)
    assert m.makespan() == pytest.approx(0.55)
    assert m.summary().throughput_per_s == pytest.approx(2 / 0.55)


def test_a_run_whose_join_never_returned_is_measured_to_its_last_event() -> None:
    main, producer, consumer = healthy_run()
    m = fed(main[:-1], producer, consumer)
    assert m.join_state == JoinState.WAITING
    assert m.makespan() == pytest.approx(0.6)
    assert not m.summary().join_returned


def test_an_empty_model_summarises_to_zeros() -> None:
    s = RunModel().summary()
    assert (s.makespan_s, s.throughput_per_s, s.mean_wait_s, s.mean_service_s) == (0, 0, 0, 0)
    assert not RunModel().all_exited()


def test_the_consumer_timeline_shows_its_waits_and_its_work() -> None:
    m = fed(*healthy_run())
    c = m.workers[2]
    # Waiting in get() from its start until the first get returned; then the two tasks.
    # (and after its last task_done, 0.555 s, until it exited at 0.6 s)
    assert total(c, Activity.WAIT_GET) == pytest.approx(0.15 + 0.045)
    work = [(t0, t1, label) for t0, t1, a, label in c.intervals if a == int(Activity.PROCESS)]
    assert work[:2] == [pytest.approx((0.15, 0.45, 0)), pytest.approx((0.45, 0.55, 1))]
    assert c.activity == Activity.EXITED and c.exit_t == pytest.approx(0.6)
    assert m.workers[1].activity == Activity.EXITED
    # Task rows: put, get and done times, run-relative.
    row = m.tasks[P + 1]
    assert (row[3], row[5], row[6]) == pytest.approx((0.1, 0.15, 0.45))


def test_counter_series_steps_at_each_change() -> None:
    m = fed(*healthy_run())
    pts = list(zip(m.s_t, m.s_puts, m.s_gets, m.s_dones, strict=True))
    assert pts[0] == pytest.approx((0.1, 1, 0, 0))
    assert pts[1] == pytest.approx((0.15, 1, 1, 0))
    assert pts[-1] == pytest.approx((0.555, 3, 3, 3))
    assert list(m.done_t) == pytest.approx([0.45, 0.55])


def test_join_words_say_the_join_state() -> None:
    main, producer, consumer = healthy_run()
    m = RunModel()
    m.feed([(0, 0, main[:2])])
    assert m.join_words() == "queue.join() not called yet"
    m.feed([(1, 0, producer[:3]), (0, 2, main[2:3])])
    assert m.join_words() == "queue.join() waiting: 2 unfinished — 2 queued, 0 in progress"
    m.feed([(2, 0, consumer[:2])])
    assert m.join_words() == "queue.join() waiting: 2 unfinished — 1 queued, 1 in progress"
    m.feed([(1, 3, producer[3:]), (2, 2, consumer[2:]), (0, 3, main[3:])])
    assert m.join_words() == "queue.join() returned at 0.56 s"


def test_a_premature_join_names_the_producers_still_running_and_the_tasks_not_put() -> None:
    # join() returned after the first task was done, before the producer put the second.
    main = _main((K.RUN_START, T0, 1, 1, 2), (K.JOIN_BEGIN, T0 + 0.05),
                 (K.JOIN_END, T0 + 0.2))
    producer = _main(
        (K.WORKER_START, T0, 11, ROLE_PRODUCER, 0),
        (K.PUT, T0 + 0.1, T0 + 0.1, P + 1, 0, 0.5),
        (K.PUT, T0 + 0.3, T0 + 0.3, P + 2, 1, 0.5),
        (K.WORKER_EXIT, T0 + 0.4, 0, 4),
    )
    consumer = _main(
        (K.WORKER_START, T0, 12, ROLE_CONSUMER, 0),
        (K.GET, T0 + 0.1, T0 + 0.1, P + 1),
        (K.TASK_DONE, T0 + 0.19, P + 1),
    )
    m = fed(main, producer, consumer)
    assert m.premature_join and m.summary().premature_join
    assert m.tasks_not_yet_put == 1
    assert m.producers_running_at_join() == ["producer-0"]
    assert m.join_words() == "queue.join() returned at 0.20 s — premature"
    # No task was done after the join returned: the run's work is measured to the join.
    assert m.makespan() == pytest.approx(0.2)


def test_a_join_after_every_put_names_no_running_producer() -> None:
    m = fed(*healthy_run())
    assert m.producers_running_at_join() == []
    assert m.tasks_not_yet_put == 0
    assert RunModel().producers_running_at_join() == []
    assert RunModel().tasks_not_yet_put == 0


def test_paused_time_is_taken_out_of_the_charts_clock() -> None:
    main = _main((K.RUN_START, T0, 1, 1, 1), (K.PAUSE, T0 + 1.0), (K.RESUME, T0 + 3.0))
    m = RunModel()
    m.feed([(0, 0, main[:2])])
    assert m.paused
    # While paused the clock stands still at the pause.
    assert m.rel(T0 + 2.0) == pytest.approx(1.0)
    m.feed([(0, 2, main[2:])])
    assert not m.paused
    put = _main((K.WORKER_START, T0, 11, ROLE_PRODUCER, 0),
                (K.PUT, T0 + 4.0, T0 + 4.0, P + 1, 0, 0.5))
    m.feed([(1, 0, put)])
    assert list(m.s_t) == pytest.approx([2.0])  # 4 s after the start, 2 of them paused
    assert m.rel(T0 + 0.5) == pytest.approx(0.5)  # before the pause: nothing taken out


def test_a_death_before_stop_is_a_fault_and_one_after_it_is_not() -> None:
    main = _main((K.RUN_START, T0, 1, 2, 2), (K.PROC_EXIT, T0 + 1.0, 2, -9),
                 (K.STOP, T0 + 2.0, "user"), (K.PROC_EXIT, T0 + 2.5, 3, -15),
                 (K.PROC_EXIT, T0 + 2.6, 1, 0))
    m = RunModel()
    m.feed([(0, 0, main)])
    assert [w.name for w in m.dead_workers()] == ["consumer-0"]
    assert m.workers[2].activity == Activity.DIED
    assert m.workers[1].activity == Activity.EXITED
    assert m.all_exited()


def test_a_put_that_waited_on_a_full_queue_shows_as_blocked() -> None:
    main = _main((K.RUN_START, T0, 1, 1, 2), (K.QUEUE_INFO, T0, 1))
    producer = _main(
        (K.WORKER_START, T0, 11, ROLE_PRODUCER, 0),
        (K.PUT, T0 + 0.1, T0 + 0.1, P + 1, 0, 0.5),
        (K.PUT, T0 + 0.2, T0 + 0.7, P + 2, 1, 0.5),  # 0.5 s in put(): the queue was full
    )
    consumer = _main(
        (K.WORKER_START, T0, 12, ROLE_CONSUMER, 0),
        (K.GET, T0 + 0.05, T0 + 0.7, P + 1),
    )
    m = fed(main, producer, consumer)
    assert (m.puts, m.gets, m.depth) == (2, 1, 1)
    p = m.workers[1]
    blocked = [(t0, t1) for t0, t1, a, _ in p.intervals if a == int(Activity.BLOCK_PUT)]
    assert blocked == [pytest.approx((0.2, 0.7))]
    assert p.activity == Activity.RUNNING


def test_a_slow_put_on_an_unbounded_queue_is_not_blocked() -> None:
    main = _main((K.RUN_START, T0, 1, 1, 1), (K.QUEUE_INFO, T0, 0))
    producer = _main((K.WORKER_START, T0, 11, ROLE_PRODUCER, 0),
                     (K.PUT, T0 + 0.2, T0 + 0.7, P + 1, 0, 0.5))
    m = fed(main, producer, [])
    assert total(m.workers[1], Activity.BLOCK_PUT) == 0


def test_feed_returns_the_records_as_applied_in_the_order_they_took_effect() -> None:
    m = RunModel()
    assert m.feed([]) == []
    assert m.feed([(1, 0, [])]) == []
    main = _main((K.RUN_START, T0, 1, 1, 1))
    assert m.feed([(0, 0, main)]) == [(0, main[0])]
    get = _main((K.GET, T0 + 0.1, T0 + 0.3, P + 1))[0]
    put = _main((K.PUT, T0 + 0.2, T0 + 0.2, P + 1, 0, 0.5))[0]
    assert m.feed([(2, 0, [get])]) == []  # held: its put is not in yet
    # The put releases the held get: both are applied, the put first.
    assert m.feed([(1, 0, [put])]) == [(1, put), (2, get)]


def test_workers_announced_by_run_start_have_their_roles_before_they_start() -> None:
    m = RunModel()
    m.feed([(0, 0, _main((K.RUN_START, T0, 2, 2, 4)))])
    assert [(s, w.name, w.role) for s, w in sorted(m.workers.items())] == [
        (1, "producer-0", ROLE_PRODUCER), (2, "producer-1", ROLE_PRODUCER),
        (3, "consumer-0", ROLE_CONSUMER), (4, "consumer-1", ROLE_CONSUMER)]
    # A producer's put seen before its WORKER_START still shows it running, not waiting.
    m.feed([(2, 0, _main((K.PUT, T0 + 0.1, T0 + 0.1, (2 << 32) + 1, 0, 0.5)))])
    assert m.workers[2].activity == Activity.RUNNING


def test_timelines_hold_no_empty_intervals() -> None:
    m = fed(*healthy_run())
    for w in m.workers.values():
        assert all(t1 > t0 for t0, t1, _a, _label in w.intervals), w.name


def test_an_item_the_feeder_lost_was_put_but_is_not_in_the_queue() -> None:
    main = _main((K.RUN_START, T0, 1, 1, 2))
    producer = _main(
        (K.WORKER_START, T0, 11, ROLE_PRODUCER, 0),
        (K.PUT, T0 + 0.1, T0 + 0.1, P + 1, 0, 0.5),
        (K.PUT, T0 + 0.2, T0 + 0.2, P + 2, 1, 0.5),
        (K.FEED_ERROR, T0 + 0.21, P + 2, "PicklingError: cannot pickle"),
    )
    m = fed(main, producer, [])
    assert (m.puts, m.depth, m.unfinished) == (2, 1, 2)
    assert [(tid, label) for _t, tid, label, _text in m.lost_items] == [(P + 2, 1)]


def test_a_put_under_a_millisecond_on_a_bounded_queue_is_not_blocked() -> None:
    main = _main((K.RUN_START, T0, 1, 1, 1), (K.QUEUE_INFO, T0, 1))
    producer = _main((K.WORKER_START, T0, 11, ROLE_PRODUCER, 0),
                     (K.PUT, T0 + 0.2, T0 + 0.2005, P + 1, 0, 0.5))
    m = fed(main, producer, [])
    assert total(m.workers[1], Activity.BLOCK_PUT) == 0


def test_no_premature_join_is_claimed_before_the_join_returned() -> None:
    main, producer, consumer = healthy_run()
    m = fed(main[:-1], producer, consumer)
    assert m.premature_join is False
    assert m.summary().to_json()["premature_join"] is False


def _many_tasks(n: int) -> RunModel:
    """1 producer, 1 consumer, ``n`` tasks: task i put at i ms, got 0.5 ms later, done 0.25 ms
    after its get (so every wait is 0.5 ms and every service 0.25 ms)."""
    producer = _main((K.WORKER_START, T0, 11, ROLE_PRODUCER, 0),
                     *((K.PUT, T0 + i / 1000, T0 + i / 1000, P + i, i, 0.0) for i in range(n)))
    consumer = [(int(K.WORKER_START), T0, 12, ROLE_CONSUMER, 0)]
    for i in range(n):
        t = T0 + i / 1000 + 0.0005
        consumer += [(int(K.GET), t, t, P + i), (int(K.TASK_DONE), t + 0.00025, P + i)]
    return fed(_main((K.RUN_START, T0, 1, 1, n), (K.QUEUE_INFO, T0, 0)), producer, consumer)


def test_a_runs_end_reads_each_completions_rows_once(monkeypatch) -> None:
    """A run's end asks for the completions' times, waits and services several times (the
    summary's means and makespan, the theory pane, the readout); the task table's rows are
    gathered once per column until the model grows, and what is read stays right after it."""
    from engine.tasks import TaskTable
    from engine.theory import littles_law

    m = _many_tasks(3000)
    gathered: list[str] = []
    column_at = TaskTable.column_at

    def counting(self, slots, rows, name, out) -> None:  # type: ignore[no-untyped-def]
        gathered.append(name)
        column_at(self, slots, rows, name, out)

    monkeypatch.setattr(TaskTable, "column_at", counting)
    first = m.summary()
    littles_law(m)
    assert m.summary() == first
    # One gather per column the completions read (put, get, done), and the counters' times.
    assert sorted(gathered) == ["t_done", "t_done", "t_get", "t_get", "t_put", "t_put"]
    assert first.mean_wait_s == pytest.approx(0.0005)
    assert first.mean_service_s == pytest.approx(0.00025)
    with pytest.raises(ValueError):  # shared by every reader: nobody may write into it
        m.done_wait.view()[0] = 1.0
    m.feed([(1, 3001, [(int(K.PUT), T0 + 4, T0 + 4, P + 3000, 3000, 0.0)]),
            (2, 6001, [(int(K.GET), T0 + 4.5, T0 + 4.5, P + 3000),
                       (int(K.TASK_DONE), T0 + 5, P + 3000)])])
    assert len(m.done_wait.view()) == 3001
    assert m.done_wait.view()[-1] == pytest.approx(0.5)
    assert m.done_service[2999:].tolist() == pytest.approx([0.00025, 0.5])
