"""Event kinds and the compact record shapes that cross from worker processes to the parent.

A *record* is a plain tuple whose first item is a :class:`Kind`; the rest depends on the kind
(see ``SCHEMA``). Records travel in batches ``(src, first_seq, [record, ...])`` so the i-th
record of a batch has sequence number ``first_seq + i`` in its source's stream. Plain tuples of
ints, floats and short strings keep pickling cheap: the tracing budget is about 1 µs per task.

``src`` numbers the stream: 0 is the parent (coordinator), 1.. are the workers in the order
producers then consumers (see :func:`worker_name`).
"""

from __future__ import annotations

from enum import IntEnum, unique


@unique  # two kinds on one number would silently be one kind (an alias)
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
    PUT_BLOCKED = 10  # (K, t_begin, tid, label, value)   a put found the bounded queue full and
    #                  waits for room from t_begin (shipped at once); its PUT follows on return
    # worker lifecycle and work, recorded by QueueLab's own workers
    WORKER_START = 20  # (K, t, pid, role, index)        role: 0 producer, 1 consumer
    WORKER_EXIT = 21  # (K, t, exitcode, records_sent)   records_sent includes this one
    TASK_START = 22  # (K, t, tid)
    TASK_END = 23  # (K, t, tid)
    TASK_FAIL = 24  # (K, t, tid, text)
    TASK_RETRY = 25  # (K, t, tid, attempt)             the re-put follows as a PUT
    PAUSED = 26  # (K, t)                               a worker holds at a step
    # a traced program's processes (python main.py trace; engine/tracer.py)
    PROC_INFO = 27  # (K, t, pid, name)                  first record of a traced process
    LINE = 28  # (K, t, op, file, line)                 the next `op` (a Kind) of this stream
    #                                                    is called from file:line (on change)
    QUEUE = 29  # (K, t, qid)                           this stream's next records are about qid
    QUEUE_NEW = 30  # (K, t, qid, maxsize, joinable, file, line)  a queue made at file:line
    PROC_JOIN = 31  # (K, t, pid, returned)             Process.join() (no timeout) of pid
    # the user's own function, recorded by QueueLab's consumers
    TASK_RESULT = 32  # (K, t, tid, ok, text)            the user's own function (workload =
    #                  "module:function") returned (ok 1, text its repr, shortened) or raised
    #                  (ok 0, text its traceback); TASK_END or TASK_FAIL follows
    TASK_ABANDON = 33  # (K, t, tid)                    after TASK_FAIL: back to get() without
    #                  task_done() for tid (on_failure = "skip_task_done", the lesson's bug)
    # parent (src 0)
    PROC_END = 34  # (K, t, pid)                       (trace) the program itself ended process
    # pid: Process.terminate() or kill() (a Pool's end, a daemon at exit), not a fault
    RUN_START = 40  # (K, t, producers, consumers, tasks_total)
    PRODUCERS_JOINED = 41  # (K, t)
    PROC_EXIT = 42  # (K, t, worker_src, exitcode)      seen through the process sentinel
    PAUSE = 43  # (K, t)
    RESUME = 44  # (K, t)
    STOP = 45  # (K, t, reason)
    RUN_END = 46  # (K, t, reason)                      reason: "joined", "stopped", "died", ...
    STALL = 47  # (K, t, text)                          the queue stopped moving
    QUEUE_INFO = 48  # (K, t, maxsize)                   right after RUN_START
    MAIN_BLOCKED = 49  # (K, t, blocked)                 a traced program's main waits in a join
    # step mode (engine/step.py)
    STEP_GATE = 50  # (K, t)                            this process waits for permission to
    #                                                    do its next queue operation
    STEP_HOLD = 51  # (K, t, held)                      (parent) held 1: every process waits at
    #                  a step gate for the user's choice from t on; held 0: a choice was made at
    #                  t. That time is not the program's: taken out of the clock, as a pause


ROLE_PRODUCER = 0
ROLE_CONSUMER = 1
ROLE_COORDINATOR = 2  # a traced process that only joins (neither puts nor gets)
LABEL_NONE = -1  # the item put was None: the tutorial's sentinel
LABEL_OTHER = -2  # not an (int, ...) tuple

