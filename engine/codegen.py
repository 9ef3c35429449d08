"""The standalone program, in the tutorial's style, that a run configuration stands for.

:func:`generate_program` writes a Python program that needs only the standard library and does
what QueueLab's workers do for that configuration: the same worker counts, task labels,
distributions (drawn with the same seeds, so a seeded program draws the same values), pacing,
sentinels, joins and failure handling — a lesson's deliberate bug included and marked with a
``# BUG (lesson):`` comment. :func:`code_line_map` finds the lines of its key statements so the
window can highlight what each worker is doing.
"""

from __future__ import annotations

from engine.codegen_lines import LINE_KEYS, code_line_map, main_line_key, worker_line_key
from engine.codegen_text import BUG_MARK
from engine.codegen_writer import ProgramWriter
from engine.config import RunConfig
from engine.own_function import OwnFunction

__all__ = [
    "BUG_MARK",
    "LINE_KEYS",
    "code_line_map",
    "generate_program",
    "main_line_key",
    "worker_line_key",
]


def generate_program(cfg: RunConfig, narrate: bool = True, own: OwnFunction | None = None) -> str:
    """A complete program equivalent to ``cfg``, ready for ``python -I program.py``.

    ``narrate=False`` leaves out every per-task print (added, got, failed on, retries) and
    nothing else: QueueLab's workers print nothing per task, so benchmarks/fidelity.py times
    this version against a QueueLab run like for like.

    A user's own function (``workload = "module:function"``) is imported at the top of the
    program and called as QueueLab calls it: ``own`` (engine.own_function.resolve's answer)
    says with how many arguments; without it they are read from the function's source.
    """
    return ProgramWriter(cfg, narrate, own).program()
