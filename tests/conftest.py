"""Shared test fixtures: every test must leave no QueueLab worker process and no queuelab thread."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from types import SimpleNamespace

import psutil
import pytest
from hypothesis import HealthCheck, settings

from tests.faults import running, wait_gone
from tests.procs import is_worker, worker_descendants

# A worker may still be unwinding when its test returns (SIGTERM sent, exit not reaped yet), so
# leftovers get this long to disappear before they count as leaked.
LEAK_GRACE_S = 3.0
THREAD_PREFIX = "queuelab-"

# Mutation runs (benchmarks/mutation.py) run a module's tests once per mutant: 300 Hypothesis
# examples per test per mutant made a run take hours. The "mutation" profile, chosen by
# QUEUELAB_HYPOTHESIS_PROFILE=mutation (the script sets it), runs few examples, derandomized so
# that a mutant's verdict does not depend on the seed, and without deadlines (a loaded machine
# is not a failure). Explicit @settings(max_examples=...) are capped too, below.
MUTATION_PROFILE = "mutation"
MUTATION_MAX_EXAMPLES = 12
settings.register_profile(MUTATION_PROFILE, max_examples=MUTATION_MAX_EXAMPLES, deadline=None,
                          derandomize=True, print_blob=False,
                          suppress_health_check=[HealthCheck.too_slow])
_PROFILE = os.environ.get("QUEUELAB_HYPOTHESIS_PROFILE")
if _PROFILE:
    settings.load_profile(_PROFILE)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under the mutation profile, cap the examples of tests that set their own max_examples."""
    if _PROFILE != MUTATION_PROFILE:
        return
    for item in items:
        fn = getattr(getattr(item, "obj", None), "__func__", getattr(item, "obj", None))
        if not getattr(fn, "is_hypothesis_test", False):
            continue
        # A decorator's explicit settings outrank any profile, so they are replaced here; the
        # attribute is the one Hypothesis reads when the test runs (hypothesis/core.py).
        own = getattr(fn, "_hypothesis_internal_use_settings", None) or settings.default
        fn._hypothesis_internal_use_settings = settings(
            own, max_examples=min(own.max_examples, MUTATION_MAX_EXAMPLES), deadline=None,
            derandomize=True)


def is_queuelab_process(proc: psutil.Process) -> bool:
    """A live process titled like a QueueLab worker ("queuelab consumer-1", ...); never by path."""
    return is_worker(proc)


def queuelab_descendants(pid: int | None = None) -> list[psutil.Process]:
    """Live QueueLab worker processes below ``pid`` (this process by default)."""
    return worker_descendants(pid)


def queuelab_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith(THREAD_PREFIX) and t.is_alive()]


def _describe(procs: list[psutil.Process]) -> str:
    out = []
    for p in procs:
        try:
            out.append(f"{p.pid} {p.name()!r}")
        except psutil.Error:
            out.append(str(p.pid))
    return ", ".join(out)


@pytest.fixture
def proc_tools() -> SimpleNamespace:
    """The process helpers above, for test modules (``conftest`` is not importable by name when
    several conftest.py files live in package-less test folders)."""
    return SimpleNamespace(
        is_queuelab_process=is_queuelab_process,
        queuelab_descendants=queuelab_descendants,
        wait_gone=wait_gone,
        pid_running=running,
    )


@pytest.fixture(autouse=True)
def no_leaked_workers() -> Iterator[None]:
    """Fail the test that leaves a QueueLab worker process or a queuelab-* thread behind."""
    # Only what this test left counts, so one leak is reported once, not by every later test.
    before = {p.pid for p in queuelab_descendants()}
    threads_before = set(queuelab_threads())
    yield
    deadline = time.monotonic() + LEAK_GRACE_S
    while True:
        procs = [p for p in queuelab_descendants() if p.pid not in before]
        threads = [t for t in queuelab_threads() if t not in threads_before]
        if (not procs and not threads) or time.monotonic() >= deadline:
            break
        time.sleep(0.05)
    for p in procs:
        # Clean up so one leak does not fail every later test too.
        try:
            p.kill()
        except psutil.Error:
            pass
    problems = []
    if procs:
        problems.append(f"worker processes left running: {_describe(procs)}")
    if threads:
        problems.append(f"threads left running: {[t.name for t in threads]}")
    assert not problems, "; ".join(problems)
