"""QueueLab's side of ``trace``: start a user's program under engine/tracer.py and model it.

:class:`TraceSession` owns a Unix socket in a private temporary folder, starts the program's
launcher (``sys.executable -c engine.tracer.BOOT PROGRAM ARGS``) with the socket's path in its
environment, and reads every process's records on one thread. Records reach the same
:class:`~engine.model.RunModel` a run feeds, through :meth:`poll` (the CLI's loop or the
window's timer), and every batch is handed to the listeners first (the trace writer).

Streams: the main process's records are stream 0, merged with QueueLab's own stream-0 records
(RUN_START, PROC_EXIT, STOP, RUN_END) under one numbering; each child process gets the next
stream number when it connects. A child's stream ends when its connection closes: with its
WORKER_EXIT, or (killed) with the exit code its parent process reaped, which that process
reports in an ``exit`` message. The whole process tree is ended by :meth:`stop` (SIGTERM, then
SIGKILL after a grace period) and found by parent pid with psutil, plus every pid a traced
process announced.
"""

from __future__ import annotations

import os
import pickle
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection, wait
from typing import Any

import psutil

from engine.applied import Applied
from engine.events import Kind
from engine.inbox import Batch, Inbox, QueueSource
from engine.model import RunModel
from engine.trace_lanes import Demux, Lane
from engine.tracer import BOOT, ENV_CHANNEL, ENV_ROOT

