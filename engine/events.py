"""Event kinds and the compact record shapes that cross from worker processes to the parent.

A *record* is a plain tuple whose first item is a :class:`Kind`; the rest depends on the kind
(see ``SHAPES``). Records travel in batches ``(src, first_seq, [record, ...])`` so the i-th
record of a batch has sequence number ``first_seq + i`` in its source's stream. Plain tuples of
ints, floats and short strings keep pickling cheap: the tracing budget is about 1 µs per task.

``src`` numbers the stream: 0 is the parent (coordinator), 1.. are the workers in the order
producers then consumers (see :func:`worker_name`).
"""

from __future__ import annotations

from enum import IntEnum
from typing import NamedTuple


class Kind(IntEnum):
    # queue operations, recorded by TracedJoinableQueue in whichever process calls them
    PUT = 1  # (K, t_begin, t_return, tid, label, value)  label: item[0] if int, -1 for None
    PUT_FULL = 2  # (K, t_begin, t_raise)                  queue.Full raised
    GET = 3  # (K, t_begin, t_return, tid)
    GET_EMPTY = 4  # (K, t_first, t_last, count)          consecutive queue.Empty raised
    TASK_DONE = 5  # (K, t, tid)                          tid -1: nothing taken in this process
    TASK_DONE_ERROR = 6  # (K, t, text)                   ValueError: called too many times
    JOIN_BEGIN = 7  # (K, t)
    JOIN_END = 8  # (K, t)
    FEED_ERROR = 9  # (K, t, tid, text)                 the feeder could not send the item
    # worker lifecycle and work, recorded by QueueLab's own workers
    WORKER_START = 20  # (K, t, pid, role, index)        role: 0 producer, 1 consumer
    WORKER_EXIT = 21  # (K, t, exitcode, records_sent)   records_sent includes this one
    TASK_START = 22  # (K, t, tid)
    TASK_END = 23  # (K, t, tid)
    TASK_FAIL = 24  # (K, t, tid, text)
    TASK_RETRY = 25  # (K, t, tid, attempt)             the re-put follows as a PUT
    PAUSED = 26  # (K, t)                               a worker holds at a step
    # parent (src 0)
    RUN_START = 40  # (K, t, producers, consumers, tasks_total)
    PRODUCERS_JOINED = 41  # (K, t)
    PROC_EXIT = 42  # (K, t, worker_src, exitcode)      seen through the process sentinel
    PAUSE = 43  # (K, t)
    RESUME = 44  # (K, t)
    STOP = 45  # (K, t, reason)
    RUN_END = 46  # (K, t, reason)                      reason: "joined", "stopped", "died", ...
    STALL = 47  # (K, t, text)                          the queue stopped moving
    QUEUE_INFO = 48  # (K, t, maxsize)                   right after RUN_START


ROLE_PRODUCER = 0
ROLE_CONSUMER = 1
LABEL_NONE = -1  # the item put was None: the tutorial's sentinel
LABEL_OTHER = -2  # not an (int, ...) tuple

# Number of fields (kind included) per record kind; the trace reader checks against it.
SHAPES: dict[Kind, int] = {
    Kind.PUT: 6, Kind.PUT_FULL: 3, Kind.GET: 4, Kind.GET_EMPTY: 4, Kind.TASK_DONE: 3,
    Kind.TASK_DONE_ERROR: 3, Kind.JOIN_BEGIN: 2, Kind.JOIN_END: 2, Kind.FEED_ERROR: 4,
    Kind.WORKER_START: 5, Kind.WORKER_EXIT: 4, Kind.TASK_START: 3, Kind.TASK_END: 3,
    Kind.TASK_FAIL: 4, Kind.TASK_RETRY: 4, Kind.PAUSED: 2, Kind.RUN_START: 5,
    Kind.PRODUCERS_JOINED: 2, Kind.PROC_EXIT: 4, Kind.PAUSE: 2, Kind.RESUME: 2, Kind.STOP: 3,
    Kind.RUN_END: 3, Kind.STALL: 3, Kind.QUEUE_INFO: 3,
}


class Event(NamedTuple):
    """One decoded record with its origin; what logs, traces and tests look at."""

    src: int
    seq: int
    kind: Kind
    t: float
    fields: tuple  # the record's items after (kind, t)


def decode(src: int, first_seq: int, records: list[tuple]) -> list[Event]:
    return [
        Event(src, first_seq + i, Kind(r[0]), r[1], tuple(r[2:])) for i, r in enumerate(records)
    ]


def worker_name(src: int, producers: int) -> str:
    """``producer-0``, ``consumer-2``, or ``main`` for the parent."""
    if src == 0:
        return "main"
    if src <= producers:
        return f"producer-{src - 1}"
    return f"consumer-{src - 1 - producers}"


def worker_src(name: str, producers: int) -> int:
    role, _, idx = name.partition("-")
    if role == "producer":
        return 1 + int(idx)
    if role == "consumer":
        return 1 + producers + int(idx)
    return 0


def label_of(item: object) -> tuple[int, float]:
    """What a put shows of its item: the tutorial's ``(i, value)`` or a marker."""
    if item is None:
        return LABEL_NONE, 0.0
    if type(item) is tuple and item and type(item[0]) is int:
        v = item[1] if len(item) > 1 and type(item[1]) is float else 0.0
        return item[0], v
    return LABEL_OTHER, 0.0
