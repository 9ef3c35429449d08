"""Inside a traced program: every JoinableQueue traced, every process reporting over one socket.

``python main.py trace PROGRAM.py`` starts the program's own interpreter with :data:`BOOT` as
its ``-c`` code (see engine/trace_session.py). That launcher calls :func:`launch`, which

- replaces ``multiprocessing.JoinableQueue``, every context's ``JoinableQueue`` factory and
  ``multiprocessing.queues.JoinableQueue`` by :class:`~engine.trace_queues.TracedQueue` (a
  :class:`~engine.traced_queue.TracedJoinableQueue` with a queue id that also notes the
  calling source line), the ``Queue`` factories by ``TracedPlainQueue``, and wraps
  ``Process.join()`` (a main process waiting there puts nothing: the diagnosis needs it);
- starts a :class:`~engine.recorder.Recorder` in every process of the program when it starts:
  the main process (stream 0), and each child under fork, spawn and forkserver, grandchildren
  included (``BaseProcess._after_fork`` is wrapped: it runs in every child, whatever the start
  method, right after the child became ``current_process()``);
- carries itself into spawned and forkserver children inside the preparation data the parent
  pickles for them (:class:`_Carrier`: unpickling it imports this module and installs it,
  before the child imports the program as ``__mp_main__``);
- then runs the program as the real ``__main__``, the way ``python PROGRAM.py`` does.

Each process connects to the QueueLab parent's Unix socket, says who it is (``hello``) and
gets its stream number back; records travel as :func:`engine.recorder.dumps_batch` batches.
Messages that are not record batches are tuples whose first item is a string (``exit``: a
child this process reaped, with its exit code; ``note``: something the trace does not follow;
``failed``: this process failed before it ran its target). Linux and macOS only (a Unix socket).
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.context as _mp_context
import multiprocessing.process as _mp_process
import multiprocessing.queues as _mp_queues
import multiprocessing.spawn as _mp_spawn
import os
import pickle
import socket
import sys
import threading
import time
import types
from multiprocessing.connection import Connection
from typing import Any

from engine import recorder as _rec
from engine import trace_frames
from engine.events import Kind
from engine.recorder import Recorder, dumps_batch
from engine.trace_queues import TracedPlainQueue, TracedQueue, reset_process

ENV_CHANNEL = "QUEUELAB_TRACE_CHANNEL"  # the parent's socket path; removed before the program runs
ENV_ROOT = "QUEUELAB_TRACE_ROOT"  # the folder that holds engine/; removed likewise
# The launcher's -c code: import this module from QueueLab's folder, then forget that folder,
# so the program's sys.path is what `python PROGRAM.py` gives it.
BOOT = (
    "import os, sys\n"
    "_r = os.environ.pop('QUEUELAB_TRACE_ROOT')\n"
    "sys.path.insert(0, _r)\n"
    "import engine.tracer as _t\n"
    "sys.path.remove(_r)\n"
    "_t.launch()\n"
)
_LINE, _PJ, _PEND = int(Kind.LINE), int(Kind.PROC_JOIN), int(Kind.PROC_END)
_THIS_FILE = __file__

_address: str | None = None
_root: str | None = None
_conn: Connection | None = None
_send_lock = threading.Lock()
_installed = False
_mine: Recorder | None = None  # this process's recorder (a forked child finds its parent's)


# ------------------------------------------------------------------------- the queues


def _context_joinable_queue(self: Any, maxsize: int = 0) -> TracedQueue:
    return TracedQueue(maxsize, ctx=self.get_context())


def _default_joinable_queue(maxsize: int = 0) -> TracedQueue:
    return TracedQueue(maxsize, ctx=_mp_context._default_context.get_context())


def _context_queue(self: Any, maxsize: int = 0) -> TracedPlainQueue:
    return TracedPlainQueue(maxsize, ctx=self.get_context())


def _default_queue(maxsize: int = 0) -> TracedPlainQueue:
    return TracedPlainQueue(maxsize, ctx=_mp_context._default_context.get_context())


_orig_join = _mp_process.BaseProcess.join
_orig_terminate = _mp_process.BaseProcess.terminate
_orig_kill = _mp_process.BaseProcess.kill


def _process_join(self: Any, timeout: float | None = None) -> None:
    """Process.join(): a join without a timeout is a wait the diagnosis must know of (the
    main process puts nothing while it waits), and its line is lit in the code pane."""
    rec = _rec._current
    if rec is None or timeout is not None:
        return _orig_join(self, timeout)
    f = sys._getframe(1)
    rec.emit((_LINE, time.perf_counter(), _PJ, f.f_code.co_filename, f.f_lineno))
    rec.emit((_PJ, time.perf_counter(), self.pid or 0, 0))
    rec.flush()  # this process may wait here for long: ship what it did first
    try:
        return _orig_join(self, timeout)
    finally:
        rec.emit((_PJ, time.perf_counter(), self.pid or 0, 1))


def _ending(orig: Any) -> Any:
    """Process.terminate()/kill(): the death that follows is the program's own doing (a
    ``with Pool(...)`` block ends its workers so), not a fault: said before the signal goes."""

    def end(self: Any) -> None:
        rec = _rec._current
        if rec is not None and self._popen is not None and self._popen.returncode is None:
            rec.emit((_PEND, time.perf_counter(), self.pid or 0))
            rec.flush()
        return orig(self)

    end.__doc__ = orig.__doc__
    return end


# ------------------------------------------------------------------------- the channel


def _send(message: bytes) -> None:
    """One whole message on the socket; the flusher thread and others share the connection."""
    conn = _conn
    if conn is None:
        raise OSError("not connected")
    with _send_lock:
        conn.send_bytes(message)


def _send_batch(batch: tuple[int, int, list[tuple]]) -> None:
    _send(dumps_batch(batch))


def _connect(name: str, is_main: bool) -> int:
    """Connect to the parent and say who this process is; returns the stream number."""
    global _conn
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(_address)
    s.set_inheritable(False)
    _conn = Connection(s.detach())
    _conn.send_bytes(pickle.dumps(("hello", os.getpid(), os.getppid(), name, is_main)))
    return pickle.loads(_conn.recv_bytes())


def _start_recorder(name: str, is_main: bool) -> Recorder | None:
    reset_process()
    try:
        src = _connect(name, is_main)
    except OSError:
        return None  # the parent is gone: run untraced, as the plain program would
    global _mine
    rec = Recorder(src, _send_batch)
    _mine = rec
    _rec.activate(rec)
    rec.emit((int(Kind.PROC_INFO), time.perf_counter(), os.getpid(), name))
    rec.start_flusher()
    rec.flush_at_exit()
    return rec


# ------------------------------------------------------------------------- multiprocessing hooks

_orig_bootstrap = _mp_process.BaseProcess._bootstrap
_orig_prep = _mp_spawn.get_preparation_data
_started_in: int | None = None  # the pid whose recorder was started


def _wrap_after_fork(cls: type) -> None:
    """Start the child's recorder right after ``_after_fork``: in every child, fork, spawn or
    forkserver, after the parent's finalizers were dropped (ours must survive) and the child
    became current_process(). Each context's Process class has its own (3.11: spawn's does
    nothing, the default context's delegates), so each is wrapped; the first start counts."""
    orig = cls.__dict__["_after_fork"].__func__

    def _after_fork(*args: Any, **kwargs: Any) -> None:
        global _started_in
        orig(*args, **kwargs)
        if _started_in != os.getpid():
            _started_in = os.getpid()
            _conn_close_inherited()
            _start_recorder(_mp_process.current_process().name, False)

    cls._after_fork = staticmethod(_after_fork)


