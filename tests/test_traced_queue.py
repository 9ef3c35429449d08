"""TracedJoinableQueue: JoinableQueue semantics under every start method, and what it records."""

from __future__ import annotations

import multiprocessing
import pickle
import queue
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from engine import recorder as rec_mod
from engine.events import LABEL_NONE, LABEL_OTHER, Kind
from engine.recorder import Recorder, activate
from engine.traced_queue import TracedJoinableQueue

METHODS = [
    m for m in ("spawn", "forkserver", "fork") if m in multiprocessing.get_all_start_methods()
]
CHILD_TIMEOUT_S = 30.0  # generous: spawn children import this module (and pytest) first
TD_TOO_MANY = "task_done() called too many times"


# ----------------------------------------------------------------------------- child processes
# Module level so spawn and forkserver children can unpickle them by reference.


def _title() -> None:
    # Named like a worker so the leak check in conftest.py catches a child this file leaves.
    import setproctitle

    setproctitle.setproctitle("queuelab test-child")


def child_consume(q: Any, out: Any, n: int, work_s: float) -> None:
    """Get ``n`` items, report each, then task_done() it (after ``work_s``)."""
    _title()
    for _ in range(n):
        item = q.get(timeout=CHILD_TIMEOUT_S)
        time.sleep(work_s)
        out.put(("got", item))
        q.task_done()
    out.put(("done", n))


def child_produce(q: Any, items: list[Any]) -> None:
    _title()
    for item in items:
        q.put(item)


def child_count_then_done(q: Any, counter: Any, n: int, work_s: float) -> None:
    """Count each task in a shared counter *before* its task_done(), so join() can check it."""
    _title()
    for _ in range(n):
        q.get(timeout=CHILD_TIMEOUT_S)
        time.sleep(work_s)
        with counter.get_lock():
            counter.value += 1
        q.task_done()


def child_traced_consume(q: Any, conn: Any, n: int, src: int) -> None:
    """Like a consumer worker: its own recorder, its events sent over ``conn``."""
    _title()
    rec = Recorder(src, conn.send)
    activate(rec)
    items = []
    for _ in range(n):
        items.append(q.get(timeout=CHILD_TIMEOUT_S))
        q.task_done()
    rec.close()
    activate(None)
    conn.send(("items", items))
    conn.close()


def child_traced_produce(q: Any, conn: Any, items: list[Any], src: int) -> None:
    _title()
    rec = Recorder(src, conn.send)
    activate(rec)
    for item in items:
        q.put(item)
    rec.close()
    activate(None)
    conn.send(("done", len(items)))
    conn.close()


# ----------------------------------------------------------------------------- helpers


@pytest.fixture(params=METHODS)
def ctx(request: pytest.FixtureRequest) -> Any:
    return multiprocessing.get_context(request.param)


@contextmanager
def started(ctx: Any, target: Callable[..., None], *args: Any) -> Iterator[Any]:
    """A started child process that is joined (or killed) when the block ends."""
    p = ctx.Process(target=target, args=args, daemon=True)
    p.start()
    try:
        yield p
    finally:
        p.join(CHILD_TIMEOUT_S)
        if p.exitcode is None:
            p.kill()
            p.join(5)


class Records:
    """What an active recorder sent, read fresh each time (batches keep arriving)."""

    def __init__(self) -> None:
        self._batches: list[tuple[int, int, list[tuple]]] = []

    def send(self, batch: tuple[int, int, list[tuple]]) -> None:
        self._batches.append(batch)

    def all(self) -> list[tuple]:
        return [r for _src, _first, recs in self._batches for r in recs]

    def of(self, kind: Kind) -> list[tuple]:
        return [r for r in self.all() if r[0] == kind]

    def seqs(self) -> list[int]:
        return [first + i for _s, first, recs in self._batches for i in range(len(recs))]


@pytest.fixture
def recorded() -> Iterator[Records]:
    """An active recorder (stream 0, one record per batch) in this process."""
    records = Records()
    activate(Recorder(0, records.send, batch=1))
    try:
        yield records
    finally:
        activate(None)


def joins_within(q: Any, timeout: float) -> bool:
    """Call q.join() on a helper thread; True if it returned within ``timeout``."""
    t = threading.Thread(target=q.join, name="test-join", daemon=True)
    t.start()
    t.join(timeout)
    return not t.is_alive()


