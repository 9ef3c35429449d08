"""QueueLab's version and those of what it runs on, for ``--version`` and Help ▸ About (no Qt)."""

from __future__ import annotations

import importlib.metadata
import platform
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python < 3.11 has no tomllib; tomli is the same parser.
    import tomli as tomllib  # type: ignore[no-redef]

DISTRIBUTION = "queuelab"
NOT_INSTALLED = "not installed"
# PySide6 is installed as PySide6 (everything) or as PySide6-Essentials (what QueueLab needs):
# both carry the same version, so the first one found is PySide6's.
_PYSIDE6_DISTRIBUTIONS = ("PySide6", "PySide6-Essentials")
# pyproject.toml beside the engine package exists only in a checkout: wheels never install it.
_PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


def queuelab_version() -> str:
    """This copy's version: pyproject.toml's in a checkout, else the installed distribution's.

    The checkout is asked first so ``python main.py --version`` tells the truth even when an
    older QueueLab is also installed in the same environment.
    """
    checkout = _checkout_version(_PYPROJECT)
    if checkout is not None:
        return checkout
    try:
        return importlib.metadata.version(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _checkout_version(pyproject: Path) -> str | None:
    try:
        project = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {})
    except (OSError, ValueError):
        return None
    # Another project's pyproject.toml (engine/ copied into it, say) is not ours to quote.
    if project.get("name") != DISTRIBUTION or not isinstance(project.get("version"), str):
        return None
    return project["version"]


def _distribution_version(*names: str) -> str:
    for name in names:
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return NOT_INSTALLED


def versions() -> dict[str, str]:
    """{"QueueLab", "Python", "PySide6", "pyqtgraph": version}, in display order.

    Read from package metadata, never by importing PySide6 or pyqtgraph: the engine stays
    free of Qt, and this is cheap enough for ``--version``. Qt's own version is the GUI's to add
    (``PySide6.QtCore.qVersion()``), since only it may import Qt.
    """
    return {
        "QueueLab": queuelab_version(),
        "Python": platform.python_version(),
        "PySide6": _distribution_version(*_PYSIDE6_DISTRIBUTIONS),
        "pyqtgraph": _distribution_version("pyqtgraph"),
    }
