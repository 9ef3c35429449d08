"""Where QueueLab's data files are: the ``resources`` package, found through importlib.resources.

A checkout (``python main.py``, the tests) and an installed wheel (the ``queuelab`` command) both
import ``resources`` from the same place as ``engine``, so the data always matches the code and
nothing depends on the current directory or on where main.py lives.
"""

from __future__ import annotations

import functools
import importlib.resources
from pathlib import Path

PACKAGE = "resources"
# A file every QueueLab resources folder has: a different top-level "resources" package earlier
# on sys.path (the name is generic) is named as the culprit instead of failing later, obscurely.
_MARKER = ("presets", "tutorial.toml")


class ResourcesNotFound(RuntimeError):
    """QueueLab's data files are not where the ``resources`` package says."""


@functools.cache
def resources_root() -> Path:
    """The folder holding presets/, icons/, styles/: a real directory (wheels are unpacked)."""
    try:
        root = importlib.resources.files(PACKAGE)
    except ModuleNotFoundError as exc:
        raise ResourcesNotFound(
            f"QueueLab's data files are missing: cannot import {PACKAGE!r} ({exc})"
        ) from None
    # Qt loads icons and styles by file name, and the presets folder is globbed, so a Traversable
    # that is not a plain directory (a zip import, a namespace package) is refused outright.
    if not isinstance(root, Path) or not root.joinpath(*_MARKER).is_file():
        raise ResourcesNotFound(
            f"the {PACKAGE!r} package found at {root} is not QueueLab's (no "
            f"{'/'.join(_MARKER)}); another package of that name shadows it: install QueueLab "
            "with pipx or in a venv of its own"
        )
    return root


def resource_dir(name: str) -> Path:
    """resources/<name> (e.g. "presets", "icons", "styles"); it may not exist (schedules)."""
    return resources_root() / name