__all__ = ["Batch", "TraceSession", "kill_tree"]
_WORKER_EXIT = int(Kind.WORKER_EXIT)
TERM_GRACE_S = 1.0  # SIGTERM first; what is still alive after this gets SIGKILL
# After the main process exits, its children's last records may still be on their way.
END_GRACE_S = 2.0
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class TraceSession:
    """One traced execution of a program. ``argv`` is ``[PROGRAM.py, ...]`` or ``["-m", MOD, ...]``.

    ``stdout``/``stderr`` are passed to :class:`subprocess.Popen` (None: inherited, the
    program writes to QueueLab's own terminal, unchanged).
    """

    def __init__(self, argv: list[str], *, stdout: Any = None, stderr: Any = None) -> None:
        if not argv:
            raise ValueError("no program to trace")
        self.argv = list(argv)
        # One lane (and model) per queue the program makes: engine/trace_lanes.py.
        self.demux = Demux()
        self.selected: int | None = None  # the lane poll() returns the records of
        self._no_queue = RunModel()  # shown until the program makes a queue (or if it never does)
        self.proc: subprocess.Popen | None = None
        self.exit_code: int | None = None  # the program's (its main process's) own
        self.end_reason: str | None = None
        self.names: dict[int, tuple[int, str]] = {}  # src -> (pid, name)
        self.notes: list[str] = []  # what the program uses that the trace does not follow
        # Processes that failed before they ran their target (also among the notes): a
        # problem the lesson shows, as a finding.
        self.early_failures: list[str] = []
        self._stdout, self._stderr = stdout, stderr
        # The one road to the model (engine/inbox.py): the reading thread puts, poll feeds.
        self.source = QueueSource()
        self.inbox = Inbox(_Lanes(self), self.source)
        self._lock = threading.Lock()  # stream 0's numbering, shared by two writers
        self._seq0 = 0
        self._next_src = 1
        self._conns: dict[Connection, int] = {}
        self._pids: dict[int, int] = {}  # src -> pid
        self._exited_streams: dict[int, int | None] = {}  # src -> code from WORKER_EXIT
        self._reaped: dict[int, int] = {}  # pid -> exit code reported by its parent
        self._waiting_code: set[int] = set()  # streams closed without an exit code yet
        self._ended = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._started_wall = time.time() - 1.0
        self._dir = tempfile.mkdtemp(prefix="queuelab-trace-")
        self.address = os.path.join(self._dir, "s")
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._listener.bind(self.address)
        self._listener.listen(64)
        self._listener.set_inheritable(False)

    # ------------------------------------------------------------ lifecycle
    def start(self) -> TraceSession:
        env = dict(os.environ)
        env[ENV_CHANNEL] = self.address
        env[ENV_ROOT] = ROOT
        # No RUN_START: its producer and consumer counts are a configured run's (the model
        # makes their rows from it); a traced program's processes announce themselves.
        self.proc = subprocess.Popen(
            [sys.executable, "-c", BOOT, *self.argv],
            env=env, stdout=self._stdout, stderr=self._stderr,
        )  # fmt: skip
        self._thread = threading.Thread(target=self._loop, name="queuelab-trace", daemon=True)
        self._thread.start()
        return self

    @property
    def lanes(self) -> list[Lane]:
        return list(self.demux.lanes.values())

    @property
    def lane(self) -> Lane | None:
        """The selected lane (the first one until one is chosen); None before any queue."""
        lanes = self.demux.lanes
        if self.selected in lanes:
            return lanes[self.selected]
        return next(iter(lanes.values()), None)

    @property
    def model(self) -> RunModel:
        """The selected lane's model (an empty one while the program has made no queue)."""
        lane = self.lane
        return lane.model if lane is not None else self._no_queue

    @property
    def ended(self) -> bool:
        return self._ended.is_set()

    @property
    def pid(self) -> int | None:
        return None if self.proc is None else self.proc.pid

    def add_listener(self, listener: Callable[[Batch], None]) -> None:
        """Also hand every batch to ``listener`` as :meth:`poll` takes it (the trace writer)."""
        self.inbox.add_listener(listener)

    def stop(self, reason: str = "stopped") -> None:
        """End the program's whole process tree: SIGTERM, then SIGKILL to what is left."""
        if self.proc is None or self._stopping.is_set():
            return
        self._stopping.set()
        if self.exit_code is None:
            self._parent_record((int(Kind.STOP), time.perf_counter(), reason))
            self.end_reason = reason
        kill_tree(self._tree())
        self.wait(5.0)

    def wait(self, timeout: float | None = None) -> bool:
        """Until the reading thread has seen everything end (no feeding: call :meth:`poll`)."""
        return self._ended.wait(timeout)

    def close(self) -> None:
        self.stop("closed")
        shutil.rmtree(self._dir, ignore_errors=True)

    def _tree(self) -> list[psutil.Process]:
        """Every live process of the program: descendants of its main, and announced pids."""
        found: dict[int, psutil.Process] = {}
        if self.proc is not None:
            try:
                main = psutil.Process(self.proc.pid)
                found[main.pid] = main
                for p in main.children(recursive=True):
                    found[p.pid] = p
            except psutil.Error:
                pass
        for pid in list(self._pids.values()):
            if pid in found:
                continue
            try:
                p = psutil.Process(pid)
                # A pid announced by a traced process and since reused is not ours.
                if p.create_time() <= self._started_wall + 1e-3 and p.pid != self.proc.pid:
                    continue
                found[pid] = p
            except psutil.Error:
                pass
        found.pop(os.getpid(), None)
        return list(found.values())

    # ------------------------------------------------------------ records
    def _parent_record(self, record: tuple) -> None:
        with self._lock:
            self.source.put((0, self._seq0, [record]))
            self._seq0 += 1

    def _main_batch(self, records: list[tuple]) -> None:
        with self._lock:
            self.source.put((0, self._seq0, records))
            self._seq0 += len(records)

    def poll(self, budget_s: float = 0.05, wait_s: float = 0.0) -> list[tuple[int, tuple]]:
        """Feed waiting batches to the lanes' models for about ``budget_s``; returns what was
        applied to the selected lane's."""
        return self.inbox.poll(budget_s, wait_s)

    @property
    def pending(self) -> int:
        return self.inbox.pending

    # ------------------------------------------------------------ the reading thread
    def _loop(self) -> None:
        main_done_at: float | None = None
        try:
            while True:
                ready = wait([self._listener, *self._conns], timeout=0.05)
                for obj in ready:
                    if obj is self._listener:
                        self._accept()
                    else:
                        self._read(obj)
                if main_done_at is None and self.proc is not None and self.proc.poll() is not None:
                    main_done_at = time.monotonic()
                if main_done_at is not None:
                    late = time.monotonic() - main_done_at > END_GRACE_S
                    if not self._conns or late or (self._stopping.is_set() and not ready):
                        break
        finally:
            self._finish()

    def _accept(self) -> None:
        try:
            sock, _ = self._listener.accept()
        except OSError:
            return
        conn = Connection(sock.detach())
        try:
            hello = pickle.loads(conn.recv_bytes())
            _, pid, _ppid, name, is_main = hello
            src = 0 if is_main else self._next_src
            if not is_main:
                self._next_src += 1
            conn.send_bytes(pickle.dumps(src))
        except (OSError, EOFError, ValueError, pickle.UnpicklingError):
            conn.close()
            return
        self._conns[conn] = src
        self._pids[src] = pid
        self.names[src] = (pid, name)

    def _read(self, conn: Connection) -> None:
        src = self._conns[conn]
        try:
            payload = conn.recv_bytes()
        except (EOFError, OSError):
            self._stream_closed(conn, src)
            return
        try:
            msg = pickle.loads(payload)
        except Exception:
            return  # whole but unreadable: its records show as a gap (lost)
        if type(msg[0]) is str:
            if msg[0] == "exit":
                self._on_reaped(msg[1], msg[2])
            elif msg[0] == "note" and msg[1] not in self.notes:
                self.notes.append(msg[1])
            elif msg[0] == "failed":
                self.early_failures.append(msg[1])
                self.notes.append(msg[1])
            return
        _, first, records = msg
        if src == 0:
            self._main_batch(records)
            return
        if records and records[-1][0] == _WORKER_EXIT:
            self._exited_streams[src] = records[-1][2]
        self.source.put((src, first, records))

    def _stream_closed(self, conn: Connection, src: int) -> None:
        del self._conns[conn]
        conn.close()
        if src == 0:
            return  # main's end is its process's exit, seen by Popen
        code = self._exited_streams.get(src)
        if code is None:
            code = self._reaped.pop(self._pids.get(src, -1), None)
        if code is None:
            self._waiting_code.add(src)  # killed: its parent may report the code soon
            return
        self._proc_exit(src, code)

    def _on_reaped(self, pid: int, code: int) -> None:
        for src in list(self._waiting_code):
            if self._pids.get(src) == pid:
                self._waiting_code.discard(src)
                self._proc_exit(src, code)
                return
        self._reaped[pid] = code

    def _proc_exit(self, src: int, code: int) -> None:
        self._parent_record((int(Kind.PROC_EXIT), time.perf_counter(), src, code))

    def _finish(self) -> None:
        """Main is gone (or the program is being stopped): end the rest, record the end."""
        leftovers = self._tree()
        if leftovers:
            kill_tree(leftovers)  # orphans of a main that died, or the tree being stopped
        for conn in list(self._conns):
            # Their last records are in the socket: read until each one closes.
            while conn in self._conns:
                if not conn.poll(0.5):
                    self._stream_closed(conn, self._conns[conn])
                    break
                self._read(conn)
        code = self.proc.wait() if self.proc is not None else -9
        for src in sorted(self._waiting_code):
            # Its parent never reaped it (the main process died first): killed by us or the
            # signal that ended it; -9 stands for "no exit code known".
            self._proc_exit(src, self._reaped.pop(self._pids.get(src, -1), -9))
        self._waiting_code.clear()
        self.exit_code = code
        if self.end_reason is None:
            self.end_reason = "exited" if code == 0 else f"exit code {code}"
        self._parent_record((int(Kind.RUN_END), time.perf_counter(), self.end_reason))
        try:
            self._listener.close()
        except OSError:
            pass
        self._ended.set()
        self.source.finish()


