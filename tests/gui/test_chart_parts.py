"""The charts' small parts on their own: the follow window, the shared x axis, the legends'
layout arithmetic and the timeline's hover tip, with real view boxes and a real plot.

The chart-check registry (test_chart_check.py) checks what every chart item holds after a
real run; these check the parts that decide where things go, whose mistakes a run's data
would not show: a follow window one step late, a zoom that moves only one chart, a legend
column squeezing the plots, a tip off the plot's edge. Expected values are worked out by hand
from the rules in the docstrings (see each test), not produced by the code under test.
"""

from __future__ import annotations

import pyqtgraph as pg
import pytest
from PySide6.QtCore import QPointF

from gui.charts.hover_tip import GAP_PX, place_tip
from gui.charts.legend_layout import SIDE_LEGEND_MIN_PLOT_PX, legends_as_strips, row_stretch
from gui.charts.plotkit import LEFT_AXIS_PX, RIGHT_AXIS_PX, Style
from gui.charts.xlink import FOLLOW_WINDOW_S, XLink, follow_range

# ---------------------------------------------------------------------------- follow window


@pytest.mark.parametrize(("now", "expected"), [
    (0.0, (0.0, 0.051)),  # a run just started: at least 50 ms, plus the 2 % margin
    (0.01, (0.0, 0.051)),
    (10.0, (0.0, 10.2)),
    (FOLLOW_WINDOW_S, (0.0, 30.6)),  # the last moment from 0
    (40.0, (10.0, 40.6)),  # then the last 30 s, the same 2 % of 30 s ahead
])
def test_follow_range_shows_the_run_from_zero_then_its_last_30_s(now, expected) -> None:
    assert follow_range(now) == pytest.approx(expected)


# ---------------------------------------------------------------------------- shared x axis


def test_a_zoom_in_one_chart_moves_every_chart_and_asks_for_a_redraw(qtbot) -> None:
    views = [pg.ViewBox() for _ in range(3)]
    redraws: list[int] = []
    link = XLink(views, lambda: redraws.append(1))
    views[1].setXRange(2.0, 5.0, padding=0)
    for vb in views:
        assert vb.viewRange()[0] == pytest.approx([2.0, 5.0])
    assert len(redraws) == 1  # once for the user's change, not once per view moved
    views[2].setXRange(3.0, 6.0, padding=0)  # a second zoom, right after: moves them all too
    for vb in views:
        assert vb.viewRange()[0] == pytest.approx([3.0, 6.0])
    assert len(redraws) == 2
    # The panel's own moves (following the run) move them all, with no redraw call-back.
    link.set_range(1.0, 7.0)
    for vb in views:
        assert vb.viewRange()[0] == pytest.approx([1.0, 7.0])
    assert len(redraws) == 2
    # No view may scroll before the run's start by more than a second.
    views[0].setXRange(-50.0, 3.0, padding=0)
    assert views[2].viewRange()[0][0] == pytest.approx(-1.0)
    assert len(redraws) == 3


def test_follow_moves_nothing_when_the_range_is_already_there(qtbot) -> None:
    views = [pg.ViewBox(), pg.ViewBox()]
    link = XLink(views, lambda: None)
    link.set_range(1.0, 7.0)
    # A second view moved on its own is left alone by a set_range the first already has:
    # set_range is judged on the first view (cheap while following: called every frame).
    views[1].blockSignals(True)
    views[1].setXRange(3.0, 4.0, padding=0)
    views[1].blockSignals(False)
    link.set_range(1.0, 7.0)
    assert views[1].viewRange()[0] == pytest.approx([3.0, 4.0])
    link.set_range(1.0, 8.0)
    assert views[1].viewRange()[0] == pytest.approx([1.0, 8.0])


# ---------------------------------------------------------------------------- legend layout

NORMAL, PRESENTER = Style(), Style(presenter=True)
AXES = LEFT_AXIS_PX + RIGHT_AXIS_PX + 24  # beside the plot: both axes and the margin


def test_legends_go_above_the_charts_when_a_column_would_squeeze_them() -> None:
    column = 200.0
    wide_enough = SIDE_LEGEND_MIN_PLOT_PX + AXES + column
    assert not legends_as_strips(wide_enough, column, NORMAL)  # exactly the minimum: a column
    assert legends_as_strips(wide_enough - 0.5, column, NORMAL)
    assert not legends_as_strips(wide_enough + 400, column, NORMAL)
    assert legends_as_strips(wide_enough + 400, column, PRESENTER)  # presenter: always strips