def _conn_close_inherited() -> None:
    """A forked child must not write on its parent's connection, nor keep it open: the parent
    learns that a process ended when its connection closes."""
    global _conn, _mine
    conn, _conn = _conn, None
    _mine = None  # the parent's, copied: the recorder's at-fork hook disowned it already
    if conn is not None:
        try:
            conn.close()
        except OSError:
            pass
    _rec.activate(None)


def _reset_lock_in_child() -> None:
    # fork may copy the lock held by the parent's flusher thread: the child would wait forever.
    global _send_lock
    _send_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_lock_in_child)


def _bootstrap(self: Any, parent_sentinel: Any = None) -> int:
    code = _orig_bootstrap(self, parent_sentinel)
    rec = _rec._current
    if rec is not None:
        rec.close(code)  # WORKER_EXIT with the code the process is about to exit with
    return code


class _Carrier:
    """Unpickled in a spawned or forkserver child: installs the tracing there first."""

    def __init__(self, address: str, root: str) -> None:
        self.address, self.root = address, root

    def __reduce__(self) -> tuple:
        code = (
            "import sys\n"
            f"sys.path.insert(0, {self.root!r})\n"
            "try:\n"
            "    import engine.tracer as _t\n"
            "finally:\n"
            f"    sys.path.remove({self.root!r})\n"
            f"_t.install({self.address!r}, {self.root!r})\n"
        )
        return (exec, (code, {}))


