"""A traced program's queues as lanes: its streams split by queue, each process's role derived.

Every process of a traced program sends one stream of records; a ``QUEUE`` record says which
queue the records after it are about (engine/trace_queues.py). :class:`Demux` splits each
stream by queue into one :class:`Lane` per queue, each with its own
:class:`~engine.model.RunModel` fed exactly as a run's model is (its streams renumbered, so
the model sees no gap). Nothing in the model knows about several queues.

Into each lane it adds what the model needs and a program does not say:

- the lane's start (``RUN_START`` at the program's first record, so every lane shares one
  clock) and its ``maxsize`` (``QUEUE_INFO``);
- each process's *role*, from what it does on that queue: one that puts is a producer, one
  that gets a consumer (one that does both is a consumer that re-puts, as in the lessons),
  one that only joins a coordinator (``WORKER_START`` records, before the first act that
  shows the role). The main process stays the coordinator, as in the lessons: its puts are
  the main program's, and the diagnosis asks whether it may still put (``MAIN_BLOCKED``:
  it waits in ``queue.join()`` or ``Process.join()``, on any queue);
- for a ``multiprocessing.Queue`` (no unfinished counter), an item taken counts as done
  when its process comes back to get() or exits, so the model's counter is the queue's depth.
"""

from __future__ import annotations

import ast
import linecache
import os
import re
from collections import deque
from dataclasses import dataclass, field

from engine.events import ROLE_CONSUMER, ROLE_COORDINATOR, ROLE_PRODUCER, Kind
from engine.model import RunModel

Batch = tuple[int, int, list[tuple]]
K = Kind
_PUT, _GET, _TD, _JB, _JE, _LINE = (
    int(K.PUT),
    int(K.GET),
    int(K.TASK_DONE),
    int(K.JOIN_BEGIN),
    int(K.JOIN_END),
    int(K.LINE),
)
_QUEUE, _QUEUE_NEW, _PROC_JOIN, _PROC_INFO = (
    int(K.QUEUE),
    int(K.QUEUE_NEW),
    int(K.PROC_JOIN),
    int(K.PROC_INFO),
)
_WORKER_EXIT, _PROC_EXIT, _WORKER_START = int(K.WORKER_EXIT), int(K.PROC_EXIT), int(K.WORKER_START)
_TO_ALL = frozenset(int(k) for k in (K.STOP, K.RUN_END, K.STALL))
_STOP, _GET_EMPTY, _RUN_END = int(K.STOP), int(K.GET_EMPTY), int(K.RUN_END)
_QUEUE_INFO, _PROC_END = int(K.QUEUE_INFO), int(K.PROC_END)
_OPS = frozenset((_PUT, _GET, _TD, _JB))
_PUT_BLOCKED = int(K.PUT_BLOCKED)  # a put waiting for room: a put, for the roles
# Kinds a batch may hold and still go to its process's lane whole (no role to settle).
_PLAIN = frozenset((_PUT, _GET, _TD, int(K.GET_EMPTY), _LINE, int(K.PUT_FULL), _PUT_BLOCKED))
ROLE_WORDS = {ROLE_PRODUCER: "producer", ROLE_CONSUMER: "consumer", ROLE_COORDINATOR: "joins"}


@dataclass
class Lane:
    """One queue of the program: its name, kind, bound, and the model its records feed."""

    qid: int
    name: str
    joinable: bool
    maxsize: int
    file: str
    line: int
    model: RunModel = field(default_factory=RunModel)
    seq: dict[int, int] = field(default_factory=dict)  # src -> next sequence number here
    roles: dict[int, int] = field(default_factory=dict)  # src -> ROLE_* in this lane
    puts_by: dict[int, int] = field(default_factory=dict)  # src -> puts (main's too)
    gets_by: dict[int, int] = field(default_factory=dict)
    taken: dict[int, deque[int]] = field(default_factory=dict)  # plain queue: not yet "done"
    touched: set[int] = field(default_factory=set)  # processes that acted on this queue

    @property
    def kind_words(self) -> str:
        return "JoinableQueue" if self.joinable else "Queue"

    def role_words(self, src: int) -> str | None:
        """What a process does on this queue, in words (None: it has not touched it)."""
        puts, gets = self.puts_by.get(src, 0), self.gets_by.get(src, 0)
        if puts and gets:
            return "puts and gets"
        if puts:
            return "producer" if src else "puts (main)"
        role = self.roles.get(src)
        if gets or role == ROLE_CONSUMER:
            return "consumer"  # (waiting in its first get())
        if role == ROLE_PRODUCER:
            return "producer"
        if src in self.touched:
            return "joins"
        return None


