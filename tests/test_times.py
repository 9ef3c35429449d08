"""Times, not only counts: the model's intervals and per-task times against the workers' own clocks.

A small program of its own (not the product's workers): one producer and one consumer on a
TracedJoinableQueue, each with an active Recorder, each writing ``time.perf_counter()`` before
and after every put, get and task_done to its own file. perf_counter is one clock for every
process on the machine, so what the model says a worker did, and when, can be checked against
what the worker measured itself. Each traced call lies between the two readings around it, so
the checks are brackets, not tolerances; the only allowance is "about": a get that waited
200 ms must show at least 80 % of it as "waiting in get()" (the rest is time between the
worker's reading and the call, which a loaded machine can stretch).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import time
from multiprocessing.connection import wait
from pathlib import Path
from typing import Any

import pytest

from engine import recorder as rec
from engine.events import ROLE_CONSUMER, ROLE_PRODUCER, Kind
from engine.model import Activity, RunModel
from engine.traced_queue import TracedJoinableQueue

pytestmark = pytest.mark.slow

WAIT_S = 0.2  # phase 1: the producer sleeps this long before each put; the consumer waits
SERVICE_S = 0.15  # phase 2: the consumer works this long on each task; tasks queue up
N1, N2 = 3, 4  # tasks of each phase
ABOUT = 0.8  # "about": at least this share of what the worker measured
TIMEOUT_S = 60.0


def _producer(queue: TracedJoinableQueue, conn: Any, out: str, go: Any, ready: Any) -> None:
    r = rec.Recorder(1, rec.connection_sender(conn))
    rec.activate(r)
    r.start_flusher()
    r.emit((int(Kind.WORKER_START), time.perf_counter(), os.getpid(), ROLE_PRODUCER, 0))
    clock = []
    for i in range(N1):  # phase 1: slow puts, so the consumer waits in get()
        ready.wait(TIMEOUT_S)  # gated on the consumer being about to call get()
        ready.clear()
        time.sleep(WAIT_S)
        a = time.perf_counter()
        queue.put((i, 0.0))
        clock.append(("put", i, a, time.perf_counter()))
    go.wait(TIMEOUT_S)  # the consumer has taken phase 1's last task
    for i in range(N1, N1 + N2):  # phase 2: all at once, so they wait in the queue
        a = time.perf_counter()
        queue.put((i, 0.0))
        clock.append(("put", i, a, time.perf_counter()))
    queue.put(None)
    Path(out).write_text(json.dumps(clock))
    r.close(0)
    rec.activate(None)


def _consumer(queue: TracedJoinableQueue, conn: Any, out: str, go: Any, ready: Any) -> None:
    r = rec.Recorder(2, rec.connection_sender(conn))
    rec.activate(r)
    r.start_flusher()
    r.emit((int(Kind.WORKER_START), time.perf_counter(), os.getpid(), ROLE_CONSUMER, 0))
    clock = []
    while True:
        ready.set()
        a = time.perf_counter()
        item = queue.get()
        b = time.perf_counter()
        if item is None:
            clock.append(("get", -1, a, b))
            queue.task_done()
            break
        label = item[0]
        clock.append(("get", label, a, b))
        if label == N1 - 1:
            go.set()
        if label >= N1:
            # Phase 2: the work, by the worker's own clock (a busy wait: sleep may overshoot).
            end = time.perf_counter() + SERVICE_S
            while time.perf_counter() < end:
                pass
        a = time.perf_counter()
        queue.task_done()
        clock.append(("done", label, a, time.perf_counter()))
    Path(out).write_text(json.dumps(clock))
    r.close(0)
    rec.activate(None)


def run_program(tmp: Path) -> tuple[RunModel, list, list]:
    """Run the two workers; return the fed model and each worker's own clock readings."""
    ctx = multiprocessing.get_context("spawn")
    queue = TracedJoinableQueue(ctx=ctx)
    go, ready = ctx.Event(), ctx.Event()
    model = RunModel()
    t0 = time.perf_counter()
    model.feed([(0, 0, [(int(Kind.RUN_START), t0, 1, 1, N1 + N2)])])
    pipes, procs = [], []
    for target, name in ((_producer, "producer"), (_consumer, "consumer")):
        recv, send = ctx.Pipe(duplex=False)
        p = ctx.Process(target=target, args=(queue, send, str(tmp / f"{name}.json"), go, ready),
                        name=f"queuelab-test-{name}")
        p.start()
        send.close()
        pipes.append(recv)
        procs.append(p)
    deadline = time.monotonic() + TIMEOUT_S
    open_pipes = list(pipes)
    while open_pipes and time.monotonic() < deadline:
        for conn in wait(open_pipes, timeout=0.5):
            try:
                model.feed([rec.decode_batch(conn.recv_bytes())])
            except EOFError:
                open_pipes.remove(conn)
    for p in procs:
        p.join(10)
        if p.is_alive():
            p.kill()
            p.join()
    assert not open_pipes, "the workers did not finish"
    assert [p.exitcode for p in procs] == [0, 0]
    produced = json.loads((tmp / "producer.json").read_text())
    consumed = json.loads((tmp / "consumer.json").read_text())
    return model, produced, consumed


