"""Summaries of a run for people and scripts: the JSON object and the closing text lines."""

from __future__ import annotations

import signal

from engine.model import RunModel


def diagnosis(model: RunModel, now_t: float | None = None) -> list[str]:
    """Plain-words explanations of what holds the run up (empty when nothing does)."""
    try:
        from engine.diagnosis import diagnose
    except ImportError:  # pragma: no cover - only while the lessons module is absent
        return _deaths(model)
    return diagnose(model, now_t)


def _deaths(model: RunModel) -> list[str]:
    out = []
    for w in model.dead_workers():
        held = model.held_task_labels(w)
        what = f" while holding task {', '.join(map(str, held))}" if held else ""
        out.append(f"{w.name} (pid {w.pid}) died with {exit_words(w.exitcode)}{what}.")
    return out


def exit_words(code: int | None) -> str:
    if code is None:
        return "no exit code yet"
    if code < 0:
        try:
            return f"exit code {code} ({signal.Signals(-code).name})"
        except ValueError:
            return f"exit code {code}"
    return f"exit code {code}"


def summary_json(model: RunModel, now_t: float | None = None) -> dict:
    """The object ``run --json`` and ``replay --json`` print."""
    return model.summary(tuple(diagnosis(model, now_t))).to_json()


def summary_lines(model: RunModel) -> list[str]:
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
