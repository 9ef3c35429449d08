"""A Run with real processes to its end: counts match the real queue, start methods, joins."""

from __future__ import annotations

import pytest

from engine.config import load_preset
from engine.model import JoinState
from engine.runner import Run, RunStatus
from tests.faults import RUN_TIMEOUT_S, config, const
from tests.run_checks import LINUX, METHODS, real_unfinished


def test_tutorial_run_completes_and_counts_match_the_real_queue() -> None:
    cfg = load_preset("tutorial").replace(time_scale=0.02, seed=3)
    with Run(cfg) as run:
        assert run.wait(RUN_TIMEOUT_S), "the tutorial run did not finish"
        m = run.model
        assert run.end_reason == "joined"
        assert run.status is RunStatus.FINISHED
        assert m.join_state == JoinState.RETURNED
        assert m.puts == 10 + 1, "ten tasks and one sentinel"
        assert (m.task_puts, m.sentinel_puts) == (10, 1)
        assert m.gets == m.task_dones == 11
        assert m.depth == m.in_flight == m.unfinished == 0
        if LINUX:
            assert m.unfinished == real_unfinished(run)
        assert not m.premature_join
        assert m.producers_joined_t is not None and m.join_returned_t is not None
        assert m.producers_joined_t <= m.join_returned_t, "producers are joined before the queue"
        assert m.events_lost == 0
        assert m.end_reason == "joined"
        producer, consumer = m.workers[1], m.workers[2]
        assert (producer.name, consumer.name) == ("producer-0", "consumer-0")
        assert producer.exitcode == consumer.exitcode == 0
        assert consumer.tasks_done == 10
        assert {w.pid for w in m.workers.values()} == {p.pid for p in run.processes.values()}
        assert len(m.done_t) == 10
        for label, _v, _ps, t_put, get_src, t_get, t_done in m.tasks.values():
            assert get_src == 2
            assert t_put <= t_get <= t_done, f"task {label}: put/get/done out of order"
        values = sorted(v for label, v, *_ in m.tasks.values() if label >= 0)
        assert all(0.0 <= v < 1.0 for v in values), "tutorial values are random() in [0, 1)"
    assert run.status is RunStatus.FINISHED  # leaving the block after the end changes nothing


@pytest.mark.parametrize(
    "method",
    [
        m
        for m in METHODS
    ],
)
def test_every_start_method_runs(method: str) -> None:
    cfg = config(producers=2, consumers=2, tasks_per_producer=5, task_duration=const(0.01),
                 start_method=method)  # fmt: skip
    if method == "fork":
        with pytest.warns(RuntimeWarning, match="fork"):
            run = Run(cfg).start()
    else:
        run = Run(cfg).start()
    with run:
        assert run.wait(RUN_TIMEOUT_S)
        m = run.model
        assert run.end_reason == "joined"
        assert (m.task_puts, m.sentinel_puts) == (10, 2)
        assert m.gets == m.task_dones == 12
        assert sorted(label for label, *_ in m.tasks.values() if label >= 0) == list(range(10))
        assert [w.exitcode for w in m.workers.values()] == [0, 0, 0, 0]
        assert sum(w.tasks_done for w in m.workers.values()) == 10
        assert m.events_lost == 0
        if LINUX:
            assert real_unfinished(run) == m.unfinished == 0
    assert (method == "fork") == bool(run.warnings)


def test_run_with_no_tasks_only_passes_sentinels() -> None:
    with Run(config(tasks_per_producer=0, consumers=2)) as run:
        assert run.wait(RUN_TIMEOUT_S)
        assert run.end_reason == "joined"
        assert (run.model.task_puts, run.model.sentinel_puts) == (0, 2)
        assert run.model.unfinished == 0


def test_each_run_gets_a_fresh_queue_and_cannot_restart() -> None:
    cfg = config(tasks_per_producer=3)
    runs = []
    for _ in range(2):
        with Run(cfg) as run:
            assert run.wait(RUN_TIMEOUT_S)
            runs.append(run)
    first, second = runs
    assert first.queue is not second.queue
    assert second.model.puts == first.model.puts == 4, "a second run must not see the first's tasks"
    assert second.model.task_dones == 4
    assert {p.pid for p in first.processes.values()}.isdisjoint(
        p.pid for p in second.processes.values()
    )
    if LINUX:
        assert real_unfinished(second) == 0
    with pytest.raises(RuntimeError):
        first.start()


def test_queue_first_join_with_a_slow_producer_is_premature() -> None:
    cfg = config(tasks_per_producer=5, put_interval=const(0.05), join_order="queue_first")
    with Run(cfg) as run:
        assert run.wait(RUN_TIMEOUT_S)
        m = run.model
        assert run.end_reason == "joined"
        assert m.join_state == JoinState.RETURNED
        assert m.premature_join
        assert m.summary().premature_join
        assert m.tasks_not_yet_put > 0
        assert m.producers_running_at_join() == ["producer-0"]
        assert m.producers_joined_t is not None and m.join_returned_t is not None
        assert m.join_returned_t <= m.producers_joined_t
        assert "premature" in m.join_words()
        # The run itself still ends normally: every task was processed in the end.
        assert m.task_dones == 6


def test_producers_first_join_with_the_same_producer_is_not_premature() -> None:
    cfg = config(tasks_per_producer=5, put_interval=const(0.05), join_order="producers_first")
    with Run(cfg) as run:
        assert run.wait(RUN_TIMEOUT_S)
        assert not run.model.premature_join
        assert run.model.producers_running_at_join() == []
        assert run.model.join_returned_t >= run.model.producers_joined_t
