"""Exit hangs: a traced program whose daemon consumers are terminated at its exit, run many times.

multiprocessing sends each daemon SIGTERM when the main program exits, and waits for it. A
traced daemon catches SIGTERM to ship its last records; if the handler cannot run (the signal
taken by another thread, or by the main thread just before its semaphore wait in ``get()``),
the daemon lives on and the program never ends. This runs ``main.py trace --headless`` on
``tests/programs/daemon_consumers.py`` ``--runs`` times, optionally beside ``--busy`` busy
loops (the hang needs a loaded machine to show), ends a run that outlives ``--timeout`` with
its whole session, and prints the hangs; for each hung run, every thread of the programs'
processes with its state, signal masks and kernel wait channel. ``--json``: one line.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROGRAM = ROOT / "tests" / "programs" / "daemon_consumers.py"
BUSY = "while True: pass"


def _threads(session: int) -> list[str]:
    """One line per thread of every process in ``session``: name, state, signals, wait."""
    lines = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if os.getsid(int(pid)) != session:
                continue
            cmd = Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " ")[:100]
            lines.append(f"{pid} {cmd}")
            for tid in sorted(os.listdir(f"/proc/{pid}/task")):
                status = Path(f"/proc/{pid}/task/{tid}/status").read_text().splitlines()
                st = dict(ln.split(":\t", 1) for ln in status if ":\t" in ln)
                wchan = Path(f"/proc/{pid}/task/{tid}/wchan").read_text()
                lines.append(f"    {tid} {st['Name'].strip()} {st['State'].strip()} "
                             f"blocked {st['SigBlk'].strip()} caught {st['SigCgt'].strip()} "
                             f"pending {st['SigPnd'].strip()}/{st['ShdPnd'].strip()} {wchan}")
        except (OSError, KeyError):
            continue
    return lines


def run_once(out: Path, method: str, timeout: float) -> list[str] | None:
    """None if the traced program ended by itself; else what its processes were doing."""
    cmd = [sys.executable, str(ROOT / "main.py"), "trace", "--headless", "--save", str(out),
           str(PROGRAM), method]
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         start_new_session=True)
    try:
        p.wait(timeout)
        return None
    except subprocess.TimeoutExpired:
        seen = _threads(p.pid)
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()
        return seen


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=100)
    ap.add_argument("--busy", type=int, default=4, help="busy loops beside the runs (load)")
    ap.add_argument("--method", default="forkserver", choices=("forkserver", "spawn", "fork"))
    ap.add_argument("--timeout", type=float, default=15.0, help="seconds before a run is hung")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    busy = [subprocess.Popen([sys.executable, "-c", BUSY]) for _ in range(a.busy)]
    hangs = 0
    try:
        with tempfile.TemporaryDirectory() as d:
            for i in range(a.runs):
                seen = run_once(Path(d) / f"run{i}.qltrace", a.method, a.timeout)
                if seen is not None:
                    hangs += 1
                    if not a.json:
                        print(f"run {i} hung:", *seen, sep="\n", flush=True)
    finally:
        for b in busy:
            b.kill()
            b.wait()
    if a.json:
        print(json.dumps({"runs": a.runs, "hangs": hangs, "busy": a.busy, "method": a.method}))
    else:
        print(f"{hangs} of {a.runs} runs hung ({a.busy} busy loops beside, {a.method})")


if __name__ == "__main__":
    main()
