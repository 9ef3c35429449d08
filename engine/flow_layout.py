"""The flow view's picture as a pure function: a RunModel and a time in, every token's place out.

The model's task table keeps each task's put, get and done times (engine/tasks.py), and each
worker's timeline its blocked puts, failures and exit. So the run's state at any time ``t`` is
a cut through those columns: a task is in the queue while ``t_put <= t < t_get``, at its
consumer while ``t_get <= t < t_done``, done after. Nothing here guesses: every place comes
from the model, and the same model and time always give the same :class:`FlowFrame`. Seeking
backwards in a replay is just another ``t``. No Qt, no clocks.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from engine.events import LABEL_NONE, LABEL_OTHER, ROLE_PRODUCER
from engine.handlers import BLOCKED_LABEL, BLOCKED_TID, BLOCKED_VALUE
from engine.model import RunModel
from engine.states import Activity, WorkerInfo

# Where a token is.
PRODUCER = "producer"  # held by its producer, blocked in put() on a full queue
QUEUE = "queue"
CONSUMER = "consumer"
DONE = "done"
DROPPED = "dropped"  # held by a worker that died: task_done() will never come for it
UNFINISHED = "unfinished"  # held by a worker QueueLab stopped (Stop, the hang rule): not a death
LOST = "lost"  # put, but the feeder thread could not send it: never in the queue

# Kinds of token.
TASK = "task"
SENTINEL = "sentinel"
OTHER = "other"

# Join gate states.
GATE_NOT_CALLED = "not_called"
GATE_CLOSED = "closed"
GATE_OPEN = "open"
GATE_PREMATURE = "premature"

# Edges a token travels; an edge with more moves per eye window than EYE_MAX is a stream.
EDGE_PUT = "put"
EDGE_GET = "get"
EDGE_DONE = "done"


@dataclass(frozen=True)
class FlowLimits:
    """How many tokens of each place are drawn one by one; the rest are counted."""

    queue_slots: int = 24
    held_shown: int = 3  # per consumer
    done_shown: int = 10
    dropped_shown: int = 3  # per dead or stopped worker
    # Seconds of run time the eye takes in at once (a wall second times the playback speed),
    # and how many moves along one edge it can follow in that time.
    eye_window_s: float = 1.0
    eye_max: int = 20


class Token(NamedTuple):
    """Where one task's token is (a named tuple: a frame makes hundreds, ~4x faster than a
    frozen dataclass; immutable all the same)."""

    tid: int
    text: str  # the id, with the value when short
    kind: str  # TASK, SENTINEL or OTHER
    place: str
    station: int  # producer/consumer index for those places; slot for queue and done
    origin: str  # PRODUCER or CONSUMER (a retry is re-put by its consumer)
    origin_station: int
    failed: bool
    retried: bool
    since: float  # when it entered its place (run seconds)
    stream: bool  # it came along an edge that is a stream now: drawn at rest, no glide


@dataclass(frozen=True)
class Station:
    name: str
    src: int
    activity: int  # an engine.states.Activity at t
    held: int  # tasks taken and not done (consumers)
    made: int  # tasks put so far (producers; re-puts of retries by consumers)
    # Ended by QueueLab (Stop, the hang rule) by t: its DIED is no death of its own
    # (WorkerInfo.stopped_by, the rule the diagnosis and the timeline follow).
    stopped: bool = False


@dataclass(frozen=True)
class Stream:
    edge: str  # EDGE_PUT, EDGE_GET or EDGE_DONE
    station: int  # producer index for puts, consumer index for gets and dones
    count: int  # moves in the eye window
    rate: float  # per run second


@dataclass(frozen=True)
class FlowFrame:
    t: float
    producers: tuple[Station, ...]
    consumers: tuple[Station, ...]
    maxsize: int
    depth: int  # the queue's items at t (the model's counters)
    queue_more: int  # queued but not drawn one by one
    unfinished: int  # the counter join() waits on, at t
    done: int  # tasks (not sentinels) done by t
    failed: int  # failed attempts by t
    tasks_total: int
    gate: str
    join_called_t: float | None
    join_returned_t: float | None
    tokens: tuple[Token, ...]
    streams: tuple[Stream, ...]
    held_more: tuple[int, ...]  # per consumer: held but not drawn

    def token(self, tid: int) -> Token | None:
        for tok in self.tokens:
            if tok.tid == tid:
                return tok
        return None


class _Columns:
    """Every task row of a model as flat arrays, rebuilt only when the model has changed."""

    __slots__ = ("fail_t", "get_src", "key", "label", "put_src", "t_done", "t_get", "t_put",
                 "tid", "value")  # fmt: skip

    def __init__(self, m: RunModel) -> None:
        tids, parts = [], []
        tasks = m.tasks
        for s, rows in sorted(tasks.streams.items()):
            n = rows.n
            tids.append((np.int64(s) << 32) + np.arange(n, dtype=np.int64))
            parts.append(rows)
        if tasks.overflow:
            tids.append(np.fromiter(tasks.overflow.keys(), np.int64, len(tasks.overflow)))
            parts.append(tasks.overflow_rows)
        lens = [len(t) for t in tids]

        def cat(name: str, dtype: type) -> np.ndarray:
            if not parts:
                return np.zeros(0, dtype)
            return np.concatenate([getattr(p, name)[:k] for p, k in zip(parts, lens, strict=True)])

        tid = np.concatenate(tids) if tids else np.zeros(0, np.int64)
        t_put = cat("t_put", np.float64)
        keep = ~np.isnan(t_put)  # rows reserved for ids never put
        self.tid = tid[keep]
        self.t_put = t_put[keep]
        self.label = cat("label", np.int64)[keep]
        self.value = cat("value", np.float64)[keep]
        self.put_src = cat("put_src", np.int32)[keep]
        self.get_src = cat("get_src", np.int32)[keep]
        self.t_get = cat("t_get", np.float64)[keep]
        self.t_done = cat("t_done", np.float64)[keep]
        self.fail_t = _fail_times(m, self)
        self.key = _key(m)


def _key(m: RunModel) -> tuple:
    return (m.events, len(m.tasks), m.task_dones, m.failures, len(m.lost_items))


def _fail_times(m: RunModel, c: _Columns) -> np.ndarray:
    """Per task: when its (last) attempt failed, NaN if none — from the consumers' timelines.

    A failure is a FAILED interval of the consumer ending at the failure; the task is the one
    that consumer held then.
    """
    out = np.full(len(c.tid), np.nan)
    for w in m.workers.values():
        iv = w.intervals
        if not len(iv):
            continue
        _t0, t1, act, _label = iv.columns(0, len(iv))
        ends = t1[act == int(Activity.FAILED)]
        if not len(ends):
            continue
        mine = np.flatnonzero(c.get_src == w.src)
        for t_fail in ends.tolist():
            held = mine[(c.t_get[mine] <= t_fail) & ~(c.t_done[mine] < t_fail)]
            if len(held):
                out[held[np.argmax(c.t_get[held])]] = t_fail
    return out


_cache: dict[int, _Columns] = {}


def _columns(m: RunModel) -> _Columns:
    # A replay draws one finished model at many times: its columns are built once.
    c = _cache.get(id(m))
    if c is None or c.key != _key(m):
        if len(_cache) > 8:
            _cache.clear()
        c = _cache[id(m)] = _Columns(m)
    return c


_WORDS: dict[int, tuple[weakref.ref, dict[int, tuple[str, str, int]]]] = {}


def _words_of(m: RunModel) -> dict[int, tuple[str, str, int]]:
    """Per task id of ``m``: its token's text, kind and putting stream (a bounded cache).

    Task ids repeat from run to run: the cache is the model's own (a new model at a freed
    one's address does not inherit it)."""
    found = _WORDS.get(id(m))
    if found is None or found[0]() is not m or len(found[1]) > 50_000:
        if len(_WORDS) > 8:
            _WORDS.clear()
        found = _WORDS[id(m)] = (weakref.ref(m), {})
    return found[1]


