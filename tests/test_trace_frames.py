"""Tracebacks of traced programs: QueueLab's pass-through frames dropped, its own raises kept."""

from __future__ import annotations

import multiprocessing
import traceback
from queue import Empty

import pytest

from engine import trace_frames
from engine.config import RunConfig
from engine.traced_queue import TracedJoinableQueue


def _files(exc: BaseException) -> list[str]:
    return [f.filename for f in traceback.extract_tb(exc.__traceback__)]


def test_a_queue_call_that_raises_shows_cpython_frames_only() -> None:
    q = TracedJoinableQueue(ctx=multiprocessing.get_context("spawn"))
    try:
        with pytest.raises(Empty) as caught:
            q.get(block=False)
        exc = caught.value
        assert any("traced_queue.py" in f for f in _files(exc))  # what strip must remove
        exc.__traceback__ = trace_frames.strip(exc.__traceback__)
        files = _files(exc)
        assert files[0] == __file__  # this test's line is the first frame
        assert files[-1].endswith("multiprocessing/queues.py")
        assert not any(f.startswith(trace_frames._ENGINE) for f in files)
    finally:
        q.close()
        q.join_thread()


def test_chained_exceptions_are_stripped_too() -> None:
    q = TracedJoinableQueue(ctx=multiprocessing.get_context("spawn"))
    try:
        try:
            try:
                q.get(block=False)
            except Empty as e:
                raise RuntimeError("no more work") from e
        except RuntimeError as outer:
            trace_frames.strip_chain(outer)
            assert outer.__cause__ is not None
            assert not any(f.startswith(trace_frames._ENGINE) for f in _files(outer.__cause__))
    finally:
        q.close()
        q.join_thread()


def test_an_exception_raised_by_queuelab_itself_keeps_every_frame() -> None:
    with pytest.raises(ValueError) as caught:
        RunConfig(consumers=-1)
    exc = caught.value
    before = _files(exc)
    assert before[-1].startswith(trace_frames._ENGINE)
    exc.__traceback__ = trace_frames.strip(exc.__traceback__)
    assert _files(exc) == before
