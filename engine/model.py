"""The pure state model: batches of event records in, run state out.

The single source of every chart, summary and diagnosis — live window, headless CLI, replay and
tests all feed the same :class:`RunModel`. No clocks, no I/O, no Qt: the same batches always give
the same state. Queue depth and the unfinished counter are derived from events (``qsize()``
raises on macOS): depth = puts - gets, in flight = gets - task_dones, unfinished = their sum.

Records from different processes arrive through different pipes, so a get can arrive before the
put that created its task. Each poll's records are applied in time order, and a get (or
task_done) whose task is not known yet is held until its put (or get) arrives, so the counters
never go below zero.
"""

from __future__ import annotations

import bisect
import copy
import itertools
from collections import deque
from operator import itemgetter

import numpy as np

from engine import bulk, handlers
from engine.applied import Applied
from engine.events import (
    LABEL_NONE,
    LABEL_OTHER,
    ROLE_CONSUMER,
    ROLE_PRODUCER,
    Kind,
    checked_effect_time,
    worker_name,
)
from engine.gcpause import gc_paused
from engine.handlers import (
    BLOCKED_TID,
    GET_T_RETURN,
    GET_TID,
    PUT_LABEL,
    PUT_T_RETURN,
    PUT_TID,
    PUT_VALUE,
    STEP_TID,
)
from engine.points import GET, PUT, PointLog, series_of
from engine.states import Activity, JoinState, WorkerInfo, unfinished_parts
from engine.summary import Summary, WorkerSummary
from engine.tasks import TaskTable

K = Kind
# Shorter runs of put/get/task_done are applied one by one: numpy's set-up would cost more.
BULK_MIN = 32
_first = itemgetter(0)
BLOCKED_PUT_MIN_S = 0.001  # a put that took longer than this was blocked on a full queue
_TASK_STEPS = frozenset(
    int(k)
    for k in (Kind.TASK_START, Kind.TASK_END, Kind.TASK_FAIL, Kind.TASK_RETRY, Kind.TASK_RESULT,
              Kind.TASK_ABANDON)
)