def _prep(name: str) -> dict:
    data = _orig_prep(name)
    if _address is not None and _root is not None:
        data["queuelab_trace"] = _Carrier(_address, _root)  # spawn.prepare ignores unknown keys
    return data


def _wrap_poll(cls: type) -> None:
    """Tell the parent the exit code of every child this process reaps (a killed child's
    stream ends without one)."""
    orig = cls.poll
    if getattr(orig, "_queuelab", False):
        return

    def poll(self: Any, *args: Any, **kwargs: Any) -> Any:
        before = self.returncode
        code = orig(self, *args, **kwargs)
        if before is None and code is not None and _conn is not None:
            try:
                _send(pickle.dumps(("exit", self.pid, code)))
            except (OSError, ValueError):
                pass
        return code

    poll._queuelab = True  # type: ignore[attr-defined]
    cls.poll = poll


_noted: set[str] = set()
NOTE_MANAGER = (
    "Manager().JoinableQueue() is not traced: it is a queue.Queue living in the manager's "
    "process, reached through a proxy"
)


def _say_untraced(text: str) -> None:
    """Tell the parent once per process about something the trace does not follow."""
    if text in _noted or _conn is None:
        return
    _noted.add(text)
    try:
        _send(pickle.dumps(("note", text)))
    except (OSError, ValueError):
        pass


def _wrap_factory(owner: Any, name: str, text: str) -> None:
    orig = getattr(owner, name)

    def factory(*args: Any, **kwargs: Any) -> Any:
        _say_untraced(text)
        return orig(*args, **kwargs)

    factory.__doc__ = orig.__doc__
    setattr(owner, name, factory)


def install(address: str, root: str) -> None:
    """Patch multiprocessing in this process (idempotent)."""
    global _address, _root, _installed
    _address, _root = address, root
    if _installed:
        return
    _installed = True
    trace_frames.install()
    sys.excepthook = _early_failure(sys.excepthook)
    _mp_context.BaseContext.JoinableQueue = _context_joinable_queue
    multiprocessing.JoinableQueue = _default_joinable_queue
    _mp_queues.JoinableQueue = TracedQueue
    # multiprocessing.Queue: its factories only (JoinableQueue subclasses the class itself).
    _mp_context.BaseContext.Queue = _context_queue
    multiprocessing.Queue = _default_queue
    _mp_process.BaseProcess.join = _process_join
    _mp_process.BaseProcess.terminate = _ending(_orig_terminate)
    _mp_process.BaseProcess.kill = _ending(_orig_kill)
    for cls in [_mp_process.BaseProcess, *vars(_mp_context).values()]:
        is_process = isinstance(cls, type) and issubclass(cls, _mp_process.BaseProcess)
        if is_process and "_after_fork" in cls.__dict__:
            _wrap_after_fork(cls)
    _mp_process.BaseProcess._bootstrap = _bootstrap
    _mp_spawn.get_preparation_data = _prep
    # Not traced, but said: the summary and the window name them instead of showing nothing.
    import multiprocessing.managers as managers

    _wrap_factory(managers.SyncManager, "JoinableQueue", NOTE_MANAGER)
    import multiprocessing.popen_fork as popen_fork

    _wrap_poll(popen_fork.Popen)
    try:
        import multiprocessing.popen_forkserver as popen_forkserver

        _wrap_poll(popen_forkserver.Popen)
    except ImportError:
        pass