def _text(label: int, value: float, tid: int) -> str:
    if label == LABEL_NONE:
        return "None"
    if label == LABEL_OTHER:
        # Not the tutorial's (i, value): a traced program's own item, by its put's number.
        return f"#{tid & 0xFFFFFFFF}"
    if value and 0 < abs(value) < 10:
        return f"{label}: {value:.2f}"
    return str(label)


def _kind(label: int) -> str:
    return SENTINEL if label == LABEL_NONE else OTHER if label == LABEL_OTHER else TASK


def _activity_at(w: object, t: float) -> int:
    iv = w.intervals  # type: ignore[attr-defined]
    n = len(iv)
    if n:
        t0, t1, act, _label = iv.columns(0, n)
        i = int(np.searchsorted(t0, t, side="right")) - 1
        if i >= 0 and t < t1[i]:
            return int(act[i])
        if i < 0:
            return int(Activity.STARTING)
    if t >= w.since:  # type: ignore[attr-defined]
        return int(w.activity)  # type: ignore[attr-defined]
    return int(Activity.STARTING)


def _series_at(m: RunModel, t: float) -> tuple[int, int, int]:
    """The model's own counters (puts, gets, task_dones) as they stood at ``t``."""
    i = int(np.searchsorted(m.s_t.view(), t, side="right")) - 1
    if i < 0:
        return 0, 0, 0
    return int(m.s_puts[i]), int(m.s_gets[i]), int(m.s_dones[i])


