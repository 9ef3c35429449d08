"""Step mode in the window: real processes wait at each queue operation; a click lets one go."""

from __future__ import annotations

import os
import re

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt

from engine.config import apply_overrides, load_preset
from engine.step import State
from gui.main_window import MainWindow

pytestmark = pytest.mark.slow
WAIT_MS = 60_000


@pytest.fixture
def window(qtbot) -> Iterator[MainWindow]:
    cfg = apply_overrides(load_preset("join-race"), ["time_scale=0.01"])
    w = MainWindow(cfg, "join-race")
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.close()


def _step_pane_is_current(w: MainWindow) -> bool:
    """Every row shows what the stepper knows now (its words and its kind)."""
    view = w.step_mode.view
    return all((b := view.row_button(r.src)) is not None and b.text() == r.text()
               and b.property("kind") == r.kind() for r in w.step_mode.rows())  # fmt: skip


def start_stepping(qtbot, w: MainWindow):
    w.step_mode.action.trigger()  # Run ▸ Step mode
    assert w.step_mode.on and w.step_mode.dock.isVisible()
    assert w.start_run()
    qtbot.waitUntil(lambda: not w.run_start.pending, timeout=WAIT_MS)  # launched turns later
    st = w.step_mode.stepper
    assert st is not None
    qtbot.waitUntil(lambda: st.quiet(w.model), timeout=WAIT_MS)
    # Quiet lasts until a grant; the pane draws it at its next refresh (a frame or its timer),
    # so what the pane shows is judged once it shows this state, not the one drawn before.
    qtbot.waitUntil(lambda: _step_pane_is_current(w), timeout=5000)
    producer = w.step_mode.view.row_button(1)
    assert producer is not None and "queue.put" in producer.text()
    return st


def test_clicking_a_process_lets_exactly_its_operation_happen(qtbot, window: MainWindow) -> None:
    w = window
    st = start_stepping(qtbot, w)
    view = w.step_mode.view
    # Every process is shown with its next operation and line; the gets would block.
    producer = view.row_button(1)
    assert "producer-0" in producer.text() and "queue.put((0," in producer.text()
    assert "line" in producer.text() and producer.isEnabled()
    consumer = view.row_button(2)
    assert "queue.get()" in consumer.text() and "the queue is empty" in consumer.text()
    assert consumer.property("kind") == "blocked"
    # The Code pane lights the line each process waits at.
    lines = w.code_view.line_map()
    assert "producer-0" in w.code_view.running().get(lines["put"], "")
    assert w.model.puts == 0
    qtbot.mouseClick(producer, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: w.model.puts == 1 and st.quiet(w.model), timeout=WAIT_MS)
    assert [s.text() for s in st.schedule] == ["producer-0:put"]
    assert w.model.gets == 0 and w.model.join_state == 0  # nobody else moved
    qtbot.waitUntil(lambda: any("→ step 1: producer-0 may do queue.put((0," in line
                                for line in w.event_log.lines()), timeout=5000)  # fmt: skip
    # Its number key lets a process go too: 2 is consumer-0, whose get no longer blocks.
    qtbot.waitUntil(lambda: view.row_button(2).property("kind") == "go", timeout=5000)
    qtbot.keyClick(w, Qt.Key.Key_2)
    qtbot.waitUntil(lambda: w.model.gets == 1 and st.quiet(w.model), timeout=WAIT_MS)
    assert [s.text() for s in st.schedule] == ["producer-0:put", "consumer-0:get"]
    # Run lets everything go freely to the end.
    qtbot.mouseClick(view.run_button, Qt.MouseButton.LeftButton)
    # The driver reports the end once every record is in the model.
    qtbot.waitUntil(lambda: not w.driver.active, timeout=WAIT_MS)
    assert w.model.task_dones == 10


def test_restart_with_this_schedule_replays_the_choices(
    qtbot, window: MainWindow, tmp_path
) -> None:
    w = window
    st = start_stepping(qtbot, w)
    st.grant("main", w.model)  # the race: join() before any put
    qtbot.waitUntil(lambda: st.quiet(w.model) and st.procs[0].state is State.WAITING,
                    timeout=WAIT_MS)  # fmt: skip
    qtbot.mouseClick(w.step_mode.view.row_button(1), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(st.schedule) == 2 and st.quiet(w.model), timeout=WAIT_MS)
    old = w.driver.run
    qtbot.mouseClick(w.step_mode.view.restart_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not w.run_start.pending, timeout=WAIT_MS)  # launched turns later
    new = w.driver.run
    assert new is not old and new.stepper is not None
    qtbot.waitUntil(lambda: not new.stepper.plan and new.stepper.quiet(w.model), timeout=WAIT_MS)
    assert [s.text() for s in new.stepper.schedule] == ["main:join", "producer-0:put"]
    assert w.model.premature_join and w.model.puts == 1
    assert new.stepper.stepping  # the replay ends in step mode, waiting for the next choice
    # The schedule can be saved for run --schedule.
    saved = tmp_path / "mine.schedule"
    assert w.step_mode.save_schedule_file(str(saved))
    from engine.schedule import load_schedule

    assert [s.text() for s, _ in load_schedule(saved)] == ["main:join", "producer-0:put"]


def test_stop_while_every_process_waits_for_permission_ends_them_all(
    qtbot, window: MainWindow
) -> None:
    w = window
    start_stepping(qtbot, w)
    pids = w.driver.run.alive_pids()
    assert len(pids) == 3
    w.stop_run()
    qtbot.waitUntil(lambda: w.driver.run.ended, timeout=WAIT_MS)
    assert w.driver.run.alive_pids() == []


def _names_in_code_pane(w: MainWindow) -> dict[str, int]:
    """Who the Code pane shows where: process name -> its highlighted line."""
    return {name: line for line, names in w.code_view.running().items()
            for name in names.split(", ")}  # fmt: skip


def _rows_shown(w: MainWindow) -> dict[str, tuple[str, int | None]]:
    """What the Step pane shows: process name -> (its row's kind, the line its words name)."""
    view, out = w.step_mode.view, {}
    for row in w.step_mode.rows():
        b = view.row_button(row.src)
        assert b is not None
        name = re.search(r"&nbsp;&nbsp;(.+?)</b>", b.text())
        line = re.search(r"· line (\d+)", b.text())
        assert name is not None
        out[name.group(1)] = (b.property("kind"), int(line.group(1)) if line else None)
    return out


def test_the_code_pane_shows_the_moment_the_step_pane_shows(qtbot, window: MainWindow) -> None:
    # The Step pane is also refreshed by its timer, between frames: the Code pane must light
    # the same processes at the same moment, not a frame later.
    w = window
    st = start_stepping(qtbot, w)
    view = w.step_mode.view
    for _ in range(12):
        qtbot.waitUntil(lambda: st.quiet(w.model) and _step_pane_is_current(w), timeout=WAIT_MS)
        rows, lit = _rows_shown(w), _names_in_code_pane(w)
        for name, (kind, line) in rows.items():
            if kind == "busy":  # working between operations, or finished: no line to light
                assert name not in lit, (name, rows, lit)
            else:  # waiting for permission (its line named), or blocked in its operation
                assert name in lit and line in (None, lit[name]), (name, rows, lit)
        if not view.next_button.isEnabled():
            break
        qtbot.mouseClick(view.next_button, Qt.MouseButton.LeftButton)
    assert len(st.schedule) >= 10  # the loop stepped through most of the run
