"""Tracebacks of a traced program without QueueLab's own frames, as the plain program prints them.

A traced ``q.get(timeout=1)`` that raises ``queue.Empty`` passes through two QueueLab frames
(the traced queue's ``get``) on its way from CPython's ``multiprocessing/queues.py`` to the
program's line: printed, they would show a learner code that is not theirs, and a traceback
the plain program does not print. A frame of ours is dropped only where an exception passes
through it; one raised by QueueLab's own code (its innermost frame is ours) is left whole.

Installed in every traced process (:func:`install`): ``traceback.TracebackException`` (what
``traceback.print_exc``, ``logging`` and multiprocessing's "Process N:" report use), and the
hooks CPython prints uncaught exceptions with (``sys.excepthook``, ``threading.excepthook``).
"""

from __future__ import annotations

import os
import sys
import threading
import traceback
from types import TracebackType
from typing import Any

_ENGINE = os.path.dirname(os.path.abspath(__file__)) + os.sep
_installed = False


def _ours(tb: TracebackType) -> bool:
    return tb.tb_frame.f_code.co_filename.startswith(_ENGINE)


def strip(tb: TracebackType | None) -> TracebackType | None:
    """``tb`` without the frames of ours that an exception only passed through (in place)."""
    last = tb
    while last is not None and last.tb_next is not None:
        last = last.tb_next
    if last is None or _ours(last):
        return tb  # raised by QueueLab itself: every frame tells where
    while tb is not None and _ours(tb):
        tb = tb.tb_next
    node = tb
    while node is not None:
        nxt = node.tb_next
        while nxt is not None and _ours(nxt):
            nxt = nxt.tb_next
        node.tb_next = nxt
        node = nxt
    return tb


def strip_chain(value: BaseException | None, seen: set[int] | None = None) -> None:
    """Strip the traceback of ``value`` and of every exception chained to it."""
    seen = set() if seen is None else seen
    if value is None or id(value) in seen:
        return
    seen.add(id(value))
    value.__traceback__ = strip(value.__traceback__)
    strip_chain(value.__cause__, seen)
    strip_chain(value.__context__, seen)


def install() -> None:
    """Patch this process's traceback printing (idempotent)."""
    global _installed
    if _installed:
        return
    _installed = True
    cls = traceback.TracebackException
    orig_init = cls.__init__

    def __init__(self: Any, exc_type: Any, exc_value: Any, exc_traceback: Any,
                 *args: Any, **kwargs: Any) -> None:  # fmt: skip
        orig_init(self, exc_type, exc_value, strip(exc_traceback), *args, **kwargs)

    cls.__init__ = __init__  # type: ignore[method-assign]
    sys.excepthook = _stripping(sys.excepthook)
    thread_hook = threading.excepthook

    def excepthook(args: Any) -> None:
        strip_chain(args.exc_value)
        # The hook's own argument keeps the head: a thread's first frame is threading's.
        thread_hook(args)

    threading.excepthook = excepthook


def _stripping(hook: Any) -> Any:
    def excepthook(kind: type, value: BaseException, tb: Any) -> None:
        if value is not None:
            value.__traceback__ = tb
            strip_chain(value)
            tb = value.__traceback__
        hook(kind, value, tb)

    return excepthook
