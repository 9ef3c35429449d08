"""Run lifecycle: start real producer and consumer processes, coordinate the joins, stop cleanly."""

from __future__ import annotations

import atexit
import multiprocessing
import sys
import threading
import time
import warnings
import weakref
from collections.abc import Callable
from enum import Enum
from typing import TYPE_CHECKING, Any

from engine import cpuwork, own_function
from engine.collector import Batch, Collector
from engine.config import RunConfig
from engine.events import ROLE_CONSUMER, ROLE_PRODUCER, Kind, worker_name
from engine.inbox import FEED_CHUNK, Inbox, QueueSource
from engine.model import RunModel
from engine.parent_stream import ParentStream
from engine.recorder import FLUSH_INTERVAL_S, Recorder
from engine.states import STOP_GRACE_S
from engine.traced_queue import TracedJoinableQueue, join_until
from engine.workers import (
    WorkerSpec,
    consumer_main,
    may_retry,
    producer_main,
    ready,
    sentinel_count,
)

if TYPE_CHECKING:
    from engine.step import StepController

perf_counter = time.perf_counter
SETTLE_S = 3 * FLUSH_INTERVAL_S  # see engine/parent_stream.py
TERM_GRACE_S = STOP_GRACE_S  # SIGTERM first; whoever is still there after this gets SIGKILL
__all__ = ["FEED_CHUNK", "Run", "RunStatus"]


class RunStatus(Enum):
    IDLE = "idle"
    RUNNING = "running"
    PAUSED = "paused"
    STOPPING = "stopping"
    FINISHED = "finished"  # join returned and every worker exited
    STOPPED = "stopped"


_live_runs: weakref.WeakSet[Run] = weakref.WeakSet()


@atexit.register
def _stop_all() -> None:
    for run in list(_live_runs):
        run.stop(reason="exit")


_forkserver_warm = False
# Imported once by the forkserver, not by each worker (~12 ms of CPU apiece inside the run):
# the workers, what unpickling their arguments needs, main.py's imports (a child re-runs it as
# __mp_main__) and setproctitle (optional: the server skips a module it cannot import).
FORKSERVER_PRELOAD = ["engine.workers", "engine.traced_queue", "engine.cli_parser",
                      "multiprocessing.sharedctypes", "setproctitle"]  # fmt: skip
_forkserver_warming = threading.Lock()  # one warm-up at a time: a window's, then a Start's
# The interpreter's switch interval before QueueLab made the parent's shorter (5 ms unless
# the host program changed it): what a forked worker must run with, as a plain program's.
_PLAIN_SWITCH_S = sys.getswitchinterval()


def warm_forkserver(ctx: Any) -> None:
    """Start the forkserver and let it finish its imports, before any run's clock starts.

    Its start-up (an interpreter importing the engine: ~70 ms of CPU, a second on a loaded
    2-core machine) is the instrument's, once per session. Left to the first worker's start
    it was in the first run's makespan and in no later one's, and it made ``run``'s figure
    lower than the plain program's. A no-op child is the only way to wait for the server:
    it forks only once its imports are done. A window warms it from a thread when it shows
    (gui/run_session.ready_first_start); a Start meanwhile waits for that warm-up to end.
    """
    global _forkserver_warm
    with _forkserver_warming:
        if not _forkserver_warm:
            ctx.set_forkserver_preload(FORKSERVER_PRELOAD)
            p = ctx.Process(target=ready, name="queuelab forkserver warm-up", daemon=True)
            p.start()
            p.join()
            _forkserver_warm = True