def drain(out: Any, n: int) -> list[tuple]:
    return [out.get(timeout=CHILD_TIMEOUT_S) for _ in range(n)]


def close_queue(q: Any) -> None:
    q.close()
    q.join_thread()


# ----------------------------------------------------------------------------- plain semantics


def test_is_a_joinable_queue_with_its_constructor() -> None:
    ctx = multiprocessing.get_context(METHODS[0])
    q = TracedJoinableQueue(3, ctx=ctx)
    assert isinstance(q, multiprocessing.queues.JoinableQueue)
    assert q._maxsize == 3
    with pytest.raises(TypeError):
        TracedJoinableQueue(3, ctx)  # type: ignore[misc]  # ctx is keyword-only, as in the base
    close_queue(q)


@pytest.mark.parametrize("traced", [False, True], ids=["no-recorder", "recorder"])
def test_put_get_across_processes_is_fifo_and_join_returns(
    ctx: Any, traced: bool, request: pytest.FixtureRequest
) -> None:
    if traced:
        request.getfixturevalue("recorded")
    q = TracedJoinableQueue(ctx=ctx)
    out = ctx.Queue()
    items: list[Any] = [(i, i / 10) for i in range(8)] + ["text", {"k": [1, 2]}, None]
    for item in items:
        q.put(item)
    with started(ctx, child_consume, q, out, len(items), 0.0) as p:
        got = drain(out, len(items) + 1)
        assert joins_within(q, 10), "join() did not return after the child's task_done() calls"
    assert p.exitcode == 0
    assert [g for tag, g in got if tag == "got"] == items  # same objects, same order
    assert got[-1] == ("done", len(items))
    assert q._unfinished_tasks.get_value() == 0
    close_queue(q)


def test_child_puts_parent_gets_in_order(ctx: Any) -> None:
    q = TracedJoinableQueue(ctx=ctx)
    items = [(i, float(i)) for i in range(20)]
    with started(ctx, child_produce, q, items) as p:
        got = [q.get(timeout=CHILD_TIMEOUT_S) for _ in items]
    assert p.exitcode == 0
    assert got == items
    for _ in items:
        q.task_done()
    assert joins_within(q, 5)
    close_queue(q)


def test_full_and_empty_with_timeouts(ctx: Any) -> None:
    q = TracedJoinableQueue(1, ctx=ctx)
    with pytest.raises(queue.Empty):
        q.get(block=False)
    t0 = time.monotonic()
    with pytest.raises(queue.Empty):
        q.get(timeout=0.1)
    waited = time.monotonic() - t0
    assert 0.09 <= waited < 2.0, f"get(timeout=0.1) raised Empty after {waited:.3f} s"

    q.put((0, 0.0))
    with pytest.raises(queue.Full):
        q.put((1, 0.0), block=False)
    t0 = time.monotonic()
    with pytest.raises(queue.Full):
        q.put((1, 0.0), timeout=0.1)
    waited = time.monotonic() - t0
    assert 0.09 <= waited < 2.0, f"put(timeout=0.1) raised Full after {waited:.3f} s"
    # The refused puts did not count as tasks.
    assert q._unfinished_tasks.get_value() == 1
    assert q.get(timeout=5) == (0, 0.0)
    q.task_done()
    assert joins_within(q, 2)
    close_queue(q)


def test_full_queue_unblocks_when_a_child_takes(ctx: Any) -> None:
    q = TracedJoinableQueue(1, ctx=ctx)
    out = ctx.Queue()
    q.put((0, 0.0))
    with started(ctx, child_consume, q, out, 2, 0.0):
        q.put((1, 0.0), timeout=CHILD_TIMEOUT_S)  # blocks until the child got the first one
        got = drain(out, 3)
    assert got == [("got", (0, 0.0)), ("got", (1, 0.0)), ("done", 2)]
    assert joins_within(q, 5)
    close_queue(q)


def test_task_done_too_many_times_raises_value_error(ctx: Any) -> None:
    q = TracedJoinableQueue(ctx=ctx)
    with pytest.raises(ValueError, match=r"^task_done\(\) called too many times$"):
        q.task_done()
    q.put("x")
    assert q.get(timeout=5) == "x"
    q.task_done()
    with pytest.raises(ValueError, match=r"^task_done\(\) called too many times$"):
        q.task_done()
    assert q._unfinished_tasks.get_value() == 0
    close_queue(q)


