"""Chart 1: queued and in-progress tasks stacked; their top is the counter join() waits on."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QFontMetricsF

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
LABEL_PAD = 3.0  # pixels between a join label and the plot's edge
# Each join label's words, long to short: a plot too narrow for the first gets a shorter one.
CALLED_WORDS = ("join() called", "called")
RETURNED_WORDS = ("join() returned", "returned")
PREMATURE_WORDS = ("⚠ premature join() return", "⚠ premature return", "⚠ premature")
PRODUCERS_WORDS = ("producers joined", "joined")


class UnfinishedChart:
    """Two stacked bands: taken from 0 to in_flight, queued from in_flight to unfinished.

    "Taken" is every task got and not marked done: in progress, or left by a consumer that
    went back to get() or exited without task_done() (the status line names the two).

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
        self._words = {self.called_line: CALLED_WORDS, self.return_line: RETURNED_WORDS,
                       self.producers_line: PRODUCERS_WORDS}  # fmt: skip
        self.yrange = YRange(plot, floor=0.0, min_span=2.0)
        self._premature = False
        self._x_range: tuple[float, float] | None = None  # the time range the labels fit in
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
            (swatch(theme.in_flight_fill), "taken, not done (in progress or left)", "taken"),
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
        self._words[self.return_line] = PREMATURE_WORDS if on else RETURNED_WORDS
        self.return_line.label.setText(self._words[self.return_line][0])
        self.return_line.label.setColor(qcolor(color))
        self.return_line.setPen(pen(color, 2.0 * (1.6 if self._style.presenter else 1)))
        self._place_labels()  # the warning's words are longer

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

    def update_markers(self, m: RunModel, now: float, until: float | None = None) -> None:
        """The join markers as of ``now``; ``until``: the model holds the whole run, and
        what happened after it is hidden (a replay's playhead)."""
        called, returned, joined = m.join_called_t, m.join_returned_t, m.producers_joined_t
        if until is not None:
            called, returned, joined = (t if t is not None and t <= until else None
                                        for t in (called, returned, joined))  # fmt: skip
        # Only on change: moving a labelled line re-renders its label.
        if called is not None:
            end = returned if returned is not None else max(now, called)
            if tuple(self.band.getRegion()) != (called, end) or not self.band.isVisible():
                self.band.setRegion((called, end))
                show_on(self.plot, self.band)
            self._show_at(self.called_line, called)
        for line, t in ((self.return_line, returned), (self.producers_line, joined)):
            if t is not None:
                self._show_at(line, t)
            elif line.isVisible():
                hide_from(self.plot, line)
        if returned is not None or until is not None:
            self._set_premature(returned is not None and m.premature_join)
        if called is None:
            for item in (self.band, self.called_line):
                if item.isVisible():
                    hide_from(self.plot, item)

    def markers(self) -> dict[str, tuple[float, str] | None]:
        """The join markers: position and label text, None when hidden."""

        def info(line: pg.InfiniteLine) -> tuple[float, str] | None:
            return (float(line.value()), line.label.textItem.toPlainText()) if line.isVisible() \
                else None

        return {"join_called": info(self.called_line), "join_returned": info(self.return_line),
                "producers_joined": info(self.producers_line)}

    def _show_at(self, line: pg.InfiniteLine, t: float) -> None:
        if line.value() != t or not line.isVisible():
            line.setValue(t)
            show_on(self.plot, line)

    def place_labels(self, xmin: float, xmax: float) -> None:
        """Labels go on the side of their line that has room, never past the plot's edge."""
        self._x_range = (xmin, xmax)
        self._place_labels()

    def _place_labels(self) -> None:
        """In pixels: a label wider than the room on its side (a narrow plot beside the Step
        pane, presenter mode's large text) goes to the other side, and where neither side has
        room it slides along its line until it is whole inside the plot, over the line."""
        if self._x_range is None:
            return
        xmin, xmax = self._x_range
        span = max(xmax - xmin, 1e-9)
        width = self.plot.getViewBox().width()
        for line, prefer_right in ((self.called_line, True), (self.return_line, False),
                                   (self.producers_line, True)):
            if not line.isVisible() or width <= 0:
                continue
            x = (line.value() - xmin) / span * width  # the line, in pixels from the left edge
            w = _fit_words(line.label, self._words[line], width - 2 * LABEL_PAD)
            # Anchor a puts the label's left edge at x - a*w: a=0 right of the line, 1 left.
            lo = 1.0 - (width - LABEL_PAD - x) / w  # its right edge inside
            hi = (x - LABEL_PAD) / w  # its left edge inside
            if lo > hi:  # wider than the plot: its start at the left edge
                a = hi
            elif prefer_right:
                a = 0.0 if lo <= 0.0 else 1.0 if hi >= 1.0 else lo
            else:
                a = 1.0 if hi >= 1.0 else 0.0 if lo <= 0.0 else hi
            anchors = [(a, 0), (a, 0)]
            if line.label.anchors != anchors:
                line.label.anchors = anchors
                line.label.updatePosition()
        self._stack_labels()

    def _on_vb_sig_resized(self, *_: object) -> None:
        self._place_labels()
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



def _fit_words(label: pg.TextItem, words: tuple[str, ...], room: float) -> float:
    """Give ``label`` the longest of ``words`` no wider than ``room`` pixels (else the
    shortest); returns its width in pixels."""
    current = label.toPlainText()
    fm = QFontMetricsF(label.textItem.font())
    # The text's box is wider than its words by the document's margins.
    extra = label.boundingRect().width() - fm.horizontalAdvance(current)
    chosen = next((t for t in words if fm.horizontalAdvance(t) + extra <= room), words[-1])
    if chosen != current:
        label.setText(chosen)
    return max(label.boundingRect().width(), 1.0)
