"""Step mode's process side: the gate a worker's (or main's) queue operations wait at.

Kept apart from the controller (engine/step.py) so a worker imports only this. A worker sends
``(op, tid, label, value, seq)`` on its gate pipe and waits for a grant; a join reports
``("entered", seq)`` once its JOIN_BEGIN is out; every operation ends with ``("done", seq)``.
``seq`` is how many records the process has shipped, so the parent judges a model that has
them all. One shared byte says whether the run is stepping: a free run pays one read of it.
"""

from __future__ import annotations

import threading
from time import perf_counter
from typing import TYPE_CHECKING, Any

from engine.events import LABEL_NONE, Kind, label_of

if TYPE_CHECKING:
    from engine.step import StepController

OP_PUT, OP_GET, OP_TASK_DONE, OP_JOIN = (
    int(Kind.PUT), int(Kind.GET), int(Kind.TASK_DONE), int(Kind.JOIN_BEGIN)
)
MAIN = 0  # the parent's coordinator thread plays the program's main process
_STEP_GATE = int(Kind.STEP_GATE)
_DONE = "done"


def describe_item(obj: Any) -> tuple[int, float]:
    """(label, value) of a put item, as the PUT record carries them."""
    if obj is None:
        return LABEL_NONE, 0.0
    if type(obj) is tuple:
        return label_of(obj)
    return -2, 0.0


# ---------------------------------------------------------------------------- process side


class WorkerGate:
    """A worker's side: announce, wait for the grant, report the operation done.

    Bound to the worker's TracedJoinableQueue (``bind_gate``); costs one shared-byte read per
    operation while the run is not stepping.
    """

    def __init__(self, conn: Any, flag: Any, rec: Any) -> None:
        self._conn = conn
        self._flag = flag
        self._rec = rec
        self._announced = False

    def wait(self, op: int, tid: int, obj: Any = None) -> None:
        if not self._flag.value:
            return
        label, value = describe_item(obj) if op == OP_PUT else (-2, 0.0)
        # From here it waits for permission: its timeline row says so (not "producing").
        self._rec.emit((_STEP_GATE, perf_counter()))
        self._rec.flush()  # the parent judges this step on a model that has everything before it
        self._conn.send((op, tid, label, value, self._rec.records_sent))
        self._announced = True
        try:
            self._conn.recv()
        except (EOFError, OSError):
            raise SystemExit(0) from None  # the run is over: the parent closed the gate

    def entered(self) -> None:
        """A join has recorded its beginning and is about to wait (maybe for long)."""
        if self._announced:
            self._rec.flush()
            self._conn.send(("entered", self._rec.records_sent))

    def done(self) -> None:
        if self._announced:
            self._announced = False
            self._rec.flush()
            try:
                self._conn.send((_DONE, self._rec.records_sent))
            except (OSError, ValueError):
                pass


class MainGate:
    """The coordinator thread's side (in the parent): the same calls, without a pipe."""

    def __init__(self, controller: StepController, rec: Any) -> None:
        self._ctl = controller
        self._rec = rec
        self._granted = threading.Event()
        self._announced = False
        self.released = threading.Event()  # set when the run stops: never wait again

    def wait(self, op: int, tid: int, obj: Any = None) -> None:
        ctl = self._ctl
        if self.released.is_set() or not ctl.stepping:
            return
        label, value = describe_item(obj) if op == OP_PUT else (-2, 0.0)
        self._rec.emit((_STEP_GATE, perf_counter()))
        self._granted.clear()
        self._announced = True
        ctl._message(MAIN, (op, tid, label, value, self._rec.records_sent))
        while not self._granted.wait(0.05):
            if self.released.is_set():
                return

    def entered(self) -> None:
        if self._announced:
            self._ctl._message(MAIN, ("entered", self._rec.records_sent))

    def done(self) -> None:
        if self._announced:
            self._announced = False
            self._ctl._message(MAIN, (_DONE, self._rec.records_sent))

    def emit(self, record: tuple) -> None:
        """A record of the parent's own (the controller's STEP_HOLD), shipped at once."""
        self._rec.emit(record)
        self._rec.flush()

    def waiting_for(self, srcs: list[int], what: str) -> None:
        """Main now waits (outside the queue) for these workers to exit."""
        self._ctl._message(MAIN, ("waiting", tuple(srcs), what))

    def grant(self) -> None:
        self._granted.set()
