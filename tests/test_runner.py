"""Run lifecycle with real processes: completion, joins, stop, worker death, parent death, pause."""

from __future__ import annotations

import json
import multiprocessing
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import psutil
import pytest

from engine.config import load_preset
from engine.events import ROLE_CONSUMER, Kind
from engine.model import Activity, JoinState, RunModel
from engine.recorder import dumps_batch
from engine.runner import FEED_CHUNK, Run, RunStatus
from tests.faults import (
    RUN_TIMEOUT_S,
    START_TIMEOUT_S,
    all_started,
    config,
    const,
    poll_until,
)

ROOT = Path(__file__).resolve().parent.parent
METHODS = [
    m for m in ("forkserver", "spawn", "fork") if m in multiprocessing.get_all_start_methods()
]
LINUX = sys.platform.startswith("linux")
# The functional deadline for stop(); the slack absorbs a loaded 2-core machine.
STOP_DEADLINE_S = 2.0
STOP_SLACK_S = 0.6

real_counter_on_linux = pytest.mark.skipif(
    not LINUX, reason="Semaphore.get_value() is only reliable on Linux"
)


def real_unfinished(run: Run) -> int:
    return run.queue._unfinished_tasks.get_value()


def assert_all_gone(tools: SimpleNamespace, pids: list[int], timeout: float) -> None:
    left = tools.wait_gone(pids, timeout)
    assert not left, f"worker processes still running: {left}"


def settle(run: Run, quiet_s: float = 0.3) -> None:
    """Feed the model until no batch has arrived for ``quiet_s``."""
    run.drain(quiet_s)


# ----------------------------------------------------------------------------- normal runs


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


# ----------------------------------------------------------------------------- hangs, quiescence


@real_counter_on_linux
def test_model_unfinished_equals_real_counter_while_join_hangs() -> None:
    # Every task fails and its task_done is skipped: join() waits forever on 5 unfinished tasks.
    cfg = config(consumers=2, tasks_per_producer=5, failure_rate=1.0,
                 on_failure="skip_task_done")  # fmt: skip
    with Run(cfg) as run:
        assert poll_until(run, lambda m: m.all_exited(), START_TIMEOUT_S)
        settle(run)
        m = run.model
        assert not run.ended
        assert m.join_state == JoinState.WAITING
        assert m.failures == 5
        assert m.unfinished == 5
        assert m.unfinished == real_unfinished(run)
        assert m.depth == 0 and m.in_flight == 5
        assert "5 unfinished" in m.join_words()


def test_pause_freezes_counters_and_resume_finishes() -> None:
    cfg = config(consumers=2, tasks_per_producer=30, task_duration=const(0.05),
                 put_interval=const(0.01))  # fmt: skip
    with Run(cfg) as run:
        assert poll_until(run, lambda m: m.task_dones >= 4, START_TIMEOUT_S)
        run.pause()
        assert run.status is RunStatus.PAUSED
        settle(run)
        m = run.model
        assert m.paused
        frozen = (m.puts, m.gets, m.task_dones)
        assert frozen[2] < 32, "the run finished before the pause took effect"
        real = real_unfinished(run) if LINUX else None
        end = time.monotonic() + 0.5
        while time.monotonic() < end:
            run.poll(0.05, wait_s=0.05)
        assert (m.puts, m.gets, m.task_dones) == frozen, "workers kept going while paused"
        if LINUX:
            assert real_unfinished(run) == real
            # Quiescent mid-run: tasks are queued and held, and the model agrees with the queue.
            assert m.unfinished == real
        assert m.unfinished > 0
        run.resume()
        assert run.status is RunStatus.RUNNING
        assert run.wait(RUN_TIMEOUT_S)
        assert run.end_reason == "joined"
        assert not m.paused
        assert m.task_dones == 32
        assert all(w.exitcode == 0 for w in m.workers.values())