def flow_frame(m: RunModel, t: float, limits: FlowLimits = FlowLimits()) -> FlowFrame:
    """Where every task is at ``t`` run seconds, as the model records it."""
    c = _columns(m)
    prods, cons = _stations(m, c)
    p_index = {w.src: i for i, w in enumerate(prods)}
    c_index = {w.src: i for i, w in enumerate(cons)}
    put = c.t_put <= t
    got = c.t_get <= t
    fin = c.t_done <= t
    lost = np.zeros(len(c.tid), bool)
    lost_tids = [tid for (lt, tid, _lab, _txt) in m.lost_items if lt <= t]
    if lost_tids:
        lost = np.isin(c.tid, np.asarray(lost_tids, np.int64)) & put & ~got
    in_queue = put & ~got & ~lost
    at_cons = got & ~fin
    # A consumer gone with a nonzero code by t: dead (its tasks dropped), or stopped by
    # QueueLab (its tasks left unfinished) — one rule with the diagnosis (WorkerInfo.died_before).
    gone_at = {w.src: (w.exit_t, DROPPED if w.died_before(m.stop_t) else UNFINISHED)
               for w in cons if w.exitcode not in (None, 0)
               and w.exit_t is not None and w.exit_t <= t}  # fmt: skip
    dropped = np.zeros(len(c.tid), bool)
    left = np.zeros(len(c.tid), bool)  # the stopped ones': still its station's (held) count
    for src, (_t, place) in gone_at.items():
        mine = at_cons & (c.get_src == src)
        dropped |= mine
        if place == UNFINISHED:
            left |= mine
    at_cons &= ~dropped
    failed = c.fail_t <= t
    lim = limits
    window = max(lim.eye_window_s, 1e-9)
    recent = t - window
    streams: list[Stream] = []
    stream_edges: set[tuple[str, int]] = set()

    def edge(name: str, station: int, times: np.ndarray) -> None:
        n = int(np.count_nonzero((times > recent) & (times <= t)))
        if n > lim.eye_max:
            streams.append(Stream(name, station, n, n / window))
            stream_edges.add((name, station))

    for i, w in enumerate(prods):
        edge(EDGE_PUT, i, c.t_put[c.put_src == w.src])
    for i, w in enumerate(cons):
        mine = c.get_src == w.src
        edge(EDGE_GET, i, c.t_get[mine])
        edge(EDGE_DONE, i, c.t_done[mine])

    tokens: list[Token] = []
    words = _words_of(m)

    def make(j: int, place: str, station: int, since: float, via: tuple[str, int]) -> None:
        tid = int(c.tid[j])
        # A task's words and kind never change: kept per task id (the text's formatting was
        # a third of a frame's cut with hundreds of tokens).
        found = words.get(tid)
        if found is None:
            label = int(c.label[j])
            found = words[tid] = (
                _text(label, float(c.value[j]), tid), _kind(label), int(c.put_src[j])
            )
        text, kind, psrc = found
        # A consumer puts again only to retry (QueueLab's runs); a traced program's worker
        # may put new work of its own: its token just starts there.
        retried = psrc in c_index and m.retries > 0
        if psrc in c_index:
            origin, ost = CONSUMER, c_index[psrc]
        else:
            origin, ost = PRODUCER, p_index.get(psrc, 0)
        tokens.append(Token(tid, text, kind, place, station, origin, ost, bool(failed[j]),
                            retried, since, via in stream_edges))  # fmt: skip

    # Blocked at the producer: a BLOCK_PUT interval ends with the put that got through.
    for i, w in enumerate(prods):
        iv = w.intervals
        if not len(iv):
            continue
        t0s, t1s, act, _label = iv.columns(0, len(iv))
        sel = np.flatnonzero(act == int(Activity.BLOCK_PUT))
        for k in sel.tolist():
            t0, t1 = float(t0s[k]), float(t1s[k])
            if t0 <= t < t1:
                mine = np.flatnonzero((c.put_src == w.src) & (np.abs(c.t_put - t1) < 1e-9))
                if len(mine):
                    make(int(mine[0]), PRODUCER, i, t0, ("", -1))
    # Blocked now (live): the put waits for room and has not returned, so its task is not in
    # the table yet; its PUT_BLOCKED record says which task it holds.
    for i, w in enumerate(prods):
        r = m.blocked_puts.get(w.src)
        if r is not None and w.activity == Activity.BLOCK_PUT and t >= w.since:
            tid, label, value = r[BLOCKED_TID], r[BLOCKED_LABEL], r[BLOCKED_VALUE]
            tokens.append(Token(tid, _text(label, value or 0.0, tid), _kind(label), PRODUCER, i,
                                PRODUCER, i, False, False, w.since, False))  # fmt: skip
    # The queue: head first (the order puts went in).
    q = np.flatnonzero(in_queue)
    q = q[np.lexsort((c.tid[q], c.t_put[q]))]
    for slot, j in enumerate(q[: lim.queue_slots].tolist()):
        via = (EDGE_PUT, p_index.get(int(c.put_src[j]), -1))
        make(j, QUEUE, slot, float(c.t_put[j]), via)
    held_more = []
    for i, w in enumerate(cons):
        mine = np.flatnonzero(at_cons & (c.get_src == w.src))
        mine = mine[np.argsort(-c.t_get[mine], kind="stable")]  # the latest taken first
        for j in mine[: lim.held_shown].tolist():
            make(j, CONSUMER, i, float(c.t_get[j]), (EDGE_GET, i))
        held_more.append(max(0, len(mine) - lim.held_shown))
        if w.src in gone_at:
            gone_t, place = gone_at[w.src]
            gone = np.flatnonzero(dropped & (c.get_src == w.src))
            for j in gone[: lim.dropped_shown].tolist():
                make(j, place, i, float(gone_t), ("", -1))
    d = np.flatnonzero(fin)
    d = d[np.argsort(-c.t_done[d], kind="stable")][: lim.done_shown]
    for slot, j in enumerate(d.tolist()):
        make(j, DONE, slot, float(c.t_done[j]), (EDGE_DONE, c_index.get(int(c.get_src[j]), -1)))
    for j in np.flatnonzero(lost)[:3].tolist():
        make(j, LOST, 0, float(c.t_put[j]), ("", -1))

    puts, gets, dones = _series_at(m, t)
    lost_n = len(lost_tids)
    depth = max(0, puts - gets - lost_n)
    return FlowFrame(
        t=t,
        producers=tuple(_station(w, t, c, put, at_cons, m.stop_t) for w in prods),
        consumers=tuple(_station(w, t, c, put, at_cons | left, m.stop_t) for w in cons),
        maxsize=m.maxsize,
        depth=depth,
        queue_more=max(0, len(q) - lim.queue_slots),
        unfinished=puts - dones,
        done=int(np.count_nonzero(fin & (c.label != LABEL_NONE))),
        failed=int(np.count_nonzero(failed)),
        tasks_total=m.tasks_total,
        gate=_gate(m, t),
        join_called_t=m.join_called_t,
        join_returned_t=m.join_returned_t,
        tokens=tuple(tokens),
        streams=tuple(streams),
        held_more=tuple(held_more),
    )


