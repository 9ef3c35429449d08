"""A reader that closes the pipe early (`queuelab presets | head -2`) ends QueueLab quietly."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

ROOT = Path(__file__).resolve().parent.parent
EXIT_BROKEN_PIPE = 141


def _run_into_closed_pipe(*args: str) -> tuple[int, str, int]:
    """Run the CLI with its stdout a pipe whose reader is already gone: every write fails.

    Returns (exit code, stderr, session id): the CLI leads a session of its own, so whatever
    it leaves behind can be found by that id, however it was reparented.
    """
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        proc = subprocess.Popen(
            [sys.executable, "main.py", *args],
            cwd=ROOT,
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
    finally:
        os.close(write_end)
    _, err = proc.communicate(timeout=120)
    return proc.returncode, err, proc.pid


def _left_in_session(sid: int, grace_s: float = 5.0) -> list[psutil.Process]:
    """Live processes of session ``sid`` once those already on their way out have gone."""
    deadline = time.monotonic() + grace_s
    while (left := _alive_in_session(sid)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return left


def _alive_in_session(sid: int) -> list[psutil.Process]:
    out = []
    for p in psutil.process_iter():
        try:
            if os.getsid(p.pid) == sid and p.status() != psutil.STATUS_ZOMBIE:
                out.append(p)
        except (OSError, psutil.Error):
            pass
    return out


@pytest.mark.parametrize(
    "args",
    [("presets",), ("code", "--preset", "tutorial"), ("run", "--preset", "tutorial")],
    ids=["presets", "code", "run"],
)
def test_a_closed_pipe_ends_quietly_and_leaves_no_process(args: tuple[str, ...]) -> None:
    code, err, sid = _run_into_closed_pipe(*args)
    left = _left_in_session(sid)
    for p in left:
        p.kill()
    assert err == ""  # no traceback, no "Broken pipe" error line
    assert code == EXIT_BROKEN_PIPE
    assert left == []