# Worked by hand from row_stretch's rules: total = max(300, view - readout - 24); the time
# axis takes 3 * font_pt + 12; the timeline rows * row_px + 16 + its strip, within 20-36 % of
# the total; the rest (at least 60) shared 6:4:4, each with its strip, the last one with the
# time axis.
@pytest.mark.parametrize(("rows", "strips", "view_h", "style", "expected"), [
    (5, (20, 20, 20, 20), 900, NORMAL, (252, 160, 175, 214)),  # timeline at its 20 % floor
    (7, (20, 20, 20, 20), 900, NORMAL, (233, 204, 162, 201)),  # what its rows need
    (20, (20, 20, 20, 20), 900, NORMAL, (197, 288, 138, 177)),  # capped at 36 %
    (5, (20, 20, 20, 20), 900, PRESENTER, (236, 186, 164, 215)),  # 30 px rows, 13 pt
    (0, (20, 20, 20, 20), 200, NORMAL, (80, 60, 60, 99)),  # a tiny panel counts as 300 px
    (1, (100, 20, 100, 100), 400, NORMAL, (126, 60, 117, 156)),  # the rest never below 60
])
def test_row_stretch_shares_the_height(rows, strips, view_h, style, expected) -> None:
    assert row_stretch(rows, strips, view_h, 76.0, style) == expected


# ---------------------------------------------------------------------------- hover tip


@pytest.fixture
def plot(qtbot):
    win = pg.GraphicsLayoutWidget()
    qtbot.addWidget(win)
    win.resize(800, 400)
    p = win.addPlot()
    p.setXRange(0.0, 10.0, padding=0)
    p.setYRange(0.0, 6.0, padding=0)
    win.show()
    qtbot.waitExposed(win)
    qtbot.waitUntil(lambda: p.getViewBox().sceneBoundingRect().width() > 500)
    yield p  # the window must outlive the test: it owns the plot
    win.close()


def _tip_box(tip: pg.TextItem):
    return tip.mapRectToScene(tip.boundingRect())


def test_the_tip_stands_beside_the_cursor_on_the_side_with_room(plot) -> None:
    tip = pg.TextItem("")
    vb = plot.getViewBox()
    box = vb.sceneBoundingRect()
    place_tip(tip, plot, 2.0, 3, "consumer-1: waiting in get()")
    assert tip.isVisible() and tip.scene() is not None
    at = vb.mapViewToScene(QPointF(2.0, 3))
    r = _tip_box(tip)
    assert r.left() == pytest.approx(at.x() + GAP_PX, abs=1.0)  # right of the cursor
    assert r.bottom() < at.y()  # above the hovered bar
    # Near the right edge: to the left of the cursor, still inside the plot.
    place_tip(tip, plot, 9.8, 3, "consumer-1: waiting in get()")
    at = vb.mapViewToScene(QPointF(9.8, 3))
    r = _tip_box(tip)
    assert r.right() == pytest.approx(at.x() - GAP_PX, abs=1.0)
    assert box.left() < r.left() and r.right() < box.right()


def test_the_tip_goes_below_the_bar_at_the_top_and_stays_inside(plot) -> None:
    tip = pg.TextItem("")
    vb = plot.getViewBox()
    box = vb.sceneBoundingRect()
    place_tip(tip, plot, 2.0, 5.8, "top row")  # no room above: below the bar
    at = vb.mapViewToScene(QPointF(2.0, 5.8))
    half_bar = abs(vb.mapViewToScene(QPointF(2.0, 5.8 + 0.36)).y() - at.y())
    r = _tip_box(tip)
    assert r.top() == pytest.approx(at.y() + half_bar, abs=1.0)
    assert box.top() < r.top() and r.bottom() < box.bottom()
    # A long text at the left edge, at the bottom row: clamped into the plot on both axes.
    place_tip(tip, plot, 0.0, 0, "x" * 40)
    r = _tip_box(tip)
    assert box.left() < r.left() and r.bottom() < box.bottom() and r.top() > box.top()
    # Wider than the room on either side of the cursor: against the plot's left edge.
    place_tip(tip, plot, 5.0, 3, "y" * 90)
    r = _tip_box(tip)
    assert r.left() == pytest.approx(box.left() + 1, abs=0.5)


def test_no_words_hide_the_tip(plot) -> None:
    tip = pg.TextItem("")
    place_tip(tip, plot, 2.0, 3, "words")
    assert tip.isVisible()
    place_tip(tip, plot, 2.0, 3, None)
    assert not tip.isVisible() and tip.scene() is None
    place_tip(tip, plot, 2.0, 3, "")
    assert not tip.isVisible()