class Demux:
    """Splits a traced program's batches by queue; see the module docstring."""

    def __init__(self) -> None:
        self.lanes: dict[int, Lane] = {}
        self.t0: float | None = None
        self._cur: dict[int, int] = {}  # src -> the queue it acted on last
        self._info: dict[int, tuple] = {}  # src -> its PROC_INFO record
        # pid -> the PROC_END the program's terminate()/kill() of it made (it may come before
        # the process's own first records: a lane it joins later gets it then)
        self._program_ended: dict[int, tuple] = {}
        self._made_at: dict[tuple[str, int], int] = {}  # (file, line) -> queues made there
        # Records about a queue whose QUEUE_NEW has not come in yet (another process's socket).
        self._waiting: dict[int, list[tuple[int, tuple]]] = {}
        self._main_waits = 0  # queue.join() calls the main process is in
        self._main_joins: int | None = None  # the pid main waits for in Process.join()
        self._ended_pids: set[int] = set()  # processes seen to exit
        self._blocked = False
        self._stopped = False
        # For the code pane: src -> {op kind: (file, line)}, and src -> the op it did last.
        self.sites: dict[int, dict[int, tuple[str, int]]] = {}
        self.last_op: dict[int, int] = {}

    @property
    def main_blocked(self) -> bool:
        """Main waits in queue.join(), or in Process.join() of a process still alive (one
        that ended lets main go on: it may put again)."""
        return self._blocked

    # ------------------------------------------------------------ splitting
    def split(self, batches: list[Batch]) -> dict[int, list[Batch]]:
        """Each lane's share of ``batches``, renumbered per lane and stream."""
        out: dict[int, dict[int, list[tuple]]] = {}
        for src, _first, records in batches:
            if self.t0 is None and records:
                self.t0 = min(r[1] for r in records)
            qid = self._cur.get(src)
            lane = self.lanes.get(qid) if qid is not None else None
            if (
                lane is not None
                and lane.joinable
                and src in lane.touched
                and {r[0] for r in records} <= _PLAIN
                and (src == 0 or self._settled(lane, src, records))
            ):
                self._count(lane, src, records)
                out.setdefault(lane.qid, {}).setdefault(src, []).extend(records)
                continue
            for r in records:
                self._one(src, r, out)
        result: dict[int, list[Batch]] = {}
        for qid, streams in out.items():
            lane = self.lanes[qid]
            batches_out = []
            for s, recs in streams.items():
                first = lane.seq.get(s, 0)
                lane.seq[s] = first + len(recs)
                batches_out.append((s, first, recs))
            result[qid] = batches_out
        return result

    def _settled(self, lane: Lane, src: int, records: list[tuple]) -> bool:
        """No record of the batch would change the process's role in the lane."""
        role = lane.roles[src]
        if role == ROLE_CONSUMER:
            return True  # puts by a consumer are re-puts: it stays a consumer
        kinds = {r[0] for r in records} | {r[2] for r in records if r[0] == _LINE}
        puts = _PUT in kinds or _PUT_BLOCKED in kinds
        return _GET not in kinds and (role == ROLE_PRODUCER or not puts)

    def _count(self, lane: Lane, src: int, records: list[tuple]) -> None:
        puts = gets = 0
        sites = self.sites.setdefault(src, {})
        for r in records:
            k = r[0]
            if k == _PUT:
                puts += 1
            elif k == _GET:
                gets += 1
            elif k == _LINE:
                sites[r[2]] = (r[3], r[4])
            if k in _OPS:
                self.last_op[src] = k
        if puts:
            lane.puts_by[src] = lane.puts_by.get(src, 0) + puts
        if gets:
            lane.gets_by[src] = lane.gets_by.get(src, 0) + gets

    def _one(
        self, src: int, r: tuple, out: dict[int, dict[int, list[tuple]]], qid: int | None = None
    ) -> None:
        k = r[0]
        if k == _QUEUE:
            self._cur[src] = r[2]
            return
        if k == _QUEUE_NEW:
            self._new_lane(r, out)
            return
        if k == _PROC_INFO:
            self._info[src] = r
            return
        if k == _QUEUE_INFO:
            return  # the saved trace's (replay draws one queue); each lane has its own
        if k == _PROC_JOIN:
            self.last_op[src] = _PROC_JOIN
            if src == 0:
                self._main_joins = None if r[3] else r[2]
                self._main_wait(r[1], 0, out)
            return
        if k == _LINE:
            self.sites.setdefault(src, {})[r[2]] = (r[3], r[4])
            if r[2] not in _OPS:
                return
        if k in _TO_ALL:
            if k == _STOP:
                self._stopped = True  # what dies from now on was ended: main stays as it was
            for lane in self.lanes.values():
                if k == _RUN_END and not lane.joinable and not self._stopped:
                    for holder in list(lane.taken):  # the program ended: its items are done
                        self._release(lane, holder, r[1], out)
                self._emit(lane, src, r, out)
            return
        if k == _PROC_END:
            self._program_ended[r[2]] = r
            ended = [s for s, info in self._info.items() if info[2] == r[2]]
            for lane in self.lanes.values():
                if any(s in lane.roles for s in ended):
                    self._emit(lane, 0, r, out)  # main's stream: the lane may not know src
            return
        if k == _PROC_EXIT:
            self._ended(r[1], self._info.get(r[2]), out)
            for lane in self.lanes.values():
                if r[2] in lane.roles:
                    self._emit(lane, src, r, out)
            return
        if k == _WORKER_EXIT:
            self._ended(r[1], self._info.get(src), out)
            for lane in self.lanes.values():
                if src in lane.roles:
                    self._release(lane, src, r[1], out)
                    n = lane.seq.get(src, 0) + len(out.get(lane.qid, {}).get(src, ())) + 1
                    self._emit(lane, src, (r[0], r[1], r[2], n), out)
            return
        if qid is None:
            qid = self._cur.get(src)
        if qid is None:
            return  # before any queue (cannot happen for a queue's records)
        lane = self.lanes.get(qid)
        if lane is None:
            self._waiting.setdefault(qid, []).append((src, r))
            return
        lane.touched.add(src)
        if k in _OPS:
            self.last_op[src] = k
        op = r[2] if k == _LINE else _PUT if k == _PUT_BLOCKED else k
        if src:
            self._role(lane, src, op, r[1], out)
        if k == _PUT:
            lane.puts_by[src] = lane.puts_by.get(src, 0) + 1
        elif k == _GET:
            lane.gets_by[src] = lane.gets_by.get(src, 0) + 1
        if not lane.joinable and (op == _GET or k == _GET_EMPTY):
            self._release(lane, src, r[1], out)  # back in get(): the last item is done
        if src == 0 and k in (_JB, _JE):
            self._main_wait(r[1], 1 if k == _JB else -1, out)
        self._emit(lane, src, r, out)
        if k == _GET and not lane.joinable:
            lane.taken.setdefault(src, deque()).append(r[3])

    def _role(self, lane: Lane, src: int, op: int, t: float, out: dict) -> None:
        """Introduce the process to the lane, and say its role when what it does shows it."""
        old = lane.roles.get(src)
        if op == _GET:
            new = ROLE_CONSUMER
        elif op == _PUT:
            new = ROLE_CONSUMER if old == ROLE_CONSUMER else ROLE_PRODUCER
        else:
            new = ROLE_COORDINATOR if old is None else old
        if old is None:
            info = self._info.get(src)
            pid, name = (info[2], info[3]) if info is not None else (0, f"process {src}")
            self._emit(lane, src, (_PROC_INFO, min(t, info[1]) if info else t, pid, name), out)
        if new != old:
            lane.roles[src] = new
            pid = self._info[src][2] if src in self._info else 0
            self._emit(lane, src, (_WORKER_START, t, pid, new, 0), out)
            if old is None and pid in self._program_ended:
                self._emit(lane, 0, self._program_ended[pid], out)

    def _release(self, lane: Lane, src: int, t: float, out: dict) -> None:
        """A plain queue's items taken by ``src`` count as done from ``t`` on."""
        taken = lane.taken.get(src)
        while taken:
            self._emit(lane, src, (_TD, t, taken.popleft()), out)

    def _ended(self, t: float, info: tuple | None, out: dict) -> None:
        if info is not None:
            self._ended_pids.add(info[2])
            self._main_wait(t, 0, out)

    def _main_wait(self, t: float, delta: int, out: dict) -> None:
        before = self._blocked
        self._main_waits = max(0, self._main_waits + delta)
        pid = self._main_joins
        self._blocked = self._main_waits > 0 or (pid is not None and pid not in self._ended_pids)
        if self._blocked != before and not self._stopped:
            for lane in self.lanes.values():
                self._emit(lane, 0, (int(K.MAIN_BLOCKED), t, int(self.main_blocked)), out)

    def _emit(self, lane: Lane, src: int, r: tuple, out: dict) -> None:
        out.setdefault(lane.qid, {}).setdefault(src, []).append(r)

    def _new_lane(self, r: tuple, out: dict) -> None:
        qid, maxsize, joinable, file, line = r[2], r[3], bool(r[4]), r[5], r[6]
        if qid in self.lanes:
            return
        k = self._made_at.get((file, line), 0)
        self._made_at[(file, line)] = k + 1
        name = queue_name(file, line, k) or f"queue-{len(self.lanes) + 1}"
        taken = {lane.name for lane in self.lanes.values()}
        base, n = name, 2
        while name in taken:
            name, n = f"{base}-{n}", n + 1
        lane = Lane(qid, name, joinable, maxsize, file, line)
        self.lanes[qid] = lane
        t0 = self.t0 if self.t0 is not None else r[1]
        self._emit(lane, 0, (int(K.RUN_START), t0, 0, 0, 0), out)
        self._emit(lane, 0, (int(K.QUEUE_INFO), t0, maxsize), out)
        self._emit(lane, 0, (int(K.MAIN_BLOCKED), t0, int(self.main_blocked)), out)
        for src, held in self._waiting.pop(qid, []):
            self._one(src, held, out, qid)