def test_a_worker_released_from_the_pause_goes_back_to_its_task() -> None:
    """Held mid-task, a consumer says PAUSED; released, it says nothing until its task ends.
    The model must show it working again from the resume on, not "paused" for 5 more s."""
    cfg = config(consumers=1, tasks_per_producer=1, task_duration=const(5.0))
    with Run(cfg) as run:
        m = run.model
        consumer = lambda: next(w for w in m.workers.values() if w.role == ROLE_CONSUMER)  # noqa: E731
        assert poll_until(run, lambda m: consumer().activity == Activity.PROCESS,
                          START_TIMEOUT_S)  # fmt: skip
        run.pause()
        assert poll_until(run, lambda m: consumer().activity == Activity.PAUSED,
                          START_TIMEOUT_S)  # fmt: skip
        run.resume()
        assert poll_until(run, lambda m: not m.paused, START_TIMEOUT_S)
        assert m.task_dones == 0, "the 5 s task ended already: the check below proves nothing"
        assert consumer().activity == Activity.PROCESS
        run.stop()


# ----------------------------------------------------------------------------- stop


def _stop_timed(run: Run, tools: SimpleNamespace) -> float:
    pids = [p.pid for p in run.processes.values()]
    t0 = time.monotonic()
    run.stop()
    elapsed = time.monotonic() - t0
    print(f"stop() took {elapsed:.2f} s")
    assert all(p.exitcode is not None for p in run.processes.values())
    assert_all_gone(tools, pids, 0.5)
    assert run.status is RunStatus.STOPPED
    assert run.end_reason == "stopped"
    return elapsed


def test_stop_ends_a_producer_blocked_in_put_on_a_full_queue(proc_tools: SimpleNamespace) -> None:
    cfg = config(tasks_per_producer=10, maxsize=1, task_duration=const(60.0))
    with Run(cfg) as run:
        # The consumer holds task 0, task 1 fills the queue, the producer blocks putting task 2.
        assert poll_until(run, lambda m: m.gets >= 1 and m.puts >= 2, START_TIMEOUT_S)
        time.sleep(0.2)
        run.poll(0.05)
        assert run.model.puts == 2, "the producer should be blocked on the full queue"
        assert run.processes[1].is_alive()
        elapsed = _stop_timed(run, proc_tools)
        assert elapsed < STOP_DEADLINE_S + STOP_SLACK_S, f"stop() took {elapsed:.2f} s"
        settle(run, 0.2)
        assert run.model.end_reason == "stopped"
        assert all(w.exitcode is not None for w in run.model.workers.values())


def test_stop_ends_consumers_blocked_in_get(proc_tools: SimpleNamespace) -> None:
    cfg = config(consumers=2, tasks_per_producer=3, sentinels="none")
    with Run(cfg) as run:
        # join() returns (every task done) but the consumers wait in get() for ever.
        assert poll_until(
            run,
            lambda m: m.join_state == JoinState.RETURNED and not m.workers[1].alive,
            START_TIMEOUT_S,
        )
        time.sleep(0.2)
        assert run.processes[2].is_alive() and run.processes[3].is_alive()
        assert not run.ended
        elapsed = _stop_timed(run, proc_tools)
        assert elapsed < STOP_DEADLINE_S + STOP_SLACK_S, f"stop() took {elapsed:.2f} s"


def test_stop_while_paused(proc_tools: SimpleNamespace) -> None:
    cfg = config(consumers=2, tasks_per_producer=50, task_duration=const(0.05))
    with Run(cfg) as run:
        assert poll_until(run, lambda m: m.task_dones >= 1, START_TIMEOUT_S)
        run.pause()
        elapsed = _stop_timed(run, proc_tools)
        assert elapsed < STOP_DEADLINE_S + STOP_SLACK_S, f"stop() took {elapsed:.2f} s"


