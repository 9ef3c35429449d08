"""Which processes below a test are QueueLab's: by process title, parentage and pid, never path.

A checkout in a folder called ``queuelab`` puts that word in the command line of the standard
library's forkserver (its ``sys_path`` argument), so no substring of a command line may count.
"""

from __future__ import annotations

import os
import re

import psutil

# What engine/workers.py gives each worker with setproctitle: "queuelab producer-0",
# "queuelab consumer-2" (and tests' own "queuelab test-child"). A whole title, one word after
# "queuelab ": a command line holding a path ("/x/queuelab/main.py ...") never matches it.
WORKER_TITLE = re.compile(r"queuelab [A-Za-z]+(-[A-Za-z0-9]+)*")


def title(proc: psutil.Process) -> str:
    """The process title as ``ps`` shows it: setproctitle rewrites the whole argument area."""
    return " ".join(proc.cmdline()).strip()


def is_worker(proc: psutil.Process) -> bool:
    """A live (not zombie) process titled like a QueueLab worker."""
    try:
        if proc.status() == psutil.STATUS_ZOMBIE:
            return False  # exited; only its parent's bookkeeping is left
        return WORKER_TITLE.fullmatch(title(proc)) is not None
    except psutil.Error:
        return False


def stdlib_helper_pids() -> set[int]:
    """Pids of this process's forkserver and resource tracker, as multiprocessing records them.

    Both are started once per test session and kept on purpose by multiprocessing: not leaks.
    """
    from multiprocessing import forkserver, resource_tracker

    pids = {
        getattr(forkserver._forkserver, "_forkserver_pid", None),
        getattr(resource_tracker._resource_tracker, "_pid", None),
    }
    return {pid for pid in pids if isinstance(pid, int)}


def descendants(pid: int | None = None) -> list[psutil.Process]:
    """Every process below ``pid`` (this process by default); [] when it is gone."""
    try:
        return psutil.Process(pid or os.getpid()).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def worker_descendants(pid: int | None = None) -> list[psutil.Process]:
    """Live QueueLab workers below ``pid``: titled as workers, and our descendants."""
    return [p for p in descendants(pid) if is_worker(p)]


def leftovers(before: set[int]) -> list[tuple[psutil.Process, str]]:
    """Processes a test left below this one, each with why it counts.

    A zombie (a child nobody reaped), a QueueLab worker (by title), or any other process that
    was not there before the test and is not one of multiprocessing's own helpers (by pid).
    """
    helpers = stdlib_helper_pids()
    out: list[tuple[psutil.Process, str]] = []
    for p in descendants():
        try:
            status = p.status()
            what = title(p)
        except psutil.NoSuchProcess:
            continue
        except psutil.Error:
            status, what = "?", "?"
        if status == psutil.STATUS_ZOMBIE:
            out.append((p, f"zombie {p.pid}"))
        elif WORKER_TITLE.fullmatch(what):
            out.append((p, f"worker {p.pid} {what!r}"))
        elif p.pid not in before and p.pid not in helpers:
            out.append((p, f"child {p.pid} {what[:80]!r}"))
    return out
