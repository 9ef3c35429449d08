"""The import layering (pyproject.toml's [tool.importlinter]) holds: lint-imports passes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _lint_imports() -> str:
    # The script installed with the interpreter running the tests, else the one on PATH.
    beside = Path(sys.executable).with_name("lint-imports")
    found = str(beside) if beside.is_file() else shutil.which("lint-imports")
    assert found, "import-linter is not installed (requirements-dev.txt lists it)"
    return found


def test_import_contracts_are_kept() -> None:
    # --no-cache: a cache left by an older tree must not answer for this one.
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [_lint_imports(), "--no-cache"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    assert "0 broken" in out, out
