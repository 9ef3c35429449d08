"""The join labels of the Unfinished chart stay whole inside its plot, however narrow it is."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QRectF
from pytestqt.qtbot import QtBot

from engine.model import RunModel
from tests.gui.test_charts_layout import make_panel, settle


def _inside(inner: QRectF, outer: QRectF, slack: float = 1.0) -> bool:
    return (inner.left() >= outer.left() - slack and inner.right() <= outer.right() + slack
            and inner.top() >= outer.top() - slack and inner.bottom() <= outer.bottom() + slack)


# (panel size, presenter): the Step pane and the docks leave the charts ~450 px wide in
# presenter mode at 1280x800, where "⚠ premature join() return" was cut at the left edge.
@pytest.mark.parametrize("size,presenter", [((470, 720), True), ((620, 720), True),
                                            ((420, 640), False), ((1000, 720), True)])
def test_premature_join_label_lies_within_the_plot(
    qtbot: QtBot, premature_run_model: RunModel, size: tuple[int, int], presenter: bool
) -> None:
    m = premature_run_model
    assert m.premature_join
    p = make_panel(qtbot, size, presenter, m)
    u = p.unfinished
    vb = u.plot.getViewBox()
    t = m.join_returned_t
    # Its words: all of them where they fit, shorter where not, the warning always.
    words = u.return_line.label.toPlainText()
    assert words.startswith("⚠ premature")
    if size[0] >= 1000:
        assert words == "⚠ premature join() return"
    span = 4.0
    # The line at every part of the plot: by the left edge (the label must go right), a third
    # in (left of it has no room for the words when the plot is narrow), the middle, the right.
    for frac in (0.02, 0.15, 0.3, 0.45, 0.6, 0.8, 0.97):
        lo = t - frac * span
        vb.setXRange(lo, lo + span, padding=0)  # as a user's pan: the panel redraws for it
        settle(qtbot)
        box = vb.sceneBoundingRect()
        for line in (u.called_line, u.return_line, u.producers_line):
            if not line.isVisible() or not lo <= line.value() <= lo + span:
                continue
            r = line.label.sceneBoundingRect()
            assert r.width() > 0
            assert _inside(r, box), (
                f"{line.label.toPlainText()!r} at {r} leaves the plot {box} "
                f"(line at {frac:.0%} of {size[0]} px, presenter={presenter})")


def test_the_label_finds_its_room_again_when_the_plot_narrows(
    qtbot: QtBot, premature_run_model: RunModel
) -> None:
    """Opening a pane beside the charts narrows the plot without any change of time range."""
    m = premature_run_model
    p = make_panel(qtbot, (1100, 720), True, m)
    u = p.unfinished
    vb = u.plot.getViewBox()
    lo = m.join_returned_t - 0.3 * 4.0
    vb.setXRange(lo, lo + 4.0, padding=0)
    settle(qtbot)
    p.resize(470, 720)
    settle(qtbot)
    assert _inside(u.return_line.label.sceneBoundingRect(), vb.sceneBoundingRect())
