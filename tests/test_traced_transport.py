"""The traced queue's own transport: feeder and reader write and read what CPython's do."""

from __future__ import annotations

import multiprocessing
import pickle
import queue as std_queue
import time
from multiprocessing.queues import JoinableQueue
from multiprocessing.reduction import ForkingPickler
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import traced_queue as tq
from engine.traced_queue import TracedJoinableQueue

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=30),
    st.binary(max_size=30), st.complex_numbers(allow_nan=False),
)
items = st.one_of(scalars, st.tuples(st.integers(), st.floats(allow_nan=False)),
                  st.lists(scalars, max_size=20).map(tuple))


@settings(max_examples=300, deadline=None)
@given(item=items, tid=st.integers(min_value=0, max_value=1 << 40), wrap=st.booleans())
def test_plain_items_pickle_to_the_bytes_forkingpickler_writes(item: Any, tid: int, wrap: bool):
    obj = (tq._MAGIC, tid, item) if wrap else item
    assert bytes(tq._feed_dumps(obj)) == bytes(ForkingPickler.dumps(obj))


def test_other_items_still_go_through_forkingpickler(monkeypatch):
    seen = []
    real = tq._dumps

    def spy(obj: Any) -> Any:
        seen.append(obj)
        return real(obj)

    monkeypatch.setattr(tq, "_dumps", spy)
    tq._feed_dumps([1, 2])
    tq._feed_dumps((tq._MAGIC, 1, {"a": 1}))
    tq._feed_dumps((1, [2]))
    tq._feed_dumps(1j)  # complex is pickled through copyreg: a reducer may be registered
    tq._feed_dumps((1, 2.0))
    tq._feed_dumps("x")
    assert seen == [[1, 2], (tq._MAGIC, 1, {"a": 1}), (1, [2]), 1j]


def test_a_reducer_registered_with_forkingpickler_is_still_used():
    ForkingPickler.register(complex, _complex_as_text)
    try:
        for obj in (2j, (1, 2j), (tq._MAGIC, 5, 3j)):
            assert bytes(tq._feed_dumps(obj)) == bytes(ForkingPickler.dumps(obj))
    finally:
        ForkingPickler._extra_reducers.pop(complex, None)


def _complex_as_text(c: complex) -> tuple:
    return (complex, (str(c),))


def test_our_feeder_runs_on_this_python():
    ctx = multiprocessing.get_context("spawn")
    q = TracedJoinableQueue(ctx=ctx)
    try:
        q.put((1, 0.5))
        assert tq._FAST_FEED
        assert q._thread is not None and q._thread._target is tq._feed
        assert q.get(timeout=5) == (1, 0.5)
    finally:
        q.close()
        q.join_thread()


def _put_all(q: Any, tag: int, n: int) -> None:
    for i in range(n):
        if i % 97 == 0:
            q.put((tag, i, b"x" * 40_000))  # bigger than one framed message: its own write
        elif i % 31 == 0:
            q.put((tag, i, "s" * 3000))
        else:
            q.put((tag, i))
    q.close()
    q.join_thread()


@pytest.mark.parametrize("method", ["forkserver", "fork"])
def test_two_producers_every_item_arrives_whole_and_in_each_producers_order(method: str):
    ctx = multiprocessing.get_context(method)
    q = TracedJoinableQueue(ctx=ctx)
    n = 4000
    procs = [ctx.Process(target=_put_all, args=(q, tag, n)) for tag in (1, 2)]
    for p in procs:
        p.start()
    got: dict[int, list[int]] = {1: [], 2: []}
    try:
        for _ in range(2 * n):
            item = q.get(timeout=20)
            tag, i = item[0], item[1]
            if i % 97 == 0:
                assert item[2] == b"x" * 40_000
            elif i % 31 == 0:
                assert item[2] == "s" * 3000
            else:
                assert len(item) == 2
            got[tag].append(i)
            q.task_done()
        with pytest.raises(std_queue.Empty):
            q.get(timeout=0.2)
    finally:
        for p in procs:
            p.join(10)
            if p.exitcode is None:
                p.kill()
    assert got == {1: list(range(n)), 2: list(range(n))}
    deadline = time.monotonic() + 5
    assert tq.join_until(q, lambda: time.monotonic() > deadline)  # every task_done counted


class _PicklesOnce:
    """Passes put()'s trial pickle, then fails in the feeder thread."""

    def __init__(self) -> None:
        self.calls = 0

    def __reduce__(self) -> Any:
        self.calls += 1
        if self.calls > 1:
            raise pickle.PicklingError("second pickling refused")
        return (_PicklesOnce, ())


class _RecordingQueue(TracedJoinableQueue):
    def __init__(self, *a: Any, **k: Any) -> None:
        super().__init__(*a, **k)
        self.feeder_errors: list[tuple[str, Any]] = []

    def _on_queue_feeder_error(self, e: Exception, obj: Any) -> None:
        self.feeder_errors.append((type(e).__name__, obj))


