"""Export a recorded trace as CSV (one row per event) or Chrome trace-event JSON (Perfetto)."""

from __future__ import annotations

import bisect
import csv
import json
import math
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

from engine.events import (
    LABEL_NONE,
    LABEL_OTHER,
    RETURNED,
    ROLE_CONSUMER,
    ROLE_PRODUCER,
    Kind,
    effect_time,
    worker_name,
)
from engine.handlers import BLOCKED_LABEL, BLOCKED_TID, STEP_TID
from engine.tracefile import PathLike, Trace

__all__ = ["CSV_COLUMNS", "FORMATS", "export_chrome", "export_csv"]

CSV_COLUMNS = (
    "src", "worker", "seq", "kind", "t_s", "t_end_s", "task_id", "label", "value", "exitcode",
    "text",
)  # fmt: skip

K = Kind
# Records that carry a task id in field 2 (PUT and GET carry it in field 3).
_TID_AT_2 = frozenset(
    (K.TASK_DONE, K.TASK_START, K.TASK_END, K.TASK_FAIL, K.TASK_RETRY, K.TASK_RESULT,
     K.TASK_ABANDON, K.PUT_BLOCKED)
)
assert BLOCKED_TID == STEP_TID == 2  # one schema (engine/events.py): where _TID_AT_2 reads
_ENDED = RETURNED  # field 2 is when the call returned
BLOCKED_PUT_US = 1000  # a put longer than this was blocked on a full queue (as in engine.model)


@contextmanager
def _text_out(out: PathLike | IO[str], newline: str | None) -> Iterator[IO[str]]:
    if hasattr(out, "write"):
        yield out  # type: ignore[misc]
        return
    # backslashreplace: an exception text may hold a lone surrogate that UTF-8 cannot encode.
    path = os.fspath(out)  # type: ignore[arg-type]
    with open(path, "w", encoding="utf-8", errors="backslashreplace", newline=newline) as f:
        yield f


def _records(trace: Trace) -> list[tuple[float, int, int, tuple]]:
    """(t, src, seq, record) for every record, in time order."""
    rows = [
        (r[1], src, first + i, r)
        for src, first, records in trace.batches
        for i, r in enumerate(records)
    ]
    rows.sort(key=lambda x: (x[0], x[1], x[2]))
    return rows


def _task_labels(trace: Trace) -> dict[int, tuple[int, Any]]:
    """tid -> (label, value) from every put."""
    labels: dict[int, tuple[int, Any]] = {}
    put = int(K.PUT)
    for _, _, records in trace.batches:
        for r in records:
            if r[0] == put:
                labels[r[3]] = (r[4], r[5])
    return labels


def _num(x: float | None) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return ""
    return f"{x:.9f}"


def _plain(x: object) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return ""
    return repr(x) if isinstance(x, float) else str(x)


_ROLES = {ROLE_PRODUCER: "producer", ROLE_CONSUMER: "consumer"}


def _csv_row(
    src: int, seq: int, r: tuple, t0: float, producers: int, labels: dict[int, tuple[int, Any]]
) -> list[str]:
    kind = Kind(r[0])
    t_end = task_id = label = value = exitcode = text = ""
    if kind in _ENDED:
        t_end = _num(r[2] - t0)
    tid: int | None = None
    if kind in (K.PUT, K.GET):
        tid = r[3]
    elif kind in _TID_AT_2:
        tid = r[2]
    if tid is not None:
        task_id = str(tid)
        if tid in labels:
            label, value = str(labels[tid][0]), _plain(labels[tid][1])
    if kind == K.TASK_DONE_ERROR or kind in (K.STOP, K.RUN_END, K.STALL):
        text = r[2]
    elif kind == K.TASK_FAIL:
        text = r[3]
    elif kind == K.TASK_RETRY:
        text = f"attempt={r[3]}"
    elif kind == K.TASK_RESULT:  # the user's own function (workload = "module:function")
        text = f"{'returned' if r[3] else 'raised'}: {r[4]}"
    elif kind == K.WORKER_START:
        text = f"pid={r[2]} role={_ROLES.get(r[3], r[3])} index={r[4]}"
    elif kind == K.WORKER_EXIT:
        exitcode, text = str(r[2]), f"records_sent={r[3]}"
    elif kind == K.PROC_EXIT:
        exitcode, text = str(r[3]), f"worker={worker_name(r[2], producers)}"
    elif kind == K.RUN_START:
        text = f"producers={r[2]} consumers={r[3]} tasks_total={r[4]}"
    elif kind == K.QUEUE_INFO:
        text = f"maxsize={r[2]}"
    return [
        str(src), worker_name(src, producers), str(seq), kind.name, _num(r[1] - t0), t_end,
        task_id, label, value, exitcode, text,
    ]  # fmt: skip