def test_context_manager_stops_everything(proc_tools: SimpleNamespace) -> None:
    # maxsize=1 keeps the producer alive too, blocked in put().
    cfg = config(consumers=2, tasks_per_producer=6, maxsize=1, task_duration=const(60.0))
    with Run(cfg) as run:
        assert run.status is RunStatus.RUNNING
        assert poll_until(run, all_started, START_TIMEOUT_S)
        pids = run.alive_pids()
        assert len(pids) == 3
    assert run.ended
    assert run.status is RunStatus.STOPPED
    assert all(p.exitcode is not None for p in run.processes.values())
    assert_all_gone(proc_tools, pids, 0.5)


def test_context_manager_stops_everything_on_exception(proc_tools: SimpleNamespace) -> None:
    cfg = config(consumers=2, tasks_per_producer=6, maxsize=1, task_duration=const(60.0))
    pids: list[int] = []
    with pytest.raises(KeyError, match="boom"), Run(cfg) as run:
        assert poll_until(run, all_started, START_TIMEOUT_S)
        pids.extend(run.alive_pids())
        raise KeyError("boom")
    assert len(pids) == 3
    assert run.status is RunStatus.STOPPED
    assert_all_gone(proc_tools, pids, 0.5)


# ----------------------------------------------------------------------------- deaths


@pytest.mark.parametrize("done_before", [0, 1], ids=["first-task", "second-task"])
def test_consumer_killed_mid_task_is_detected_with_its_task_named(
    proc_tools: SimpleNamespace, done_before: int
) -> None:
    """Killed in its first task or in a later one: what it finished before still counts."""
    duration = 0.4
    cfg = config(consumers=2, tasks_per_producer=6, task_duration=const(duration))
    victim, survivor = 2, 3
    with Run(cfg) as run:
        m = run.model

        # Kill early in a task, so the victim is surely sleeping in it and not inside get();
        # in the task after ``done_before`` finished ones (gated on the model, not on time).
        def early_in_task(m: RunModel) -> bool:
            w = m.workers[victim]
            now = time.perf_counter() - m.t0 if m.t0 is not None else 0.0
            return (w.activity == Activity.PROCESS and w.task != -1 and now - w.since < 0.1
                    and w.tasks_done == done_before)

        assert poll_until(run, early_in_task, START_TIMEOUT_S)
        w = m.workers[victim]
        pid = w.pid
        assert pid == run.processes[victim].pid
        title = " ".join(psutil.Process(pid).cmdline()).strip()
        assert title == "queuelab consumer-0", f"process title is {title!r}"
        label = m.tasks[w.task][0]
        tasks_before = m.workers[survivor].tasks_done
        victim_done = w.tasks_done  # finished before the kill: the model saw each task_done

        os.kill(pid, signal.SIGKILL)
        t_kill = time.monotonic()
        assert poll_until(run, lambda m: m.workers[victim].exitcode is not None, 5.0)
        detected_after = time.monotonic() - t_kill
        print(f"death of consumer-0 in the model after {detected_after * 1000:.0f} ms")

        assert w.exitcode == -signal.SIGKILL
        assert w.activity == Activity.DIED
        assert m.held_task_labels(w) == [label], "the dead worker's task must be named"
        assert [d.name for d in m.dead_workers()] == ["consumer-0"]
        assert run.processes[survivor].is_alive()

        # The other consumer's events keep coming: it finishes the remaining tasks and exits.
        assert poll_until(run, lambda m: not m.workers[survivor].alive, RUN_TIMEOUT_S)
        settle(run)
        other = m.workers[survivor]
        assert other.exitcode == 0
        assert other.tasks_done > tasks_before
        assert victim_done == done_before
        assert other.tasks_done + victim_done + 1 == 6, "every task but the dead worker's was done"
        assert m.task_dones == 5 + 1  # five tasks and the survivor's sentinel
        # The dead worker's task and one sentinel nobody took keep join() waiting.
        assert m.join_state == JoinState.WAITING
        assert m.unfinished == 2
        if LINUX:
            assert m.unfinished == real_unfinished(run)
        assert not run.ended
        pids = [p.pid for p in run.processes.values()]
    assert_all_gone(proc_tools, pids, 0.5)


