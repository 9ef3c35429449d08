"""Replay a recorded trace through the same state model the live run uses."""

from __future__ import annotations

import bisect
import heapq
import itertools
import math
import sys
from collections.abc import Callable, Iterable
from operator import itemgetter
from time import perf_counter

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
# A snapshot of the model (RunModel.copy: ~10 ms and ~21 MB at a million events) every so
# many records fed, at most SNAPSHOTS of them: a seek back feeds from the one before it
# (at most a twentieth of the run, or SNAPSHOT_MIN records) instead of from the start.
SNAPSHOTS = 20
SNAPSHOT_MIN = 20_000


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
        self._reach: list[float] | None = None  # running maximum of the times, when asked
        self.limit = -math.inf

    def rewind(self, to: int = 0) -> None:
        """Take from item ``to`` on again (0: the start)."""
        self._cursor = to

    @property
    def taken(self) -> int:
        """How many items were taken so far."""
        return self._cursor

    def take(self) -> Batch | None:
        i = self._cursor
        if i < len(self._items) and self._times[i] <= self.limit:
            self._cursor = i + 1
            _, src, seq, r = self._items[i]
            return (src, seq, [r])
        return None

    def reach(self, i: int) -> float:
        """The least limit that lets items 0 to ``i`` through (inf past the last): the latest
        time among them (a stream's records are not always in time order, so neither are
        the merged items)."""
        return self._reached()[i] if i < len(self._times) else math.inf

    def _reached(self) -> list[float]:
        if self._reach is None:
            self._reach = list(itertools.accumulate(self._times, max))
        return self._reach

    def waiting(self) -> int:
        """Items :meth:`take` would hand out now (it stops at the first one past the limit)."""
        return max(0, bisect.bisect_right(self._reached(), self.limit) - self._cursor)

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
    a :class:`PlayheadSource`. Moving forward feeds only the new records, moving back starts
    from a copy of the last snapshot before the target (one is taken every
    ``snapshot_every`` records fed; else from the start), and so does a jump forward past
    one.
    """

    def __init__(self, trace: Trace, snapshot_every: int | None = None) -> None:
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
        self.snapshot_every = snapshot_every or max(SNAPSHOT_MIN, len(items) // SNAPSHOTS)
        # (records fed, the latest time among them, the model then): the model holds exactly
        # the source's first ``records fed`` items, so it is the run at any playhead from
        # that time until the next item's.
        self.snapshots: list[tuple[int, float, RunModel]] = []

    def advance(self, t_s: float, budget_s: float = math.inf) -> Applied:
        """Feed towards ``t_s`` seconds after the start for about ``budget_s``.

        Returns the applied records. :attr:`playhead_s` is ``t_s`` once every record up to
        it was fed, else the time of the last record fed. Going back, or forward past a
        snapshot, starts from a copy of the last snapshot before ``t_s``.
        """
        target = self.t0 + t_s
        snap = self._snapshot_before(target)
        if t_s < self.playhead_s or (snap is not None and snap[0] > self.source.taken):
            self._restore(snap)  # back, or forward past a snapshot: from there
        deadline = perf_counter() + budget_s
        applied = Applied()
        src = self.source
        while True:
            # Up to the next snapshot's record first: one every snapshot_every records fed.
            due = (self.snapshots[-1][0] if self.snapshots else 0) + self.snapshot_every
            src.limit = min(target, src.reach(due - 1))
            applied.extend(self.inbox.poll(max(0.0, deadline - perf_counter())))
            if self.inbox.pending:
                break
            if src.taken >= due:  # one-record batches: the model holds whole items only
                # Keyed by the least playhead that lets all its records through.
                self.snapshots.append((src.taken, src.reach(src.taken - 1), self.model.copy()))
            if src.limit >= target or perf_counter() >= deadline:
                break
        if src.limit >= target and not self.inbox.pending:
            self.playhead_s = t_s
        else:
            self.playhead_s = max(self.playhead_s, src.fed_until - self.t0)
        return applied

    def _snapshot_before(self, t: float) -> tuple[int, float, RunModel] | None:
        """The last snapshot taken at or before ``t`` (perf_counter seconds), if any."""
        i = bisect.bisect_right([s[1] for s in self.snapshots], t)
        return self.snapshots[i - 1] if i else None

    def _restore(self, snap: tuple[int, float, RunModel] | None) -> None:
        """Start again from ``snap`` (None: from the start)."""
        if snap is not None:
            fed, reach, model = snap
            self.model = model.copy()  # the snapshot stays as it is, for the next seek
            self.source.rewind(fed)
            self.playhead_s = reach - self.t0
        else:
            self.model = RunModel()
            self.source.rewind()
            self.playhead_s = -math.inf
        self.inbox = Inbox(self.model, self.source, chunk=SEEK_CHUNK)

    def seek(self, t_s: float) -> RunModel:
        """Make :attr:`model` show the run at ``t_s`` seconds after its start; returns it."""
        self.advance(t_s)
        return self.model

    @property
    def at_end(self) -> bool:
        return self.source.done
