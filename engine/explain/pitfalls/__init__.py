"""The pitfalls a run can fall into, one module each: ``ORDER`` and ``find(view) -> sentences``.

A new pitfall is one module here holding its logic (the facts it finds) plus its sentences
in engine/explain/words.py, where every finding's words are written: it is found by name, no
list to edit, and its ORDER places its sentences among the others.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from types import ModuleType

from engine.explain.view import View

Finder = Callable[[View], list[str]]


def _load() -> tuple[Finder, ...]:
    modules: list[ModuleType] = [
        importlib.import_module(f"{__name__}.{info.name}")
        for info in pkgutil.iter_modules(__path__)
    ]
    return tuple(m.find for m in sorted(modules, key=lambda m: (m.ORDER, m.__name__)))


FINDERS: tuple[Finder, ...] = _load()
