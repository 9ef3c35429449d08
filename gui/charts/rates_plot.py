"""Chart 4: completions per second (sliding window) and the mean wait and service times."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from gui.charts import plotkit
from gui.charts.curves import SeriesLine
from gui.charts.legend import Entry
from gui.charts.palette import Theme
from gui.charts.plotkit import Style, YRange
from gui.charts.series import RATE_WINDOW_S, ModelSeries

TITLE = "Rates"
OVERLAY_Z = 1.0  # above the chart layout (z 0), see RatesChart.attach


class RatesChart:
    """Throughput on the left axis (tasks/s); wait and service times on the right axis (s),
    in a second ViewBox that shares the x axis."""

    title = TITLE

    def __init__(self, plot: pg.PlotItem) -> None:
        self.plot = plot
        plotkit.time_only_navigation(plot)
        # One point per 50 ms (72k an hour): each line draws only its part in view, decimated
        # to the plot's width; NaN means (no completion in the window) are gaps.
        self.rate = SeriesLine()
        plot.addItem(self.rate)
        self.vb2 = pg.ViewBox()
        self.vb2.setMouseEnabled(x=False, y=False)
        self.vb2.setMenuEnabled(False)
        plot.showAxis("right")
        plot.getAxis("right").linkToView(self.vb2)
        # Its x range is kept equal to the plot's by ChartsPanel, with the other charts'.
        self.wait = SeriesLine()
        self.service = SeriesLine()
        self.vb2.addItem(self.wait)
        self.vb2.addItem(self.service)
        self.lines = (self.rate, self.wait, self.service)
        plot.vb.sigResized.connect(self._on_vb_resized)
        self.yrange = YRange(plot, floor=0.0, min_span=1.0)
        self.yrange2 = YRange(self.vb2, floor=0.0, min_span=0.001)
        self._ms: bool | None = None

    def attach(self) -> None:
        """Add the overlay ViewBox to the scene once the plot is in one."""
        scene = self.plot.scene()
        if scene is not None and self.vb2.scene() is None:
            scene.addItem(self.vb2)
            # A ViewBox stacks itself at z -100; as a top-level item that put the overlay
            # under the whole chart layout (z 0), so the plot's opaque grid lines and the
            # rate line were painted over the wait and service lines: a constant service
            # time lying on a grid line (300 ms on a 0-1 s axis) vanished altogether.
            self.vb2.setZValue(OVERLAY_Z)
            self._on_vb_resized()

    def _on_vb_resized(self) -> None:
        self.vb2.setGeometry(self.plot.vb.sceneBoundingRect())
        self.vb2.linkedViewChanged(self.plot.vb, self.vb2.XAxis)

    def legend_entries(self, theme: Theme) -> list[Entry]:
        w = f"{RATE_WINDOW_S:g} s"
        sample = plotkit.line_sample
        return [
            (sample(theme.rate, 2), f"tasks done per second ({w} window)", "done per second"),
            (sample(theme.wait, 2), "mean wait in queue (right axis)", "mean wait (right)"),
            (sample(theme.service, 2), "mean service time (right axis)", "mean service (right)"),
        ]

    def apply(self, theme: Theme, style: Style) -> None:
        plotkit.style_axes(self.plot, theme, style)
        plotkit.axis_label(self.plot, "left", "done", "tasks/s", theme, style, short=("done/s",))
        self._theme, self._style = theme, style
        self._ms = None
        self._set_time_unit(True)
        lw = style.line_width
        # Width 1 outside presenter mode: the raster engine's fast path (as for every line).
        self.rate.set_pen(plotkit.pen(theme.rate, lw + (0.5 if style.presenter else 0.0)))
        self.wait.set_pen(plotkit.pen(theme.wait, lw))
        self.service.set_pen(plotkit.pen(theme.service, lw))

    def _set_time_unit(self, ms: bool) -> None:
        # Chosen by hand when the range changes: pyqtgraph's automatic SI prefix re-renders
        # the axis label on every x scroll of the linked overlay.
        if ms == self._ms:
            return
        self._ms = ms
        plotkit.axis_label(self.plot, "right", "mean time", "ms" if ms else "s", self._theme,
                   self._style, short=("mean ({units})", "({units})"))
        self.plot.getAxis("right").setScale(1000.0 if ms else 1.0)

    def clear(self) -> None:
        for line in self.lines:
            line.set_data(np.zeros(0), np.zeros(0))
        self.yrange.reset()
        self.yrange2.reset()

    def update_data(self, s: ModelSeries, until: float | None = None) -> None:
        """Draw the rates up to ``until`` (None: all the series holds)."""
        g, rate, wait, service = s.rates_until(until)
        self.rate.set_data(g, rate)
        self.wait.set_data(g, wait)
        self.service.set_data(g, service)

    def fit_y(self, s: ModelSeries, xmin: float, xmax: float) -> None:
        g = s.grid.view()
        if not g.size:
            return
        lo = max(0, int(np.searchsorted(g, xmin, side="left")) - 1)
        hi = int(np.searchsorted(g, xmax, side="right"))
        if hi <= lo:
            return
        r = s.rate.view()[lo:hi]
        self.yrange.fit(0.0, float(r.max()))
        both = np.concatenate((s.mean_wait.view()[lo:hi], s.mean_service.view()[lo:hi]))
        both = both[np.isfinite(both)]
        if both.size:
            self.yrange2.fit(0.0, float(both.max()))
            self._set_time_unit(self.yrange2.hi <= 1.0)
