"""Summaries of a run for people and scripts: the JSON object and the closing text lines."""

from __future__ import annotations

from engine.explain.diagnosis import findings
from engine.model import RunModel

__all__ = ["summary_json", "summary_lines"]


def summary_json(model: RunModel, now_t: float | None = None) -> dict:
    """The object ``run --json``, ``replay --json`` and the compare window print."""
    return model.summary(tuple(findings(model, now_t))).to_json()


def summary_lines(model: RunModel) -> list[str]:
    """The closing lines of ``run`` and of the window's event log (no diagnosis)."""
    s = model.summary()
    if s.join_returned:
        join = f"queue.join() returned at {s.join_returned_at_s:.2f} s"
        if s.premature_join:
            join += f" (premature: {model.tasks_not_yet_put} tasks not yet put)"
    else:
        join = model.join_words()
    return [
        "--- summary ---",
        f"{s.puts} puts, {s.gets} gets, {s.task_dones} task_done calls, {s.unfinished} unfinished",
        join,
        f"throughput {s.throughput_per_s:.2f} tasks/s over {s.makespan_s:.2f} s; "
        f"mean wait {s.mean_wait_s * 1000:.1f} ms, mean service {s.mean_service_s * 1000:.1f} ms",
        f"{s.events} events received, {s.events_lost} lost",
    ]