def test_join_waits_for_every_task_done(ctx: Any) -> None:
    q = TracedJoinableQueue(ctx=ctx)
    counter = ctx.Value("i", 0)
    n = 4
    for i in range(n):
        q.put((i, 0.0))
    joined_at: list[int] = []

    def joiner() -> None:
        q.join()
        joined_at.append(counter.value)

    with started(ctx, child_count_then_done, q, counter, n, 0.1):
        t = threading.Thread(target=joiner, name="test-join", daemon=True)
        t.start()
        time.sleep(0.15)
        # Early on, at most one or two of the four tasks can be done: join must still wait.
        assert t.is_alive(), "join() returned before the tasks were done"
        t.join(CHILD_TIMEOUT_S)
    assert not t.is_alive()
    assert joined_at == [n], "join() returned before every task_done()"
    close_queue(q)


def test_join_on_empty_queue_returns_at_once(ctx: Any) -> None:
    q = TracedJoinableQueue(ctx=ctx)
    assert joins_within(q, 2)
    close_queue(q)


def test_pickles_into_children_only(ctx: Any) -> None:
    q = TracedJoinableQueue(ctx=ctx)
    # Like every multiprocessing queue, it is shared by inheritance, not by pickling.
    with pytest.raises(RuntimeError):
        pickle.dumps(q)
    close_queue(q)


# ----------------------------------------------------------------------------- recording


def test_records_put_get_task_done_join_with_matched_tids(ctx: Any, recorded: Records) -> None:
    q = TracedJoinableQueue(ctx=ctx)
    q.put((7, 0.25))
    q.put(None)
    first = q.get(timeout=5)
    second = q.get(timeout=5)
    assert (first, second) == ((7, 0.25), None)
    q.task_done()
    q.task_done()
    q.join()

    puts, gets, dones = recorded.of(Kind.PUT), recorded.of(Kind.GET), recorded.of(Kind.TASK_DONE)
    assert len(puts) == 2 and len(gets) == 2 and len(dones) == 2
    for r in puts:
        _k, t_begin, t_return, tid, _label, _value = r
        assert t_begin <= t_return
        assert tid >= 0
    assert puts[0][4:] == (7, 0.25)
    assert puts[1][4:] == (LABEL_NONE, 0.0)
    assert puts[0][3] != puts[1][3]
    for r in gets:
        assert r[1] <= r[2]
    assert [g[3] for g in gets] == [p[3] for p in puts]
    # Two gets, then two task_done() calls: each is matched to the latest get not yet done
    # (the task just worked on, in the get -> work -> task_done loop).
    assert [d[2] for d in dones] == [puts[1][3], puts[0][3]]
    assert [r[0] for r in recorded.of(Kind.JOIN_BEGIN) + recorded.of(Kind.JOIN_END)] == [
        Kind.JOIN_BEGIN,
        Kind.JOIN_END,
    ]
    jb, je = recorded.of(Kind.JOIN_BEGIN)[0], recorded.of(Kind.JOIN_END)[0]
    assert dones[-1][1] <= jb[1] <= je[1]
    assert recorded.seqs() == list(range(len(recorded.all()))), "seq must number every record"
    close_queue(q)


def test_task_done_is_matched_to_the_task_just_taken(recorded: Records) -> None:
    q = TracedJoinableQueue(ctx=multiprocessing.get_context(METHODS[0]))
    for i in range(4):
        q.put((i, 0.0))
    order = []
    for _ in range(2):  # the tutorial's loop: get, work, task_done
        order.append(q.get(timeout=5)[0])
        q.task_done()
    # A failure path that skips task_done for task 2 leaves task 2 held, not task 3.
    q.get(timeout=5)
    q.get(timeout=5)
    q.task_done()
    tid = {r[4]: r[3] for r in recorded.of(Kind.PUT)}
    assert order == [0, 1]
    assert [r[2] for r in recorded.of(Kind.TASK_DONE)] == [tid[0], tid[1], tid[3]]
    assert list(q._taken) == [tid[2]]
    q.task_done()
    close_queue(q)


