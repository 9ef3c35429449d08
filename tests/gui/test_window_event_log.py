"""The window's event log: the tutorial's lines, filter, pause, bound, a flood, its own turns."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest

from engine.config import load_preset
from engine.model import RunModel
from gui.main_window import MainWindow

# The fixture window: pytest finds it among this module's names.
from tests.gui.window_runs import fixture_window as fixture_window
from tests.gui.window_runs import run_to_end

pytestmark = pytest.mark.slow


def test_tutorial_lines_in_event_log_and_filter(qtbot, window: MainWindow) -> None:
    window.config_panel.set_config(load_preset("tutorial").replace(time_scale=0.05), "tutorial")
    run_to_end(qtbot, window)
    log = window.event_log
    bodies = [line[len("   0.00 s  ") :] for line in log.lines()]
    for expected in (
        "Producer starting",
        "Producer finished",
        "Consumer starting",
        "Consumer finished",
        "Main found that the producer has finished",
        "Main found that all tasks are processed",
    ):
        assert expected in bodies, expected
    added = [b for b in bodies if b.startswith(".producer added (")]
    got = [b for b in bodies if b.startswith(".consumer got (")]
    assert len(added) == len(got) == 10
    assert bodies.index("Main found that all tasks are processed") > max(
        bodies.index(g) for g in got
    )
    # Filter: only matching lines are shown, all are kept.
    log.set_filter("consumer got")
    assert log.shown_lines() == [ln for ln in log.lines() if "consumer got" in ln]
    assert "10 of" in log.count_label.text()
    log.set_filter("")
    assert len(log.shown_lines()) == len(log.lines())


def test_log_pause_holds_view_and_catches_up(window: MainWindow) -> None:
    log = window.event_log
    log.set_model(RunModel())
    log.add_note("first")
    log.set_following(False)
    log.add_note("second")
    assert [ln.strip() for ln in log.shown_lines()] == ["first"]
    assert "+1 new" in log.follow_button.text()
    log.set_following(True)
    assert [ln.strip() for ln in log.shown_lines()] == ["first", "second"]


def test_log_is_bounded(window: MainWindow) -> None:
    from gui.event_log import MAX_LINES

    log = window.event_log
    log.set_model(RunModel())
    for i in range(MAX_LINES + 50):
        log._append([f"line {i}"])
    assert len(log.lines()) == MAX_LINES
    assert log.view.document().blockCount() <= MAX_LINES
    assert log.lines()[-1] == f"line {MAX_LINES + 49}"


def test_log_under_a_flood_lists_the_newest_lines_and_counts_the_rest(window: MainWindow) -> None:
    """One flush appends at most the lines the view shows at once (laying out hundreds made
    the longest event-loop gaps): the newest, in order, after a note counting the events left
    out."""
    from engine.events import Kind
    from gui.event_log import MAX_PENDING_RECORDS, MIN_FLUSH_LINES

    log = window.event_log
    window.log_dock.raise_()
    window.log_dock.show()
    log.view.resize(log.view.width(), 240)  # about 15 lines
    listed = log.lines_per_flush()
    spacing = log.view.fontMetrics().lineSpacing()
    fits = log.view.viewport().height() // spacing
    assert MIN_FLUSH_LINES <= listed <= max(MIN_FLUSH_LINES, fits)
    m = RunModel()
    m.feed([(0, 0, [(int(Kind.RUN_START), 1.0, 1, 1, 10_000)])])
    log.set_model(m)
    before = len(log.lines())
    n = MAX_PENDING_RECORDS + 200
    puts = [(int(Kind.PUT), 1.0 + i * 1e-4, 1.0 + i * 1e-4, (1 << 32) + i, i, 0.5)
            for i in range(n)]
    log.add_records(m.feed([(1, 0, puts)]))
    log.flush()
    new = log.lines()[before:]
    assert len(new) == listed + 1
    assert new[0].strip() == f"— {n - listed:,} events came too fast to list —"
    labels = [int(ln.split("(", 1)[1].split(",", 1)[0]) for ln in new[1:]]
    assert labels == list(range(n - listed, n))
    assert log.pending == 0


def test_event_log_and_chart_frames_get_event_loop_turns_of_their_own(
    qtbot, window: MainWindow
) -> None:
    """A driver tick drains events, draws a chart frame or updates the log: never two of them
    (each is one bounded turn of the event loop), and the log keeps up while the run goes on."""
    d = window.driver
    seen: list[set[str]] = []
    real_tick = d._on_timer_timeout

    def tick() -> None:
        seen.append(set())
        real_tick()

    d._timer.timeout.disconnect(d._on_timer_timeout)
    d._timer.timeout.connect(tick)
    d.sig_frame.connect(lambda: seen and seen[-1].add("frame"))
    d.sig_log_frame.connect(lambda: seen and seen[-1].add("log"))
    d.sig_applied.connect(lambda _a: seen and seen[-1].add("drain"))
    lines_while_running: list[int] = []
    d.sig_log_frame.connect(lambda: lines_while_running.append(len(window.event_log.lines())))
    run_to_end(qtbot, window)
    kinds = [k for k in seen if k]
    assert all(len(k) == 1 for k in kinds[:-1]), [k for k in kinds if len(k) > 1]
    assert {"frame", "log", "drain"} <= set().union(*kinds)
    assert max(lines_while_running) > 5  # narrated lines showed up before the run's end
