"""Chart 3: cumulative puts, gets and task_dones; the vertical gaps are depth and in-flight."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from gui.charts.curves import BandItem, LinesItem
from gui.charts.legend import Entry
from gui.charts.palette import Theme, qcolor
from gui.charts.plotkit import (
    Style,
    YRange,
    axis_label,
    line_sample,
    pen,
    style_axes,
    swatch,
    time_only_navigation,
)
from gui.charts.series import ModelSeries

TITLE = "Cumulative flow"


class FlowChart:
    """Three lines, and two bands between them: puts–gets (queued) and gets–task_done (in
    progress), in the same colours as the stacked chart above."""

    title = TITLE

    def __init__(self, plot: pg.PlotItem) -> None:
        self.plot = plot
        time_only_navigation(plot)
        self.band_queued = BandItem()
        self.band_in_flight = BandItem()
        plot.addItem(self.band_queued)
        plot.addItem(self.band_in_flight)
        self.lines = LinesItem(("puts", "gets", "dones"))
        self.lines.setZValue(2)
        plot.addItem(self.lines)
        self.yrange = YRange(plot, floor=None, min_span=2.0)

    def legend_entries(self, theme: Theme) -> list[Entry]:
        return [
            (self._sample(theme.puts, theme.queued_fill), "puts (gap to gets: queued)",
             "puts (gap: queued)"),
            (self._sample(theme.gets, theme.in_flight_fill), "gets (gap to done: taken, not done)",
             "gets (gap: taken)"),
            (line_sample(theme.dones, 2), "task_done() calls", "task_done()"),
        ]

    @staticmethod
    def _sample(line: str, fill: str) -> object:
        item = swatch(fill)
        item.setOpts(pen=pen(line, 2))
        return item

    def apply(self, theme: Theme, style: Style) -> None:
        style_axes(self.plot, theme, style)
        self.plot.getAxis("right").setStyle(showValues=False)
        axis_label(self.plot, "left", "tasks (total)", None, theme, style, short=("total",))
        lw = style.line_width
        self.lines.set_pen("puts", pen(theme.puts, lw))
        self.lines.set_pen("gets", pen(theme.gets, lw))
        self.lines.set_pen("dones", pen(theme.dones, lw + (0.5 if style.presenter else 0)))
        self.band_queued.set_brush(qcolor(theme.queued_fill))
        self.band_in_flight.set_brush(qcolor(theme.in_flight_fill))

    def clear(self) -> None:
        e = np.zeros(0)
        self.lines.set_lines(e, {"puts": e, "gets": e, "dones": e})
        self.band_queued.set_band(e, None, e)
        self.band_in_flight.set_band(e, None, e)
        self.yrange.reset()

    def update_data(self, x: np.ndarray, ys: dict[str, np.ndarray]) -> None:
        """Draw the decimated series (``x`` shared by every name in ``ys``)."""
        self.band_queued.set_band(x, ys["gets"], ys["puts"])
        self.band_in_flight.set_band(x, ys["dones"], ys["gets"])
        self.lines.set_lines(x, ys)

    def fit_y(self, s: ModelSeries, xmin: float, xmax: float) -> None:
        # Counters only grow: the visible minimum is task_done at the left edge and the
        # maximum is puts at the right edge — two lookups, no scan.
        c = s.counters
        if not len(c):
            return
        lo_i, hi_i = max(0, c.index_at(xmin)), max(0, c.index_at(xmax))
        dmin = c.value_at("dones", lo_i) if xmin > c.ex.view()[0] else 0.0
        dmax = c.value_at("puts", hi_i)
        self.yrange.fit(dmin, dmax)
