"""The leak checks tell QueueLab workers by their title, never by a path holding "queuelab"."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import psutil

from tests.faults import wait_for
from tests.procs import is_worker, leftovers, stdlib_helper_pids

# The child rewrites its title as engine/workers.py does, then sleeps until it is killed.
TITLED = (
    "import setproctitle, sys, time; setproctitle.setproctitle(sys.argv[1]); "
    "print('ready', flush=True); time.sleep(60)"
)
PLAIN = "import sys, time; print('ready', flush=True); time.sleep(60)"


def _start(tmp_path: Path, *args: str) -> subprocess.Popen:
    # A folder named queuelab, as in a checkout most people would make.
    folder = tmp_path / "queuelab"
    folder.mkdir(exist_ok=True)
    p = subprocess.Popen([sys.executable, *args], cwd=folder, stdout=subprocess.PIPE, text=True)
    assert p.stdout is not None and p.stdout.readline().strip() == "ready"
    return p


def test_a_command_line_with_a_queuelab_path_is_not_a_worker(tmp_path: Path) -> None:
    p = _start(tmp_path, "-c", PLAIN, str(tmp_path / "queuelab" / "main.py"), "queuelab")
    try:
        proc = psutil.Process(p.pid)
        assert "queuelab" in " ".join(proc.cmdline())
        assert not is_worker(proc)
        # Started before the check began: not this test's leftover either.
        assert all(q.pid != p.pid for q, _why in leftovers({p.pid}))
        # Started after it: a leftover child, named as a child, not as a worker.
        whys = [why for q, why in leftovers(set()) if q.pid == p.pid]
        assert len(whys) == 1 and whys[0].startswith("child "), whys
    finally:
        p.kill()
        p.wait()


def test_a_process_titled_like_a_worker_is_one(tmp_path: Path) -> None:
    p = _start(tmp_path, "-c", TITLED, "queuelab consumer-3")
    try:
        proc = psutil.Process(p.pid)
        assert wait_for(lambda: is_worker(proc), 5.0)
        # A worker is a leak even if it was there before: workers never outlive their test.
        whys = [why for q, why in leftovers({p.pid}) if q.pid == p.pid]
        assert len(whys) == 1 and whys[0].startswith("worker "), whys
    finally:
        p.kill()
        p.wait()


def test_multiprocessing_helpers_are_known_by_pid() -> None:
    import multiprocessing

    from engine.workers import producer_main  # noqa: F401  (what the forkserver preloads)

    ctx = multiprocessing.get_context("forkserver")
    q = ctx.Queue()  # starts nothing yet; a process does
    proc = ctx.Process(target=print, args=("",))
    proc.start()
    proc.join()
    q.close()
    helpers = stdlib_helper_pids()
    assert helpers, "the forkserver's pid is recorded by multiprocessing"
    assert not [why for q, why in leftovers(set()) if q.pid in helpers]
