"""What a run adds up to: the frozen Summary that ``run --json`` prints and every view shows."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class WorkerSummary:
    name: str
    pid: int
    exitcode: int | None
    tasks_done: int


@dataclass(frozen=True)
class Summary:
    """What ``run --json`` prints and every summary view shows."""

    puts: int
    gets: int
    task_dones: int
    unfinished: int
    depth: int
    in_flight: int
    join_returned: bool
    join_returned_at_s: float | None
    premature_join: bool
    makespan_s: float
    throughput_per_s: float
    mean_wait_s: float
    mean_service_s: float
    events: int
    events_lost: int
    failures: int
    retries: int
    task_done_errors: int
    workers: tuple[WorkerSummary, ...]
    diagnosis: tuple[str, ...]

    def to_json(self) -> dict:
        d = {
            k: getattr(self, k)
            for k in self.__dataclass_fields__
            if k not in ("workers", "diagnosis")
        }
        d["workers"] = [w.__dict__.copy() for w in self.workers]
        d["diagnosis"] = list(self.diagnosis)
        return d
