"""Teardown checks for the fault suite: no child, zombie, queuelab thread or feeder thread left."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator

import psutil
import pytest

GRACE_S = 3.0
# Started once per test session and kept on purpose by multiprocessing: not leaks.
_HELPERS = ("multiprocessing.forkserver", "multiprocessing.resource_tracker")


def _leftovers(before: set[int]) -> list[str]:
    out = []
    for p in psutil.Process(os.getpid()).children(recursive=True):
        try:
            status = p.status()
            cmd = " ".join(p.cmdline())
        except psutil.NoSuchProcess:
            continue
        except psutil.Error:
            cmd, status = "?", "?"
        if status == psutil.STATUS_ZOMBIE:
            out.append(f"zombie {p.pid}")
        elif "queuelab" in cmd or "queuelab" in p.name():
            out.append(f"worker {p.pid} {cmd!r}")
        elif p.pid not in before and not any(h in cmd for h in _HELPERS):
            out.append(f"child {p.pid} {cmd[:80]!r}")
    return out


def _stray_threads(before: set[threading.Thread]) -> list[str]:
    return [
        t.name
        for t in threading.enumerate()
        if t.is_alive()
        and t not in before
        and (t.name.startswith("queuelab-") or t.name == "QueueFeederThread")
    ]


@pytest.fixture(autouse=True)
def nothing_left_behind() -> Iterator[None]:
    """Fail the test that leaves a process, zombie, queuelab-* or QueueFeederThread thread."""
    before = {p.pid for p in psutil.Process(os.getpid()).children(recursive=True)}
    threads_before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + GRACE_S
    while True:
        procs = _leftovers(before)
        threads = _stray_threads(threads_before)
        if (not procs and not threads) or time.monotonic() >= deadline:
            break
        time.sleep(0.05)
    for p in psutil.Process(os.getpid()).children(recursive=True):
        try:
            if "queuelab" in " ".join(p.cmdline()):
                p.kill()  # so one leak fails one test, not every later one
        except psutil.Error:
            pass
    assert not procs and not threads, f"left behind: processes {procs}, threads {threads}"
