"""Chart details a run's data would not show: colours with alpha, shared themes, round axis
tops, a legend's sample and its words, the Rates chart's right axis in ms, the timeline's gap
between back-to-back tasks.

Each was a mutant that every chart test let through (benchmarks/mutation.py gui/charts). The
expected values are worked out from the rules in the code's docstrings and comments.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtGui import QColor, QImage, QPainter

from engine.config import RunConfig
from engine.model import Activity, RunModel
from gui.charts import ChartsPanel
from gui.charts.curves import LinesItem
from gui.charts.legend import _layout_column, _layout_strip, _Look, _Sample, _Text
from gui.charts.palette import DARK, LIGHT, qcolor
from gui.charts.plotkit import Style, nice_ceil
from tests.gui.conftest import finished_model

# Back-to-back tasks of 0.2 s: mean times well under a second, bars a few pixels apart.
BACK_TO_BACK = RunConfig(tasks_per_producer=8, consumers=2, task_duration="constant(0.2)",
                         sentinels="per_consumer", seed=3)


@pytest.fixture(scope="module")
def model() -> RunModel:
    return finished_model(BACK_TO_BACK)


@pytest.fixture
def panel(qtbot, model: RunModel) -> ChartsPanel:
    p = ChartsPanel()
    qtbot.addWidget(p)
    p.resize(1280, 800)
    p.show()
    qtbot.waitExposed(p)
    p.set_model(model)
    p.refresh()
    return p


def test_qcolor_reads_alpha_last_as_the_themes_write_it() -> None:
    c = qcolor("#11223344")
    assert (c.red(), c.green(), c.blue(), c.alpha()) == (0x11, 0x22, 0x33, 0x44)
    c = qcolor("#112233")
    assert (c.red(), c.green(), c.blue(), c.alpha()) == (0x11, 0x22, 0x33, 0xFF)


def test_themes_cannot_be_changed_in_place() -> None:
    """LIGHT and DARK are shared by every chart: a view changing one would recolour all."""
    with pytest.raises(dataclasses.FrozenInstanceError):
        LIGHT.dones = "#000000"  # type: ignore[misc]
    assert DARK.dones != "#000000"


@pytest.mark.parametrize(("x", "top"), [
    (0.0, 1.0), (-3.0, 1.0),  # nothing (or less) to show: a range of one
    (0.3, 0.5), (1.0, 1.0), (1.2, 2.0), (2.1, 2.5), (7.0, 10.0), (1200.0, 2000.0),
])
def test_nice_ceil_is_the_next_round_number(x: float, top: float) -> None:
    assert nice_ceil(x) == pytest.approx(top)


@pytest.mark.parametrize("presenter", [False, True])
def test_a_legend_entry_keeps_its_words_clear_of_its_sample(qtbot, presenter: bool) -> None:
    """In the column and in a wrapped strip alike: the words start ``gap`` after the sample
    (which is inset one pixel each side of its ``sample_w``)."""
    look = _Look(Style(presenter=presenter))
    entries = [(pg.PlotDataItem(pen="r"), "tasks done"),
               (pg.BarGraphItem(x=[0], height=[1], width=1, brush="b"), "queued"),
               (pg.PlotDataItem(pen="g"), "a longer line of words, so the strip wraps")]
    for _size, ops in (_layout_column(look, "Flow", entries),
                       _layout_strip(look, "Flow", entries, 260.0)):
        samples = [op for op in ops if isinstance(op, _Sample)]
        words = [op for op in ops if isinstance(op, _Text)][1:]  # the title first
        assert len(samples) == len(words) == 3
        for s, t in zip(samples, words, strict=True):
            assert t.rect.left() - s.rect.right() == pytest.approx(look.gap + 1)
            assert t.rect.top() <= s.rect.center().y() <= t.rect.bottom()


def test_the_rates_right_axis_reads_mean_times_in_ms(panel: ChartsPanel) -> None:
    """Mean times under a second: the axis says ms and its numbers are milliseconds."""
    axis = panel.rates.plot.getAxis("right")
    lo, hi = panel.rates.vb2.viewRange()[1]
    assert 0.2 <= hi <= 1.0  # the tasks' 0.2 s service time in view
    assert axis.labelUnits == "ms"
    img = QImage(axis.boundingRect().size().toSize(), QImage.Format.Format_ARGB32)
    img.fill(QColor("white"))
    painter = QPainter(img)
    try:
        _axis, _ticks, texts = axis.generateDrawSpecs(painter)
    finally:
        painter.end()
    numbers = [float(s) for _rect, _flags, s in texts]
    assert len(numbers) >= 3
    assert max(numbers) >= 0.5 * hi * 1000 and max(numbers) <= hi * 1000 * 1.001
    assert min(numbers) >= lo * 1000 - 1e-9


def test_back_to_back_tasks_end_a_pixel_early_on_the_timeline(qtbot, panel: ChartsPanel,
                                                              model: RunModel) -> None:
    """A task's bar wider than 4 pixels stops one pixel before its end (timeline_plot's
    geometry), so the next task's bar, starting right after, reads as a bar of its own."""
    panel.grab()  # paints: the timeline builds its bars for the view
    item = panel.timeline.item
    vb = item.getViewBox()
    (xmin, xmax), _ = vb.viewRange()
    px = (xmax - xmin) / max(16, int(vb.width()))
    bars = item._rects[int(Activity.PROCESS)].ndarray()  # x, y, w, h
    checked = 0
    for row, src in enumerate(sorted(s for s in model.workers if s > 0)):
        for t0, t1, act, _label in model.workers[src].intervals:
            if act != Activity.PROCESS or t1 - t0 <= 4 * px or t0 < xmin or t1 > xmax:
                continue
            mine = bars[(np.abs(bars[:, 0] - t0) < 1e-12)
                        & (np.abs(bars[:, 1] + bars[:, 3] / 2 - row) < 1e-9)]
            assert len(mine) == 1, (row, t0)
            assert mine[0, 0] + mine[0, 2] == pytest.approx(t1 - px, abs=1e-9)
            checked += 1
    assert checked >= 8


def test_two_points_already_make_a_line(qtbot) -> None:
    """The flow chart's lines from a run's first two counter points on (one point: none)."""
    item = LinesItem(("puts", "gets"))
    item.set_lines(np.array([0.0, 1.0]), {"puts": np.array([0.0, 2.0]),
                                          "gets": np.array([0.0, 1.0])})
    assert item._polys["puts"].size() == 2
    box = item.boundingRect()
    assert box.left() == 0.0 and box.right() == 1.0
    assert box.top() <= 0.0 and box.bottom() >= 2.0
    item.set_lines(np.array([0.5]), {"puts": np.array([1.0]), "gets": np.array([1.0])})
    assert item._polys["puts"].size() == 0 and item.boundingRect().isEmpty()


def test_a_join_label_stands_right_of_its_line_when_there_is_room(qtbot, panel: ChartsPanel,
                                                                  model: RunModel) -> None:
    """join() called early in the view: its label (right of the line by preference) starts
    at the line and ends inside the plot."""
    u = panel.unfinished
    line = u.called_line
    assert line.isVisible()
    vb = u.plot.getViewBox()
    (xmin, xmax), _ = vb.viewRange()
    assert (model.join_called_t - xmin) / (xmax - xmin) < 0.3
    x = vb.mapViewToScene(pg.Point(model.join_called_t, 0)).x()
    label = line.label.sceneBoundingRect()
    assert label.left() >= x - 1
    assert label.right() <= vb.sceneBoundingRect().right()