class RunModel:
    """Mutable, deterministic reducer. Feed it batches with :meth:`feed`."""

    def __init__(self) -> None:
        self.t0: float | None = None
        self.producers = 0
        self.consumers = 0
        self.tasks_total = 0  # tasks the producers will put, sentinels not included
        self.maxsize = 0
        self.puts = self.gets = self.task_dones = 0
        self.sentinel_puts = 0
        self.task_puts = 0
        self.failures = self.retries = self.task_done_errors = self.extra_task_dones = 0
        self.workers: dict[int, WorkerInfo] = {}
        # tid -> Task(label, value, put_src, t_put, get_src, t_get, t_done), as columns
        self.tasks = TaskTable()
        self._held_gets: dict[int, tuple[int, tuple]] = {}
        self._held_puts: deque[tuple[int, tuple]] = deque()
        self._held_dones: dict[int, list[tuple[int, tuple]]] = {}
        # Per stream: the PUT_BLOCKED record of a put waiting for room now (the flow view's
        # token at its producer); its PUT or PUT_FULL takes it out.
        self.blocked_puts: dict[int, tuple] = {}
        self._closed_streams: set[int] = set()  # workers whose process is gone: no more records
        # Per stream: puts proven by a get whose own record died unsent with its worker.
        self.puts_stood_in: dict[int, int] = {}
        # Chart series, run-relative seconds; one point per counter change, and the completed
        # (non-sentinel) tasks' completion time, wait and service: references into the task
        # table (engine/points.py), read like arrays (s_t, s_puts, ..., done_service).
        self.points = PointLog(self.tasks)
        self._bind_series()
        self.join_state = JoinState.NOT_CALLED
        self.join_called_t: float | None = None
        self.join_returned_t: float | None = None
        self.puts_at_join_return: int | None = None
        self.producers_joined_t: float | None = None
        self.end_reason: str | None = None
        self.end_t: float | None = None
        self.stop_t: float | None = None  # Stop was asked for: deaths after it are not faults
        self.stalls: list[str] = []
        # Tasks the putting process's feeder thread could not send (cpython#79423): counted as
        # put (the unfinished counter was raised) but never in the queue. (t, tid, label, text)
        self.lost_items: list[tuple[float, int, int, str]] = []
        # Each task_done() that raised ValueError: (t, worker src, the exception's text).
        self.task_done_error_marks: list[tuple[float, int, str]] = []
        # The user's own function (workload = "module:function"), per task label: the repr of
        # what it returned, and (t, traceback) of each attempt that raised.
        self.task_results: dict[int, str] = {}
        self.task_tracebacks: dict[int, list[tuple[float, str]]] = {}
        self.last_t = 0.0
        self.events = 0
        self._expect_seq: dict[int, int] = {}
        self._gaps: dict[int, int] = {}  # per stream: records missing between batches
        self._pauses: list[float] = []  # absolute starts
        self._pause_offsets: list[float] = []  # cumulative paused time before each start
        self._pause_total = 0.0
        self._paused_at: float | None = None  # the clock is held (a pause, a step's choice)
        self._holds: dict[str, float] = {}  # why the clock is held ("pause", "step") -> since
        self.held_s: dict[str, float] = {}  # seconds taken out of the clock, per reason
        self._resume_to: dict[int, Activity] = {}  # held workers: what they did before

    @property
    def _last_series_t(self) -> float:
        return self.points.last_t

    # ----------------------------------------------------------------- feeding
    def feed(self, batches: list[tuple[int, int, list[tuple]]]) -> Applied:
        """Apply batches ``(src, first_seq, records)``; return ``(src, record)`` as applied
        (an :class:`~engine.applied.Applied`: read like a list of pairs).

        Records are applied in the order they took effect (:func:`effect_time`): a put blocked
        on a full queue completes only after the get that made room for it. Runs of
        put/get/task_done go through :mod:`engine.bulk` at once where that is exact. A record
        whose task id is not an integer is refused (RecordError) before anything changes.
        """
        with gc_paused():
            return self._feed(batches)

    def _feed(self, batches: list[tuple[int, int, list[tuple]]]) -> Applied:
        records: list[tuple] = []
        lens: list[int] = []
        for *_, recs in batches:
            lens.append(len(recs))
            records.extend(recs)
        applied = Applied()
        n = len(records)
        if n:
            src_a = np.repeat(np.fromiter((b[0] for b in batches), np.int64, len(batches)), lens)
            kinds = np.fromiter(map(_first, records), np.int8, n)
            cols = bulk.columns(records, src_a, kinds)
            eff = cols["te"]
            odd = np.flatnonzero(~cols["ok"]).tolist()
            if odd:  # a refused record raises here, before the model changes
                at = zip(odd, src_a[odd].tolist(), strict=True)
                eff[odd] = [checked_effect_time(records[i], s) for i, s in at]
        for src, first, recs in batches:
            exp = self._expect_seq.get(src, 0)
            if first > exp:
                self._gaps[src] = self._gaps.get(src, 0) + first - exp
            self._expect_seq[src] = max(exp, first + len(recs))
        self.events += n
        if not n:
            return applied
        order = np.argsort(eff, kind="stable")
        hot = cols["ok"][order]
        # Runs of hot records (put/get/task_done) go at once where exact; the rest one by one.
        edges = np.flatnonzero(np.diff(hot.astype(np.int8))) + 1
        bounds = [0, *edges.tolist(), n]
        order_l: list[int] = []  # as Python ints, for the one-by-one path only
        srcs: list[int] = []
        for a, b in itertools.pairwise(bounds):
            if hot[a] and b - a >= BULK_MIN and bulk.eligible(self):
                idx = order[a:b]
                run = {k: v[idx] for k, v in cols.items()}
                if bulk.apply_hot(self, run, records, idx, applied):
                    continue
            if not srcs:
                order_l, srcs = order.tolist(), src_a.tolist()
            for i in order_l[a:b]:
                self._apply(srcs[i], records[i], applied)
        return applied

    def rel(self, t: float) -> float:
        """Run-relative seconds with paused time taken out: the charts' clock."""
        if self.t0 is None:
            self.t0 = t
        if self._paused_at is not None and t >= self._paused_at:
            t = self._paused_at
        i = bisect.bisect_right(self._pauses, t)
        if not i:
            return t - self.t0
        off = self._pause_offsets[i - 1]
        before = self._pause_offsets[i - 2] if i > 1 else 0.0
        start = self._pauses[i - 1]
        if t < start + off - before:
            # Stamped inside a hold that has ended (a record applied after its release):
            # the hold's start, as while it was open, not a time before it.
            return start - self.t0 - before
        return t - self.t0 - off

    def _worker(self, src: int) -> WorkerInfo:
        w = self.workers.get(src)
        if w is None:
            role = ROLE_PRODUCER if 0 < src <= self.producers else ROLE_CONSUMER
            w = WorkerInfo(src, worker_name(src, self.producers), role)
            w.intervals.table = self.tasks
            self.workers[src] = w
        return w

    def _set(
        self, w: WorkerInfo, t: float, activity: Activity, task: int = -1, hint: int = -1
    ) -> None:
        """Close the worker's open interval at ``t`` and open a new one.

        ``hint``: the task of the record that closes it (its row may hold ``t``: not kept twice).

        A record held back for causality can be applied after the worker's later records:
        its timeline never goes back in time and never reopens after the worker exited.
        """
        if w.activity in (Activity.EXITED, Activity.DIED) and w.exit_t is not None:
            return
        if t < w.since:
            return  # older than what the worker is shown doing: it happened before that
        if t > w.since:
            w.intervals.append(
                (w.since, t, int(w.activity), self.label_of(w.task)), w.task, hint
            )
        w.activity, w.since, w.task = activity, t, task

    def label_of(self, tid: int) -> int:
        """The label a task was put with; -1 for no task or one not known."""
        found = self.tasks.find(tid)
        return -1 if found is None else int(found[0].label[found[1]])

    def _apply_put(self, src: int, r: tuple, t: float, applied: Applied) -> None:
        tid, label = r[PUT_TID], r[PUT_LABEL]
        t_ret = self.rel(r[PUT_T_RETURN])
        self.puts += 1
        if label == LABEL_NONE:
            self.sentinel_puts += 1
        else:
            self.task_puts += 1
            if self.join_returned_t is not None and t_ret <= self.join_returned_t:
                # Arrived after the join's return but happened before it.
                self.puts_at_join_return = (self.puts_at_join_return or 0) + 1
        self.tasks.put(tid, label, r[PUT_VALUE], src, t_ret)
        self.points.add(PUT, tid, t_ret)
        if src:
            w = self._worker(src)
            waiting = self.blocked_puts.get(src)
            if waiting is not None and waiting[BLOCKED_TID] == tid:
                # Its wait is over. (A put held for room, applied late, is an earlier one.)
                del self.blocked_puts[src]
            # Only a bounded queue blocks a put; elsewhere a slow put is the feeder's lock. (A
            # trace without PUT_BLOCKED records, older ones, knows it only from here.)
            if self.maxsize and t_ret - t > BLOCKED_PUT_MIN_S:
                self._set(w, t, Activity.BLOCK_PUT)
            if w.role == ROLE_PRODUCER:
                self._set(w, t_ret, Activity.RUNNING, hint=tid)
        applied.append((src, r))
        held = self._held_gets.pop(tid, None)
        if held is not None:
            self._apply(held[0], held[1], applied)

    def _apply_get(self, src: int, r: tuple, t: float, applied: Applied) -> None:
        tid = r[GET_TID]
        t_ret = self.rel(r[GET_T_RETURN])
        self.gets += 1
        found = self.tasks.find(tid)
        if found is not None:
            rows, i = found
            if rows.t_get[i] == rows.t_get[i]:  # taken twice (a damaged trace): a row of its own
                rows, i = self.tasks.movable(tid)
            t_ret = max(t_ret, float(rows.t_put[i]))
            rows.get_src[i], rows.t_get[i] = src, t_ret
        self.points.add(GET, tid, t_ret)
        w = self._worker(src)
        self._set(w, t, Activity.WAIT_GET, hint=tid)
        w.held.append(tid)
        self._set(w, t_ret, Activity.PROCESS, tid, hint=tid)
        applied.append((src, r))
        for held in self._held_dones.pop(tid, ()):
            self._apply(held[0], held[1], applied)
        if self._held_puts:
            held_put = self._held_puts.popleft()
            self._apply(held_put[0], held_put[1], applied)

    def _stand_in_put(self, tid: int, get: tuple, applied: Applied) -> None:
        """A get proves its put happened; that put's record died unsent with its producer.

        (A worker killed with events still in its buffer.) Apply a put in its place, just
        before the get returned, so the counters stay true and the get is not held for ever;
        the lost record is counted in ``events_lost``.
        """
        src = tid >> 32
        self.puts_stood_in[src] = self.puts_stood_in.get(src, 0) + 1
        t = get[GET_T_RETURN]
        stand_in = (int(K.PUT), t, t, tid, LABEL_OTHER, 0.0)
        self._apply_put(src, stand_in, self.rel(t), applied)

    def _apply(self, src: int, r: tuple, applied: Applied) -> None:
        kind = r[0]
        if kind in _TASK_STEPS and r[STEP_TID] in self._held_gets:
            # The worker's own get of this task waits for its put: keep the worker's order.
            self._held_dones.setdefault(r[STEP_TID], []).append((src, r))
            return
        t = self.rel(r[handlers.T])
        self.last_t = max(self.last_t, t)
        if handlers.DISPATCH.get(kind, handlers.on_other)(self, src, r, t, applied):
            applied.append((src, r))

    # ----------------------------------------------------------------- derived
    @property
    def depth(self) -> int:
        """Items in the queue: put, not taken, and not lost by a feeder thread."""
        return self.puts - self.gets - len(self.lost_items)

    @property
    def in_flight(self) -> int:
        return self.gets - self.task_dones

    @property
    def in_progress(self) -> int:
        """Tasks being worked on: of the tasks taken and not marked done (in flight), those
        whose consumer is still on them; the rest are :attr:`not_marked_done`."""
        return max(0, min(self.in_flight, sum(w.on_a_task for w in self.workers.values())))

    @property
    def not_marked_done(self) -> int:
        """Tasks taken and not marked done whose taker went back to get(), exited or died."""
        return max(0, self.in_flight - self.in_progress)

    @property
    def unfinished(self) -> int:
        """The counter queue.join() waits on (a lost item still counts: it was put)."""
        return self.puts - self.task_dones

    @property
    def events_lost(self) -> int:
        """Records known to be missing: sequence gaps, an unsent tail, puts proven by gets.

        Per stream the larger of the counted gaps and the stood-in puts: a dropped put shows
        up in both when its batch went missing in the middle of a stream.
        """
        lost = 0
        for src in set(self._gaps) | set(self.puts_stood_in) | set(self.workers):
            w = self.workers.get(src)
            missing = self._gaps.get(src, 0)
            if w is not None and w.records_sent is not None:
                missing += max(0, w.records_sent - self._expect_seq.get(src, 0))
            lost += max(missing, self.puts_stood_in.get(src, 0))
        return lost

    @property
    def paused(self) -> bool:
        return self._paused_at is not None

    def run_time(self, t: float) -> float:
        """Run-relative seconds of any moment ``t`` (``perf_counter`` seconds), held time
        (pauses, step choices) taken out; inside a hold, the hold's start. Unlike
        :meth:`rel` it is meant for moments no record marks: a replay's playhead."""
        if self.t0 is None:
            return 0.0
        held = 0.0
        ends = self._pause_offsets
        for i, start in enumerate(self._pauses):
            if start >= t:
                break
            length = ends[i] - (ends[i - 1] if i else 0.0)
            held += min(length, t - start)
        if self._paused_at is not None and t > self._paused_at:
            held += t - self._paused_at
        return t - self.t0 - held

    def copy(self) -> RunModel:
        """A real copy, fed on independently (a replay's snapshot). ``copy.deepcopy`` alone
        is not one: the series (``s_t`` … ``done_service``) read through closures over the
        original's points, so they are bound again to the copy's own."""
        c = copy.deepcopy(self)
        c._bind_series()
        return c

    def _bind_series(self) -> None:
        """The series read through ``self.points`` (engine/points.series_of)."""
        cols = series_of(self.points)
        self.s_t, self.s_puts, self.s_gets, self.s_dones = (
            cols["s_t"], cols["s_puts"], cols["s_gets"], cols["s_dones"]
        )
        self.done_t, self.done_wait, self.done_service = (
            cols["done_t"], cols["done_wait"], cols["done_service"]
        )

    def hold_end(self, t: float) -> float | None:
        """The end of the hold ``t`` falls in (``perf_counter`` seconds), None outside one."""
        ends = self._pause_offsets
        i = bisect.bisect_right(self._pauses, t) - 1
        if i >= 0:
            end = self._pauses[i] + ends[i] - (ends[i - 1] if i else 0.0)
            if t < end:
                return end
        return None

    @property
    def premature_join(self) -> bool:
        """join() returned while producers still had tasks to put."""
        if self.join_returned_t is None or self.puts_at_join_return is None:
            return False
        return self.puts_at_join_return < self.tasks_total

    @property
    def tasks_not_yet_put(self) -> int:
        if self.puts_at_join_return is None:
            return 0
        return max(0, self.tasks_total - self.puts_at_join_return)

    def producers_running_at_join(self) -> list[str]:
        t = self.join_returned_t
        if t is None:
            return []
        return [
            w.name
            for w in self.workers.values()
            if w.role == ROLE_PRODUCER and (w.exit_t is None or w.exit_t > t)
        ]

    def dead_workers(self) -> list[WorkerInfo]:
        """Workers that died on their own (not those ended by Stop)."""
        return [w for w in self.workers.values() if w.died_before(self.stop_t)]

    def held_task_labels(self, w: WorkerInfo) -> list[int]:
        return [self.label_of(tid) for tid in w.held if tid in self.tasks]

    def all_exited(self) -> bool:
        return bool(self.workers) and all(not w.alive for w in self.workers.values())

    def makespan(self) -> float:
        """Seconds from the run's start until its work ended: the last task marked done.

        A join that returned early (premature) is not the end: the run goes on until its last
        task is done, so the later of the join's return and the last task_done() counts. A run
        whose join never returned is measured to its last event.
        """
        if self.join_returned_t is not None:
            last_done = float(self.done_t.view().max()) if len(self.done_t) else 0.0
            return max(self.join_returned_t, last_done)
        return self.last_t

    def join_words(self) -> str:
        """The join state in words, for status bars and logs."""
        if self.join_state == JoinState.NOT_CALLED:
            return "queue.join() not called yet"
        if self.join_state == JoinState.RETURNED:
            words = f"queue.join() returned at {self.join_returned_t:.2f} s"
            if self.premature_join:
                words += " — premature"
            return words
        parts = unfinished_parts(self.depth, self.in_progress, self.not_marked_done)
        return f"queue.join() waiting: {self.unfinished} unfinished — {parts}"

    def summary(self, diagnosis: tuple[str, ...] = ()) -> Summary:
        span = self.makespan()
        done = len(self.done_t)
        n_wait = len(self.done_wait)
        return Summary(
            puts=self.puts,
            gets=self.gets,
            task_dones=self.task_dones,
            unfinished=self.unfinished,
            depth=self.depth,
            in_flight=self.in_flight,
            not_marked_done=self.not_marked_done,
            join_returned=self.join_returned_t is not None,
            join_returned_at_s=self.join_returned_t,
            premature_join=self.premature_join,
            makespan_s=span,
            throughput_per_s=done / span if span > 0 else 0.0,
            mean_wait_s=_sum(self.done_wait.view()) / n_wait if n_wait else 0.0,
            mean_service_s=_sum(self.done_service.view()) / n_wait if n_wait else 0.0,
            events=self.events,
            events_lost=self.events_lost,
            failures=self.failures,
            retries=self.retries,
            task_done_errors=self.task_done_errors,
            workers=tuple(
                WorkerSummary(w.name, w.pid, w.exitcode, w.tasks_done)
                for _, w in sorted(self.workers.items())
            ),
            diagnosis=diagnosis,
            paused_s=self.held_s.get("pause", 0.0),
            step_wait_s=self.held_s.get("step", 0.0),
        )


def _sum(values: np.ndarray) -> float:
    """``sum(values)`` to the last bit (left to right, as Python adds), without a Python float
    per value: numpy's own sum adds pairwise and rounds differently."""
    return float(np.add.accumulate(values)[-1]) if values.size else 0.0
