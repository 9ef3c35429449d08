"""Mutation testing of the core modules with pytest-gremlins; prints the score per module.

Not part of CI (it takes about half an hour on two cores). Install the tool first:

    python -m pip install -r requirements-mutation.txt
    python benchmarks/mutation.py                      # every module below
    python benchmarks/mutation.py engine/explain  # one (or several) of them
    python benchmarks/mutation.py --list               # the modules and their tests

Each module is mutated with the tests that exercise it (pytest-gremlins then runs, per
mutant, only those of them that cover the mutated line). A mutant is "zapped" when a test
fails; a survivor is a change no test noticed: either an equivalent mutant (it changes
nothing observable) or a missing test. The JSON reports go to out/mutation/<module>.json
with every survivor's line and operator (`--gremlin-explain ID` tells why one survived).
The report of the closing notes when these modules change: the score of each, and the
survivors explained. Goals: 80 % for the engine modules, 60 % for gui/charts.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "out" / "mutation"
# module -> the tests that exercise it (fast ones first; the tool picks per mutant).
# Measured 2026-12-02, 2 cores shared with other jobs: diagnosis.py 80.1 % (185/231, 12 min
# with its tests alone), headless.py 55.6 % (15/27, 8 min). model.py, traced_queue.py and
# gui/charts not measured yet: with real processes in their tests, expect tens of minutes each.
MODULES: dict[str, list[str]] = {
    # With tests/test_model.py too: the same 185 of 231 in 39 min instead of 12 (2 cores).
    "engine/explain": ["tests/test_diagnosis.py", "tests/test_explain.py"],  # was diagnosis.py
    "engine/model.py": ["tests/test_model.py", "tests/test_diagnosis.py",
                        "tests/test_tracefile.py", "tests/test_times.py"],
    "engine/traced_queue.py": ["tests/test_traced_queue.py", "tests/test_times.py",
                               "tests/test_fidelity.py"],
    "engine/bulk.py": ["tests/test_model_bulk.py"],
    "engine/headless.py": ["tests/test_cli.py"],
    "gui/charts": ["tests/gui/test_charts.py", "tests/gui/test_chart_check.py"],
}


def run_module(target: str, tests: list[str], workers: int, timeout_s: int) -> dict:
    """Mutate ``target`` against ``tests``; return the tool's JSON report."""
    report = ROOT / "coverage" / "gremlins" / "gremlins.json"
    report.unlink(missing_ok=True)
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x",
           "--gremlins", f"--gremlin-targets={target}", f"--gremlin-workers={workers}",
           "--gremlin-batch", "--gremlin-report=json",
           f"--gremlin-mutant-timeout={timeout_s}", *tests]
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    if not report.exists():
        tail = (proc.stdout + proc.stderr)[-3000:]
        raise RuntimeError(f"{target}: no report (exit {proc.returncode})\n{tail}")
    data = json.loads(report.read_text())
    OUT.mkdir(parents=True, exist_ok=True)
    name = target.replace("/", "_").removesuffix(".py")
    shutil.copy(report, OUT / f"{name}.json")
    return data


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("modules", nargs="*", help="modules to mutate (default: all)")
    ap.add_argument("--workers", type=int, default=2, help="parallel mutant runs (default 2)")
    ap.add_argument("--mutant-timeout", type=int, default=120,
                    help="seconds one mutant's tests may take (then it counts as a timeout)")
    ap.add_argument("--list", action="store_true", help="print the modules and their tests")
    args = ap.parse_args(argv)
    if args.list:
        for m, tests in MODULES.items():
            print(f"{m}: {' '.join(tests)}")
        return 0
    chosen = args.modules or list(MODULES)
    unknown = [m for m in chosen if m not in MODULES]
    if unknown:
        print(f"unknown module(s): {', '.join(unknown)}; see --list", file=sys.stderr)
        return 2
    rows = []
    for target in chosen:
        t0 = time.monotonic()
        s = run_module(target, MODULES[target], args.workers, args.mutant_timeout)["summary"]
        took = time.monotonic() - t0
        rows.append((target, s, took))
        print(f"{target:24} {s['percentage']:5.1f} %  zapped {s['zapped']:4} of {s['total']:4}"
              f"  survived {s['survived']:3}  timeout {s['timeout']:2}  error {s['error']:2}"
              f"  ({took / 60:.1f} min)", flush=True)
    print(f"reports: {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
