"""Producer and consumer processes in the tutorial's shape, driven by a RunConfig.

These are process entry points (``*_main``): they import only the engine so a spawned worker
starts in tens of milliseconds.
"""

from __future__ import annotations

import os
import random
import signal
import threading
import time
from dataclasses import dataclass
from typing import Any

from engine import cpuwork, own_function
from engine import recorder as _rec
from engine.config import RunConfig
from engine.events import Kind

_WORKER_START, _TASK_START, _TASK_END, _TASK_FAIL, _TASK_RETRY, _PAUSED, _TASK_RESULT = (
    int(Kind.WORKER_START),
    int(Kind.TASK_START),
    int(Kind.TASK_END),
    int(Kind.TASK_FAIL),
    int(Kind.TASK_RETRY),
    int(Kind.PAUSED),
    int(Kind.TASK_RESULT),
)
_TASK_ABANDON = int(Kind.TASK_ABANDON)
perf_counter = time.perf_counter
SLEEP_STEP_S = 0.05  # a sleeping task checks the pause flag this often


class TaskFailure(Exception):
    """The failure a run's ``failure_rate`` injects into a task."""


@dataclass(frozen=True)
class WorkerSpec:
    """Everything a worker process receives; pickled into it when it starts."""

    src: int
    role: int
    index: int
    name: str
    cfg: RunConfig
    queue: Any  # TracedJoinableQueue, or a plain JoinableQueue when tracing is off
    events: Any  # write end of this worker's own event pipe (None when tracing is off)
    paused: Any  # shared flag: nonzero while the run is paused
    cpu_speed: float = 0.0  # loop iterations per second of one core (engine.cpuwork), cpu runs
    own: own_function.OwnFunction | None = None  # the user's function, resolved by the parent
    gate: Any = None  # step mode: (this worker's end of its gate pipe, the shared "stepping" flag)


class _Worker:
    """Per-process helpers: the recorder, the pause gate and the lifeline to the parent."""

    def __init__(self, spec: WorkerSpec) -> None:
        self.spec = spec
        self.rec: _rec.Recorder | None = None
        # No niceness, no switch interval, nothing a plain program lacks: the measured
        # processes run as the user's own would (benchmarks/fidelity.py checks it). The window
        # keeps itself responsive by what the parent does.
        _set_process_title(f"queuelab {spec.name}")
        # Ctrl+C in a terminal reaches every process of its group; the parent decides what
        # happens (it stops the workers and prints the summary), so a worker must not die of
        # it on its own, with a traceback and an exit code the diagnosis would call a death.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        _watch_parent()
        if spec.events is not None:
            _grow_pipe(spec.events)
            self.rec = _rec.Recorder(spec.src, _rec.connection_sender(spec.events))
            _rec.activate(self.rec)
            self.rec.start_flusher()
            self.rec.flush_at_exit()
            self.rec.emit((_WORKER_START, perf_counter(), os.getpid(), spec.role, spec.index))
            self.rec.flush()
        self._paused = spec.paused
        if spec.gate is not None and self.rec is not None:
            from engine.step_gate import WorkerGate  # step mode only (engine/step.py)

            spec.queue.bind_gate(WorkerGate(spec.gate[0], spec.gate[1], self.rec))

    def emit(self, record: tuple) -> None:
        if self.rec is not None:
            self.rec.emit(record)

    def gate(self) -> None:
        """Hold here while the run is paused."""
        if self._paused.value:
            self.emit((_PAUSED, perf_counter()))
            if self.rec is not None:
                self.rec.flush()
            while self._paused.value:
                time.sleep(0.02)

    def work(self, seconds: float, cpu: bool) -> None:
        if seconds <= 0:
            if not cpu:
                # The plain program calls sleep(0.0) all the same: a real system call (about
                # 80 µs with Linux's default timer slack), so a no-op sleep task costs it too.
                time.sleep(0)
            return
        if cpu:
            # Work, not a deadline: a calibrated number of loop iterations, which takes longer
            # when more processes than cores compete, as the user's own computation would.
            cpuwork.work(seconds, self.spec.cpu_speed, lambda: bool(self._paused.value),
                         self.gate)  # fmt: skip
            return
        end = perf_counter() + seconds
        while True:
            left = end - perf_counter()
            if left <= 0:
                return
            time.sleep(min(left, SLEEP_STEP_S))
            if self._paused.value:
                t = perf_counter()
                self.gate()
                end += perf_counter() - t

    def finish(self, exitcode: int) -> None:
        if self.rec is not None:
            self.rec.close(exitcode)
            _rec.activate(None)
            self.spec.events.close()


def producer_main(spec: WorkerSpec) -> None:
    """Put ``(i, value)`` tasks, then the sentinels if this producer is the last to finish."""
    w = _Worker(spec)
    cfg, queue = spec.cfg, spec.queue
    rng = random.Random() if cfg.seed is None else random.Random(cfg.seed * 1_000_003 + spec.index)
    scale = cfg.time_scale
    first = spec.index * cfg.tasks_per_producer
    exitcode = 0
    try:
        for i in range(first, first + cfg.tasks_per_producer):
            w.gate()
            pause = cfg.put_interval.sample(rng) * scale
            if pause > 0:
                w.work(pause, cpu=False)
            task = (i, cfg.task_duration.sample(rng))
            queue.put(task)
        if cfg.producers == 1:
            # The tutorial's shape: the producer itself signals the end. With several
            # producers the main process puts the sentinels once every producer has exited:
            # a task still in another producer's feeder thread could be overtaken otherwise.
            if may_retry(cfg):
                # A consumer may re-put a failed task; sentinels put now could overtake it
                # and let every consumer exit with the retry still queued.
                queue.join()
            for _ in range(sentinel_count(cfg)):
                w.gate()
                queue.put(None)
    except BaseException:
        exitcode = 1
        raise
    finally:
        w.finish(exitcode)


