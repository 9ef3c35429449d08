"""Step mode: every queue operation of every process waits for permission, granted one at a time.

Workers (and the parent's coordinator thread, the program's ``main``) announce each put, get,
task_done and join before it happens and wait; the :class:`StepController` in the parent sees
what every process will do next and lets exactly one go. Whether an operation would block is
derived from the model's counters (depth, unfinished), never from ``qsize()``; a granted
operation that would block blocks for real in CPython's queue, and stepping another process can
unblock it. Work inside a task (sleep/cpu) is not a queue operation and runs freely.

Transport (lean, no Qt, workers import only the engine): one duplex pipe per worker, made by the
runner, and one shared byte saying "stepping". A worker sends ``(op, tid, label, value, seq)``
and waits for a grant; after the operation it sends ``("done", seq)``; ``seq`` is how many
records it has shipped, so the controller judges only a model that has them all. The records
themselves still flow through the worker's own event pipe: nothing here holds them back.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from multiprocessing.connection import wait
from time import perf_counter
from typing import Any

from engine.events import LABEL_NONE, Kind
from engine.states import JoinState
from engine.step_gate import _DONE, MAIN, OP_GET, OP_JOIN, OP_PUT, OP_TASK_DONE, MainGate

OP_NAMES = {OP_PUT: "put", OP_GET: "get", OP_TASK_DONE: "task_done", OP_JOIN: "join"}
OP_CODES = {v: k for k, v in OP_NAMES.items()}
_STEP_HOLD = int(Kind.STEP_HOLD)


__all__ = ["MAIN", "OP_CODES", "OP_NAMES", "MainGate", "Proc", "State", "Step", "StepController",
           "StepError"]


class StepError(Exception):
    """A choice that cannot be made: unknown process, nothing pending, a schedule step refused."""


# ---------------------------------------------------------------------------- parent side


class State(Enum):
    STARTING = "starting"
    PENDING = "pending"  # announced, waiting for permission
    GRANTED = "granted"  # let go, the operation not finished yet (maybe blocked in it)
    RUNNING = "running"  # between operations (a task's work, a producer's pacing)
    WAITING = "waiting"  # main only: waiting for workers to exit (Process.join)
    EXITED = "exited"


@dataclass
class Proc:
    src: int
    name: str
    state: State = State.STARTING
    op: int = 0
    tid: int = -1
    label: int = -2
    value: float = 0.0
    seq: int = 0  # records shipped before the latest message
    entered: bool = False  # a granted join has recorded its JOIN_BEGIN
    order: int = 0  # announcement order ("next" = the earliest waiting)
    awaits: tuple[int, ...] = ()
    awaits_what: str = ""


@dataclass(frozen=True)
class Step:
    """One granted operation of a schedule."""

    name: str
    op: str
    note: str = ""  # what it was, for the saved file's comment

    def text(self) -> str:
        return f"{self.name}:{self.op}"


class StepController:
    """The parent's view of every process's next operation; grants one at a time.

    Messages arrive on a reader thread; everything that needs the model (blocked or not, a
    schedule's next step) is decided in :meth:`tick`, called by whoever feeds the model
    (``Run.poll``), on that thread.
    """

    def __init__(
        self, names: dict[int, str], maxsize: int, flag: Any, *, stepping: bool = True,
        wake: Callable[[], None] | None = None,
    ) -> None:  # fmt: skip
        self.procs: dict[int, Proc] = {src: Proc(src, n) for src, n in sorted(names.items())}
        self.procs[MAIN].state = State.RUNNING
        self.maxsize = maxsize
        self._flag = flag
        self._flag.value = 1 if stepping else 0
        self._wake = wake or (lambda: None)
        self._lock = threading.RLock()
        self._conns: dict[Any, int] = {}
        self._inbox: list[tuple[int, tuple]] = []
        self._order = 0
        self._closed = threading.Event()
        self._thread: threading.Thread | None = None
        self.main_gate: MainGate | None = None
        self.schedule: list[Step] = []  # every step granted, in order
        self.plan: list[tuple[Step, int]] = []  # (step, line number) still to follow
        self.plan_source = ""
        self.plan_done = 0  # steps of the plan granted so far
        self.after_plan = "free"  # "free": run freely once followed; "step": keep stepping
        self.error: StepError | None = None
        self.changed = 0  # bumped at every state change (views redraw on it)
        # The user's think time: from the moment every process waits at its gate (or is
        # blocked) with a choice to make, until one is made. The model takes it out of the
        # run's clock (a STEP_HOLD record each way), as it does a pause.
        self._last_message_t = 0.0  # when the gates last said anything (perf_counter)
        self.held_since: float | None = None

    @property
    def stepping(self) -> bool:
        return bool(self._flag.value)

    # ------------------------------------------------------------ wiring (Run.start)
    def add_worker(self, src: int, conn: Any) -> None:
        self._conns[conn] = src

    def start(self) -> None:
        self._thread = threading.Thread(target=self._read, name="queuelab-step", daemon=True)
        self._thread.start()

    def release(self) -> None:
        """The run stops: nobody waits for a grant any more (workers are terminated)."""
        with self._lock:
            self._flag.value = 0
            self.plan = []
            self._end_hold()
        if self.main_gate is not None:
            self.main_gate.released.set()

    def close(self) -> None:
        self.release()
        self._closed.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(1.0)
        for conn in list(self._conns):
            try:
                conn.close()
            except OSError:
                pass
        self._conns.clear()

    def _read(self) -> None:
        while not self._closed.is_set():
            conns = list(self._conns)
            if not conns:
                return
            for conn in wait(conns, timeout=0.05):
                src = self._conns.get(conn)
                if src is None:
                    continue
                try:
                    msg = conn.recv()
                except (EOFError, OSError):
                    self._conns.pop(conn, None)
                    conn.close()
                    msg = ("eof",)
                self._message(src, msg)

    def _message(self, src: int, msg: tuple) -> None:
        with self._lock:
            self._last_message_t = perf_counter()
            if type(msg[0]) is int and not self.stepping:
                # Free running (or it announced just as Run was pressed): let it go at once.
                self._inbox.append((src, msg))
                self._inbox.append((src, ("free",)))
                self._send_grant(src)
            else:
                self._inbox.append((src, msg))
        self._wake()

    def _send_grant(self, src: int) -> None:
        if src == MAIN:
            if self.main_gate is not None:
                self.main_gate.grant()
            return
        for conn, s in list(self._conns.items()):
            if s == src:
                try:
                    conn.send(1)
                except (OSError, ValueError):
                    pass
                return

    # ------------------------------------------------------------ state from messages
    def _apply(self, src: int, msg: tuple) -> None:
        p = self.procs[src]
        kind = msg[0]
        if type(kind) is int:
            p.op, p.tid, p.label, p.value, p.seq = msg
            p.state = State.PENDING
            self._order += 1
            p.order = self._order
        elif kind == "free":
            p.state = State.GRANTED
            p.entered = False
        elif kind == "entered":
            p.entered = True
            p.seq = msg[1]
        elif kind == _DONE:
            p.seq = msg[1]
            p.state = State.RUNNING
        elif kind == "waiting":
            p.state, p.awaits, p.awaits_what = State.WAITING, msg[1], msg[2]
        elif kind == "eof":
            p.state = State.EXITED
        self.changed += 1

    def tick(self, model: Any) -> None:
        """Take the messages that came, and follow the schedule as far as the model allows."""
        with self._lock:
            inbox, self._inbox = self._inbox, []
            for src, msg in inbox:
                self._apply(src, msg)
            if self.plan and self.error is None:
                self._follow(model)
            self._note_hold(model)

    def _note_hold(self, model: Any) -> None:
        """Start the think time once nothing can move but by a choice (it ends at a grant)."""
        if self.held_since is not None or not self.stepping or self.main_gate is None:
            return
        if not any(p.state is State.PENDING for p in self.procs.values()):
            return  # everyone blocked or gone and nothing to choose: a hang, not thinking
        if self.quiet(model):
            # Since the last process stopped at its gate: nothing ran after that.
            self.held_since = self._last_message_t
            self.main_gate.emit((_STEP_HOLD, self.held_since, 1))

    def _end_hold(self) -> None:
        if self.held_since is not None and self.main_gate is not None:
            self.main_gate.emit((_STEP_HOLD, max(perf_counter(), self.held_since), 0))
        self.held_since = None

    # ------------------------------------------------------------ judging on the model
    def fed(self, p: Proc, model: Any) -> bool:
        """The model has every record this process shipped before its latest message."""
        if p.state is State.EXITED:
            w = model.workers.get(p.src)
            return w is None or w.exitcode is not None
        return model._expect_seq.get(p.src, 0) >= p.seq

    def would_block(self, p: Proc, model: Any) -> str | None:
        """Why ``p``'s operation (pending or granted) would block now, from the model; or None."""
        if p.op == OP_GET and model.depth <= 0:
            return "the queue is empty"
        if p.op == OP_PUT and 0 < self.maxsize <= model.depth:
            return f"the queue is full ({self.maxsize} items)"
        if p.op == OP_JOIN and model.unfinished > 0:
            n = model.unfinished
            return f"{n} item{'s' if n != 1 else ''} unfinished (put, not yet task_done)"
        return None

    def blocked(self, p: Proc, model: Any) -> str | None:
        """Why ``p`` cannot move by itself now (blocked in an operation, or main waiting)."""
        if p.state is State.GRANTED:
            if p.op == OP_JOIN and not p.entered:
                return None  # not inside join() yet: about to record its beginning
            if p.src != MAIN and p.op in (OP_GET, OP_PUT) and self._recorded_since(p, model):
                # Its record came through the event pipe before its "done" came through the
                # gate's: the operation is over, not blocked (the model already counts it).
                return None
            return self.would_block(p, model)
        if p.state is State.WAITING:
            left = [s for s in p.awaits if not self._exited(s, model)]
            if left:
                names = ", ".join(self.procs[s].name for s in left)
                return f"waiting for {names} to exit ({p.awaits_what})"
        return None

    def _recorded_since(self, p: Proc, model: Any) -> bool:
        return model._expect_seq.get(p.src, 0) > p.seq

    def _exited(self, src: int, model: Any) -> bool:
        w = model.workers.get(src)
        return w is not None and w.exitcode is not None

    def settled(self, model: Any) -> bool:
        """No operation is under way that could change the queue without a grant."""
        for p in self.procs.values():
            if p.state is State.GRANTED and self.blocked(p, model) is None:
                return False
            if p.state is State.WAITING and self.blocked(p, model) is None:
                return False
            if p.state in (State.PENDING, State.RUNNING, State.EXITED) and not self.fed(p, model):
                return False
        return True

    def quiet(self, model: Any) -> bool:
        """Settled, and every process is waiting for a grant, blocked or gone (none running)."""
        if not self.settled(model):
            return False
        return all(p.state not in (State.STARTING, State.RUNNING) for p in self.procs.values())

    def pending(self) -> list[Proc]:
        return sorted((p for p in self.procs.values() if p.state is State.PENDING),
                      key=lambda p: p.order)  # fmt: skip

    # ------------------------------------------------------------ choices
    def find(self, who: int | str) -> Proc:
        if isinstance(who, int) or (isinstance(who, str) and who.strip().isdigit()):
            src = int(who)
            if src in self.procs:
                return self.procs[src]
            raise StepError(f"there is no process number {src}")
        for p in self.procs.values():
            if p.name == str(who).strip():
                return p
        names = ", ".join(p.name for p in self.procs.values())
        raise StepError(f"there is no process named {who!r} (processes: {names})")

    def grant(self, who: int | str, model: Any = None) -> Proc:
        """Let ``who``'s pending operation happen (it may block for real); record the step."""
        with self._lock:
            p = self.find(who)
            if p.state is not State.PENDING:
                raise StepError(f"{p.name} has no operation waiting ({self.state_words(p, model)})")
            self._grant(p, model)
            return p

    def _grant(self, p: Proc, model: Any) -> None:
        note = self.op_text(p, model)
        self.schedule.append(Step(p.name, OP_NAMES[p.op], note))
        self._end_hold()
        p.state = State.GRANTED
        p.entered = False
        self.changed += 1
        self._send_grant(p.src)

    def next_choice(self, model: Any) -> Proc | None:
        """The earliest waiting operation that would not block; else the earliest waiting."""
        waiting = self.pending()
        free = [p for p in waiting if model is None or self.would_block(p, model) is None]
        return (free or waiting or [None])[0]

    def grant_next(self, model: Any) -> Proc | None:
        with self._lock:
            p = self.next_choice(model)
            if p is not None:
                self._grant(p, model)
            return p

    def run_free(self) -> None:
        """Free running: every waiting operation goes, and no more wait."""
        with self._lock:
            self._flag.value = 0
            self.plan = []
            self._end_hold()
            for p in self.pending():
                p.state = State.GRANTED
                self._send_grant(p.src)
            self.changed += 1

    def step_mode(self) -> None:
        """Pause every process again at its next queue operation."""
        with self._lock:
            self._flag.value = 1
            self.changed += 1

    # ------------------------------------------------------------ following a schedule
    def follow(self, steps: list[tuple[Step, int]], source: str = "", then: str = "free") -> None:
        with self._lock:
            self.plan = list(steps)
            self.plan_source = source
            self.plan_done = 0
            self.after_plan = then
            self.error = None
            if self.plan:
                self._flag.value = 1

    def _follow(self, model: Any) -> None:
        while self.plan:
            if not self.settled(model):
                return
            step, line = self.plan[0]
            number = self.plan_done + 1
            src = f"{self.plan_source} " if self.plan_source else ""
            where = f"step {number} ({src}line {line})"
            try:
                p = self.find(step.name)
            except StepError as exc:
                self._refuse(f"{where}: {exc}")
                return
            why = self.blocked(p, model)
            if p.state is State.EXITED:
                self._refuse(f"{where} asks for {step.text()}, but {p.name} has finished")
                return
            if why is not None:
                self._refuse(f"{where} asks for {step.text()}, but {p.name} is blocked: {why}")
                return
            if p.state is not State.PENDING or not self.fed(p, model):
                return  # starting, running its task: the step waits for it
            if OP_NAMES[p.op] != step.op:
                self._refuse(
                    f"{where} asks for {step.text()}, but {p.name}'s next operation is "
                    f"{OP_NAMES[p.op]} ({self.op_text(p, model)})"
                )
                return
            self._grant(p, model)
            self.plan.pop(0)
            self.plan_done += 1
        if self.after_plan == "free":
            self.run_free()

    def _refuse(self, text: str) -> None:
        self.error = StepError(text)
        self.plan = []
        self.changed += 1

    # ------------------------------------------------------------ words
    def op_text(self, p: Proc, model: Any = None) -> str:
        """The call as the program writes it, with the task it concerns."""
        if p.op == OP_PUT:
            if p.label == LABEL_NONE:
                return "queue.put(None)"
            return f"queue.put(({p.label}, {p.value:.2f}))" if p.label >= 0 else "queue.put(…)"
        if p.op == OP_GET:
            return "queue.get()"
        if p.op == OP_TASK_DONE:
            label = self._label(p.tid, model)
            if p.tid == -1:
                return "queue.task_done() (nothing taken)"
            if label == LABEL_NONE:
                return "queue.task_done() for None"
            return "queue.task_done()" if label is None else f"queue.task_done() for task {label}"
        return "queue.join()"

    def _label(self, tid: int, model: Any) -> int | None:
        if model is None or tid < 0:
            return None
        found = model.tasks.label_value(tid)
        return None if found is None else int(found[0])

    def state_words(self, p: Proc, model: Any = None) -> str:
        if p.state is State.EXITED:
            return "finished"
        if p.state is State.STARTING:
            return "starting"
        if p.state is State.RUNNING:
            if p.src == MAIN and model is not None and model.join_state == JoinState.RETURNED:
                return "running"
            return "working (not a queue operation)" if p.src != MAIN else "running"
        why = self.blocked(p, model) if model is not None else None
        if p.state is State.WAITING:
            return why or "about to go on"
        if p.state is State.GRANTED:
            call = self.op_text(p, model)
            return f"blocked in {call}: {why}" if why else f"doing {call}"
        return "waiting for permission"

    def line_key(self, p: Proc, model: Any = None) -> str | None:
        """The code_line_map key of the statement this process is at (engine.codegen)."""
        if p.state is State.WAITING:
            return "producer_join"
        if p.state in (State.EXITED, State.STARTING, State.RUNNING) or not p.op:
            return None
        if p.op == OP_PUT:
            if p.src == MAIN or p.label == LABEL_NONE:
                return "sentinel_put"
            return "put" if p.name.startswith("producer") else "retry_put"
        if p.op == OP_GET:
            return "get"
        if p.op == OP_TASK_DONE:
            if p.tid == -1:
                return "extra_task_done"
            return "sentinel_task_done" if self._label(p.tid, model) == LABEL_NONE else "task_done"
        return "join" if p.src == MAIN else None  # a producer's own join (retries) has no key

