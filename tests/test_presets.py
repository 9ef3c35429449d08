"""Every lesson preset loads, runs headless with real processes and ends as its lesson says."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable

import pytest

from engine.codegen_lines import worker_line_key
from engine.config import PRESETS_DIR, RunConfig, list_presets, load_preset
from engine.events import LABEL_NONE
from engine.explain import SETTLE_S, diagnose
from engine.flow_layout import flow_frame
from engine.model import Activity, JoinState, RunModel
from engine.runner import Run

LESSONS = (
    "join-race",
    "one-sentinel-many-consumers",
    "forgot-task-done",
    "extra-task-done",
    "join-immediately",
    "bounded-queue",
    "failure-retry",
    "counter-not-removal",
    "many-consumers",
    "how-many-workers",
    "near-saturation",
)
RUN_TIMEOUT_S = 60.0  # generous: two shared cores, other test suites running
HANG_TIMEOUT_S = 30.0


def finished_run(name: str, scale: float) -> tuple[Run, RunModel]:
    """Run a preset to its end; the run is stopped (a no-op when it finished) on the way out."""
    cfg = load_preset(name).replace(time_scale=scale)
    with Run(cfg) as run:
        assert run.wait(RUN_TIMEOUT_S), f"{name} did not finish"
        run.drain(0.2)
    assert run.end_reason == "joined"
    return run, run.model


def hung_run(
    name: str, scale: float, ready: Callable[[RunModel], bool], **changes: object
) -> tuple[RunModel, list]:
    """Run a preset (with ``changes``) that hangs by design until its diagnosis is ready, then
    stop it.

    Returns the model and the diagnosis as it was while the run hung.
    """
    cfg = load_preset(name).replace(time_scale=scale, **changes)
    with Run(cfg) as run:
        deadline = time.monotonic() + HANG_TIMEOUT_S
        found: list[str] = []
        while time.monotonic() < deadline and not run.ended:
            run.poll(0.05, wait_s=0.05)
            found = diagnose(run.model, run.model.rel(time.perf_counter()))
            if found and ready(run.model):
                break
        assert not run.ended, f"{name} ended ({run.end_reason}) although it hangs by design"
        assert found, f"no diagnosis for {name} within {HANG_TIMEOUT_S} s"
        alive = [w.name for w in run.model.workers.values() if w.alive]
        run.stop()
    assert run.end_reason == "stopped"
    return run.model, [found, alive]


def real_labels(m: RunModel) -> list[int]:
    return sorted(t[0] for t in m.tasks.values() if t[0] >= 0)


def test_every_lesson_has_a_preset_with_title_and_explanation() -> None:
    names = {name for name, _title in list_presets()}
    assert set(LESSONS) | {"tutorial"} <= names
    for name in LESSONS:
        cfg = load_preset(name)
        assert isinstance(cfg, RunConfig)
        assert cfg.title and cfg.title != name
        sentences = [s for s in re.split(r"(?<=[.!?])\s+", cfg.explanation.strip()) if s]
        assert 2 <= len(sentences) <= 4, (name, sentences)
        # Every key at top level: the file alone says what the lesson runs.
        text = (PRESETS_DIR / f"{name}.toml").read_text(encoding="utf-8")
        for key in cfg.to_mapping():
            if key != "start_method":  # left to the platform, like the tutorial
                assert re.search(rf"^{key} = ", text, re.MULTILINE), (name, key)


# ----------------------------------------------------------------------------- correct runs


@pytest.mark.slow
def test_tutorial() -> None:
    _run, m = finished_run("tutorial", 0.1)
    assert m.join_state == JoinState.RETURNED and not m.premature_join
    assert real_labels(m) == list(range(10))
    assert m.sentinel_puts == 1 and m.unfinished == 0
    assert diagnose(m) == []


@pytest.mark.slow
def test_join_race_returns_prematurely() -> None:
    _run, m = finished_run("join-race", 0.5)
    assert m.premature_join
    assert m.producers_running_at_join() == ["producer-0"]
    n = m.tasks_not_yet_put
    assert 1 <= n <= 8
    assert diagnose(m) == [
        f"premature join: returned while producer-0 was still running, "
        f"{n} task{'s' if n != 1 else ''} not yet put."
    ]
    # Every task was still processed after join() had returned: only main was fooled.
    assert real_labels(m) == list(range(8)) and m.unfinished == 0


@pytest.mark.slow
def test_extra_task_done_raises_valueerror_and_leaves_the_counter_alone() -> None:
    _run, m = finished_run("extra-task-done", 0.5)
    assert m.join_state == JoinState.RETURNED and not m.premature_join
    takers = [
        w for w in m.workers.values() if any(t[4] == w.src and t[0] >= 0 for t in m.tasks.values())
    ]
    assert takers
    for w in takers:  # each consumer's second task_done() for its first task was refused
        assert w.errors == ["task_done() called too many times"], w.name
    assert m.task_done_errors == len(takers)
    assert m.extra_task_dones == 0  # never a silent one: the counter was 0 each time
    assert m.unfinished == 0 and real_labels(m) == list(range(6))
    found = diagnose(m)
    assert len(found) == len(takers)
    for w, sentence in zip(sorted(takers, key=lambda w: w.src), found, strict=True):
        assert sentence.startswith(f"{w.name} called task_done() more often than it took tasks")


@pytest.mark.slow
def test_join_immediately_returns_at_once() -> None:
    _run, m = finished_run("join-immediately", 0.2)
    assert not m.premature_join
    called, returned = m.join_called_t, m.join_returned_t
    assert called is not None and returned is not None
    # Everything, sentinel included, was marked done before join() was even called...
    assert all(t[6] is not None and t[6] <= called for t in m.tasks.values())
    # ...so nothing happened on the queue while it was "waiting".
    assert not any(called < t[6] <= returned for t in m.tasks.values())
    assert diagnose(m) == []


def _true_depths(m: RunModel) -> list[int]:
    """Queue depth after each put and get, ordered by when the item entered or left."""
    steps = [(t[3], 1) for t in m.tasks.values()]
    steps += [(t[5], -1) for t in m.tasks.values() if t[5] is not None]
    depth, out = 0, []
    for _t, step in sorted(steps):
        depth += step
        out.append(depth)
    return out


@pytest.mark.slow
def test_bounded_queue_blocks_the_producer() -> None:
    _run, m = finished_run("bounded-queue", 0.5)
    producer = m.workers[1]
    blocked = [i for i in producer.intervals if i[2] == Activity.BLOCK_PUT]
    assert len(blocked) >= 4
    busy = sum(t1 - t0 for t0, t1, _a, _l in producer.intervals)
    assert sum(t1 - t0 for t0, t1, _a, _l in blocked) > 0.5 * busy
    # At least maxsize (3), the queue full. More only by gets in flight: a get frees its slot
    # before its return is stamped, so a put can return first — with two consumers, two such
    # gets at once (a busy machine did it: 5).
    consumers = sum(1 for w in m.workers.values() if w.name.startswith("consumer"))
    assert 3 <= max(_true_depths(m)) <= 3 + consumers
    assert diagnose(m) == []


@pytest.mark.slow
def test_bounded_queue_depth_series_is_pinned_at_maxsize() -> None:
    _run, m = finished_run("bounded-queue", 0.5)
    depth = [p - g for p, g in zip(m.s_puts, m.s_gets, strict=True)]
    assert m.maxsize == 3 and max(depth) == m.maxsize


@pytest.mark.slow
def test_failure_retry_counts_and_gives_up_on_task_3() -> None:
    _run, m = finished_run("failure-retry", 0.5)
    assert m.join_state == JoinState.RETURNED and not m.premature_join
    assert (m.failures, m.retries) == (6, 5)  # task 1 once, task 2 twice, task 3 three times
    errors = sorted(e for w in m.workers.values() for e in w.errors)
    assert errors == sorted(
        [f"TaskFailure: task 1 failed (attempt {a})" for a in (1,)]
        + [f"TaskFailure: task 2 failed (attempt {a})" for a in (1, 2)]
        + [f"TaskFailure: task 3 failed (attempt {a})" for a in (1, 2, 3)]
    )
    assert m.puts == 10 + 5 + 2 and m.unfinished == 0
    assert diagnose(m) == []


@pytest.mark.slow
def test_counter_not_removal_depth_empty_while_unfinished_counts() -> None:
    scale = 0.5
    _run, m = finished_run("counter-not-removal", scale)
    depth = [p - g for p, g in zip(m.s_puts, m.s_gets, strict=True)]
    unfinished = [p - d for p, d in zip(m.s_puts, m.s_dones, strict=True)]
    assert any(d == 0 and u >= 2 for d, u in zip(depth, unfinished, strict=True))
    for t in m.tasks.values():
        if t[0] >= 0:  # a task stays unfinished for its whole second after get()
            assert t[6] - t[5] >= 0.9 * 1.0 * scale
    assert m.unfinished == 0 and diagnose(m) == []


@pytest.mark.slow
def test_many_consumers_share_the_work(monkeypatch: pytest.MonkeyPatch) -> None:
    # A 2-CPU machine (like CI's): "auto" must still give several consumers, here 3.
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    _run, m = finished_run("many-consumers", 0.3)
    assert real_labels(m) == list(range(300))
    consumers = [w for w in m.workers.values() if w.name.startswith("consumer")]
    assert len(consumers) == 3 and m.sentinel_puts == 3
    assert all(w.tasks_done > 0 and w.exitcode == 0 for w in consumers)
    assert sum(w.tasks_done for w in consumers) == 300
    assert not m.premature_join and diagnose(m) == []


# ----------------------------------------------------------------------------- hangs by design


@pytest.mark.slow
def test_one_sentinel_many_consumers_never_finishes() -> None:
    m, (found, alive) = hung_run(
        "one-sentinel-many-consumers", 0.2, lambda m: m.join_state == JoinState.RETURNED
    )
    assert m.join_returned_t is not None and not m.premature_join
    waiting = sorted(n for n in alive if n.startswith("consumer"))
    assert len(waiting) == 2
    assert found == [
        f"missing sentinels: 3 consumers, 1 sentinel — {waiting[0]} and {waiting[1]} wait in "
        "get() forever: the queue is empty and every producer has finished; put one None per "
        "consumer."
    ]


@pytest.mark.slow
def test_forgot_task_done_hangs_and_names_the_failed_tasks() -> None:
    m, (found, _alive) = hung_run("forgot-task-done", 0.2, lambda m: True)
    assert m.join_state == JoinState.WAITING
    assert m.failures == 2
    # Who failed what, from the TASK_FAIL records (seed 45: tasks 1 and 5).
    failed: dict[str, list[int]] = {}
    for w in sorted(m.workers.values(), key=lambda w: w.src):
        for e in w.errors:
            failed.setdefault(w.name, []).append(int(re.search(r"task (\d+)", e).group(1)))
    assert sorted(x for v in failed.values() for x in v) == [1, 5]
    parts = [
        f"{name} took " + ("task " + str(v[0]) if len(v) == 1 else f"tasks {v[0]} and {v[1]}")
        for name, v in failed.items()
    ]
    assert found == [
        f"task_done() missing: {' and '.join(parts)} and never called task_done() for them; "
        "every consumer has exited, so the unfinished counter is stuck at 2 and queue.join() "
        "waits forever."
    ]


@pytest.mark.slow
def test_a_consumer_that_skipped_task_done_is_shown_waiting_in_get() -> None:
    # No sentinels and only tasks 0 and 1 (seed 45: task 1 fails): the consumer that failed
    # task 1 goes straight back to get() without task_done() and waits there for good. What
    # the window shows of it (the flow view's station, the Code view's line) is the model's.
    seen: dict[str, tuple] = {}

    def ready(m: RunModel) -> bool:
        stations = flow_frame(m, m.last_t).consumers
        for w, station in zip(sorted(m.workers.values(), key=lambda w: w.src)[1:], stations,
                              strict=True):  # fmt: skip
            seen[w.name] = (w.failures, Activity(w.activity), w.task, m.held_task_labels(w),
                            Activity(station.activity), worker_line_key(w.role, w.activity))
        return True

    hung_run("forgot-task-done", 0.2, ready, sentinels="none", tasks_per_producer=2)
    failed = [state[1:] for state in seen.values() if state[0]]
    others = [state[1:] for state in seen.values() if not state[0]]
    # Not "working" on task 1: waiting in get(), still holding it.
    assert failed == [(Activity.WAIT_GET, -1, [1], Activity.WAIT_GET, "get")]
    assert others == [(Activity.WAIT_GET, -1, [], Activity.WAIT_GET, "get")]


@pytest.mark.slow
def test_hang_is_diagnosed_one_settle_time_after_it_starts() -> None:
    """'Detect within 2 s': the finding appears exactly SETTLE_S (< 2 s) of model time after
    the last consumer started waiting for good, and not before."""
    assert SETTLE_S < 2.0
    cfg = load_preset("one-sentinel-many-consumers").replace(time_scale=0.2)
    with Run(cfg) as run:
        m = run.model
        deadline = time.monotonic() + HANG_TIMEOUT_S
        while time.monotonic() < deadline and not diagnose(m, m.rel(time.perf_counter())):
            run.poll(0.05, wait_s=0.05)
        waiting = [w for w in m.workers.values() if w.alive and w.name.startswith("consumer")]
        assert len(waiting) == 2
        assert m.unfinished == 0 and LABEL_NONE in {t[0] for t in m.tasks.values()}
        stuck_since = max(w.since for w in waiting)
        assert diagnose(m, stuck_since + SETTLE_S - 0.05) == []
        assert diagnose(m, stuck_since + SETTLE_S) != []


@pytest.mark.parametrize(
    "cpus, consumers, words",
    [
        (2, 3, ["found 2 CPUs", "would be 1", "at least 3"]),
        (8, 7, ["found 8 CPUs", "one per CPU but one"]),
        (200, 64, ["found 200 CPUs", "would be 199", "limit of 64"]),
        (None, 3, ["could not tell"]),
    ],
)
def test_many_consumers_lesson_says_what_auto_found(
    monkeypatch: pytest.MonkeyPatch, cpus: int | None, consumers: int, words: list[str]
) -> None:
    monkeypatch.setattr(os, "cpu_count", lambda: cpus)
    cfg = load_preset("many-consumers")
    assert cfg.consumers == consumers
    note = cfg.explanation.split("\n\n")[-1]
    assert note.startswith(f'consumers = "auto" on this machine: {consumers} consumers')
    for w in words:
        assert w in note, (w, note)


def test_near_saturation_is_an_open_system_at_ninety_one_percent() -> None:
    from engine.theory import predict

    pred = predict(load_preset("near-saturation"), os.cpu_count())
    assert pred is not None and pred.model == "M/M/c" and pred.stable
    assert pred.utilisation == pytest.approx(10 / 11)
    assert pred.mean_wait_s == pytest.approx(0.1)  # ten times the 10 ms of work


@pytest.mark.slow
def test_near_saturation_tasks_wait_longer_than_they_work() -> None:
    _run, m = finished_run("near-saturation", 1.0)
    s = m.summary()
    assert s.mean_wait_s > 2 * s.mean_service_s, (s.mean_wait_s, s.mean_service_s)


def test_how_many_workers_is_a_cpu_bound_batch_that_names_the_sweep() -> None:
    cfg = load_preset("how-many-workers")
    assert cfg.workload == "cpu" and cfg.put_interval.mean == 0 and cfg.sentinels == "per_consumer"
    assert "sweep --preset how-many-workers --param consumers=cores" in cfg.explanation