def consumer_main(spec: WorkerSpec) -> None:
    """Loop get -> work -> task_done until a sentinel arrives."""
    w = _Worker(spec)
    cfg, queue = spec.cfg, spec.queue
    cpu = cfg.workload == "cpu"
    scale = cfg.time_scale
    extra_pending = cfg.extra_task_done
    exitcode = 0
    try:
        # The user's function is imported once, before the first get (the parent checked it).
        own = spec.own
        fn = own_function.load(own) if own is not None else None
        two = own is not None and own.args == 2
        raised = 0  # failures of the user's function so far (their tracebacks get shorter)
        while True:
            w.gate()
            task = queue.get()
            if task is None:
                if cfg.sentinel_task_done:
                    queue.task_done()
                break
            tid = getattr(queue, "last_tid", -1)
            label, value = task[0], task[1]
            attempt = task[2] if len(task) > 2 else 0
            seconds = value * scale
            # A built-in task starts at its get's return and ends at its task_done: those
            # records already say so (microseconds apart from a start and an end of its own),
            # and two more records per task cost the workers and the parent, whose CPU comes
            # out of theirs on a small machine: kept out, a run's records are all put/get/
            # task_done, which the model applies in bulk. The user's own function is timed
            # on its own: its result, and how long it really ran, are worth their records.
            timed = fn is not None
            if timed:
                w.emit((_TASK_START, perf_counter(), tid))
            if (seconds > 0 or timed) and w.rec is not None:
                # Ship what came before the work now: if this worker is killed during the
                # task, its last task_done must not die unsent in the buffer.
                w.rec.flush()
            try:
                if fn is None:
                    w.work(seconds, cpu)
                else:
                    try:
                        result = fn(label, seconds) if two else fn(label)
                    except Exception as exc:
                        raised += 1
                        full = raised <= own_function.FULL_TRACEBACKS
                        w.emit((_TASK_RESULT, perf_counter(), tid, 0,
                                own_function.failure_text(exc, full)))  # fmt: skip
                        raise
                    w.emit((_TASK_RESULT, perf_counter(), tid, 1,
                            own_function.short_repr(result)))  # fmt: skip
                if cfg.failure_rate > 0 and _fails(cfg, label, attempt):
                    raise TaskFailure(f"task {label} failed (attempt {attempt + 1})")
            except Exception as exc:
                w.emit((_TASK_FAIL, perf_counter(), tid, f"{type(exc).__name__}: {exc}"))
                if cfg.on_failure == "skip_task_done":
                    # Said, since nothing else would: a get() is recorded only when it returns,
                    # and until then this worker would look busy with the task it dropped.
                    w.emit((_TASK_ABANDON, perf_counter(), tid))
                    continue  # the deliberate bug: the unfinished counter never comes down
                if cfg.on_failure == "retry" and attempt < cfg.max_retries:
                    w.emit((_TASK_RETRY, perf_counter(), tid, attempt + 1))
                    queue.put((label, value, attempt + 1))
                queue.task_done()
                continue
            if timed:
                w.emit((_TASK_END, perf_counter(), tid))
            queue.task_done()
            if extra_pending:
                extra_pending = False
                try:
                    queue.task_done()  # the deliberate bug: one task_done() too many
                except ValueError:
                    pass  # recorded by the traced queue; the lesson shows it on this row
    except BaseException:
        exitcode = 1
        raise
    finally:
        w.finish(exitcode)


def ready() -> None:
    """A child that does nothing: engine/runner.py waits on one for the forkserver's start."""


def may_retry(cfg: RunConfig) -> bool:
    """Whether consumers may re-put a failed task: then no sentinel goes before queue.join().

    A user's own function may raise on any task, as an injected failure_rate does.
    """
    return cfg.on_failure == "retry" and (cfg.failure_rate > 0 or own_function.is_own(cfg.workload))


def sentinel_count(cfg: RunConfig) -> int:
    return {"per_consumer": cfg.consumers, "single": 1}.get(cfg.sentinels, 0)


def _fails(cfg: RunConfig, label: int, attempt: int) -> bool:
    if cfg.seed is None:
        return random.random() < cfg.failure_rate
    return random.Random(f"{cfg.seed}:{label}:{attempt}").random() < cfg.failure_rate


def _grow_pipe(conn: Any) -> None:
    """Give the event pipe 1 MiB of buffer (Linux), so a send never waits for the parent.

    This is QueueLab's own side channel, not the measured queue's pipe (which keeps the size a
    plain program gets). With the default 64 KiB, a worker whose parent is busy redrawing
    blocks in send(), and tracing would slow the very run it watches.
    """
    try:
        import fcntl

        fcntl.fcntl(conn.fileno(), getattr(fcntl, "F_SETPIPE_SZ", 1031), 1 << 20)
    except (ImportError, OSError, ValueError):
        pass  # other platforms keep their default; events still arrive, just with backpressure


def _set_process_title(title: str) -> None:
    try:
        import setproctitle
    except ImportError:  # optional: only the name shown by ps/htop is lost
        return
    setproctitle.setproctitle(title)


def _watch_parent() -> None:
    """Exit as soon as the parent dies, even if it was SIGKILLed.

    ``daemon=True`` only covers a parent that exits normally. multiprocessing gives every child
    a sentinel that becomes readable when the parent is gone, for every start method.
    """
    import multiprocessing
    from multiprocessing.connection import wait

    parent = multiprocessing.parent_process()
    if parent is None or parent.sentinel is None:
        return

    def watch() -> None:
        wait([parent.sentinel])
        os._exit(70)

    threading.Thread(target=watch, name="queuelab-lifeline", daemon=True).start()
