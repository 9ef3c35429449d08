"""ChartsPanel at a projector's sizes: nothing cut at an edge, legends that leave the plots room."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, QPointF, QRectF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from engine.model import RunModel
from gui.charts import ChartsPanel
from gui.charts.axes import ChartAxis
from gui.charts.plotkit import Style

SIZES = [(1280, 800), (840, 700)]  # the panel alone, and beside the window's docks at 1280


def make_panel(qtbot, size: tuple[int, int], presenter: bool, model: RunModel | None = None
               ) -> ChartsPanel:
    p = ChartsPanel()
    qtbot.addWidget(p)
    p.resize(*size)
    p.set_presenter(presenter)
    p.show()
    qtbot.waitExposed(p)
    if model is not None:
        p.set_model(model)
        p.refresh()
        p.set_follow(False)  # the whole run in view
    settle(qtbot)
    return p


def settle(qtbot) -> None:
    """Let the layouts run their passes (a strip's new height takes one more)."""
    for _ in range(3):
        QApplication.processEvents()
        qtbot.wait(10)


def hover(qtbot, p: ChartsPanel, scene_pos: QPointF) -> None:
    """A real mouse move over the charts' view, at a scene position."""
    qtbot.wait(25)  # pyqtgraph's scene drops moves closer together than its rate limit
    view = p._glw
    pos = QPointF(view.mapFromScene(scene_pos))
    glob = QPointF(view.viewport().mapToGlobal(pos.toPoint()))
    ev = QMouseEvent(QEvent.Type.MouseMove, pos, glob, Qt.MouseButton.NoButton,
                     Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(view.viewport(), ev)


def inside(inner: QRectF, outer: QRectF, slack: float = 0.5) -> bool:
    return (inner.left() >= outer.left() - slack and inner.right() <= outer.right() + slack
            and inner.top() >= outer.top() - slack and inner.bottom() <= outer.bottom() + slack)


# ---------------------------------------------------------------------- hover tip and readout
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("presenter", [False, True])
def test_hover_tip_stays_inside_the_timeline_at_every_edge(qtbot, short_run_model, size,
                                                           presenter):
    m = short_run_model
    p = make_panel(qtbot, size, presenter, m)
    vb = p.timeline.plot.getViewBox()
    box = vb.sceneBoundingRect()
    rows = len(p.timeline_rows())
    assert rows >= 3
    last_t = max(m.s_t)
    # Near the right edge (the tip used to run past it or above the plot), the left edge, and
    # on the top and bottom rows.
    for t in (last_t * 0.995, last_t * 0.97, m.s_t[0] + 0.002):
        for row in (0, rows - 1):
            hover(qtbot, p, vb.mapViewToScene(QPointF(t, row)))
            assert p._hover_row == row
            rect = p.tip_scene_rect()
            assert rect is not None, f"no tip at t={t:.3f} row {row}"
            assert inside(rect, box), f"tip {rect} leaves the plot {box} (t={t:.3f}, row {row})"
            # Beside the cursor, never over the point it describes.
            cursor_x = vb.mapViewToScene(QPointF(p._hover_t, row)).x()
            assert not rect.left() < cursor_x < rect.right() or rect.width() > box.width() / 2


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("presenter", [False, True])
def test_readout_wraps_instead_of_running_past_the_edge(qtbot, short_run_model, size,
                                                        presenter):
    m = short_run_model
    p = make_panel(qtbot, size, presenter, m)
    vb = p.flow.plot.getViewBox()
    label = p.readout.label
    for t in (m.s_t[-1] * 0.99, (m.s_t[0] + m.s_t[-1]) / 2):
        hover(qtbot, p, vb.mapViewToScene(QPointF(t, 1.0)))
        text = p.readout_text()
        assert f"t = {p._hover_t:.3f} s" in text
        for words in ("unfinished", "queued", "in progress", "puts", "task_done", "done/s"):
            assert words in text
        shown = label.item.mapRectToScene(label.item.boundingRect())
        assert shown.right() <= label.sceneBoundingRect().right() + 0.5, (
            f"readout {shown} cut at {label.sceneBoundingRect()}")
        assert shown.right() <= p._glw.viewport().width()


def test_readout_is_one_line_when_it_fits(qtbot, short_run_model):
    p = make_panel(qtbot, (1920, 1000), False, short_run_model)
    assert "<br>" not in p.readout_text()
    p.resize(700, 1000)
    settle(qtbot)
    assert "<br>" in p.readout_text()


# ---------------------------------------------------------------------- legends
def test_legends_are_a_column_beside_wide_charts(qtbot, short_run_model):
    p = make_panel(qtbot, (1280, 800), False, short_run_model)
    assert not p.legend_strips
    for legend, strip, chart in zip(p.legends, p.strips, p.charts, strict=True):
        assert legend.sceneBoundingRect().width() > 100
        assert legend.sceneBoundingRect().left() >= chart.plot.sceneBoundingRect().right() - 1
        assert strip.strip_height == 0


@pytest.mark.parametrize(("size", "presenter"), [((1280, 800), True), ((840, 700), False),
                                                 ((840, 700), True)])
def test_legends_become_strips_over_the_charts_when_width_is_short(qtbot, short_run_model,
                                                                   size, presenter):
    p = make_panel(qtbot, size, presenter, short_run_model)
    assert p.legend_strips
    style = Style(presenter=presenter)
    width = p._glw.viewport().width()
    for legend, strip, chart in zip(p.legends, p.strips, p.charts, strict=True):
        assert legend.sceneBoundingRect().width() <= 1  # the column gives its width back
        vb = chart.plot.getViewBox().sceneBoundingRect()
        # The plots get the width: only the axes and margins beside them.
        assert vb.width() >= width - style.left_axis_px - style.right_axis_px - 24
        # The strip: above its plot, across it, tall enough for its lines, every entry named.
        rect = strip.sceneBoundingRect()
        assert strip.strip_height > 0
        assert rect.bottom() <= vb.top() + 0.5
        assert rect.height() >= strip.strip_height - 0.5
        assert rect.left() <= vb.left() and rect.right() >= vb.right() - 1
        texts = strip.texts()
        assert texts[0] == chart.title
        assert len(texts) == 1 + len(strip.entries)
        assert all(op.rect.right() <= rect.width() + 0.5 for op in strip._ops), \
            f"{chart.title}: an entry runs past the strip's width"


def test_strips_follow_the_width_and_presenter_mode_both_ways(qtbot, short_run_model):
    p = make_panel(qtbot, (1280, 800), False, short_run_model)
    assert not p.legend_strips
    p.set_presenter(True)
    settle(qtbot)
    assert p.legend_strips
    wide = [s.strip_height for s in p.strips]
    p.resize(760, 800)  # narrower: strips wrap to more lines, never fewer
    settle(qtbot)
    narrow = [s.strip_height for s in p.strips]
    assert all(n >= w for n, w in zip(narrow, wide, strict=True))
    assert any(n > w for n, w in zip(narrow, wide, strict=True))
    p.set_presenter(False)
    p.resize(1280, 800)
    settle(qtbot)
    assert not p.legend_strips
    assert all(s.strip_height == 0 for s in p.strips)
    assert all(lg.sceneBoundingRect().width() > 100 for lg in p.legends)


def test_hidden_legends_stay_hidden_in_both_forms(qtbot, short_run_model):
    p = make_panel(qtbot, (840, 700), False, short_run_model)
    for legend in p.legends:  # what the compare window does
        legend.hide()
        legend.setMinimumWidth(0)
        legend.setMaximumWidth(0)
    p.resize(820, 700)
    settle(qtbot)
    assert all(s.strip_height == 0 for s in p.strips)
    assert all(not lg.isVisible() for lg in p.legends)


def test_wrapped_strips_use_shorter_words_only_to_save_a_line(qtbot, short_run_model):
    p = make_panel(qtbot, (1920, 900), True, short_run_model)
    rates = p.strips[3]
    assert "tasks done per second (1 s window)" in rates.texts()  # room: the full words
    p.resize(800, 900)
    settle(qtbot)
    texts = rates.texts()
    assert "done per second" in texts and "mean wait (right)" in texts


# ---------------------------------------------------------------------- axes and markers
def test_short_vertical_axes_space_their_labels_apart(qtbot):
    axis = ChartAxis("left")
    axis.setStyle(tickFont=Style(presenter=True).font())
    text_h = axis._label_size("0")[1] / 0.8
    for hi, size in ((1000, 80), (20, 60), (5, 50), (600, 300)):
        major, _ = axis.tickSpacing(0, hi, size)[0]
        assert major * size / hi >= 1.5 * text_h, (hi, size, major)
    # A tall axis keeps pyqtgraph's own spacing.
    assert axis.tickSpacing(0, 20, 600) == super(ChartAxis, axis).tickSpacing(0, 20, 600)


@pytest.mark.parametrize("presenter", [False, True])
def test_axis_labels_fit_their_axis(qtbot, short_run_model, presenter):
    p = make_panel(qtbot, (840, 620), presenter, short_run_model)
    for chart in p.charts:
        for side in ("left", "right"):
            axis = chart.plot.getAxis(side)
            if not axis.isVisible() or not axis.label.isVisible():
                continue
            length = axis.label.boundingRect().width()  # the label runs along the axis
            assert length <= axis.size().height() + 1, (
                f"{chart.title} {side}: label {axis.label.toPlainText()!r} "
                f"({length:.0f} px) longer than its axis ({axis.size().height():.0f} px)")


@pytest.mark.parametrize("presenter", [False, True])
def test_join_labels_are_inside_the_plot_and_apart(qtbot, short_run_model, presenter):
    p = make_panel(qtbot, (840, 700), presenter, short_run_model)
    u = p.unfinished
    box = u.plot.getViewBox().sceneBoundingRect()
    labels = [ln.label for ln in (u.called_line, u.return_line, u.producers_line)
              if ln.isVisible()]
    assert len(labels) == 3
    rects = [lb.sceneBoundingRect() for lb in labels]
    for lb, r in zip(labels, rects, strict=True):
        assert inside(r, box, slack=1.0), f"{lb.toPlainText()!r} at {r} leaves {box}"
    for i, a in enumerate(rects):
        for b in rects[i + 1:]:
            assert not a.intersects(b), "join labels drawn over each other"