_ASSIGNED = re.compile(r"^\s*([A-Za-z_][\w.]*)\s*(?::[^=]*)?=(?!=)")


def queue_name(file: str, line: int, k: int = 0) -> str | None:
    """The variable a queue made at ``file:line`` is assigned to (the ``k``-th made there).

    ``tasks = mp.JoinableQueue()`` gives "tasks"; ``a, b = Q(), Q()`` gives "a" then "b";
    ``qs = [Q() for _ in range(3)]`` gives "qs[0]", "qs[1]"...; None when no name shows.
    """
    if not file or line <= 0 or not os.path.isfile(file):
        return None
    text = linecache.getline(file, line).strip()
    try:
        tree = ast.parse(text)
    except SyntaxError:
        m = _ASSIGNED.match(text)  # the first line of a statement that goes on
        return (m.group(1) if k == 0 else f"{m.group(1)}[{k}]") if m else None
    stmt = tree.body[0] if tree.body else None
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
        target, value = stmt.targets[0], stmt.value
    elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
        target, value = stmt.target, stmt.value
    else:
        return None
    if isinstance(target, (ast.Tuple, ast.List)):
        if k < len(target.elts) and isinstance(value, (ast.Tuple, ast.List)):
            return _target_name(target.elts[k])
        return None
    base = _target_name(target)
    if base is None:
        return None
    many = isinstance(value, (ast.ListComp, ast.List, ast.Tuple, ast.DictComp, ast.Dict))
    return f"{base}[{k}]" if many or k else base


def _target_name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, (ast.Attribute, ast.Subscript)):
        return ast.unparse(node)
    return None
