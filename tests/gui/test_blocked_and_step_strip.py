"""What the window shows live of a put waiting for room, and the Step pane as a strip below
the flow view in presenter mode (beside it, the view had ~550 px and ~9 px words at 1280x800).
Real processes and real widgets; every wait is on an event or a state, never on time."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from engine.config import apply_overrides
from engine.config_files import load_preset
from engine.flow_layout import PRODUCER
from engine.states import Activity
from gui.charts.palette import ACTIVITY_WORDS
from gui.flow.look import text_font
from gui.main_window import MainWindow
from tests.faults import config, const
from tests.gui.presenter import presenter_window

WAIT_MS = 60_000
BOX_WORDS = 0.36  # the share of the flow's unit its stations' words are drawn at (backdrop.py)


def test_a_producer_waiting_for_room_is_shown_blocked_before_its_put_returns(
    qtbot: QtBot,
) -> None:
    """The consumer holds task 0 for a minute and task 1 fills the one slot: the put of task 2
    cannot return. The flow view's box and token, and the timeline's row and key, say
    "blocked in put()" all the same; before PUT_BLOCKED they said "producing"."""
    cfg = config(tasks_per_producer=10, maxsize=1, task_duration=const(60.0))
    w = presenter_window(qtbot, cfg, None)
    assert w.start_run()

    def blocked() -> bool:
        m, f = w.model, w.flow_view.frame
        return (m is not None and f is not None and m.puts >= 2 and bool(f.producers)
                and f.producers[0].activity == Activity.BLOCK_PUT)  # fmt: skip

    qtbot.waitUntil(blocked, timeout=WAIT_MS)
    m, f = w.model, w.flow_view.frame
    assert (m.puts, m.gets) == (2, 1)  # task 1 waits in the only slot: no room for task 2
    assert [k.text.split(":")[0] for k in f.tokens if k.place == PRODUCER] == ["2"]
    # The timeline: the producer's row (its open interval) and the key, at the next frame.
    charts = w.charts
    qtbot.waitUntil(lambda: any(e[1] == ACTIVITY_WORDS[Activity.BLOCK_PUT]
                                for e in charts.timeline.legend_entries(charts.theme)),
                    timeout=WAIT_MS)  # fmt: skip
    row = next(r for r in charts.timeline.rows if r.worker.src == 1)
    now = m.last_t
    assert row.at(now, now)[2] == Activity.BLOCK_PUT
    # The event log says it as the wait begins (the program itself prints nothing there).
    log = w.event_log
    said = ".producer is blocked in put(): the queue is full (maxsize 1), so (2, "
    qtbot.waitUntil(lambda: any(said in ln for ln in log.lines()), timeout=WAIT_MS)
    assert any(ln.endswith("waits until a consumer takes an item") for ln in log.lines())
    assert m.puts == 2
    w.stop_run()
    qtbot.waitUntil(lambda: not w.driver.active, timeout=WAIT_MS)
    w.close()


@pytest.fixture
def stepping(qtbot: QtBot) -> Iterator[MainWindow]:
    cfg = apply_overrides(load_preset("join-race"), ["time_scale=0.01"])
    w = presenter_window(qtbot, cfg, "join-race")
    w.step_mode.action.trigger()  # Run ▸ Step mode
    assert w.start_run()
    view = w.step_mode.view
    qtbot.waitUntil(lambda: all(view.row_button(s) is not None for s in range(4))
                    and "would block" in view.row_button(3).text(), timeout=WAIT_MS)  # fmt: skip
    yield w
    w.close()


def _box_words_px(w: MainWindow) -> int:
    return text_font(w.flow_view._geometry().unit, BOX_WORDS).pixelSize()


@pytest.mark.slow
def test_in_presenter_mode_the_step_pane_is_a_strip_below_a_readable_flow_view(
    qtbot: QtBot, stepping: MainWindow
) -> None:
    w = stepping
    step = w.step_mode
    view = step.view
    assert w.dockWidgetArea(step.dock) == Qt.DockWidgetArea.BottomDockWidgetArea
    # The flow view has the width the window gives the central views, and the words of its
    # boxes the size they have there without the pane (9 px beside the pane, before).
    flow = w.flow_view
    assert flow.width() >= w.centralWidget().width() - 4
    with_pane = _box_words_px(w)
    assert with_pane >= 11

    def whole(b) -> bool:
        return b.isVisible() and b.label.height() >= b.label.heightForWidth(b.label.width())

    # Once the rows' words stop changing (each process announced its operation), the strip
    # has fitted them: every row whole, none under a scroll bar.
    qtbot.waitUntil(lambda: all(whole(view.row_button(s)) for s in range(4)), timeout=5000)
    assert not view.scroll.verticalScrollBar().isVisible()
    assert view.strip
    # The rows two by two; the words above the buttons whole.
    assert view.row_button(1).y() == view.row_button(0).y() < view.row_button(2).y()
    assert view.status.height() >= view.status.heightForWidth(view.status.width())
    assert step.dock.height() < w.height() * 0.4
    # The flow view keeps the words' size it has with the pane closed.
    step.dock.hide()
    qtbot.waitUntil(lambda: flow.width() >= w.centralWidget().width() - 4, timeout=5000)
    assert with_pane >= _box_words_px(w) - 1
    step.dock.show()
    # The charts need the height more than the width: beside them the pane is a column.
    w.view_tabs.show_flow(False)
    assert w.dockWidgetArea(step.dock) == Qt.DockWidgetArea.RightDockWidgetArea
    assert not view.strip
    w.view_tabs.show_flow(True)
    assert w.dockWidgetArea(step.dock) == Qt.DockWidgetArea.BottomDockWidgetArea
    assert view.strip
    # Out of presenter mode the pane is the right-hand column again, its rows one above another.
    w.set_presenter(False)
    assert w.dockWidgetArea(step.dock) == Qt.DockWidgetArea.RightDockWidgetArea
    assert not view.strip
    qtbot.waitUntil(lambda: view.row_button(1).y() > view.row_button(0).y(), timeout=5000)
    assert view.maximumHeight() > 10_000
