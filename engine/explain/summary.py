"""Summaries of a run for people and scripts: the JSON object and the closing text lines."""

from __future__ import annotations

import os

from engine.config import RunConfig
from engine.explain.diagnosis import findings
from engine.model import RunModel

__all__ = ["summary_json", "summary_lines", "theory_lines", "with_theory"]


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
        *([left] if (left := s.time_left_out()) else []),
    ]


def with_theory(doc: dict, model: RunModel, cfg: RunConfig) -> dict:
    """``doc`` (a summary object) with ``theory``: Little's law, the prediction or batch bound."""
    from engine.theory import theory_json

    try:
        doc["theory"] = theory_json(model, cfg, os.cpu_count())
    except Exception as exc:  # why: the summary scripts rely on must print even if this fails
        doc["theory"] = {"error": f"{type(exc).__name__}: {exc}"}
    return doc


def theory_lines(theory: dict) -> list[str]:
    """The ``theory`` object in a few lines for the terminal, after the summary."""
    lines = ["--- theory ---"]
    if "error" in theory:
        return [*lines, f"(could not be computed: {theory['error']})"]
    little = theory.get("little")
    if little and little["ratio"] is not None:
        lines.append(
            f"Little's law: L = {little['mean_in_system']:.2f} in the system on average, "
            f"λ·W = {little['throughput_per_s']:.2f}/s × {little['mean_time_in_system_s']:.3f} s"
            f" = {little['throughput_per_s'] * little['mean_time_in_system_s']:.2f} "
            f"(ratio {little['ratio']:.2f})"
        )
    pred = theory.get("prediction")
    if pred is not None:
        if not pred["stable"]:
            lines.append(f"{pred['model']}: {pred['note']}")
        else:
            measured = theory["compare"]["mean_wait_s"]
            err = measured["relative_error"]
            err_text = "" if err is None else f" ({err:+.0%})"
            lines.append(
                f"{pred['model']}: ρ = {pred['utilisation']:.2f}, P(wait) = {pred['p_wait']:.2f}, "
                f"mean wait predicted {pred['mean_wait_s'] * 1000:.1f} ms, measured "
                f"{measured['measured'] * 1000:.1f} ms{err_text}"
            )
            if pred["note"]:
                lines.append(f"  ({pred['note']})")
    batch = theory.get("batch")
    if batch is not None and batch["efficiency"] is not None:
        lines.append(
            f"batch: makespan {batch['makespan_s']:.2f} s against a lower bound of "
            f"{batch['makespan_lower_bound_s']:.2f} s (efficiency {batch['efficiency']:.0%})"
        )
    if theory.get("disagreement"):
        lines.append(theory["disagreement"])
    return lines if len(lines) > 1 else []