# ------------------------------------------------------------------------- the launcher


def launch() -> None:
    """Run ``sys.argv[1:]`` (PROGRAM.py ARGS, or -m MODULE ARGS) as ``python`` would."""
    address = os.environ.pop(ENV_CHANNEL)
    root = os.path.dirname(os.path.dirname(os.path.abspath(_THIS_FILE)))
    install(address, root)
    sys.excepthook = _strip_launcher(sys.excepthook)
    args = sys.argv[1:]
    global _started_in
    _started_in = os.getpid()
    _start_recorder("main", True)
    if args[0] == "-m":
        import runpy

        sys.argv = [args[1], *args[2:]]  # runpy puts the module's file in argv[0]
        sys.path[0] = os.getcwd()
        try:
            runpy._run_module_as_main(args[1], alter_argv=True)  # what `python -m` calls
        finally:
            _main_code_ended()
        return
    path = args[0]
    sys.argv = list(args)
    sys.path[0] = os.path.dirname(os.path.realpath(path))
    with open(path, "rb") as f:
        source = f.read()
    main = types.ModuleType("__main__")
    main.__file__ = os.path.abspath(path)
    main.__cached__ = None
    main.__builtins__ = __builtins__
    import importlib.machinery

    main.__loader__ = importlib.machinery.SourceFileLoader("__main__", main.__file__)
    sys.modules["__main__"] = main
    code = compile(source, main.__file__, "exec", dont_inherit=True)
    try:
        exec(code, main.__dict__)
    finally:
        _main_code_ended()


def _main_code_ended() -> None:
    """The program's code is done; at exit multiprocessing terminates its daemon processes.

    Those deaths by SIGTERM are the plain program's normal end, not faults: a STOP record
    tells the model (and so the diagnosis) that what dies from now on was ended on purpose.
    """
    rec = _rec._current
    if rec is not None and any(p.daemon for p in multiprocessing.active_children()):
        rec.emit((int(Kind.STOP), time.perf_counter(), "the main program ended its daemons"))
        rec.flush()


def _early_failure(hook: Any) -> Any:
    """A spawn or forkserver child that fails before it runs its target (importing the main
    module: starting processes outside ``if __name__ == '__main__':``, a target it cannot
    find) never starts a recorder: the program would seem to lack a process. Say which
    failed and why (the traceback itself is printed as the plain program prints it)."""

    def excepthook(kind: type, value: BaseException, tb: Any) -> None:
        hook(kind, value, tb)
        if _conn is not None or _started_in == os.getpid() or _address is None:
            return  # main, a process whose recorder started, or a forked child
        name = _mp_process.current_process().name
        try:
            _connect(name, False)
        except OSError:
            return
        text = f"{name} (pid {os.getpid()}) failed before it ran its target: "
        try:
            _send(pickle.dumps(("failed", text + f"{kind.__name__}: {_first_words(value)}")))
        except (OSError, ValueError):
            pass

    return excepthook


def _first_words(value: BaseException, limit: int = 400) -> str:
    """An exception's message as one line: its first two paragraphs (and the line a colon
    at their end announces: the bootstrapping error's idiom), at most ``limit``."""
    raw = str(value).strip().split("\n\n")
    text = " ".join(" ".join(p.split()) for p in raw[:2] if p.strip())
    if text.endswith(":") and len(raw) > 2 and raw[2].strip():
        text += " " + raw[2].strip().splitlines()[0]
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _strip_launcher(hook: Any) -> Any:
    """An uncaught exception's traceback without the launcher's frames, as ``python`` shows it."""

    def excepthook(kind: type, value: BaseException, tb: Any) -> None:
        while tb is not None and tb.tb_frame.f_code.co_filename in (_THIS_FILE, "<string>"):
            tb = tb.tb_next
        if value is not None:
            value.__traceback__ = tb
        hook(kind, value, tb)

    return excepthook
