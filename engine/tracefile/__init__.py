"""Trace files: a run's config and every event batch as versioned, streamed JSON Lines.

Line 1 is a header object; every further line is one batch ``[src, first_seq, [record, ...]]``
exactly as the engine delivers it (records are the plain tuples of :mod:`engine.events`). The
format is documented in ``docs/trace-format.md``. Files are parsed as data (``json``) only:
nothing in a trace is ever unpickled, imported or executed.

``format`` holds the names, numbers, :class:`Trace` and :class:`TraceError`; ``writer`` the
:class:`TraceWriter`; ``checks`` what a line may hold and the words when it does not;
``reader`` the :class:`TraceReader`, :func:`read_trace` and :func:`iter_trace`.
"""

from __future__ import annotations

from engine.gcpause import gc_paused
from engine.tracefile.checks import _FIELDS
from engine.tracefile.format import (
    FORMAT_NAME,
    FORMAT_VERSION,
    KINDS_SINCE,
    QUEUELAB_VERSION,
    TIME_TOLERANCE_S,
    Batch,
    PathLike,
    Trace,
    TraceError,
)
from engine.tracefile.reader import TraceReader, iter_trace, read_trace
from engine.tracefile.writer import TraceWriter

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "KINDS_SINCE",
    "QUEUELAB_VERSION",
    "TIME_TOLERANCE_S",
    "_FIELDS",
    "Batch",
    "PathLike",
    "Trace",
    "TraceError",
    "TraceReader",
    "TraceWriter",
    "gc_paused",
    "iter_trace",
    "read_trace",
]
