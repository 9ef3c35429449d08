"""Teardown checks for the fault suite: no child, zombie, queuelab thread or feeder thread left."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import psutil
import pytest

from tests.procs import descendants, leftovers

GRACE_S = 3.0


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
    """Fail the test that leaves a process, zombie, queuelab-* or QueueFeederThread thread.

    Processes are told apart by what they are (worker title, multiprocessing's helper pids,
    the pids there before the test), never by a path: see tests/procs.py.
    """
    before = {p.pid for p in descendants()}
    threads_before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + GRACE_S
    while True:
        found = leftovers(before)
        threads = _stray_threads(threads_before)
        if (not found and not threads) or time.monotonic() >= deadline:
            break
        time.sleep(0.05)
    for p, _why in found:
        try:
            p.kill()  # so one leak fails one test, not every later one
        except psutil.Error:
            pass
    procs = [why for _p, why in found]
    assert not procs and not threads, f"left behind: processes {procs}, threads {threads}"
