"""SIGKILL a producer while its 10 MB task is being written: the stall is seen, Stop still works."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

import engine.runner
from engine.explain import detect_stall
from engine.runner import Run, RunStatus
from engine.workers import WorkerSpec, _Worker

from . import START_TIMEOUT_S, all_started, config, now_t, poll_until, wait_gone

BIG = 10 * 1024 * 1024


def big_producer(spec: WorkerSpec) -> None:
    """Put one 10 MB task, then idle: with nobody reading, the feeder blocks mid-message."""
    w = _Worker(spec)
    spec.queue.put((0, 0.0, b"x" * BIG))
    if w.rec is not None:
        w.rec.flush()
    time.sleep(600)


def gated_consumer(spec: WorkerSpec) -> None:
    """The tutorial's consumer loop, held back until the test says go (cfg.title is a path)."""
    w = _Worker(spec)
    queue = spec.queue
    try:
        while not os.path.exists(spec.cfg.title):
            time.sleep(0.01)
        while True:
            task = queue.get()
            queue.task_done()
            if task is None:
                break
    finally:
        w.finish(0)


@pytest.mark.slow
def test_producer_killed_during_a_large_put_is_reported_as_a_stall(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine.runner, "producer_main", big_producer)
    monkeypatch.setattr(engine.runner, "consumer_main", gated_consumer)
    go = tmp_path / "go"
    cfg = config(consumers=2, tasks_per_producer=1, title=str(go))
    with Run(cfg) as run:
        m = run.model
        assert poll_until(run, all_started, START_TIMEOUT_S)
        assert poll_until(run, lambda m: m.puts == 1, START_TIMEOUT_S), "the big put never returned"
        time.sleep(0.3)  # its feeder thread has written what the pipe holds and now waits
        os.kill(run.processes[1].pid, signal.SIGKILL)
        t_kill = time.perf_counter()
        go.touch()
        sentence = None
        while sentence is None and time.perf_counter() - t_kill < 10.0:
            run.poll(0.02, wait_s=0.02)
            sentence = detect_stall(m, now_t(run))
        print(f"\nFIGURE stall after a torn 10 MB put reported "
              f"{time.perf_counter() - t_kill:.2f} s after the kill: {sentence}")  # fmt: skip
        assert sentence is not None, "the stall was not detected within 10 s"
        assert "producer-0 was killed while its last put" in sentence
        assert "1 item is queued" in sentence
        assert m.gets == 0 and all(run.processes[s].is_alive() for s in (2, 3))
        pids = [p.pid for p in run.processes.values()]
        t0 = time.monotonic()
        run.stop()
        print(f"FIGURE stop() with consumers stuck on a torn message took "
              f"{(time.monotonic() - t0) * 1000:.0f} ms")  # fmt: skip
        assert not wait_gone(pids, 2.0), "a consumer stuck on the torn message outlived stop()"
        assert run.status is RunStatus.STOPPED
