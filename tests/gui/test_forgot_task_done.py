"""What the window says of tasks taken and never marked done (the forgot-task-done lesson):
the event log, the status line and the flow view. Real processes and real widgets; every wait
is on a state, never on time."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from engine.config import apply_overrides
from engine.config_files import load_preset
from gui.main_window import MainWindow
from tests.gui.presenter import presenter_window

WAIT_MS = 60_000


def _forgot(qtbot: QtBot) -> MainWindow:
    """The preset's run, started: tasks 1 and 5 fail and their consumers skip task_done()."""
    cfg = apply_overrides(load_preset("forgot-task-done"), ["time_scale=0.2"])
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