# ------------------------------------------------------------------------------ the schema
# One table says what every record holds. Everything else is derived from it: the field count
# (SHAPES), the names (FIELD_NAMES), the trace file's type checks (engine/tracefile/checks.py) and
# which time orders a record (effect_time). Types: "num" a number, "int" an integer, "str"
# text, "val" a number or null (a put's value; null where it was NaN or infinite).
# Queue calls are recorded when they return (or raise): that second time is the one that
# orders them, within a stream and across streams (RETURNED).
SCHEMA: dict[Kind, tuple[tuple[str, str], ...]] = {
    Kind.PUT: (("t_return", "num"), ("tid", "int"), ("label", "int"), ("value", "val")),
    Kind.PUT_FULL: (("t_raise", "num"),),
    Kind.GET: (("t_return", "num"), ("tid", "int")),
    Kind.GET_EMPTY: (("t_last", "num"), ("count", "int")),
    Kind.TASK_DONE: (("tid", "int"),),
    Kind.TASK_DONE_ERROR: (("text", "str"),),
    Kind.JOIN_BEGIN: (),
    Kind.JOIN_END: (),
    Kind.FEED_ERROR: (("tid", "int"), ("text", "str")),
    Kind.PUT_BLOCKED: (("tid", "int"), ("label", "int"), ("value", "val")),
    Kind.WORKER_START: (("pid", "int"), ("role", "int"), ("index", "int")),
    Kind.WORKER_EXIT: (("exitcode", "int"), ("records_sent", "int")),
    Kind.TASK_START: (("tid", "int"),),
    Kind.TASK_END: (("tid", "int"),),
    Kind.TASK_FAIL: (("tid", "int"), ("text", "str")),
    Kind.TASK_RETRY: (("tid", "int"), ("attempt", "int")),
    Kind.PAUSED: (),
    Kind.TASK_RESULT: (("tid", "int"), ("ok", "int"), ("text", "str")),
    Kind.TASK_ABANDON: (("tid", "int"),),
    Kind.PROC_INFO: (("pid", "int"), ("name", "str")),
    Kind.LINE: (("op", "int"), ("file", "str"), ("line", "int")),
    Kind.QUEUE: (("qid", "int"),),
    Kind.QUEUE_NEW: (
        ("qid", "int"), ("maxsize", "int"), ("joinable", "int"), ("file", "str"), ("line", "int"),
    ),
    Kind.PROC_JOIN: (("pid", "int"), ("returned", "int")),
    Kind.PROC_END: (("pid", "int"),),
    Kind.RUN_START: (("producers", "int"), ("consumers", "int"), ("tasks_total", "int")),
    Kind.PRODUCERS_JOINED: (),
    Kind.PROC_EXIT: (("worker_src", "int"), ("exitcode", "int")),
    Kind.PAUSE: (),
    Kind.RESUME: (),
    Kind.STOP: (("reason", "str"),),
    Kind.RUN_END: (("reason", "str"),),
    Kind.STALL: (("text", "str"),),
    Kind.QUEUE_INFO: (("maxsize", "int"),),
    Kind.MAIN_BLOCKED: (("blocked", "int"),),
    Kind.STEP_GATE: (),
    Kind.STEP_HOLD: (("held", "int"),),
}
RETURNED = frozenset((Kind.PUT, Kind.PUT_FULL, Kind.GET, Kind.GET_EMPTY))

# Number of fields (kind included) per record kind.
SHAPES: dict[Kind, int] = {k: 2 + len(f) for k, f in SCHEMA.items()}
# Field names after the kind, "t" first.
FIELD_NAMES: dict[Kind, tuple[str, ...]] = {
    k: ("t", *(name for name, _ in f)) for k, f in SCHEMA.items()
}
# Index of the time that orders a record: its return for queue calls, else its one time.
EFFECT_AT: dict[int, int] = {int(k): 2 if k in RETURNED else 1 for k in SCHEMA}
_RETURNED_INTS = frozenset(int(k) for k in RETURNED)


def effect_time(r: tuple) -> float:
    """When a record took effect: a queue call when it returned, anything else at its time."""
    return r[2] if r[0] in _RETURNED_INTS else r[1]


class RecordError(ValueError):
    """A record the model refuses, in words naming its stream, kind and field."""


# Where a kind's task id sits. The model computes with it as an int (the stream is tid >> 32),
# so another type is refused at the door; its bulk path would read 3.0 as 3, its one-by-one
# path raised TypeError: the two must not disagree.
_TID_AT: dict[int, int] = {
    int(k): names.index("tid") + 1 for k, names in FIELD_NAMES.items() if "tid" in names
}


def checked_effect_time(r: tuple, src: int) -> float:
    """:func:`effect_time` of a record whose task id (if it has one) is an integer; else
    :class:`RecordError`."""
    at = _TID_AT.get(r[0])
    if at is not None and not isinstance(r[at], int):
        raise RecordError(
            f"stream {src}: {Kind(r[0]).name} record field {at + 1} (tid) must be an integer, "
            f"got {r[at]!r:.40}"
        )
    return effect_time(r)


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
