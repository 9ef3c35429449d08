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
    # Of in_flight: tasks whose consumer went back to get(), exited or died without
    # task_done() (RunModel.not_marked_done); the rest were in progress.
    not_marked_done: int = 0
    # Wall time left out of the run's clock (and so out of makespan and throughput): paused,
    # and in step mode waiting for the user's choice with every process at its gate.
    paused_s: float = 0.0
    step_wait_s: float = 0.0

    def time_left_out(self) -> str | None:
        """The summary's words for the time not counted as the run's, None when there is none."""
        parts = []
        if self.step_wait_s >= 0.005:
            parts.append(f"{self.step_wait_s:.2f} s waiting for step choices (every process "
                         "held at its gate)")  # fmt: skip
        if self.paused_s >= 0.005:
            parts.append(f"{self.paused_s:.2f} s paused")
        if not parts:
            return None
        return "not counted as run time: " + "; ".join(parts)

    def to_json(self) -> dict:
        d = {
            k: getattr(self, k)
            for k in self.__dataclass_fields__
            if k not in ("workers", "diagnosis")
        }
        d["workers"] = [w.__dict__.copy() for w in self.workers]
        d["diagnosis"] = list(self.diagnosis)
        return d
