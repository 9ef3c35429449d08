"""trace's command line: options before the program, Ctrl+C reaching the program's group."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from engine.trace_cli import UsageError, parse_trace_args

ROOT = Path(__file__).resolve().parent.parent


def test_options_stop_at_the_program(tmp_path: Path) -> None:
    prog = tmp_path / "p.py"
    prog.write_text("")
    opts = parse_trace_args(["--headless", "--save=t.qltrace", "--hang-timeout", "2", str(prog),
                             "--headless", "-m", "x"])  # fmt: skip
    assert opts.headless and opts.save == "t.qltrace" and opts.hang_timeout == 2.0
    assert opts.argv == [str(prog), "--headless", "-m", "x"]
    module = ["-m", "pkg.mod", "--save", "y"]
    assert parse_trace_args(module).argv == module
    for bad in (["--bogus", str(prog)], [], ["--save"], ["--hang-timeout", "0", str(prog)],
                [str(tmp_path / "missing.py")]):  # fmt: skip
        with pytest.raises(UsageError):
            parse_trace_args(bad)


def test_a_bad_command_line_is_one_line_and_exit_2() -> None:
    done = subprocess.run([sys.executable, str(ROOT / "main.py"), "trace", "--bogus", "x.py"],
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.startswith("queuelab: error: unknown option --bogus")
    assert len(done.stderr.splitlines()) == 1


def test_ctrl_c_is_the_programs_and_its_death_is_ours(tmp_path: Path) -> None:
    """A terminal's Ctrl+C signals the whole group: the program dies of it, and so do we."""
    prog = tmp_path / "wait.py"
    prog.write_text("import time\nprint('ready', flush=True)\ntime.sleep(60)\n")
    p = subprocess.Popen(
        [sys.executable, str(ROOT / "main.py"), "trace", "--headless", str(prog)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    try:
        assert p.stdout.readline() == "ready\n"
        os.killpg(p.pid, signal.SIGINT)
        _out, err = p.communicate(timeout=30)
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
    assert p.returncode == -signal.SIGINT
    assert "KeyboardInterrupt" in err
    assert "engine/tracer.py" not in err and '"<string>"' not in err
    # QueueLab itself was not interrupted: it waited for the program and summed it up.
    assert "trace_cli.py" not in err
    assert "queuelab: traced 1 process: main" in err


def test_what_is_not_traced_is_said(tmp_path: Path) -> None:
    prog = tmp_path / "mgr.py"
    prog.write_text(
        "import multiprocessing as mp\nif __name__ == '__main__':\n"
        "    with mp.Manager() as m:\n        q = m.JoinableQueue()\n        q.put(1)\n"
        "        q.get()\n        q.task_done()\n"
        "    r = mp.Queue()\n    r.put(2)\n    print(r.get())\n"
    )
    done = subprocess.run([sys.executable, str(ROOT / "main.py"), "trace", "--headless",
                           str(prog)], capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 0 and done.stdout == "2\n"
    assert "queuelab: note: Manager().JoinableQueue() is not traced" in done.stderr
    # multiprocessing.Queue is followed (puts and gets), and said to have no counter.
    assert "queuelab: 1 puts, 1 gets, 0 left in the queue (a multiprocessing.Queue" in done.stderr


def test_a_program_with_only_untraced_queues_is_not_shown_idle(tmp_path: Path) -> None:
    prog = tmp_path / "mgr_only.py"
    prog.write_text(
        "import multiprocessing as mp\nif __name__ == '__main__':\n"
        "    with mp.Manager() as m:\n        q = m.JoinableQueue()\n        q.put(1)\n"
        "        q.get()\n        q.task_done()\n        q.join()\n"
    )
    done = subprocess.run([sys.executable, str(ROOT / "main.py"), "trace", "--headless",
                           str(prog)], capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "queuelab: no JoinableQueue or Queue was traced" in done.stderr
    assert "queuelab: note: Manager().JoinableQueue() is not traced" in done.stderr
