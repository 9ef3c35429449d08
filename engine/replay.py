"""Replay a recorded trace through the same state model the live run uses."""

from __future__ import annotations

import bisect
import heapq
import math
import sys
from collections.abc import Callable, Iterable
from operator import itemgetter

from engine.applied import Applied
from engine.events import effect_time
from engine.explain.summary import summary_json
from engine.inbox import FEED_CHUNK, Inbox, ListSource
from engine.model import RunModel
from engine.tracefile import Batch, PathLike, Trace, gc_paused, read_trace

__all__ = ["PlayheadSource", "Replayer", "replay_model", "replay_summary"]

# Records per RunModel.feed call while the playhead moves: about 7 ms of feeding each, so a
# budgeted step (the replay window's) checks the clock often enough.
SEEK_CHUNK = 1_000


def replay_model(trace: Trace | Iterable[Batch], *, chunk: int = FEED_CHUNK) -> RunModel:
    """A fresh RunModel fed every batch of the trace in file order (= the live arrival order),
    through the same inbox a live run's records take (``chunk`` records per feed call)."""
    batches = trace.batches if isinstance(trace, Trace) else list(trace)
    model = RunModel()
    with gc_paused():
        Inbox(model, ListSource(batches), chunk=chunk).poll(math.inf)
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


class PlayheadSource:
    """A recorded run's records, merged from all streams in time order, up to a playhead.

    Each is taken as a one-record batch ``(src, seq, [record])``; each stream keeps its own
    sequence order, so no gap is invented. ``limit`` (``perf_counter`` seconds of the
    recording) is how far the playhead lets records through; ``rewind`` starts over.
    """

    def __init__(self, items: list[tuple[float, int, int, tuple]]) -> None:
        self._items = items
        self._times = [it[0] for it in items]
        self._cursor = 0
        self.limit = -math.inf

    def rewind(self) -> None:
        self._cursor = 0

    def take(self) -> Batch | None:
        i = self._cursor
        if i < len(self._items) and self._times[i] <= self.limit:
            self._cursor = i + 1
            _, src, seq, r = self._items[i]
            return (src, seq, [r])
        return None

    def waiting(self) -> int:
        return max(0, bisect.bisect_right(self._times, self.limit) - self._cursor)

    def wait(self, timeout_s: float) -> None:
        """Nothing to wait for: the recording is all here."""

    @property
    def done(self) -> bool:
        return self._cursor >= len(self._items)

    def now(self) -> float | None:
        return self.limit

    @property
    def fed_until(self) -> float:
        """The time of the last record taken (-inf before the first)."""
        return self._times[self._cursor - 1] if self._cursor else -math.inf


class Replayer:
    """The model's state at any playhead time, for scrubbing through a recorded run.

    Records are merged from all streams in time order and fed through an :class:`Inbox` from
    a :class:`PlayheadSource`. Moving forward feeds only the new records; moving back
    rebuilds from the start, which costs about one full replay.
    """

    def __init__(self, trace: Trace) -> None:
        self.trace = trace
        self.t0 = trace.t0
        streams: dict[int, list[tuple[float, int, int, tuple]]] = {}
        for src, first, records in trace.batches:
            s = streams.setdefault(src, [])
            s.extend((_order_time(r), src, first + i, r) for i, r in enumerate(records))
        items = list(heapq.merge(*streams.values(), key=itemgetter(0)))
        self.duration_s = max((it[0] for it in items), default=self.t0) - self.t0
        self.source = PlayheadSource(items)
        self.model = RunModel()
        self.inbox = Inbox(self.model, self.source, chunk=SEEK_CHUNK)
        self.playhead_s = -1.0

    def advance(self, t_s: float, budget_s: float = math.inf) -> Applied:
        """Feed towards ``t_s`` seconds after the start for about ``budget_s``.

        Returns the applied records. :attr:`playhead_s` is ``t_s`` once every record up to
        it was fed, else the time of the last record fed. Going back starts a new model.
        """
        if t_s < self.playhead_s:
            self.model = RunModel()
            self.source.rewind()
            self.inbox = Inbox(self.model, self.source, chunk=SEEK_CHUNK)
            self.playhead_s = -math.inf
        self.source.limit = self.t0 + t_s
        applied = self.inbox.poll(budget_s)
        if self.inbox.pending:
            self.playhead_s = max(self.playhead_s, self.source.fed_until - self.t0)
        else:
            self.playhead_s = t_s
        return applied

    def seek(self, t_s: float) -> RunModel:
        """Make :attr:`model` show the run at ``t_s`` seconds after its start; returns it."""
        self.advance(t_s)
        return self.model

    @property
    def at_end(self) -> bool:
        return self.source.done