PARENT_SCRIPT = """
import json, sys, time
from engine.config import RunConfig
from engine.distributions import Distribution
from engine.model import Activity
from engine.runner import Run

if __name__ == "__main__":
    cfg = RunConfig(producers=1, consumers=2, tasks_per_producer=8, maxsize=1, seed=1,
                    task_duration=Distribution.constant(60.0), start_method=sys.argv[1])
    run = Run(cfg).start()
    deadline = time.monotonic() + 20
    # Gated on the records: both consumers have taken their first task (a get's record is sent
    # before the task's 60 s of work), so the parent dies while they work, not while they wait.
    while time.monotonic() < deadline:
        run.poll(0.05, wait_s=0.05)
        working = [w for w in run.model.workers.values() if w.activity == Activity.PROCESS]
        if len(working) == 2:
            break
    took = len(working) == 2
    print(json.dumps(run.alive_pids() if took else "no task taken in 20 s"), flush=True)
    time.sleep(600)
"""


def _read_line(proc: subprocess.Popen, timeout: float) -> str:
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    assert ready, "the script printed nothing"
    return proc.stdout.readline()


@pytest.mark.skipif(not LINUX, reason="uses SIGKILL and select() on a pipe")
@pytest.mark.parametrize("method", METHODS)
def test_parent_killed_leaves_no_worker(method: str, proc_tools: SimpleNamespace) -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    script = subprocess.Popen(
        [sys.executable, "-c", PARENT_SCRIPT, method],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    pids: list[int] = []
    others: list[int] = []
    try:
        said = json.loads(_read_line(script, START_TIMEOUT_S))
        assert isinstance(said, list), said
        pids = said
        assert len(pids) == 3
        assert all(proc_tools.is_queuelab_process(psutil.Process(pid)) for pid in pids)
        # Its forkserver / resource tracker should go too (not a deadline: just "not left").
        others = [p.pid for p in psutil.Process(script.pid).children(recursive=True)
                  if p.pid not in pids]  # fmt: skip
        os.kill(script.pid, signal.SIGKILL)
        script.wait(5)
        t_kill = time.monotonic()
        left = proc_tools.wait_gone(pids, 2.0)
        print(f"{method}: workers gone {time.monotonic() - t_kill:.2f} s after the parent's death")
        assert not left, f"workers outlived their SIGKILLed parent by 2 s: {left}"
        assert not proc_tools.wait_gone(others, 5.0), "helper processes outlived the parent"
    finally:
        if script.poll() is None:
            script.kill()
            script.wait(5)
        for pid in pids + others:
            if proc_tools.pid_running(pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass


def test_poll_feeds_a_big_batch_in_chunks_within_its_budget() -> None:
    """A batch bigger than a chunk is split: the model gets its head, the rest waits, in order."""
    run = Run(config(tasks_per_producer=0))
    size = 2 * FEED_CHUNK + 5
    records = [(int(Kind.WORKER_START), 1.0, 100, 0, 0)]
    records += [(int(Kind.PAUSED), 1.0 + i * 1e-6) for i in range(size - 1)]
    run._deliver((1, 0, records))
    applied = run.poll(budget_s=0.0)  # the first look at the clock is after one chunk
    assert len(applied) == FEED_CHUNK and run.pending == 1
    while run.pending:
        run.poll(budget_s=0.0)
    assert run.model.events == size and run.model.events_lost == 0


def test_worker_batches_arrive_pickled_and_are_decoded_in_poll_in_order() -> None:
    """The collector hands batches on as bytes; poll unpickles them, and every listener hears
    each whole batch once, in the model's order, even when poll feeds it in chunks."""
    run = Run(config(tasks_per_producer=0))
    heard: list[tuple[int, int, int]] = []
    run.add_listener(lambda b: heard.append((b[0], b[1], len(b[2]))))
    big = [(int(Kind.WORKER_START), 1.0, 100, 0, 0)]
    big += [(int(Kind.PAUSED), 1.0 + i * 1e-6) for i in range(2 * FEED_CHUNK)]
    run._deliver_raw(dumps_batch((1, 0, big)))
    run._deliver((0, 0, [(int(Kind.PAUSE), 2.0)]))  # the parent's own, already a tuple
    run._deliver_raw(dumps_batch((1, len(big), [(int(Kind.PAUSED), 3.0)])))
    assert heard == [] and run.pending == 3  # nothing decoded before a poll
    applied = run.poll(budget_s=0.0)
    assert len(applied) == FEED_CHUNK and heard == [(1, 0, len(big))]
    while run.pending:
        run.poll(budget_s=0.0)
    assert heard == [(1, 0, len(big)), (0, 0, 1), (1, len(big), 1)]
    assert run.model.events == len(big) + 2 and run.model.events_lost == 0


def test_a_batch_that_will_not_unpickle_is_counted_as_lost() -> None:
    run = Run(config(tasks_per_producer=0))
    run._deliver_raw(dumps_batch((1, 0, [(int(Kind.WORKER_START), 1.0, 100, 0, 0)])))
    run._deliver_raw(b"\x80\x05 torn")  # two records that arrived unreadable
    run._deliver_raw(dumps_batch((1, 3, [(int(Kind.PAUSED), 2.0)])))
    while run.pending:
        run.poll(1.0)
    assert run.undecodable_batches == 1
    assert run.model.events == 2 and run.model.events_lost == 2


# ------------------------------------------------------------------ main's join costs little


class _CountedRun(Run):
    """A Run whose coordinating thread (main's joins) counts its own wake-ups."""

    coordinator_wakeups = -1
    coordinator_s = 0.0

    def _coordinate(self) -> None:
        import resource

        r0 = resource.getrusage(resource.RUSAGE_THREAD)
        t0 = time.perf_counter()
        try:
            super()._coordinate()
        finally:
            r1 = resource.getrusage(resource.RUSAGE_THREAD)
            self.coordinator_wakeups = r1.ru_nvcsw - r0.ru_nvcsw
            self.coordinator_s = time.perf_counter() - t0


def test_mains_join_follows_the_counters_pace_not_a_2ms_poll() -> None:
    # It used to look at the counter every 2 ms for the whole run: 500 wake-ups a second of a
    # parent whose CPU, on a 2-core machine, comes out of the workers it measures.
    from engine.join_pace import CEIL_S
    from tests.faults import config, const

    cfg = config(consumers=2, tasks_per_producer=60, task_duration=const(0.02),
                 sentinels="per_consumer")  # fmt: skip
    run = _CountedRun(cfg)
    with run:
        assert run.wait(120), "the run did not end"
    m = run.model
    assert run.end_reason == "joined" and m.task_dones == 62
    # The join is still seen when it happens: after the last task_done, never before it.
    assert m.join_returned_t >= float(m.done_t.view().max())
    # Generous: 1.5x one look per CEIL_S over the whole coordination, plus the producers' and
    # the processes' joins. Bounded by the wall time it took, so a loaded machine cannot fail it.
    bound = 1.5 * run.coordinator_s / CEIL_S + 40
    assert 0 <= run.coordinator_wakeups <= bound, (run.coordinator_wakeups, run.coordinator_s)


def test_join_pace_sleeps_an_eighth_of_the_time_left_between_its_floor_and_ceiling(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from engine import join_pace

    clock = [100.0]
    left = [100]
    monkeypatch.setattr(join_pace, "perf_counter", lambda: clock[0])
    counter = SimpleNamespace(get_value=lambda: left[0])
    pace = join_pace.JoinPace(counter)
    assert pace.next_sleep() == join_pace.FLOOR_S  # no pace known yet
    clock[0] += 1.0
    assert pace.next_sleep() == join_pace.FLOOR_S  # no progress: it might touch zero any time
    left[0] = 50  # 50 done in 2 s: 2 s to go
    clock[0] += 1.0
    assert pace.next_sleep() == join_pace.CEIL_S
    left[0] = 2  # 98 done in 2.1 s: ~43 ms to go
    clock[0] += 0.1
    assert pace.next_sleep() == pytest.approx(2 * 2.1 / 98 / join_pace.MARGIN)
    left[0] = 0
    assert pace.next_sleep() == join_pace.FLOOR_S
    # No sem_getvalue (macOS): the old 2 ms looks.
    def no_value() -> int:
        raise NotImplementedError

    assert join_pace.JoinPace(SimpleNamespace(get_value=no_value)).next_sleep() == join_pace.FLOOR_S


_FIRST_RUN = """
import sys
import psutil
from engine.config import RunConfig
from engine.events import Kind
from engine.runner import Run

def forkservers():
    return [p for p in psutil.Process().children()
            if any("forkserver" in part for part in p.cmdline())]

if __name__ == "__main__":
    run = Run(RunConfig(consumers=1, tasks_per_producer=2, start_method="forkserver"))
    at_start = []
    emit = run.rec.emit
    def watch(record):
        if record[0] == Kind.RUN_START:
            at_start.extend((p, sum(p.cpu_times()[:2])) for p in forkservers())
        emit(record)
    run.rec.emit = watch
    with run:
        assert run.wait(120)
    assert len(at_start) == 1, "no forkserver running when the run's clock started"
    server, before = at_start[0]
    after = sum(server.cpu_times()[:2]) - before
    print(f"forkserver CPU before the run {before:.3f} s, during it {after:.3f} s")
    sys.exit(0 if after < before else 1)
"""


def test_the_forkservers_start_up_is_not_in_the_first_runs_window(tmp_path: Path) -> None:
    # The forkserver (an interpreter importing the engine) started with the first worker,
    # inside the first run's makespan: ~70 ms of CPU, a second on a loaded 2-core machine,
    # that the plain program's figure and every later run's did not have. It is started and
    # waited for before RUN_START now. A fresh interpreter: this one may have a server already.
    script = tmp_path / "first_run.py"
    script.write_text(_FIRST_RUN)
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": str(root)}
    done = subprocess.run([sys.executable, str(script)], env=env, capture_output=True,
                          text=True, timeout=180)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_collector_keeps_one_selector_for_the_whole_run(monkeypatch) -> None:
    """multiprocessing.connection.wait() built and filled a new selector on every wake-up
    (one per batch, ~60 us); the collector now keeps one for the run, and every record still
    arrives, the last ones drained after each worker's exit included."""
    import selectors
    import threading

    made: list[str] = []
    kind = getattr(selectors, "PollSelector", selectors.SelectSelector)
    original = kind.__init__

    def counted(self: object) -> None:
        made.append(threading.current_thread().name)
        original(self)

    monkeypatch.setattr(kind, "__init__", counted)
    # 60,000 records: at least 30 batches of 2048, whatever the machine's speed.
    cfg = config(consumers=2, tasks_per_producer=20_000, sentinels="per_consumer")
    with Run(cfg) as run:
        assert run.wait(RUN_TIMEOUT_S), "the run did not finish"
        run.drain(0.3)
        m = run.model
        assert run.end_reason == "joined" and m.task_dones == 20_002
        assert m.events_lost == 0 and run.received_batches >= 30
        processes = len(run.processes)
    # What is left: CPython's own Process.join() (two waits per process, once, at its exit).
    assert made.count("queuelab-collector") <= 2 * processes, made