def kill_tree(procs: list[psutil.Process], grace_s: float = TERM_GRACE_S) -> None:
    """SIGTERM each, wait up to ``grace_s``, SIGKILL the rest (programs may ignore SIGTERM)."""
    for p in procs:
        try:
            p.send_signal(signal.SIGTERM)
        except psutil.Error:
            pass
    _gone, alive = psutil.wait_procs(procs, timeout=grace_s)
    for p in alive:
        try:
            p.kill()
        except psutil.Error:
            pass
    psutil.wait_procs(alive, timeout=grace_s)


class _Lanes:
    """What the inbox feeds for a traced program: each batch split by queue into its lane's
    model (engine/trace_lanes.py); what was applied to the selected lane comes back."""

    def __init__(self, session: TraceSession) -> None:
        self.session = session

    def feed(self, batches: list[Batch]) -> Applied:
        demux = self.session.demux
        split = demux.split(batches)
        shown = self.session.lane  # after the split: it may have made the first lane
        applied = Applied()
        for qid, lane_batches in split.items():
            lane = demux.lanes[qid]
            done = lane.model.feed(lane_batches)
            # A program has no configured total: what it has put so far is its total (so
            # a join that returned before later puts is seen as premature).
            m = lane.model
            if m.task_puts > m.tasks_total:
                m.tasks_total = m.task_puts
            if lane is shown:
                applied.extend(done)
        return applied