def test_a_feeder_pickling_error_loses_only_that_item_like_cpython():
    ctx = multiprocessing.get_context("spawn")
    q = _RecordingQueue(ctx=ctx)
    bad = _PicklesOnce()
    try:
        # One put call per item from this thread: the feeder may batch any of them together.
        for i in range(50):
            q.put((i, 0.0))
        q.put(bad)
        for i in range(50, 100):
            q.put((i, 0.0))
        got = [q.get(timeout=5)[0] for _ in range(100)]
        assert got == list(range(100))
        with pytest.raises(std_queue.Empty):
            q.get(timeout=0.2)
        assert [name for name, _ in q.feeder_errors] == ["PicklingError"]
        assert q.feeder_errors[0][1] is bad
    finally:
        q.close()
        q.join_thread()


def test_bounded_queue_slots_come_back_after_a_feeder_error():
    ctx = multiprocessing.get_context("spawn")
    q = _RecordingQueue(3, ctx=ctx)
    try:
        q.put(_PicklesOnce())
        q.put((1, 0.0))
        assert q.get(timeout=5) == (1, 0.0)
        # The lost item's slot was given back: three more fit without blocking.
        for i in range(3):
            q.put((i, 0.0), timeout=2)
        with pytest.raises(std_queue.Full):
            q.put((9, 0.0), timeout=0.2)
    finally:
        q.close()
        q.join_thread()


SIZES = [0, 1, 4, 100, 16384, 16385, 70_000, 300_000]


def test_read_message_reads_what_send_bytes_wrote():
    reader, writer = multiprocessing.Pipe(duplex=False)
    got: list[bytes] = []

    def write_all() -> None:
        for n in SIZES:
            writer.send_bytes(bytes(range(256)) * (n // 256) + b"z" * (n % 256))

    import threading

    t = threading.Thread(target=write_all)
    t.start()  # big messages need a reader at the same time as the writer
    try:
        for _ in SIZES:
            got.append(tq._read_message(reader))
    finally:
        t.join(10)
        reader.close()
        writer.close()
    assert [len(b) for b in got] == SIZES
    assert got[-1] == bytes(range(256)) * (SIZES[-1] // 256) + b"z" * (SIZES[-1] % 256)


def test_read_message_end_of_file_as_recv_bytes_reports_it():
    import os
    import struct

    for cut, expected in [(b"", EOFError), (struct.pack("!i", 10) + b"abc", OSError),
                          (b"\x00\x00", OSError)]:
        for read in (tq._read_message, lambda c: c.recv_bytes()):
            reader, writer = multiprocessing.Pipe(duplex=False)
            os.write(writer.fileno(), cut)
            writer.close()
            with pytest.raises(expected):
                read(reader)
            reader.close()
    reader, writer = multiprocessing.Pipe(duplex=False)
    reader.close()
    writer.close()
    with pytest.raises(OSError, match="handle is closed"):
        tq._read_message(reader)


def test_lean_get_and_task_done_keep_the_base_classes_errors():
    ctx = multiprocessing.get_context("spawn")
    q = TracedJoinableQueue(ctx=ctx)
    plain = ctx.JoinableQueue()
    for queue_ in (q, plain):
        with pytest.raises(ValueError) as info:
            queue_.task_done()
        assert str(info.value) == "task_done() called too many times"
        queue_.put((1, 0.5))
        assert queue_.get() == (1, 0.5)
        queue_.task_done()
        queue_.close()
        with pytest.raises(ValueError, match="is closed"):
            queue_.get()
        queue_.join_thread()
    assert tq._FAST_IO


def _slow_put(q: Any) -> None:
    time.sleep(0.3)
    q.put((7, 0.25))
    q.close()
    q.join_thread()


def test_lean_get_blocks_until_another_process_puts_and_join_sees_the_task_done():
    ctx = multiprocessing.get_context("forkserver")
    q = TracedJoinableQueue(ctx=ctx)
    p = ctx.Process(target=_slow_put, args=(q,))
    p.start()
    try:
        t0 = time.monotonic()
        assert q.get() == (7, 0.25)
        assert time.monotonic() - t0 > 0.1  # it waited for the put
        assert not q._unfinished_tasks._semlock._is_zero()
        q.task_done()
        assert q._unfinished_tasks._semlock._is_zero()
        deadline = time.monotonic() + 5
        assert tq.join_until(q, lambda: time.monotonic() > deadline)
    finally:
        p.join(5)


def _feeder_ends_after_close_when_its_last_write_fails(cls: type) -> bool:
    """Items and the sentinel taken in one pass, the pipe broken: does the feeder end?"""
    import multiprocessing.queues as mpq

    ctx = multiprocessing.get_context("fork")
    q = cls(10, ctx=ctx)
    q.put(0)
    q._thread.join(0.3)  # the feeder has sent item 0 and waits for more
    q._reader.close()  # what Queue._terminate_broken (3.12+) does first: writes now fail
    with q._notempty:  # the feeder waits on this: it takes all three below in one pass
        for i in (1, 2):
            q._sem.acquire()
            q._buffer.append(i)
        q._closed = True
        q._buffer.append(mpq._sentinel)
        q._notempty.notify()
    q._thread.join(5)
    alive = q._thread.is_alive()
    q.cancel_join_thread()
    return not alive


def test_the_feeder_ends_after_close_even_when_its_last_write_fails(capfd):
    assert _feeder_ends_after_close_when_its_last_write_fails(JoinableQueue)  # CPython's does
    assert _feeder_ends_after_close_when_its_last_write_fails(TracedJoinableQueue)