def test_a_traced_plain_queue_records_gets_as_the_joinable_one_and_keeps_no_task_list(
    recorded: Records,
) -> None:
    """multiprocessing.Queue in a traced program: the same get record (start, return, task id),
    the item unwrapped, and nothing held per task (it has no task_done to match)."""
    from engine.trace_queues import TracedPlainQueue

    q = TracedPlainQueue(ctx=multiprocessing.get_context(METHODS[0]))
    for i in range(50):
        q.put((i, 0.5))
    got = [q.get(timeout=5) for _ in range(50)]
    with pytest.raises(queue.Empty):
        q.get(timeout=0.01)
    assert got == [(i, 0.5) for i in range(50)]
    puts, gets = recorded.of(Kind.PUT), recorded.of(Kind.GET)
    assert [r[3] for r in gets] == [r[3] for r in puts]
    assert all(r[1] <= r[2] for r in gets)  # started, then returned
    assert q.last_tid == puts[-1][3]
    assert len(q._taken) == 0
    close_queue(q)


def test_a_traced_programs_bounded_put_nowait_raises_full_at_once(recorded: Records) -> None:
    """The general put path (a traced program's queues): put(block=False) on a full bounded
    queue raises Full without waiting, and says PUT_FULL, not PUT_BLOCKED."""
    from engine.trace_queues import TracedPlainQueue

    q = TracedPlainQueue(1, ctx=multiprocessing.get_context(METHODS[0]))
    q.put(1)
    outcome: list[str] = []

    def put_nowait() -> None:
        try:
            q.put(2, block=False)
            outcome.append("put")
        except queue.Full:
            outcome.append("Full")

    t = threading.Thread(target=put_nowait, name="test-put-nowait", daemon=True)
    t.start()
    t.join(10)
    got = outcome or ["still waiting"]
    if t.is_alive():
        q.get(timeout=5)  # let the waiting put through, so the thread ends
        t.join(10)
    assert got == ["Full"]
    assert len(recorded.of(Kind.PUT_FULL)) == 1 and not recorded.of(Kind.PUT_BLOCKED)
    assert q.get(timeout=5) == 1
    close_queue(q)


def test_a_traced_programs_put_that_must_wait_says_so_before_it_waits(
    recorded: Records,
) -> None:
    """The general put path: PUT_BLOCKED is shipped while the put still waits for room."""
    from engine.trace_queues import TracedPlainQueue

    q = TracedPlainQueue(1, ctx=multiprocessing.get_context(METHODS[0]))
    q.put(1)
    t = threading.Thread(target=q.put, args=(2,), name="test-put-waits", daemon=True)
    t.start()
    deadline = time.monotonic() + 10
    while not recorded.of(Kind.PUT_BLOCKED) and time.monotonic() < deadline:
        time.sleep(0.01)
    blocked_while_waiting = bool(recorded.of(Kind.PUT_BLOCKED)) and t.is_alive()
    assert q.get(timeout=5) == 1  # room: the put returns
    t.join(10)
    assert blocked_while_waiting, "no PUT_BLOCKED while the put waited for room"
    assert not t.is_alive() and q.get(timeout=5) == 2
    blocked, put = recorded.of(Kind.PUT_BLOCKED)[0], recorded.of(Kind.PUT)[-1]
    assert blocked[2] == put[3]  # the same task id
    close_queue(q)


def test_only_a_bounded_queues_put_reads_the_clock_on_return(recorded: Records) -> None:
    """An unbounded queue's put never waits, so its PUT holds one time (t0 == t1); a bounded
    one's may wait, so its return is read too (t1 >= t0)."""
    ctx = multiprocessing.get_context(METHODS[0])
    free, bounded = TracedJoinableQueue(ctx=ctx), TracedJoinableQueue(5, ctx=ctx)
    for i in range(3):
        free.put((i, 0.0))
    for i in range(3):
        bounded.put((i, 0.0))
    puts = recorded.of(Kind.PUT)
    assert [r[1] == r[2] for r in puts[:3]] == [True] * 3
    assert [r[2] >= r[1] for r in puts[3:]] == [True] * 3
    for q in (free, bounded):
        for _ in range(3):
            q.get(timeout=5)
            q.task_done()
        close_queue(q)


def test_records_labels_of_other_items(recorded: Records) -> None:
    q = TracedJoinableQueue(ctx=multiprocessing.get_context(METHODS[0]))
    for item in ("text", (1,), ("a", 2.0), (3, "not a float")):
        q.put(item)
    labels = [r[4:] for r in recorded.of(Kind.PUT)]
    assert labels == [(LABEL_OTHER, 0.0), (1, 0.0), (LABEL_OTHER, 0.0), (3, 0.0)]
    for _ in range(4):
        q.get(timeout=5)
        q.task_done()
    close_queue(q)


