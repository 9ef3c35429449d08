"""Chart 1: queued and in-progress tasks stacked; their top is the counter join() waits on."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from engine.model import RunModel
from gui.charts.curves import BandItem, LinesItem
from gui.charts.legend import Entry
from gui.charts.palette import Theme, qcolor
from gui.charts.plotkit import (
    Style,
    YRange,
    axis_label,
    hide_from,
    line_sample,
    pen,
    show_on,
    style_axes,
    swatch,
    time_only_navigation,
)
from gui.charts.series import ModelSeries

TITLE = "Unfinished tasks"


class UnfinishedChart:
    """Two stacked bands: in progress from 0 to in_flight, queued from in_flight to unfinished.

    Both bands and both lines are drawn from one decimated copy of the series (the panel's),
    so the stack stays exact at any zoom and the top line is the counter join() waits on.
    """

    title = TITLE

    def __init__(self, plot: pg.PlotItem) -> None:
        self.plot = plot
        time_only_navigation(plot)
        self.band_in_flight = BandItem()
        self.band_queued = BandItem()
        # Drawn in this order: the unfinished line last, on top where nothing is queued.
        self.lines = LinesItem(("in_flight", "unfinished"))
        for z, item in enumerate((self.band_in_flight, self.band_queued, self.lines)):
            item.setZValue(z)
            plot.addItem(item)
        # The join band and lines join the plot when first shown (see plotkit.show_on).
        self.band = pg.LinearRegionItem(values=(0, 0), movable=False)
        self.band.setZValue(-5)
        self.band.hide()
        # Labels at different heights, and the return's on the left of its line: the three
        # moments are often within a few pixels of each other.
        right, left = [(0, 0), (0, 0)], [(1, 0), (1, 0)]
        self.called_line = pg.InfiniteLine(
            angle=90, movable=False, label="join() called",
            labelOpts={"position": 0.93, "anchors": right})
        self.return_line = pg.InfiniteLine(
            angle=90, movable=False, label="join() returned",
            labelOpts={"position": 0.78, "anchors": left})
        self.return_line.addMarker("v", position=1.0, size=12)
        self.return_line.addMarker("^", position=0.0, size=12)
        self.producers_line = pg.InfiniteLine(
            angle=90, movable=False, label="producers joined",
            labelOpts={"position": 0.63, "anchors": right})
        for item in (self.called_line, self.return_line, self.producers_line):
            item.setZValue(5)
            item.hide()
        self.yrange = YRange(plot, floor=0.0, min_span=2.0)
        self._premature = False
        self._theme: Theme | None = None
        self._style = Style()
        self._stack_key: tuple = ()
        plot.getViewBox().sigResized.connect(self._on_vb_sig_resized)

    def legend_entries(self, theme: Theme) -> list[Entry]:
        # The join and producer lines carry their own labels, in their own colours.
        return [
            (line_sample(theme.unfinished, 2), "unfinished: what join() waits on",
             "unfinished (join() waits on it)", "unfinished"),
            (swatch(theme.queued_fill), "queued (put, not taken yet)", "queued"),
            (swatch(theme.in_flight_fill), "in progress (taken, not done)", "in progress"),
            (swatch(theme.join_band[:7] + "66"), "join() waiting"),
        ]

    def apply(self, theme: Theme, style: Style) -> None:
        self._theme, self._style = theme, style
        lw = style.line_width
        style_axes(self.plot, theme, style)
        self.plot.getAxis("right").setStyle(showValues=False)
        axis_label(self.plot, "left", "tasks", None, theme, style)
        top = lw + (0.5 if style.presenter else 0)
        self.lines.set_pen("unfinished", pen(theme.unfinished, top))
        self.band_queued.set_brush(qcolor(theme.queued_fill))
        self.lines.set_pen("in_flight", pen(theme.in_flight, lw))
        self.band_in_flight.set_brush(qcolor(theme.in_flight_fill))
        self.band.setBrush(pg.mkBrush(qcolor(theme.join_band)))
        for ln in self.band.lines:
            ln.setPen(pg.mkPen(None))
        font = style.font(bold=True)
        for line, color, width, dash in (
            (self.called_line, theme.join_line, 1.0, True),
            (self.return_line, theme.join_line, 2.0, False),
            (self.producers_line, theme.producers_line, 1.5, True),
        ):
            line.setPen(pen(color, width * (1.6 if style.presenter else 1), dash))
            line.label.setColor(qcolor(color))
            line.label.setFont(font)
            line.label.fill = pg.mkBrush(qcolor(theme.background + "d0"))
        self._set_premature(self._premature, force=True)

    def _set_premature(self, on: bool, force: bool = False) -> None:
        if on == self._premature and not force:
            return
        self._premature = on
        theme = self._theme
        if theme is None:
            return
        color = theme.warning if on else theme.join_line
        self.return_line.label.setText("⚠ premature join() return" if on else "join() returned")
        self.return_line.label.setColor(qcolor(color))
        self.return_line.setPen(pen(color, 2.0 * (1.6 if self._style.presenter else 1)))

    def clear(self) -> None:
        e = np.zeros(0)
        self.lines.set_lines(e, {"in_flight": e, "unfinished": e})
        self.band_queued.set_band(e, None, e)
        self.band_in_flight.set_band(e, None, e)
        for item in (self.band, self.called_line, self.return_line, self.producers_line):
            hide_from(self.plot, item)
        self._set_premature(False)
        self.yrange.reset()

    def update_data(self, x: np.ndarray, ys: dict[str, np.ndarray]) -> None:
        """Draw the decimated series (``x`` shared by every name in ``ys``)."""
        self.band_in_flight.set_band(x, None, ys["in_flight"])
        self.band_queued.set_band(x, ys["in_flight"], ys["unfinished"])
        self.lines.set_lines(x, ys)

    def update_markers(self, m: RunModel, now: float) -> None:
        # Only on change: moving a labelled line re-renders its label.
        if m.join_called_t is not None:
            end = m.join_returned_t if m.join_returned_t is not None else max(now, m.join_called_t)
            if tuple(self.band.getRegion()) != (m.join_called_t, end) or not self.band.isVisible():
                self.band.setRegion((m.join_called_t, end))
                show_on(self.plot, self.band)
            self._show_at(self.called_line, m.join_called_t)
        if m.join_returned_t is not None:
            self._show_at(self.return_line, m.join_returned_t)
            self._set_premature(m.premature_join)
        if m.producers_joined_t is not None:
            self._show_at(self.producers_line, m.producers_joined_t)

    def _show_at(self, line: pg.InfiniteLine, t: float) -> None:
        if line.value() != t or not line.isVisible():
            line.setValue(t)
            show_on(self.plot, line)

    def place_labels(self, xmin: float, xmax: float) -> None:
        """Labels go on the side of their line that has room, never past the plot's edge."""
        span = max(xmax - xmin, 1e-9)
        for line, prefer_right in ((self.called_line, True), (self.return_line, False),
                                   (self.producers_line, True)):
            if not line.isVisible():
                continue
            frac = (line.value() - xmin) / span
            right = frac < 0.25 or (prefer_right and frac < 0.7)
            anchors = [(0, 0), (0, 0)] if right else [(1, 0), (1, 0)]
            if line.label.anchors != anchors:
                line.label.anchors = anchors
                line.label.updatePosition()
        self._stack_labels()

    def _on_vb_sig_resized(self, *_: object) -> None:
        self._stack_labels()

    def _stack_labels(self) -> None:
        """One label under the other, from the top: spread as far as on a tall plot, never
        closer than a label's height, so a short plot (a small window, presenter mode's big
        text) does not pile them on each other."""
        shown = tuple(line for line in (self.called_line, self.return_line,
                                        self.producers_line) if line.isVisible())
        height = self.plot.getViewBox().height()
        key = (height, shown, self._style.presenter)
        if key == self._stack_key or height <= 0:
            return
        self._stack_key = key
        top = 0.07 * height
        for line in shown:
            h = line.label.boundingRect().height()
            # Too short for all of them: the last ones overlap, but none is cut at the bottom.
            at = max(0.0, min(top, height - h - 2))
            line.label.setPosition(min(1.0, max(0.0, 1.0 - at / height)))
            top += max(h + 1, 0.15 * height)

    def fit_y(self, s: ModelSeries, xmin: float, xmax: float) -> None:
        # The drawn (decimated) line keeps every peak of what is in view, at a few points per
        # pixel: its maximum is the visible maximum without a scan of the whole series.
        x, y = self.lines.xy("unfinished")
        if not x.size:
            return
        self.yrange.fit(0.0, float(y.max()))

