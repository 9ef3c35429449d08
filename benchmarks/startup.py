"""Time from ``python main.py`` to the main window being visible on a real X server.

    xvfb-run -a -s "-screen 0 1280x800x24" python benchmarks/startup.py [--repeats 7] [--json]

Starts the app as a newcomer would (README's command, the tutorial preset), polls
``xwininfo -root -tree`` every 10 ms until a mapped top-level window titled "QueueLab ..." is
there, then kills the app. Prints each time and the median; the issue's goal is 1.5 s.
Needs DISPLAY (Xvfb) and xwininfo (x11-utils).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def window_shown() -> bool:
    tree = subprocess.run(
        ["xwininfo", "-root", "-tree"], capture_output=True, text=True, check=False
    ).stdout
    for line in tree.splitlines():
        if '"QueueLab \u2014' in line:  # the main window: "QueueLab — <preset title>"
            wid = line.split()[0]
            info = subprocess.run(
                ["xwininfo", "-id", wid], capture_output=True, text=True, check=False
            ).stdout
            if "IsViewable" in info:
                return True
    return False


def one(timeout: float) -> float:
    env = dict(os.environ, QT_QPA_PLATFORM="xcb")
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "main.py"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while time.perf_counter() - t0 < timeout:
            if window_shown():
                return time.perf_counter() - t0
            time.sleep(0.01)
        raise SystemExit(f"no QueueLab window within {timeout} s")
    finally:
        proc.kill()
        proc.wait()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--timeout", type=float, default=20.0)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if not os.environ.get("DISPLAY"):
        raise SystemExit("needs an X server: run under xvfb-run -a")
    times = []
    for _ in range(args.repeats):
        times.append(one(args.timeout))
        if not args.json:
            print(f"  window visible after {times[-1]:.2f} s", flush=True)
        time.sleep(0.3)
    med = statistics.median(times)
    if args.json:
        print(json.dumps({"startup_median_s": round(med, 3), "max_s": round(max(times), 3)}))
    else:
        print(f"median {med:.2f} s, min {min(times):.2f} s, max {max(times):.2f} s"
              f" over {len(times)} starts (goal 1.5 s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