def _stations(m: RunModel, c: _Columns) -> tuple[list[WorkerInfo], list[WorkerInfo]]:
    """The producers' and consumers' columns, in stream order."""
    workers = sorted(m.workers.values(), key=lambda w: w.src)
    prods = [w for w in workers if w.role == ROLE_PRODUCER and w.src]
    if np.any(c.put_src == 0):
        # A traced program's main process puts the work itself: it is a producer here.
        prods.insert(0, m.workers.get(0) or WorkerInfo(0, "main", ROLE_PRODUCER,
                                                       activity=Activity.RUNNING))  # fmt: skip
    cons = [w for w in workers if w.role != ROLE_PRODUCER and w.src]
    return prods, cons


def station_counts(m: RunModel) -> tuple[int, int]:
    """How many producer and consumer stations the flow view draws for ``m``."""
    prods, cons = _stations(m, _columns(m))
    return max(len(prods), m.producers), max(len(cons), m.consumers)


def _station(w: WorkerInfo, t: float, c: _Columns, put: np.ndarray, at_cons: np.ndarray,
             stop_t: float | None) -> Station:  # fmt: skip
    src = w.src
    made = int(np.count_nonzero(put & (c.put_src == src) & (c.label != LABEL_NONE)))
    held = int(np.count_nonzero(at_cons & (c.get_src == src)))
    act = _activity_at(w, t)
    stopped = act == Activity.DIED and w.stopped_by(stop_t)
    return Station(w.name, src, act, held, made, stopped)


def _gate(m: RunModel, t: float) -> str:
    """queue.join()'s gate at ``t``: not called, closed, open, or open too early (premature)."""
    if m.join_called_t is None or t < m.join_called_t:
        return GATE_NOT_CALLED
    if m.join_returned_t is None or t < m.join_returned_t:
        return GATE_CLOSED
    return GATE_PREMATURE if m.premature_join else GATE_OPEN


def latest_time(m: RunModel) -> float:
    """The latest time the model knows of: a live run's "now" for the flow view.

    ``last_t`` orders records by their first time (a get's call); the counters' series by when
    each took effect (a get's return), which can be later.
    """
    series = m.s_t
    return max(m.last_t, float(series[len(series) - 1]) if len(series) else 0.0)

