"""The engine never loads PySide6 or pyqtgraph; worker processes do not load numpy either.

numpy is the parent's: the state model keeps a run in numpy columns (engine/model.py), but
a worker imports only engine.workers and what it needs, so it starts lean.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine.config import RunConfig
from engine.distributions import Distribution
from engine.runner import Run

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("PySide6", "pyqtgraph", "numpy")
QT = ("PySide6", "pyqtgraph")
ENGINE_MODULES = (
    "engine",
    "engine.runner",
    "engine.model",
    "engine.workers",
    "engine.config",
    "engine.traced_queue",
    "engine.recorder",
    "engine.collector",
    "engine.events",
    "engine.distributions",
)

# Blocking a module in sys.modules makes any `import` of it raise ImportError, so an engine
# module that needs one of them fails here instead of loading it quietly.
BLOCKED_RUN = f"""
import json, sys
for name in {QT!r}:
    sys.modules[name] = None
import {", ".join(ENGINE_MODULES)}
from engine.config import RunConfig
from engine.distributions import Distribution
from engine.runner import Run

if __name__ == "__main__":
    cfg = RunConfig(producers=1, consumers=2, tasks_per_producer=5, seed=1,
                    task_duration=Distribution.constant(0.01), start_method=sys.argv[1])
    with Run(cfg) as run:
        ok = run.wait(60)
        print(json.dumps({{"ok": ok, "reason": run.end_reason, "dones": run.model.task_dones,
                          "unfinished": run.model.unfinished}}))
"""

IMPORT_ONLY = """
import json, sys
import {module}
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in {heavy!r})))
"""


def run_python(code: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip


@pytest.mark.parametrize("module", ["engine", "engine.workers", "engine.traced_queue"])
def test_what_a_worker_imports_loads_no_qt_or_numpy(module: str) -> None:
    done = run_python(IMPORT_ONLY.format(module=module, heavy=HEAVY))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []


@pytest.mark.parametrize("module", ["engine.runner", "engine.model", "engine.replay"])
def test_the_parent_side_engine_loads_no_qt(module: str) -> None:
    done = run_python(IMPORT_ONLY.format(module=module, heavy=QT))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []


@pytest.mark.parametrize(
    "method", [m for m in ("forkserver", "spawn") if m in multiprocessing.get_all_start_methods()]
)
def test_a_real_run_works_with_qt_absent(method: str) -> None:
    done = run_python(BLOCKED_RUN, method)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result == {"ok": True, "reason": "joined", "dones": 7, "unfinished": 0}


def _mapped_files(pid: int) -> str:
    with open(f"/proc/{pid}/maps") as f:
        return f.read()


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="needs /proc/<pid>/maps")
@pytest.mark.parametrize(
    "method", [m for m in ("forkserver", "spawn") if m in multiprocessing.get_all_start_methods()]
)
def test_running_workers_have_no_qt_or_numpy_loaded(method: str) -> None:
    # Both are compiled extensions: a process that imported either has their .so files mapped.
    # This process loads numpy, so the check is shown to see it where it is loaded.
    import numpy  # noqa: F401

    assert "/numpy/" in _mapped_files(os.getpid())
    cfg = RunConfig(consumers=2, tasks_per_producer=4, maxsize=1, seed=1,
                    task_duration=Distribution.constant(60.0), start_method=method)  # fmt: skip
    with Run(cfg) as run:
        deadline = time.monotonic() + 20
        while not all(w.pid for w in run.model.workers.values()):
            assert time.monotonic() < deadline, "workers did not start"
            run.poll(0.05, wait_s=0.05)
        pids = run.alive_pids()
        assert len(pids) == 3
        for pid in pids:
            maps = _mapped_files(pid)
            for marker in ("/numpy/", "/PySide6/", "libQt6", "/pyqtgraph/"):
                assert marker not in maps, f"worker {pid} has {marker} loaded"
