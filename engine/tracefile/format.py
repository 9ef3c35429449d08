"""The .qltrace format: names and numbers, Trace in memory, TraceError, the strict JSON codec."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

from engine.config import RunConfig
from engine.events import Kind

FORMAT_NAME = "queuelab-trace"
FORMAT_VERSION = 3
# The record kinds a version of the format added (every other kind is in version 1). A reader
# refuses a file of a later version at its header ("written by a newer QueueLab"), not at the
# first record it cannot know, so a new kind comes with a new version here (and a reader of
# this version reads every earlier one). Version 1 files written between PUT_BLOCKED's
# arrival and version 2 hold PUT_BLOCKED records: they load, as every version-1 file does.
KINDS_SINCE: dict[Kind, int] = {Kind.PUT_BLOCKED: 2, Kind.TASK_ABANDON: 2, Kind.PROC_END: 3}
QUEUELAB_VERSION = "0.1.0"

# Records of one stream are stamped and appended by possibly different threads (the parent's
# coordinator, collector and main thread), so a thread preempted between reading the clock and
# emitting can put a record slightly out of order. Anything further back is a damaged file.
TIME_TOLERANCE_S = 0.5

Batch = tuple[int, int, list[tuple]]
PathLike = str | os.PathLike[str]
_RUN_START = int(Kind.RUN_START)


class TraceError(ValueError):
    """A trace file QueueLab cannot read, with one message naming the file and the line."""

    def __init__(self, path: str, message: str, line: int | None = None) -> None:
        self.path = path
        self.line = line
        self.message = message
        where = f"{path}: line {line}: " if line is not None else f"{path}: "
        super().__init__(where + message)


class _NonFinite(ValueError):
    pass


def _refuse_constant(name: str) -> float:
    raise _NonFinite(f"{name} is not allowed (numbers must be finite)")


_loads = json.JSONDecoder(parse_constant=_refuse_constant).decode
_decoder = json.JSONDecoder(parse_constant=_refuse_constant)
_dumps = json.JSONEncoder(allow_nan=False, separators=(",", ":")).encode


@dataclass(frozen=True)
class Trace:
    """A whole trace in memory: what :func:`read_trace` returns."""

    path: str
    config: RunConfig
    batches: list[Batch]
    warnings: tuple[str, ...]
    version: int
    created: str = ""
    queuelab: str = ""

    @property
    def n_events(self) -> int:
        return sum(len(b[2]) for b in self.batches)

    @property
    def t0(self) -> float:
        """The run's start (perf_counter seconds): RUN_START's time, else the earliest record's."""
        first: float | None = None
        for src, _, records in self.batches:
            for r in records:
                if src == 0 and r[0] == _RUN_START:
                    return float(r[1])
                if first is None or r[1] < first:
                    first = r[1]
        return 0.0 if first is None else float(first)
