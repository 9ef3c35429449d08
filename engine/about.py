"""versions(): QueueLab's and its runtime's versions, for About boxes and bug reports (no Qt)."""

from __future__ import annotations

import platform
import re
from importlib import metadata
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"
UNKNOWN = "not installed"


def _dist_version(*names: str) -> str | None:
    for name in names:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return None


def _queuelab_version() -> str:
    installed = _dist_version("queuelab")
    if installed:
        return installed
    # A checkout run in place (the usual way): the version pyproject.toml declares.
    try:
        text = PYPROJECT.read_text(encoding="utf-8")
    except OSError:
        return "unknown"
    found = re.search(r'^version\s*=\s*"([^"]+)"', text, flags=re.M)
    return found.group(1) if found else "unknown"


def versions() -> dict[str, str]:
    """Display name -> version, in display order: QueueLab, Python, PySide6, pyqtgraph.

    Read from package metadata only: importing PySide6 here would break the engine's rule
    that it never loads Qt (the GUI adds Qt's own version, qVersion()).
    """
    return {
        "QueueLab": _queuelab_version(),
        "Python": platform.python_version(),
        "PySide6": _dist_version("PySide6-Essentials", "PySide6") or UNKNOWN,
        "pyqtgraph": _dist_version("pyqtgraph") or UNKNOWN,
    }
