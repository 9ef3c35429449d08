"""What the window says of tasks taken and never marked done (the forgot-task-done lesson):
the event log, the status line and the flow view. Real processes and real widgets; every wait
is on a state, never on time."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from engine.config import apply_overrides
from engine.config_files import load_preset
from engine.events import Kind
from engine.replay import replay_model
from engine.states import Activity
from engine.tracefile import read_trace
from gui.flow import FlowView
from gui.main_window import MainWindow
from gui.replay_cut import ModelAt
from tests.gui.presenter import presenter_window
from tests.traces import record_until

WAIT_MS = 60_000


def _forgot(qtbot: QtBot, *changes: str) -> MainWindow:
    """The preset's run, started: tasks 1 and 5 fail and their consumers skip task_done()."""
    cfg = apply_overrides(load_preset("forgot-task-done"), ["time_scale=0.2", *changes])
    w = presenter_window(qtbot, cfg, "forgot-task-done")
    assert w.start_run()
    return w


def _end(qtbot: QtBot, w: MainWindow) -> None:
    w.stop_run()
    qtbot.waitUntil(lambda: not w.driver.active, timeout=WAIT_MS)
    w.close()


def test_the_log_says_a_failed_task_was_left_without_task_done(qtbot: QtBot) -> None:
    w = _forgot(qtbot)
    log = w.event_log
    said = "went back to get() without calling task_done() for ({}, "
    qtbot.waitUntil(lambda: all(any(said.format(n) in ln for ln in log.lines()) for n in (1, 5)),
                    timeout=WAIT_MS)  # fmt: skip
    left = [ln for ln in log.lines() if "without calling task_done()" in ln]
    assert len(left) == 2
    assert all(ln.endswith(": it will never be marked done, so queue.join() will wait forever")
               for ln in left)  # fmt: skip
    # Each follows its failure, from the same consumer.
    lines = log.lines()
    for ln in left:
        who = ln.split("!")[1].split(" ")[0]
        before = lines[: lines.index(ln)]
        assert any(f"!{who} failed on (" in b for b in before), (ln, before[-3:])
    _end(qtbot, w)


def test_the_status_line_counts_tasks_left_apart_from_those_in_progress(qtbot: QtBot) -> None:
    """No sentinels: both consumers wait in get() again for ever, having left tasks 1 and 5
    without task_done(). Nothing is being worked on: "in progress" says 0, and the two left
    are their own figure; the unfinished count stays 2. The charts no longer call the band of
    taken tasks "in progress"."""
    w = _forgot(qtbot, "sentinels=none")

    def waiting() -> bool:
        m = w.model
        cs = [x for x in m.workers.values() if x.name.startswith("consumer-")] if m else []
        return (m is not None and m.gets == 8 and m.task_dones == 6 and len(cs) == 2
                and all(c.activity == Activity.WAIT_GET for c in cs))  # fmt: skip

    qtbot.waitUntil(waiting, timeout=WAIT_MS)
    words = "queue.join() waiting: 2 unfinished — 0 queued, 0 in progress, 2 not marked done"
    qtbot.waitUntil(lambda: w.status_bar.join_label.text() == words, timeout=WAIT_MS)
    m = w.model
    assert (m.unfinished, m.in_flight, m.in_progress, m.not_marked_done) == (2, 2, 0, 2)
    legend = [e[1] for e in w.charts.unfinished.legend_entries(w.charts.theme)]
    assert "taken, not done (in progress or left)" in legend
    assert not any("in progress (" in e for e in legend)
    _end(qtbot, w)


def test_the_replays_status_line_says_the_same_at_any_time(tmp_path: Path) -> None:
    """A recorded run cut at a time (ModelAt, the replay's status bar): just after task 1 was
    left, 1 not marked done; at the end, 2, and nothing in progress."""
    cfg = apply_overrides(load_preset("forgot-task-done"), ["time_scale=0.2", "sentinels=none"])
    path = record_until(tmp_path / "forgot.qltrace", cfg,
                        lambda m: m.task_dones == 6 and m.gets == 8)  # fmt: skip
    trace = read_trace(path)
    whole = replay_model(trace)
    left = sorted(r[1] - trace.t0 for _, _, rs in trace.batches for r in rs
                  if r[0] == Kind.TASK_ABANDON)  # fmt: skip
    assert len(left) == 2

    def cut(t: float) -> ModelAt:
        at = {int(Kind.PUT): 2, int(Kind.GET): 2, int(Kind.TASK_DONE): 1}
        n = {k: sum(1 for _, _, rs in trace.batches for r in rs
                    if r[0] == k and r[i] - trace.t0 <= t) for k, i in at.items()}  # fmt: skip
        return ModelAt(whole, t, (n[int(Kind.PUT)], n[int(Kind.GET)], n[int(Kind.TASK_DONE)]), 0)

    first = cut(left[0] + 1e-6)
    assert first.not_marked_done == 1
    assert first.in_progress == first.in_flight - 1
    end = cut(whole.last_t)
    assert (end.in_flight, end.in_progress, end.not_marked_done) == (2, 0, 2)
    assert end.join_words().endswith("— 0 queued, 0 in progress, 2 not marked done")


@pytest.mark.parametrize(
    "sentinels, doing, words",
    [("per_consumer", "exited", "never marked done"),  # the preset: both consumers exit
     ("none", "waiting in get()", "not marked done")],  # they wait in get() for ever
)
def test_the_flow_view_says_a_consumers_tasks_are_not_marked_done(
    qtbot: QtBot, tmp_path: Path, sentinels: str, doing: str, words: str
) -> None:
    """A consumer that left its failed task without task_done() and exited (or waits in get()
    again) says so in its box, beside the task's token: "holds 1" under "exited" did not say
    the task will never be done."""
    w = _forgot(qtbot, f"sentinels={sentinels}")
    gets, act = (10, Activity.EXITED) if sentinels != "none" else (8, Activity.WAIT_GET)

    def left() -> bool:
        m = w.model
        return (m is not None and m.gets == gets and m.task_dones == gets - 2
                and all(c.activity == act for c in _consumers(w)))  # fmt: skip

    qtbot.waitUntil(left, timeout=WAIT_MS)
    view = FlowView()
    qtbot.addWidget(view)
    view.resize(1280, 800)
    view.show()
    view.set_model(w.model)
    view.set_time(w.model.last_t, snap=True)
    svg = tmp_path / "flow.svg"
    view.export_image(str(svg))
    said = re.findall(r">([^<]+)</text>", svg.read_text(encoding="utf-8"))
    # Tasks 1 and 5 were left by one consumer or each by one: every box holding one says so
    # in its three lines (name, what it does, its tasks).
    holding = [c.name for c in _consumers(w) if c.held]
    assert holding
    for name in holding:
        i = said.index(name)
        assert said[i + 1 : i + 3] == [doing, words], said[i : i + 3]  # not "holds 1"
    view.close()
    _end(qtbot, w)


def _consumers(w: MainWindow) -> list:  # type: ignore[type-arg]
    m = w.model
    return [c for c in m.workers.values() if c.name.startswith("consumer-")] if m else []