def export_csv(trace: Trace, out: PathLike | IO[str]) -> int:
    """One row per event, in time order, columns :data:`CSV_COLUMNS`; returns the row count.

    Times are seconds since the run started (RUN_START), pauses included. ``out`` is a path or
    an open text file (opened with ``newline=""``).
    """
    t0 = trace.t0
    producers = trace.config.producers
    labels = _task_labels(trace)
    n = 0
    with _text_out(out, newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(CSV_COLUMNS)
        for _, src, seq, r in _records(trace):
            w.writerow(_csv_row(src, seq, r, t0, producers, labels))
            n += 1
    return n


# ---------------------------------------------------------------------------- chrome trace


def _task_name(label: int) -> tuple[str, str]:
    """Slice name and category of a taken item."""
    if label == LABEL_NONE:
        return "sentinel (None)", "sentinel"
    if label == LABEL_OTHER:
        return "task (item)", "task"
    return f"task {label}", "task"


class _ChromeBuilder:
    def __init__(self, trace: Trace) -> None:
        self.trace = trace
        self.t0 = trace.t0
        self.producers = trace.config.producers
        self.events: list[dict[str, Any]] = []
        self.pids: dict[int, int] = {}

    def us(self, t: float) -> int:
        # Integer microseconds: rounding each endpoint the same way keeps nested slices nested
        # in every viewer, whatever it does with fractional timestamps.
        return round((t - self.t0) * 1e6)

    def slice(
        self, src: int, name: str, cat: str, t0: float, t1: float, args: dict | None = None
    ) -> None:
        ts = self.us(t0)
        ev: dict[str, Any] = {
            "name": name, "cat": cat, "ph": "X", "ts": ts, "dur": max(0, self.us(t1) - ts),
            "pid": self.pids[src], "tid": self.pids[src],
        }  # fmt: skip
        if args:
            ev["args"] = args
        self.events.append(ev)

    def instant(
        self, src: int, name: str, cat: str, t: float, args: dict | None = None, scope: str = "t"
    ) -> None:
        ev: dict[str, Any] = {
            "name": name, "cat": cat, "ph": "i", "s": scope, "ts": self.us(t),
            "pid": self.pids[src], "tid": self.pids[src],
        }  # fmt: skip
        if args:
            ev["args"] = args
        self.events.append(ev)

    def build(self) -> dict[str, Any]:
        trace = self.trace
        streams: dict[int, list[tuple]] = {}
        for src, _, records in trace.batches:
            streams.setdefault(src, []).extend(records)
        srcs = set(streams) | {0}
        cfg = trace.config
        srcs |= set(range(1, cfg.producers + cfg.consumers + 1))
        real: dict[int, int] = {}
        for src, records in streams.items():
            for r in records:
                if r[0] == K.WORKER_START and r[2] > 0:
                    real[src] = r[2]
        self._assign_pids(srcs, real)
        for src in sorted(srcs):
            name = worker_name(src, self.producers)
            shown = f"{name} (pid {real[src]})" if src in real else name
            pid = self.pids[src]
            self.events += [
                {"name": "process_name", "ph": "M", "pid": pid, "tid": pid,
                 "args": {"name": shown}},
                {"name": "process_sort_index", "ph": "M", "pid": pid, "tid": pid,
                 "args": {"sort_index": src}},
                {"name": "thread_name", "ph": "M", "pid": pid, "tid": pid,
                 "args": {"name": name}},
            ]  # fmt: skip
        meta = len(self.events)
        self._slices(streams)
        self._counters(streams)
        body = self.events[meta:]
        body.sort(key=lambda e: (e["ts"], -e.get("dur", 0)))
        return {
            "traceEvents": self.events[:meta] + body,
            "displayTimeUnit": "ms",
            "otherData": {
                "source": "QueueLab",
                "queuelab": trace.queuelab,
                "trace_version": trace.version,
                "created": trace.created,
                "config": cfg.to_mapping(),
            },
        }

    def _assign_pids(self, srcs: set[int], real: dict[int, int]) -> None:
        used = set()
        for src in sorted(srcs):
            pid = real.get(src)
            if pid is not None and pid not in used:
                self.pids[src] = pid
                used.add(pid)
        spare = 1
        for src in sorted(srcs):
            if src not in self.pids:
                while spare in used:
                    spare += 1
                self.pids[src] = spare
                used.add(spare)

    def _slices(self, streams: dict[int, list[tuple]]) -> None:
        labels = _task_labels(self.trace)
        end_t = (
            max(effect_time(r) for rs in streams.values() for r in rs)
            if any(streams.values())
            else self.t0
        )
        exit_t: dict[int, float] = {}
        get_begins: dict[int, list[float]] = {}
        for src, records in streams.items():
            for r in records:
                if r[0] == K.GET:
                    get_begins.setdefault(src, []).append(r[1])
                elif r[0] == K.WORKER_EXIT:
                    exit_t.setdefault(src, r[1])
                elif r[0] == K.PROC_EXIT:
                    exit_t.setdefault(r[2], r[1])
        for v in get_begins.values():
            v.sort()
        taken: dict[int, tuple[int, float]] = {}  # tid -> (getter src, get return)
        waited: set[int] = set()  # tids whose put said PUT_BLOCKED: blocked, however short
        joins: dict[int, float] = {}
        # Task slices close on task_done, which may come in another stream: go in time order.
        for _, src, _, r in _records(self.trace):
            kind = r[0]
            if kind == K.GET:
                self.slice(src, "get (waiting)", "wait", r[1], r[2])
                if r[3] != -1:
                    taken[r[3]] = (src, r[2])
            elif kind == K.GET_EMPTY:
                n = r[3]
                polls = "get → queue.Empty" if n == 1 else f"get → queue.Empty ×{n}"
                self.slice(src, polls, "wait", r[1], r[2], {"calls": n})
            elif kind == K.PUT:
                label = r[4]
                shown = "None" if label == LABEL_NONE else label
                blocked = r[3] in waited or self.us(r[2]) - self.us(r[1]) > BLOCKED_PUT_US
                self.slice(
                    src,
                    f"put {shown}" + (" (blocked: queue full)" if blocked else ""),
                    "blocked" if blocked else "put",
                    r[1],
                    r[2],
                    {"task_id": r[3]},
                )
            elif kind == K.PUT_FULL:
                self.slice(src, "put → queue.Full", "blocked", r[1], r[2])
            elif kind == K.PUT_BLOCKED:
                # When the wait began: its put slice (on return) spans the wait.
                waited.add(r[BLOCKED_TID])
                self.instant(src, "put blocked: queue full", "blocked", r[1],
                             {"task_id": r[BLOCKED_TID], "label": r[BLOCKED_LABEL]})  # fmt: skip
            elif kind == K.TASK_DONE:
                got = taken.pop(r[2], None)
                if got is not None:
                    self._task_slice(got[0], r[2], got[1], r[1], labels, done=True)
            elif kind == K.TASK_DONE_ERROR:
                self.instant(src, "task_done() raised ValueError", "error", r[1], {"text": r[2]})
            elif kind == K.TASK_FAIL:
                self.instant(src, "task failed", "error", r[1], {"task_id": r[2], "text": r[3]})
            elif kind == K.TASK_RETRY:
                self.instant(src, "retry", "task", r[1], {"task_id": r[2], "attempt": r[3]})
            elif kind == K.TASK_ABANDON:
                # The failure path skipped task_done(): its task slice ends at the next get.
                self.instant(src, "back to get() without task_done()", "error", r[1],
                             {"task_id": r[STEP_TID]})  # fmt: skip
            elif kind == K.TASK_RESULT:
                what = "returned" if r[3] else "raised"
                self.instant(src, what, "task" if r[3] else "error", r[1],
                             {"task_id": r[2], what: r[4]})  # fmt: skip
            elif kind == K.JOIN_BEGIN:
                joins[src] = r[1]
                self.instant(src, "queue.join() called", "join", r[1])
            elif kind == K.JOIN_END:
                begin = joins.pop(src, None)
                if begin is not None:
                    self.slice(src, "queue.join()", "join", begin, r[1])
                self.instant(src, "queue.join() returned", "join", r[1])
            elif kind == K.PRODUCERS_JOINED:
                self.instant(src, "producers joined", "join", r[1])
            elif kind == K.WORKER_START:
                self.instant(src, "started", "lifecycle", r[1], {"pid": r[2]})
            elif kind == K.WORKER_EXIT:
                self.instant(
                    src, f"exit {r[2]}", "lifecycle", r[1], {"exitcode": r[2], "records_sent": r[3]}
                )
            elif kind == K.PROC_EXIT:
                if r[2] in self.pids:
                    self.instant(
                        r[2],
                        f"process ended (exit code {r[3]})",
                        "lifecycle",
                        r[1],
                        {"exitcode": r[3]},
                    )
            elif kind in (K.RUN_START, K.RUN_END, K.STOP):
                text = {K.RUN_START: "run start", K.RUN_END: "run end", K.STOP: "stop"}[kind]
                args = {"reason": r[2]} if kind != K.RUN_START else None
                self.instant(src, text, "run", r[1], args, scope="g")
            elif kind in (K.PAUSE, K.RESUME, K.PAUSED):
                self.instant(src, Kind(kind).name.lower(), "run", r[1])
            elif kind == K.STALL:
                self.instant(src, "stall", "run", r[1], {"text": r[2]})
            elif kind == K.QUEUE_INFO:
                self.instant(src, f"queue maxsize {r[2]}", "run", r[1], {"maxsize": r[2]})
        for tid, (src, t_get) in taken.items():
            # Never task_done'd: the consumer left it when it went back to get() or exited.
            begins = get_begins.get(src, [])
            i = bisect.bisect_right(begins, t_get)
            stop = begins[i] if i < len(begins) else exit_t.get(src, end_t)
            self._task_slice(src, tid, t_get, max(stop, t_get), labels, done=False)
        for src, begin in joins.items():
            self.slice(src, "queue.join() (never returned)", "join", begin, max(end_t, begin))

    def _task_slice(
        self,
        src: int,
        tid: int,
        t0: float,
        t1: float,
        labels: dict[int, tuple[int, Any]],
        *,
        done: bool,
    ) -> None:
        label, value = labels.get(tid, (LABEL_OTHER, None))
        name, cat = _task_name(label)
        if not done:
            name, cat = name + " (no task_done)", cat + "_incomplete"
        args: dict[str, Any] = {"task_id": tid, "label": label}
        if isinstance(value, float) and math.isfinite(value):
            args["value"] = value
        self.slice(src, name, cat, t0, t1, args)

    def _counters(self, streams: dict[int, list[tuple]]) -> None:
        """Queue depth and unfinished count (what join() waits on) as counter tracks."""
        deltas: list[tuple[float, int, int]] = []
        for records in streams.values():
            for r in records:
                if r[0] == K.PUT:
                    deltas.append((r[2], 1, 1))
                elif r[0] == K.GET:
                    deltas.append((r[2], -1, 0))
                elif r[0] == K.TASK_DONE:
                    deltas.append((r[1], 0, -1))
        deltas.sort(key=lambda d: d[0])
        pid = self.pids[0]
        depth = unfinished = 0
        self.events.append(
            {
                "name": "queue depth",
                "ph": "C",
                "ts": 0,
                "pid": pid,
                "tid": pid,
                "args": {"depth": 0},
            }
        )
        self.events.append(
            {
                "name": "unfinished tasks",
                "ph": "C",
                "ts": 0,
                "pid": pid,
                "tid": pid,
                "args": {"unfinished": 0},
            }
        )
        for t, dd, du in deltas:
            depth += dd
            unfinished += du
            ts = self.us(t)
            if dd:
                self.events.append(
                    {
                        "name": "queue depth",
                        "ph": "C",
                        "ts": ts,
                        "pid": pid,
                        "tid": pid,
                        "args": {"depth": depth},
                    }
                )
            if du:
                self.events.append(
                    {
                        "name": "unfinished tasks",
                        "ph": "C",
                        "ts": ts,
                        "pid": pid,
                        "tid": pid,
                        "args": {"unfinished": unfinished},
                    }
                )


def export_chrome(trace: Trace, out: PathLike | IO[str]) -> int:
    """Chrome trace-event JSON for Perfetto / chrome://tracing; returns the event count.

    Each process is a track (pid = the worker's OS pid when recorded); each task taken is a
    complete slice "task <label>" on its consumer's track, from get() returning to task_done();
    waits in get() and puts are slices too; joins, exits, failures, puts blocked on a full queue
    and task_done() skipped after a failure are instant events; queue depth and the unfinished
    count are counter tracks. Times are µs since the run started.
    """
    doc = _ChromeBuilder(trace).build()
    with _text_out(out, newline="\n") as f:
        json.dump(doc, f, separators=(",", ":"), allow_nan=False)
        f.write("\n")
    return len(doc["traceEvents"])


FORMATS = {"csv": export_csv, "chrome": export_chrome}
