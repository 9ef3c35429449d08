"""Replay a recorded trace through the same state model the live run uses."""

from __future__ import annotations

import heapq
import sys
from collections.abc import Callable, Iterable
from operator import itemgetter

from engine.events import effect_time
from engine.explain.summary import summary_json
from engine.model import RunModel
from engine.tracefile import Batch, PathLike, Trace, gc_paused, read_trace

__all__ = ["Replayer", "replay_model", "replay_summary"]

# Batches per RunModel.feed call: about what a live poll hands over, and it keeps the model's
# per-call sort and result list small for million-event traces.
FEED_CHUNK = 64


def replay_model(trace: Trace | Iterable[Batch], *, chunk: int = FEED_CHUNK) -> RunModel:
    """A fresh RunModel fed every batch of the trace in file order (= the live arrival order)."""
    batches = trace.batches if isinstance(trace, Trace) else list(trace)
    model = RunModel()
    with gc_paused():
        for i in range(0, len(batches), chunk):
            model.feed(batches[i : i + chunk])
    return model


def _to_stderr(message: str) -> None:
    print(f"queuelab: warning: {message}", file=sys.stderr)


def replay_summary(
    path: PathLike, *, on_warning: Callable[[str], object] | None = _to_stderr
) -> dict:
    """``replay FILE --json``: the run's summary computed from the file. Raises TraceError.

    Warnings (a file cut off mid-line loads up to its last complete record) go to stderr
    unless ``on_warning`` takes them.
    """
    trace = read_trace(path, on_warning=on_warning)
    model = replay_model(trace)
    doc = summary_json(model)
    if doc.get("join_returned"):  # as run --json: theory only for a run that ended normally
        from engine.explain.summary import with_theory

        with_theory(doc, model, trace.config)
    return doc


_order_time = effect_time  # when a record takes effect, as RunModel.feed orders it


class Replayer:
    """The model's state at any playhead time, for scrubbing through a recorded run.

    Records are merged from all streams in time order (each stream keeps its own sequence
    order, so no gap is invented). Moving forward feeds only the new records; moving back
    rebuilds from the start, which costs about one full replay.
    """

    def __init__(self, trace: Trace) -> None:
        self.trace = trace
        self.t0 = trace.t0
        streams: dict[int, list[tuple[float, int, int, tuple]]] = {}
        for src, first, records in trace.batches:
            s = streams.setdefault(src, [])
            s.extend((_order_time(r), src, first + i, r) for i, r in enumerate(records))
        self._items = list(heapq.merge(*streams.values(), key=itemgetter(0)))
        self.duration_s = max((it[0] for it in self._items), default=self.t0) - self.t0
        self._cursor = 0
        self.model = RunModel()
        self.playhead_s = -1.0

    def seek(self, t_s: float) -> RunModel:
        """Make :attr:`model` show the run at ``t_s`` seconds after its start; returns it."""
        if t_s < self.playhead_s:
            self.model = RunModel()
            self._cursor = 0
        limit = self.t0 + t_s
        items, i, n = self._items, self._cursor, len(self._items)
        j = i
        while j < n and items[j][0] <= limit:
            j += 1
        if j > i:
            self.model.feed([(src, seq, [r]) for _, src, seq, r in items[i:j]])
        self._cursor = j
        self.playhead_s = t_s
        return self.model

    @property
    def at_end(self) -> bool:
        return self._cursor >= len(self._items)