def test_records_full_empty_and_task_done_error(ctx: Any, recorded: Records) -> None:
    q = TracedJoinableQueue(1, ctx=ctx)
    with pytest.raises(queue.Empty):
        q.get(timeout=0.05)
    q.put((0, 0.0))
    with pytest.raises(queue.Full):
        q.put((1, 0.0), block=False)
    with pytest.raises(queue.Full):
        q.put((1, 0.0), timeout=0.05)
    q.get(timeout=5)
    q.task_done()
    with pytest.raises(ValueError):
        q.task_done()

    empty = recorded.of(Kind.GET_EMPTY)
    full = recorded.of(Kind.PUT_FULL)
    assert len(empty) == 1 and empty[0][2] - empty[0][1] >= 0.04
    assert len(full) == 2 and full[1][2] - full[1][1] >= 0.04
    assert all(r[1] <= r[2] for r in empty + full)
    assert len(recorded.of(Kind.PUT)) == 1, "a refused put must not be recorded as a put"
    assert len(recorded.of(Kind.TASK_DONE)) == 1
    errors = recorded.of(Kind.TASK_DONE_ERROR)
    assert len(errors) == 1 and errors[0][2] == TD_TOO_MANY
    close_queue(q)


def test_child_get_and_task_done_match_the_parent_put(ctx: Any, recorded: Records) -> None:
    q = TracedJoinableQueue(ctx=ctx)
    items = [(i, i / 4) for i in range(3)]
    for item in items:
        q.put(item)
    reader, writer = ctx.Pipe(duplex=False)
    child_batches: list[tuple] = []
    with started(ctx, child_traced_consume, q, writer, len(items), 5) as p:
        writer.close()
        while True:
            msg = reader.recv()
            if msg[0] == "items":
                got = msg[1]
                break
            child_batches.append(msg)
        q.join()
    assert p.exitcode == 0
    assert got == items
    put_tids = [r[3] for r in recorded.of(Kind.PUT)]
    child = [r for src, _f, recs in child_batches if src == 5 for r in recs]
    assert [r[3] for r in child if r[0] == Kind.GET] == put_tids
    assert [r[2] for r in child if r[0] == Kind.TASK_DONE] == put_tids
    # Same clock in both processes: each get returns after its put began.
    puts = recorded.of(Kind.PUT)
    for put, get in zip(puts, [r for r in child if r[0] == Kind.GET], strict=True):
        assert put[1] <= get[2]
    assert len(recorded.of(Kind.JOIN_END)) == 1
    reader.close()
    close_queue(q)


def test_child_put_tids_reach_the_parent_get(ctx: Any, recorded: Records) -> None:
    q = TracedJoinableQueue(ctx=ctx)
    reader, writer = ctx.Pipe(duplex=False)
    items = [(i, 0.5) for i in range(3)]
    child_batches: list[tuple] = []
    with started(ctx, child_traced_produce, q, writer, items, 9) as p:
        writer.close()
        got = [q.get(timeout=CHILD_TIMEOUT_S) for _ in items]
        while True:
            msg = reader.recv()
            if msg[0] == "done":
                break
            child_batches.append(msg)
    assert p.exitcode == 0
    assert got == items
    for _ in items:
        q.task_done()
    child_puts = [
        r for src, _f, recs in child_batches if src == 9 for r in recs if r[0] == Kind.PUT
    ]
    assert [r[3] >> 32 for r in child_puts] == [9, 9, 9], "a tid says which stream made it"
    assert [r[3] for r in recorded.of(Kind.GET)] == [r[3] for r in child_puts]
    # Three gets, then three task_done() calls: latest get first.
    assert [r[2] for r in recorded.of(Kind.TASK_DONE)] == [r[3] for r in reversed(child_puts)]
    reader.close()
    close_queue(q)


def test_nothing_recorded_without_an_active_recorder(ctx: Any) -> None:
    assert rec_mod.current() is None
    batches: list[tuple] = []
    idle = Recorder(0, batches.append, batch=1)  # exists, but never activated
    q = TracedJoinableQueue(1, ctx=ctx)
    q.put((0, 0.0))
    with pytest.raises(queue.Full):
        q.put((1, 0.0), block=False)
    assert q.get(timeout=5) == (0, 0.0)
    with pytest.raises(queue.Empty):
        q.get(timeout=0.01)
    q.task_done()
    with pytest.raises(ValueError):
        q.task_done()
    q.join()
    idle.flush()
    assert batches == []
    assert idle.records_sent == 0
    assert q.last_tid == -1
    close_queue(q)


