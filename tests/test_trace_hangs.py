"""A traced program that hangs is diagnosed and ended, whole tree included."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent

FORGOT_TASK_DONE = """
import multiprocessing as mp, sys

def consume(q):
    while True:
        item = q.get()
        if item == 4:
            continue  # forgot task_done() for the last item: no later get() returns
        q.task_done()

if __name__ == "__main__":
    mp.set_start_method(sys.argv[1])
    q = mp.JoinableQueue()
    ps = [mp.Process(target=consume, args=(q,), name="eater-0")]
    for p in ps:
        p.start()
    for i in range(5):
        q.put(i)
    q.join()
    print("never")
"""

STUBBORN = """
import multiprocessing as mp, signal, time

def stubborn(q):
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    while True:
        time.sleep(0.1)

if __name__ == "__main__":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    q = mp.JoinableQueue()
    mp.Process(target=stubborn, args=(q,), name="stubborn", daemon=True).start()
    mp.Process(target=stubborn, args=(q,), name="stubborn-too").start()
    q.put(1)
    q.join()
"""


def _trace(tmp_path: Path, source: str, *args: str) -> subprocess.CompletedProcess:
    prog = tmp_path / "prog.py"
    prog.write_text(source)
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "trace", "--headless", *args, str(prog)],
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def _pids(stderr: str) -> list[int]:
    traced = next(ln for ln in stderr.splitlines() if ln.startswith("queuelab: traced"))
    return [int(p) for p in re.findall(r"\(pid (\d+)\)", traced)]


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_a_forgotten_task_done_is_diagnosed_and_the_program_ended(tmp_path: Path) -> None:
    done = _trace(tmp_path, FORGOT_TASK_DONE.replace("sys.argv[1]", "'spawn'"))
    assert done.returncode == 3
    assert "never" not in done.stdout
    assert "queuelab: the program can never end" in done.stderr
    assert "task_done() missing: eater-0 took" in done.stderr
    pids = _pids(done.stderr)
    assert len(pids) == 2
    assert all(_gone(p) for p in pids)


def test_hang_timeout_ends_a_tree_that_ignores_sigterm(tmp_path: Path) -> None:
    done = _trace(tmp_path, STUBBORN, "--hang-timeout", "1", "--json-summary",
                  str(tmp_path / "s.json"))  # fmt: skip
    assert done.returncode == 3
    assert "did not end within 1 s of queue.join()" in done.stderr
    pids = _pids(done.stderr)
    assert len(pids) == 3
    assert all(_gone(p) for p in pids)
    assert '"exit_code"' in (tmp_path / "s.json").read_text()