class Run:
    """One run of a configuration. Not restartable: make a new Run for each start."""

    def __init__(self, cfg: RunConfig, *, step: bool = False) -> None:
        self.cfg = cfg
        # Step mode (engine/step.py): made at start when ``step``; None for a free run.
        self._step_mode = step
        self.stepper: StepController | None = None
        self.model = RunModel()
        self.status = RunStatus.IDLE
        self.warnings: list[str] = []
        self._processes: dict[int, Any] = {}
        # start(background=True): the workers are started by this thread, Start returns first
        self._starter: threading.Thread | None = None
        self._workers_started = threading.Event()
        self.exit_codes: dict[int, int] = {}  # filled by the collector thread only
        self._exit_cond = threading.Condition()
        # Batches in arrival order: the parent's own as tuples, the workers' still encoded
        # (the collector thread only moves bytes; the inbox decodes them within its budget).
        self.source = QueueSource()
        self.inbox = Inbox(self.model, self.source)
        self._stop_evt = threading.Event()
        self._state_lock = threading.Lock()
        self._ended = threading.Event()
        self._coordinator: threading.Thread | None = None
        self.collector = Collector(self._deliver_raw, self._on_process_exit)
        self._stream0 = ParentStream(self._deliver)
        self.rec = Recorder(0, self._stream0.deliver, batch=1)
        self.queue: Any = None
        self.end_reason: str | None = None

    # ------------------------------------------------------------ lifecycle
    @property
    def processes(self) -> dict[int, Any]:
        """The workers' Process objects by stream, once all were started (a start in the
        background is waited for: its processes are not all there before)."""
        if self._starter is not None and self._starter is not threading.current_thread():
            self._workers_started.wait()
        return self._processes

    def start(self, *, background: bool = False) -> Run:
        """Start the run: its queue, its clock, then its workers.

        ``background``: the workers are started by a thread and this returns at once (a
        window's Start: each forkserver start is a round trip that blocked its event loop
        for 20-200 ms). Step mode and ``fork`` start them here: the first needs each
        worker's gate in place before it returns, the second must not fork from a thread.
        """
        if self.status is not RunStatus.IDLE:
            raise RuntimeError("a Run can be started once; make a new Run")
        cfg = self.cfg
        # The user's own function (workload = "module:function") is imported and checked here,
        # before any process starts: a WorkloadError (a ValueError) names the module and why.
        own = own_function.check(cfg.workload)
        # The collector thread needs the GIL for every batch; while the caller's thread feeds
        # the model it would wait up to 5 ms per hand-off, and event latency grows past 50 ms.
        # The parent's only: a forked worker would inherit it (see the start loop).
        fast_switch = min(sys.getswitchinterval(), 0.001)
        sys.setswitchinterval(fast_switch)
        # Measured once per process, as the generated program does: before the queue exists.
        # Made after it, the calibration shared the CPU with the resource tracker that the
        # queue's first semaphore starts, and each cpu task came out smaller than the plain
        # program's.
        cpu_speed = cpuwork.calibrate() if cfg.workload == "cpu" else 0.0
        ctx = multiprocessing.get_context(cfg.start_method)
        if cfg.start_method == "fork":
            msg = (
                "start_method 'fork' copies this whole process into every worker; with threads "
                "running (a GUI, the event collector) that can deadlock. Prefer forkserver/spawn."
            )
            self.warnings.append(msg)
            warnings.warn(msg, RuntimeWarning, stacklevel=2)
        elif cfg.start_method == "forkserver":
            warm_forkserver(ctx)
        if cfg.trace:
            self.queue = TracedJoinableQueue(cfg.maxsize, ctx=ctx)
            self.queue.bind_recorder(self.rec)
        else:
            self.queue = ctx.JoinableQueue(cfg.maxsize)
        self._paused = ctx.RawValue("b", 0)
        if self._step_mode:
            self._make_stepper(ctx)
        total = cfg.producers * cfg.tasks_per_producer
        self.status = RunStatus.RUNNING
        _live_runs.add(self)
        self.rec.emit((int(Kind.RUN_START), perf_counter(), cfg.producers, cfg.consumers, total))
        self.rec.emit((int(Kind.QUEUE_INFO), perf_counter(), cfg.maxsize))
        if cfg.start_method == "fork":
            # A forked child inherits the switch interval: the measured processes get the
            # one a plain program's would (issue 11: no tuning a plain program lacks).
            sys.setswitchinterval(_PLAIN_SWITCH_S)
        args = (ctx, cpu_speed, own, fast_switch)
        if background and not self._step_mode and cfg.start_method != "fork":
            self._starter = threading.Thread(target=self._start_workers, args=args,
                                             name="queuelab-starter", daemon=True)
            self._starter.start()
        else:
            self._start_workers(*args)
        return self

    def _start_workers(self, ctx: Any, cpu_speed: float, own: Any, fast_switch: float) -> None:
        """Start every worker, then the collector and the coordinator (in the background
        thread of start(background=True): a failure there stops the run, with its words)."""
        cfg = self.cfg
        try:
            for src in range(1, cfg.producers + cfg.consumers + 1):
                if self._stop_evt.is_set():  # stopped while starting: no more workers
                    break
                role = ROLE_PRODUCER if src <= cfg.producers else ROLE_CONSUMER
                index = src - 1 if role == ROLE_PRODUCER else src - 1 - cfg.producers
                name = worker_name(src, cfg.producers)
                # Made just before each start and our write end closed just after, so a
                # worker started later by fork does not inherit another worker's write end.
                reader, writer = ctx.Pipe(duplex=False) if cfg.trace else (None, None)
                gate, gate_child = ctx.Pipe() if self.stepper is not None else (None, None)
                step = (gate_child, self._step_flag) if gate is not None else None
                spec = WorkerSpec(src, role, index, name, cfg, self.queue, writer, self._paused,
                                  cpu_speed, own, step)  # fmt: skip
                target = producer_main if role == ROLE_PRODUCER else consumer_main
                proc = ctx.Process(target=target, args=(spec,), name=f"queuelab {name}",
                                   daemon=True)
                proc.start()
                if writer is not None:
                    writer.close()
                if gate is not None:
                    gate_child.close()
                    self.stepper.add_worker(src, gate)
                self._processes[src] = proc
                self.collector.add(src, reader, proc)
        except BaseException as error:
            self._workers_started.set()
            if self._starter is None:
                self.stop(reason="failed to start")
                raise
            self.stop(reason=f"failed to start: {type(error).__name__}: {error}")
            return
        finally:
            sys.setswitchinterval(fast_switch)
        self._workers_started.set()
        if self._stop_evt.is_set():
            return  # stop() ends what was started
        self.collector.start()
        if self.stepper is not None:
            self.stepper.start()
        self._coordinator = threading.Thread(
            target=self._coordinate, name="queuelab-coordinator", daemon=True
        )
        self._coordinator.start()

    def _make_stepper(self, ctx: Any) -> None:
        """Step mode: the controller, main's gate on the parent's queue, the shared flag."""
        from engine.step import MainGate, StepController

        cfg = self.cfg
        if not cfg.trace:
            raise ValueError("step mode needs trace = true (it judges steps on the recorded model)")
        names = {0: "main"}
        names.update({s: worker_name(s, cfg.producers)
                      for s in range(1, cfg.producers + cfg.consumers + 1)})  # fmt: skip
        self._step_flag = ctx.RawValue("b", 1)
        self.stepper = StepController(names, cfg.maxsize, self._step_flag, wake=self.source.wake)
        self.stepper.main_gate = MainGate(self.stepper, self.rec)
        self.queue.bind_gate(self.stepper.main_gate)

    def _main_waits(self, srcs: list[int], what: str) -> None:
        if self.stepper is not None and self.stepper.main_gate is not None:
            self.stepper.main_gate.waiting_for(srcs, what)

    def _coordinate(self) -> None:
        """Join producers and the queue in the configured order, as the tutorial's main does."""
        cfg, stop = self.cfg, self._stop_evt
        if cfg.join_delay > 0 and stop.wait(cfg.join_delay * cfg.time_scale):
            return
        producers = list(range(1, cfg.producers + 1))
        rec = self.rec if cfg.trace else None
        if cfg.join_order == "producers_first":
            self._main_waits(producers, "producer_process.join()")
            if not self._join_processes(producers) or not self._put_sentinels():
                return
            self.rec.emit((int(Kind.PRODUCERS_JOINED), perf_counter()))
            # Every producer has exited and the sentinels are in: the counter can only come
            # down now (a retry is put before its task_done), so the looks follow its pace.
            if not self._join_queue(rec, paced=True):
                return
        else:
            if not self._join_queue(rec):
                return
            self._main_waits(producers, "producer_process.join()")
            if not self._join_processes(producers) or not self._put_sentinels():
                return
            self.rec.emit((int(Kind.PRODUCERS_JOINED), perf_counter()))
        self._main_waits(list(self._processes), "the processes' join()")
        if self._join_processes(list(self._processes)):
            self.collector.close()
            self._end("joined", RunStatus.FINISHED)

    def _join_queue(self, rec: Recorder | None, paced: bool = False) -> bool:
        """queue.join() until the run stops; its JOIN_END, stamped at the return, goes into
        the parent's stream at once and the stream is held SETTLE_S from it (ParentStream)."""
        self._stream0.arm()
        try:
            if not join_until(self.queue, self._stop_evt.is_set, rec=rec, paced=paced):
                return False
            self._stop_evt.wait(SETTLE_S)
            return True
        finally:
            self._stream0.release()

    def _put_sentinels(self) -> bool:
        """With several producers, main puts the sentinels once all of them have exited."""
        cfg = self.cfg
        if cfg.producers == 1:
            return True  # the producer put them itself, as in the tutorial
        retrying = may_retry(cfg)
        # Retried tasks are re-put by consumers; let them drain before any sentinel.
        if retrying and not join_until(self.queue, self._stop_evt.is_set):
            return False
        for _ in range(sentinel_count(cfg)):
            self.queue.put(None)
        return not self._stop_evt.is_set()

    def _join_processes(self, srcs: list[int]) -> bool:
        """Wait until these workers have exited (as the collector saw it) or the run stops.

        Only the collector thread polls the Process objects: two threads polling one
        forkserver child race for its status and one of them reads exit code 255.
        """
        with self._exit_cond:
            while not all(s in self.exit_codes for s in srcs):
                if self._stop_evt.is_set():
                    return False
                self._exit_cond.wait(0.05)
        return not self._stop_evt.is_set()

    def _end(self, reason: str, status: RunStatus) -> None:
        with self._state_lock:
            if self._ended.is_set():
                return
            self.end_reason = reason
            self.rec.emit((int(Kind.RUN_END), perf_counter(), reason))
            self.status = status
            self._ended.set()
            self._stream0.release()  # a stop during a join's hold: nothing is left behind
            self.source.finish()
        self._close_queue()
        _live_runs.discard(self)

    def _close_queue(self) -> None:
        if self.queue is not None:
            # The parent never puts, but if data were abandoned the exit-time join of a feeder
            # thread could hang the process: never wait for it.
            self.queue.cancel_join_thread()
            self.queue.close()

    def pause(self) -> None:
        if self.status is RunStatus.RUNNING:
            self._paused.value = 1
            self.status = RunStatus.PAUSED
            self.rec.emit((int(Kind.PAUSE), perf_counter()))

    def resume(self) -> None:
        if self.status is RunStatus.PAUSED:
            self._paused.value = 0
            self.status = RunStatus.RUNNING
            self.rec.emit((int(Kind.RESUME), perf_counter()))

    def stop(self, reason: str = "stopped", timeout: float = 2.0) -> None:
        """End every process within ``timeout`` seconds, whatever they are blocked in."""
        with self._state_lock:
            if self._ended.is_set() or self.status is RunStatus.IDLE:
                return
            self.status = RunStatus.STOPPING
        self._stop_evt.set()
        self.rec.emit((int(Kind.STOP), perf_counter(), reason))
        if self._starter is not None and self._starter is not threading.current_thread():
            self._starter.join()  # it starts no worker after this: all of them are ended below
        if getattr(self, "_paused", None) is not None:
            self._paused.value = 0
        if self.stepper is not None:
            self.stepper.release()
        deadline = time.monotonic() + timeout
        for src, p in self._processes.items():
            if src not in self.exit_codes:
                p.terminate()
        if not self._wait_all_exited(min(TERM_GRACE_S, timeout / 2)):
            for src, p in self._processes.items():
                if src not in self.exit_codes:
                    p.kill()
            self._wait_all_exited(max(0.05, deadline - time.monotonic()))
        self.collector.close(max(0.1, deadline - time.monotonic()))
        if self._coordinator is not None and self._coordinator is not threading.current_thread():
            self._coordinator.join(0.5)
        if self.stepper is not None:
            self.stepper.close()
        self._end(reason, RunStatus.STOPPED)

    def _wait_all_exited(self, timeout: float) -> bool:
        end = time.monotonic() + timeout
        with self._exit_cond:
            while len(self.exit_codes) < len(self._processes):
                left = end - time.monotonic()
                if left <= 0 or not self.collector.alive:
                    break
                self._exit_cond.wait(min(left, 0.05))
            done = len(self.exit_codes) >= len(self._processes)
        if not done and not self.collector.alive:
            # No collector (failed start): poll the processes ourselves, nobody else does.
            for p in self._processes.values():
                p.join(max(0.0, end - time.monotonic()))
            done = all(p.exitcode is not None for p in self._processes.values())
        return done

    def __enter__(self) -> Run:
        if self.status is RunStatus.IDLE:
            self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop(reason="exit")

    # ------------------------------------------------------------ events
    def add_listener(self, listener: Callable[[Batch], None]) -> None:
        """Also hand every batch to ``listener``, in the order the model gets them.

        Only batches that were polled are heard (:meth:`wait` and :meth:`drain` poll
        everything); see :meth:`engine.inbox.Inbox.add_listener`. The trace writer uses it.
        """
        self.inbox.add_listener(listener)

    def _deliver(self, batch: Batch) -> None:
        """A batch of the parent's own records (stream 0), from whichever thread made them."""
        self.source.put(batch)

    def _deliver_raw(self, payload: bytes) -> None:
        """A worker's encoded batch, on the collector's thread: queued as it came, undecoded."""
        self.source.put_raw(payload)

    def _on_process_exit(self, src: int, exitcode: int) -> None:
        with self._exit_cond:
            self.exit_codes[src] = exitcode
            self._exit_cond.notify_all()
        self.rec.emit((int(Kind.PROC_EXIT), perf_counter(), src, exitcode))

    def poll(
        self, budget_s: float = 0.01, wait_s: float = 0.0, *, feed: bool = True
    ) -> list[tuple[int, tuple]]:
        """Feed waiting batches to the model for at most ``budget_s``; returns what was applied.

        Call it from one thread only (the GUI's timer or the CLI's loop): the model is not
        shared. ``wait_s`` blocks that long for the first batch when none is waiting.
        """
        applied = self.inbox.poll(budget_s, wait_s, feed=feed)
        if self.stepper is not None:
            self.stepper.tick(self.model)  # on the model's own thread: steps judged on it
        return applied

    @property
    def pending(self) -> int:
        """Batches (or what is left of one) not fed to the model yet."""
        return self.inbox.pending

    @property
    def received_batches(self) -> int:
        return self.inbox.received_batches

    @property
    def received_records(self) -> int:
        """Records taken without feeding (``poll(feed=False)``, benchmarks)."""
        return self.inbox.received_records

    @property
    def undecodable_batches(self) -> int:
        """Batches that arrived whole but would not decode: counted as lost."""
        return self.source.undecodable

    @property
    def ended(self) -> bool:
        return self._ended.is_set()

    def wait_ended(self, timeout: float) -> bool:
        """Block until the run has ended or ``timeout`` s have passed; True if it has ended."""
        return self._ended.wait(timeout)

    def wait(self, timeout: float | None = None, *, feed: bool = True) -> bool:
        """Block (feeding the model) until the run ends; True if it did in time."""
        end = None if timeout is None else time.monotonic() + timeout
        while not self._ended.is_set():
            left = None if end is None else end - time.monotonic()
            if left is not None and left <= 0:
                return False
            self.poll(0.05, wait_s=0.05 if left is None else min(0.05, left), feed=feed)
        while self.pending:
            self.poll(1.0, feed=feed)
        return True

    def drain(self, settle_s: float = 0.3) -> None:
        """Feed everything that arrives within ``settle_s`` of the last batch."""
        end = time.monotonic() + settle_s
        while time.monotonic() < end:
            if self.poll(1.0, wait_s=0.02):
                end = time.monotonic() + settle_s

    def alive_pids(self) -> list[int]:
        return [p.pid for s, p in self.processes.items() if s not in self.exit_codes and p.pid]