def test_deactivated_recorder_stops_recording(recorded: Records) -> None:
    q = TracedJoinableQueue(ctx=multiprocessing.get_context(METHODS[0]))
    q.put((0, 0.0))
    activate(None)
    q.put((1, 0.0))
    assert len(recorded.all()) == 1
    # Items put traced and untraced both come out as they went in.
    assert [q.get(timeout=5), q.get(timeout=5)] == [(0, 0.0), (1, 0.0)]
    q.task_done()
    q.task_done()
    close_queue(q)


@pytest.mark.parametrize(
    "item",
    [
        lambda: None,
        threading.Lock(),
        (3, threading.Lock()),
        (4, [lambda: None]),
        {"f": min.__self__},
    ],
    ids=["lambda", "lock", "tuple-with-lock", "nested-lambda", "module-in-dict"],
)
def test_unpicklable_item_is_lost_as_in_cpython_and_recorded(recorded: Records, item: Any) -> None:
    # cpython#79423: put() returns, the feeder drops the item, the counter stays raised.
    ctx = multiprocessing.get_context(METHODS[0])
    plain, q = ctx.JoinableQueue(), TracedJoinableQueue(ctx=ctx)
    for each in (plain, q):
        each.put(item)  # no exception, as in CPython
        each.put((1, 0.0))
        assert each.get(timeout=5) == (1, 0.0), "the next item still arrives"
        each.task_done()
        with pytest.raises(queue.Empty):
            each.get(timeout=0.2)  # the unpicklable item never arrives
        assert each._unfinished_tasks.get_value() == 1
        assert not joins_within(each, 0.5), "join() returned although a task was lost"
    lost = recorded.of(Kind.FEED_ERROR)
    assert len(lost) == 1, "the feeder's error is recorded once"
    put_tids = [r[3] for r in recorded.of(Kind.PUT)]
    assert lost[0][2] == put_tids[0], "the lost task is named by its identity"
    assert "pickle" in lost[0][3].lower() or "Can't" in lost[0][3], lost[0][3]
    for each in (plain, q):
        each._unfinished_tasks.acquire()  # let the helper threads' join() return
        with each._cond:
            each._cond.notify_all()
        close_queue(each)


def test_bound_recorder_stays_in_the_binding_process(
    ctx: Any, request: pytest.FixtureRequest
) -> None:
    # What Run does: the parent binds its recorder to the queue, each worker activates its own.
    parent = Records()
    q = TracedJoinableQueue(ctx=ctx)
    q.bind_recorder(Recorder(0, parent.send, batch=1))
    items = [(i, 0.0) for i in range(3)]
    for item in items:
        q.put(item)
    reader, writer = ctx.Pipe(duplex=False)
    child: list[tuple] = []
    with started(ctx, child_traced_consume, q, writer, len(items), 5):
        writer.close()
        while (msg := reader.recv())[0] != "items":
            child.extend(r for r in msg[2])
    put_tids = [r[3] for r in parent.of(Kind.PUT)]
    assert len(put_tids) == 3
    assert [r[3] for r in child if r[0] == Kind.GET] == put_tids, "the child's gets went elsewhere"
    assert parent.of(Kind.GET) == []
    reader.close()
    close_queue(q)


def test_parent_recorder_does_not_record_a_child_that_has_none(
    ctx: Any, request: pytest.FixtureRequest
) -> None:
    reader, writer = ctx.Pipe(duplex=False)
    activate(Recorder(0, writer.send, batch=1))
    try:
        q = TracedJoinableQueue(ctx=ctx)
        out = ctx.Queue()
        q.put((0, 0.0))
        with started(ctx, child_consume, q, out, 1, 0.0):
            drain(out, 2)
            q.join()
    finally:
        activate(None)
    writer.close()
    kinds = []
    try:
        while reader.poll(0.2):
            kinds.extend(r[0] for r in reader.recv()[2])
    except EOFError:
        pass  # every writer is closed: all records are read
    # Only the parent's own calls: a child's get would come with stream 0's seq numbers.
    assert kinds == [Kind.PUT, Kind.JOIN_BEGIN, Kind.JOIN_END]
    reader.close()
    close_queue(q)
