"""A simulator of valid runs for RunModel's tests: records per process, batched, in one order."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from hypothesis import strategies as st

from engine.events import LABEL_NONE, ROLE_CONSUMER, ROLE_PRODUCER, Kind

T0 = 1000.0  # perf_counter-like absolute start; the model reports times relative to it
Batch = tuple[int, int, list[tuple]]


@dataclass
class Sim:
    """A valid run, step by step: what the queue really holds and what each process records."""

    producers: int
    consumers: int
    tasks_per_producer: int
    sentinel_task_done: bool
    maxsize: int = 0
    now: float = T0
    streams: dict[int, list[tuple]] = field(default_factory=dict)
    queue: deque[int] = field(default_factory=deque)
    held: dict[int, deque[int]] = field(default_factory=dict)
    label_of: dict[int, int] = field(default_factory=dict)
    put_left: dict[int, int] = field(default_factory=dict)
    next_tid: dict[int, int] = field(default_factory=dict)
    ready_t: dict[int, float] = field(default_factory=dict)
    exited: set[int] = field(default_factory=set)
    sentinels_left: int = 0
    puts: int = 0
    task_puts: int = 0
    gets: int = 0
    task_dones: int = 0
    join_end_step: int | None = None
    premature: bool | None = None
    done_by: dict[int, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        total = self.producers * self.tasks_per_producer
        self.sentinels_left = self.consumers
        self.streams[0] = [
            (Kind.RUN_START, T0, self.producers, self.consumers, total),
            (Kind.QUEUE_INFO, T0, self.maxsize),
            (Kind.JOIN_BEGIN, T0),
        ]
        for src in self.srcs:
            role, index = (
                (ROLE_PRODUCER, src - 1)
                if self.is_producer(src)
                else (ROLE_CONSUMER, src - 1 - self.producers)
            )
            self.streams[src] = [(Kind.WORKER_START, T0, 1000 + src, role, index)]
            self.next_tid[src] = src << 32
            self.ready_t[src] = T0
            if self.is_producer(src):
                self.put_left[src] = self.tasks_per_producer
            else:
                self.held[src] = deque()
                self.done_by[src] = 0

    @property
    def srcs(self) -> range:
        return range(1, self.producers + self.consumers + 1)

    def is_producer(self, src: int) -> bool:
        return src <= self.producers

    @property
    def unfinished(self) -> int:
        return self.puts - self.task_dones

    def emit(self, src: int, record: tuple) -> None:
        self.streams[src].append(record)

    def actions(self) -> list[tuple[str, int]]:
        acts: list[tuple[str, int]] = []
        producers_left = any(self.put_left[p] for p in range(1, self.producers + 1))
        room = not self.maxsize or len(self.queue) < self.maxsize
        for src in self.srcs:
            if src in self.exited:
                continue
            if self.is_producer(src):
                if self.put_left[src]:
                    if room:  # else it is blocked in put() on the full queue
                        acts.append(("put", src))
                elif not producers_left and self.sentinels_left:
                    if room:
                        acts.append(("sentinel", src))
                else:
                    acts.append(("exit", src))
            elif self.held[src]:
                acts.append(("done", src))
            elif self.queue:
                acts.append(("get", src))
        if self.join_end_step is None and self.unfinished == 0:
            acts.append(("join_end", 0))
        return acts

    def step(self, action: tuple[str, int], dt: float, step: int) -> None:
        self.now += dt
        kind, src = action
        now = self.now
        if kind in ("put", "sentinel"):
            self.next_tid[src] += 1
            tid = self.next_tid[src]
            if kind == "put":
                i = (src - 1) * self.tasks_per_producer + (
                    self.tasks_per_producer - self.put_left[src]
                )
                self.put_left[src] -= 1
                label, value = i, 0.5
                self.task_puts += 1
            else:
                self.sentinels_left -= 1
                label, value = LABEL_NONE, 0.0
            self.label_of[tid] = label
            self.queue.append(tid)
            self.puts += 1
            # On a bounded queue the put may have waited for room since the previous one.
            t_begin = self.ready_t[src] if self.maxsize else now
            self.ready_t[src] = now
            self.emit(src, (Kind.PUT, t_begin, now, tid, label, value))
        elif kind == "get":
            tid = self.queue.popleft()
            self.held[src].append(tid)
            self.gets += 1
            # The consumer started waiting when it was last ready: maybe before the put.
            self.emit(src, (Kind.GET, self.ready_t[src], now, tid))
            if self.label_of[tid] != LABEL_NONE:
                self.emit(src, (Kind.TASK_START, now, tid))
        elif kind == "done":
            tid = self.held[src][0]
            if self.label_of[tid] == LABEL_NONE:
                if self.sentinel_task_done:
                    self.held[src].popleft()
                    self.task_dones += 1
                    self.emit(src, (Kind.TASK_DONE, now, tid))
                # else the sentinel stays taken and unfinished for ever, as in a real run
                self._exit(src)
            else:
                self.held[src].popleft()
                self.emit(src, (Kind.TASK_END, now, tid))
                self.emit(src, (Kind.TASK_DONE, now, tid))
                self.task_dones += 1
                self.done_by[src] += 1
                self.ready_t[src] = now
        elif kind == "exit":
            self._exit(src)
        elif kind == "join_end":
            self.join_end_step = step
            self.premature = self.task_puts < self.producers * self.tasks_per_producer
            self.emit(0, (Kind.JOIN_END, now))
        else:  # pragma: no cover - the simulator only makes the kinds above
            raise AssertionError(kind)

    def _exit(self, src: int) -> None:
        self.exited.add(src)
        stream = self.streams[src]
        stream.append((Kind.WORKER_EXIT, self.now, 0, len(stream) + 1))
        self.emit(0, (Kind.PROC_EXIT, self.now, src, 0))


def batches_of(records: list[tuple], src: int, cuts: list[bool]) -> list[Batch]:
    """Cut one stream into consecutive numbered batches (``cuts[i]``: a batch ends after i)."""
    out: list[Batch] = []
    first = 0
    for i in range(len(records)):
        if i == len(records) - 1 or cuts[i % len(cuts)]:
            out.append((src, first, records[first : i + 1]))
            first = i + 1
    return out


def _may_arrive(batch: Batch, pending: dict[int, deque[Batch]]) -> bool:
    """The parent reports a worker's exit only after draining that worker's pipe."""
    return all(not pending[r[2]] for r in batch[2] if r[0] == Kind.PROC_EXIT)


Case = tuple[Sim, list[list[Batch]]]


def make_case(
    shape: tuple[int, int, int, bool, int],
    choices: list[int],
    cuts: list[bool],
    picks: list[int],
    sizes: list[int],
) -> Case:
    """Simulate a run and deliver its batches, grouped into polls, in one possible order.

    ``shape`` is (producers, consumers, tasks_per_producer, sentinel_task_done, maxsize);
    ``choices``
    pick each step's action (and its duration), ``cuts`` where streams are cut into batches,
    ``picks`` which source's next batch arrives next, ``sizes`` how many batches each poll
    takes (all three used cyclically). Arrival order is shuffled across sources (each has its
    own pipe) but kept within a source; the parent's RUN_START and QUEUE_INFO come first, as
    Run.start() delivers them before any worker exists.
    """
    sim = Sim(*shape)
    for step, c in enumerate(choices):
        acts = sim.actions()
        if not acts:
            break
        sim.step(acts[c % len(acts)], dt=(1 + c % 5) * 1e-3, step=step)
    run_start, queue_info, *rest0 = sim.streams[0]
    pending = {0: deque((0, f + 2, recs) for _s, f, recs in batches_of(rest0, 0, cuts))}
    for src in sim.srcs:
        pending[src] = deque(batches_of(sim.streams[src], src, cuts))
    arrival: list[Batch] = [(0, 0, [run_start]), (0, 1, [queue_info])]
    k = 0
    while any(pending.values()):
        live = [s for s, q in pending.items() if q and _may_arrive(q[0], pending)]
        arrival.append(pending[live[picks[k % len(picks)] % len(live)]].popleft())
        k += 1
    polls: list[list[Batch]] = []
    i = k = 0
    while i < len(arrival):
        n = sizes[k % len(sizes)]
        polls.append(arrival[i : i + n])
        i += n
        k += 1
    return sim, polls


@st.composite
def deliveries(draw: st.DrawFn, bounded: bool = False) -> Case:
    shape = (
        draw(st.integers(1, 3)),
        draw(st.integers(1, 3)),
        draw(st.integers(0, 6)),
        draw(st.booleans()),
        draw(st.integers(1, 3)) if bounded else 0,
    )
    return make_case(
        shape,
        choices=draw(st.lists(st.integers(0, 10_000), min_size=1, max_size=120)),
        cuts=draw(st.lists(st.booleans(), min_size=1, max_size=16)),
        picks=draw(st.lists(st.integers(0, 5), min_size=1, max_size=32)),
        sizes=draw(st.lists(st.integers(1, 4), min_size=1, max_size=16)),
    )
