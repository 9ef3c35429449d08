"""Fault suite helpers: real processes killed on purpose, and what QueueLab must do about it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import psutil

from engine.config import RunConfig
from engine.distributions import Distribution
from engine.events import Kind
from engine.model import RunModel
from engine.runner import Run

ROOT = Path(__file__).resolve().parent.parent.parent
# Generous bounds for things that normally take milliseconds: only a hang should hit them.
# Starting a window and its workers took over 20 s at load 18-20 on a shared 2-core machine.
START_TIMEOUT_S = 60.0
RUN_TIMEOUT_S = 60.0


def const(x: float) -> Distribution:
    return Distribution.constant(x)


def config(**changes: Any) -> RunConfig:
    """A small, reproducible run; tests change what they are about."""
    base: dict[str, Any] = {
        "producers": 1,
        "consumers": 1,
        "tasks_per_producer": 4,
        "task_duration": const(0.0),
        "seed": 7,
    }
    base.update(changes)
    return RunConfig(**base)


def poll_until(run: Run, pred: Callable[[RunModel], bool], timeout: float) -> bool:
    """Feed the model until ``pred(model)`` holds; False if it did not within ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        run.poll(0.05, wait_s=0.01)
        if pred(run.model):
            return True
        if time.monotonic() >= deadline:
            return False


def all_started(model: RunModel) -> bool:
    return bool(model.workers) and all(w.pid for w in model.workers.values())


def now_t(run: Run) -> float:
    """The run-relative time now, as diagnose() and detect_stall() want it."""
    return run.model.rel(time.perf_counter())


def running(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def wait_gone(pids: list[int], timeout: float) -> list[int]:
    """Wait until none of ``pids`` runs; return those still running after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        left = [pid for pid in pids if running(pid)]
        if not left or time.monotonic() >= deadline:
            return left
        time.sleep(0.01)


def titled(pid: int, title: str) -> list[psutil.Process]:
    """Descendants of ``pid`` whose process title is ``title`` ("queuelab consumer-0")."""
    out = []
    try:
        kids = psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []
    for p in kids:
        try:
            if " ".join(p.cmdline()).strip() == title or p.name() == title:
                out.append(p)
        except psutil.Error:
            pass
    return out


def worker_pids(pid: int) -> list[int]:
    """Every live QueueLab worker below ``pid``."""
    out = []
    try:
        kids = psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []
    for p in kids:
        try:
            if " ".join(p.cmdline()).startswith("queuelab ") and p.status() != "zombie":
                out.append(p.pid)
        except psutil.Error:
            pass
    return out


def read_lock_holder(run: Run, consumers: list[int]) -> int | None:
    """The one consumer blocked reading the queue's pipe: it holds the read lock (Linux /proc).

    None when no consumer, or more than one, is seen there (then nobody can be sure which).
    """
    found = None
    for src in consumers:
        wchan = Path(f"/proc/{run.processes[src].pid}/wchan").read_text()
        if "pipe" in wchan:
            if found is not None:
                return None
            found = src
    return found


def writing_a_full_pipe(pid: int, shared_with: int) -> bool:
    """A thread of ``pid`` is blocked writing a pipe that ``shared_with`` holds too (Linux /proc).

    The queue's pipe is the one pipe a producer and a consumer share (each worker's event pipe
    goes to the parent only). A producer's feeder thread blocked in that write means the pipe
    is full: data is queued that nobody has read yet.
    """
    theirs = _pipes(shared_with)
    try:
        threads = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return False
    for tid in threads:
        try:
            wchan = Path(f"/proc/{pid}/task/{tid}/wchan").read_text()
            call = Path(f"/proc/{pid}/task/{tid}/syscall").read_text().split()
            # "anon_pipe_write", "pipe_write" or "pipe_wait_writable", as kernels name it.
            if "pipe" not in wchan or "writ" not in wchan or len(call) < 2:
                continue
            if os.readlink(f"/proc/{pid}/fd/{int(call[1], 16)}") in theirs:
                return True
        except (OSError, ValueError):
            continue
    return False


def _pipes(pid: int) -> set[str]:
    """The pipes ``pid`` holds open, as /proc names them ("pipe:[31520]")."""
    out = set()
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                link = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if link.startswith("pipe:"):
                out.add(link)
    except OSError:
        pass
    return out


def started_a_task(trace: Path, pid: int) -> bool:
    """The trace a CLI is writing holds a get that returned to the worker ``pid`` (complete
    lines only): its task starts there (a built-in task has no TASK_START of its own).

    The trace writer flushes within half a second, so this sees what the run recorded by then.
    """
    src = None
    try:
        lines = trace.read_text().splitlines()[1:]  # the header first, then one batch a line
    except OSError:
        return False
    for line in lines:
        try:
            stream, _seq, records = json.loads(line)
        except ValueError:
            continue  # the last line, half written
        for r in records:
            if r[0] == Kind.WORKER_START and r[2] == pid:
                src = stream
            elif r[0] == Kind.GET and stream == src:
                return True
    return False


def wait_for(pred: Callable[[], Any], timeout: float, step: float = 0.02) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = pred()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(step)


def cli(*args: str) -> subprocess.Popen:
    """Start ``python main.py ARGS`` from the checkout, output captured as text."""
    return subprocess.Popen(
        [sys.executable, str(ROOT / "main.py"), *args],
        cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def reap(proc: subprocess.Popen, pids: Sequence[int] = ()) -> None:
    """Leave nothing behind whatever the test's outcome: the CLI and the workers it started."""
    if proc.poll() is None:
        proc.kill()
    try:
        proc.communicate(timeout=5)
    except (subprocess.TimeoutExpired, ValueError):
        pass
    for pid in pids:
        if running(pid):
            try:
                os.kill(pid, 9)
            except ProcessLookupError:
                pass