@pytest.fixture(scope="module")
def program(tmp_path_factory: pytest.TempPathFactory) -> tuple[RunModel, list, list]:
    return run_program(tmp_path_factory.mktemp("times"))


def test_a_get_that_waited_shows_that_long_as_waiting_in_get(program) -> None:
    model, _produced, consumed = program
    m0 = model.t0
    waits = [iv for iv in model.workers[2].intervals if iv[2] == int(Activity.WAIT_GET)]
    gets = [(a - m0, b - m0) for kind, label, a, b in consumed if kind == "get"]
    assert len(gets) == N1 + N2 + 1
    waited = [(i, a, b) for i, (a, b) in enumerate(gets[:N1]) if b - a >= WAIT_S * ABOUT]
    # Each put waited for the consumer to be about to call get(), then WAIT_S more: only a
    # consumer stalled for 40 ms between the two makes a get shorter (then it is not used).
    assert waited, f"no get waited {WAIT_S} s: {gets[:N1]}"
    for i, a, b in waited:
        # The interval that covers this get by the consumer's clock, and only that one.
        mine = [iv for iv in waits if a - 1e-6 <= iv[0] and iv[1] <= b + 1e-6]
        assert len(mine) == 1, f"get {i}: measured {a:.3f}-{b:.3f}, model waits {waits}"
        t0, t1 = mine[0][:2]
        assert t1 - t0 >= ABOUT * (b - a), (
            f"get {i} waited {1000 * (b - a):.0f} ms by the consumer's clock, the model shows "
            f"{1000 * (t1 - t0):.0f} ms of waiting in get()")


def test_processing_intervals_lie_between_the_get_and_the_task_done(program) -> None:
    model, _produced, consumed = program
    m0 = model.t0
    gets = {label: (a - m0, b - m0) for kind, label, a, b in consumed if kind == "get"}
    dones = {label: (a - m0, b - m0) for kind, label, a, b in consumed if kind == "done"}
    work = [iv for iv in model.workers[2].intervals
            if iv[2] == int(Activity.PROCESS) and iv[3] >= 0]  # -1: the sentinel
    assert {iv[3] for iv in work} == set(range(N1 + N2))
    for t0, t1, _act, label in work:
        (ga, gb), (da, db) = gets[label], dones[label]
        assert ga - 1e-6 <= t0 <= gb + 1e-6 and da - 1e-6 <= t1 <= db + 1e-6, label
        if label >= N1:
            assert t1 - t0 >= SERVICE_S


def test_each_tasks_wait_and_service_match_the_workers_clocks(program) -> None:
    model, produced, consumed = program
    m0 = model.t0
    put = {label: (a - m0, b - m0) for kind, label, a, b in produced}
    got = {label: (a - m0, b - m0) for kind, label, a, b in consumed if kind == "get"}
    done = {label: (a - m0, b - m0) for kind, label, a, b in consumed if kind == "done"}
    by_label = {t[0]: t for t in model.tasks.values() if t[0] >= 0}
    assert sorted(by_label) == list(range(N1 + N2))
    waits = dict(zip([by_label_of(model, t) for t in model.done_t], model.done_wait,
                     strict=True))
    services = dict(zip([by_label_of(model, t) for t in model.done_t], model.done_service,
                        strict=True))
    for label in range(N1 + N2):
        (pa, pb), (ga, gb), (da, db) = put[label], got[label], done[label]
        # Taken when get() returned, put when put() returned, done at task_done(): each lies
        # between the worker's readings around the call.
        lo_wait, hi_wait = max(0.0, ga - pb), gb - pa
        assert lo_wait - 1e-6 <= waits[label] <= hi_wait + 1e-6, (label, waits[label])
        assert da - gb - 1e-6 <= services[label] <= db - ga + 1e-6, (label, services[label])
        if label >= N1:
            assert services[label] >= SERVICE_S
    # Phase 2: the fourth task queued behind three of SERVICE_S each.
    assert waits[N1 + N2 - 1] >= ABOUT * 3 * SERVICE_S


def by_label_of(model: RunModel, t_done: float) -> int:
    """The label of the task done at ``t_done`` (completion times are distinct here)."""
    (task,) = [t for t in model.tasks.values() if t[6] == t_done and t[0] >= 0]
    return task[0]
