"""ChartsPanel: the four live charts of a run on one shared, linked time axis."""

from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QPointF, QRectF
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QGraphicsItem, QGraphicsScene, QVBoxLayout, QWidget

from engine.model import RunModel
from gui.charts.axes import GridItem, chart_axes
from gui.charts.counter_draw import CounterDrawer
from gui.charts.flow_plot import FlowChart
from gui.charts.hover_tip import place_tip
from gui.charts.image_export import save_charts_image
from gui.charts.legend import ChartLegend
from gui.charts.legend_layout import legends_as_strips, row_stretch
from gui.charts.paint_hold import PaintHold
from gui.charts.palette import Theme, qcolor, theme_for_palette
from gui.charts.panel_data import curve_data
from gui.charts.plotkit import Style, axis_label, hide_from, pen, show_on, vline
from gui.charts.rates_plot import RatesChart
from gui.charts.readout import ChartReadout
from gui.charts.series import ModelSeries
from gui.charts.theory_lines import TheoryLines
from gui.charts.timeline_plot import TimelineChart
from gui.charts.unfinished_plot import UnfinishedChart
from gui.charts.xlink import XLink, follow_range
from gui.frame_clock import Frame

READOUT_PERIOD_S = 0.1
# What one live refresh takes from the model at most: 2-4 ms of work each on an idle core, up
# to three times that while a flood's workers share the cores (benchmarks/gui_flood.py).
LIVE_SYNC_POINTS = 10_000  # counter changes
LIVE_SYNC_DONE = 10_000  # completions
LIVE_SYNC_INTERVALS = 5_000  # timeline intervals per worker (a task makes one to two on a row)
CATCH_UP_SYNC_FACTOR = 3  # after a live run's end (frames that draw nothing until all is in)


class ChartsPanel(QWidget):
    """Live charts of a :class:`RunModel`; the window's frame timer calls :meth:`refresh`.

    Each refresh converts only what the model appended since the last one (its lists only
    grow), so a frame costs the same after an hour as after a second.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._model: RunModel | None = None
        self._series = ModelSeries()
        self._follow = True
        self._style = Style()
        self._theme: Theme = theme_for_palette(self.palette())
        self._last_key: tuple | None = None
        self.behind = False  # the last refresh left part of the model for the next (paced) one
        self._rates_due = self._paced = False  # rates changed in a refresh that drew nothing
        self._now = 0.0
        # A replay's playhead: the model holds the whole run, the charts show it up to here.
        self._until: float | None = None
        self._hover_t: float | None = None
        self._hover_row: int | None = None
        # False for a picture (export, screenshot): no "hover a chart" hint.
        self.interactive = True
        self._readout_at = 0.0
        self._stretch_rows = -1
        self._stretch: tuple[int, ...] = ()

        self._glw = pg.GraphicsLayoutWidget()
        self._glw.setAntialiasing(False)
        # Nearly every item moves or changes every frame: a BSP index costs more than it saves.
        self._glw.scene().setItemIndexMethod(QGraphicsScene.ItemIndexMethod.NoIndex)
        self._glw.ci.setContentsMargins(4, 2, 4, 4)
        self._glw.ci.setSpacing(6)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self._glw)
        self._paint_hold = PaintHold(self._glw)

        ci = self._glw.ci
        self.readout = ChartReadout()
        ci.addItem(self.readout.label, row=0, col=0, colspan=2)
        self.unfinished = UnfinishedChart(ci.addPlot(row=1, col=0, axisItems=chart_axes()))
        self.timeline = TimelineChart(ci.addPlot(row=2, col=0, axisItems=chart_axes()),
                                      self._theme)
        self.flow = FlowChart(ci.addPlot(row=3, col=0, axisItems=chart_axes()))
        self.rates = RatesChart(ci.addPlot(row=4, col=0, axisItems=chart_axes(time_axis=True)))
        self.charts = [self.unfinished, self.timeline, self.flow, self.rates]
        self._drawer = CounterDrawer(self.unfinished, self.flow)
        # Each legend has two forms and shows one: a column beside its chart (``legends``) or
        # a strip in the chart's title row (``strips``), chosen by _place_legends.
        self.legends: list[ChartLegend] = []
        self.strips: list[ChartLegend] = []
        for r, chart in enumerate(self.charts, start=1):
            legend = ChartLegend(chart.title)
            ci.addItem(legend, row=r, col=1)
            self.legends.append(legend)
            strip = ChartLegend(chart.title, strip_host=chart.plot)
            strip.set_collapsed(True)
            strip.sig_height_changed.connect(self._on_strip_sig_height_changed)
            self.strips.append(strip)
        self._legend_strips = False
        ci.layout.setColumnStretchFactor(0, 6)
        ci.layout.setColumnStretchFactor(1, 0)
        self.rates.attach()

        master = self.unfinished.plot
        # Time tick labels only under the last chart: a scrolling axis is re-laid out every
        # frame, and the grid lines carry the ticks up through the charts above. Hidden axes
        # are unlinked too, or they still follow (and re-render for) every scroll.
        for chart in self.charts[:-1]:
            chart.plot.hideAxis("bottom")
            chart.plot.getAxis("bottom").unlinkFromView()
        for chart in self.charts:
            chart.plot.getAxis("top").unlinkFromView()
        x_axis = self.rates.plot.getAxis("bottom")
        x_axis.setStyle(maxTickLevel=1)  # labelled ticks and one minor level: enough, and cheaper
        # Y axes rarely change: paint them from a pixmap cache (legends: see ChartLegend).
        for chart in self.charts:
            for side in ("left", "right"):
                chart.plot.getAxis(side).setCacheMode(
                    QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self._grids = []
        for chart in self.charts:
            y_axis = None if chart is self.timeline else chart.plot.getAxis("left")
            grid = GridItem(x_axis, y_axis)
            chart.plot.addItem(grid, ignoreBounds=True)
            self._grids.append(grid)
        self._vb = master.getViewBox()
        for chart in self.charts:
            chart.plot.disableAutoRange()
        # One time axis for all: every view box and the rates' right-axis overlay.
        views = [c.plot.getViewBox() for c in self.charts] + [self.rates.vb2]
        self._xlink = XLink(views, self._on_xlink_user_range)
        self._vb.setXRange(0.0, 1.0, padding=0)

        # Cursor, playhead and tip join their plots when first shown (see plotkit.show_on).
        self._cursor = [vline(20) for _ in self.charts]
        self._playhead = [vline(21) for _ in self.charts]
        # What the worker under the cursor does: next to the cursor, the counters go on top.
        self._tip = pg.TextItem("", anchor=(0, 1))
        self._tip.setZValue(30)
        self._tip.hide()
        self._glw.scene().sigMouseMoved.connect(self._on_scene_mouse_moved)
        self._glw.viewport().installEventFilter(self)
        self.theory = TheoryLines(self.unfinished, self.rates, self._rebuild_legend)
        self._apply_look()

    # ------------------------------------------------------------------ public API
    def set_model(self, model: RunModel | None, frame: Frame | None = None) -> None:
        """Show ``model`` (a new run or a replay); clears every curve. ``frame``: as
        :meth:`refresh`'s, for the first drawing."""
        self._model = model
        self._until = None
        self._series.clear()
        self._drawer.reset()
        self._last_key = None
        self.behind = self._rates_due = False
        self._now = 0.0
        for chart in self.charts:
            if chart is not self.timeline:
                chart.clear()
        self.timeline.marks.clear()
        self.timeline.set_model(model)
        self._rebuild_legend(1)
        self._drawer.key = None
        self._vb.setXRange(0.0, 1.0, padding=0)
        self._hover_t = None
        self._update_readout()
        self.refresh(frame)

    def refresh(self, frame: Frame | None = None) -> None:
        """Draw what the model appended since the last call; nearly free when nothing did.

        ``frame``: the driver's time to draw up to while a run is live (the x axis moves
        between events, a stuck join() is watched as time passes); None: up to the model's
        last event (a replay, a finished run).
        """
        m = self._model
        if m is None:
            return
        live = frame.now if frame is not None and frame.live else None
        until = self._until
        # Paced (live, or until the end is reported): a bounded share of what the model added.
        paced = self._paced = frame is not None and (frame.live or frame.paced)
        key = (m.events, m.last_t, live, until, paced)
        if key == self._last_key and not self.behind:
            return
        self._last_key = key
        if until is None:
            now = max(m.last_t, live if live is not None else 0.0, self._now)
        else:
            now = until
        self._now = now
        s = self._series
        # After the run's end nothing is drawn until all is in: bigger steps, as cheap a frame.
        counters, rates = self._take(m, now, (1 if live is not None else CATCH_UP_SYNC_FACTOR)
                                     if paced else 0, until)  # fmt: skip
        moved = s.counters.set_now(now if until is None else max(m.last_t, now))
        rates = rates or self._rates_due or until is not None
        self._rates_due = self.behind and live is None and rates
        if self.behind and live is None:  # the run is over: drawn once, when all is in
            return
        if len(self.timeline.rows) != self._stretch_rows:
            self._set_row_stretch()
        if self._follow:
            self._xlink.set_range(*follow_range(now))
        if counters or moved:
            self._drawer.key = None
        self._draw_counters()
        if rates:
            self.rates.update_data(s, until)
        self.unfinished.update_markers(m, now, until)
        self.theory.update(m, until)
        self._fit_y()
        # The readout is text: ten updates a second are plenty.
        t = time.perf_counter()
        if self._hover_t is None and (t - self._readout_at >= READOUT_PERIOD_S or live is None):
            self._readout_at = t
            self._update_readout()
        # The view boxes apply their new ranges lazily, at the start of the next paint; that
        # marks every item dirty again *during* the paint, and Qt painted each frame twice.
        # Applying them now leaves the paint nothing to invalidate.
        self._glw.scene().prepareForPaint()
        self._paint_hold.hold(live is not None)  # a live frame's repaint: the next turn's

    def catch_up(self) -> bool:
        """Take a live slice of the model without drawing (a turn between frames while a flood
        outruns them: frames stay short, the charts keep up); True while still ``behind``."""
        if self._model is not None and self._until is None:
            self._rates_due |= self._take(self._model, self._now, 1, None, quiet=True)[1]
            self._last_key = None
        return self.behind

    def _take(self, m: RunModel, now: float, k: int, until: float | None,
              quiet: bool = False) -> tuple[bool, bool]:  # fmt: skip
        """Sync series and timeline rows from the model, at most ``k`` live slices (0: all);
        (counters taken, rates changed). Sets ``behind``. ``quiet``: nothing repainted."""
        s = self._series
        s.behind = False
        counters = s.sync_counters(m, LIVE_SYNC_POINTS * k if k else None)
        rates = s.update_rates(now, s.sync_done(m, LIVE_SYNC_DONE * k if k else None))
        if self.timeline.sync(m, now, LIVE_SYNC_INTERVALS * k if k else None, until, quiet):
            self._rebuild_legend(1)
        self.behind = s.behind or self.timeline.behind
        if self.behind and self._follow and until is None:
            # The follow-mode bins folded as the points come keep the frame that draws short.
            self._drawer.fold(s.counters, *follow_range(now), self._vb.width())
        return counters, rates

    def note_records(self, applied: list[tuple[int, tuple]]) -> None:
        """Records a live run applied to the model: the timeline marks task_done() errors."""
        if self.timeline.marks.note(applied, self._model):
            self._last_key = None

    def set_follow(self, follow: bool) -> None:
        """True: the x axis scrolls with the run. False: free zoom and pan (starts at 'all')."""
        was = self._follow
        self._follow = follow
        if follow:
            self._last_key = None
            self._xlink.set_range(*follow_range(self._now))
            self._fit_y()
        elif was:
            self._vb.setXRange(0.0, max(self._now, 0.05) * 1.02, padding=0)

    def set_until(self, t: float | None) -> None:
        """Show the model as it was at run time ``t`` (a replay's playhead; None: all of it).

        The model may hold the whole run: every chart, marker and the readout are cut at
        ``t``, so a seek anywhere, back or forth, is a cut, never a feed.
        """
        if t != self._until:
            self._until = t
            self._drawer.key = None

    @property
    def until(self) -> float | None:
        return self._until

    def counts_at(self, t: float) -> tuple[int, int, int]:
        """(puts, gets, task_dones) the charts show at run time ``t``."""
        return self._series.counts_at(t)

    def set_playhead(self, t: float | None) -> None:
        self._show_lines(self._playhead, t)

    def _show_lines(self, lines: list[pg.InfiniteLine], t: float | None) -> None:
        """One vertical line per chart (cursor, playhead) at ``t``; hidden for None."""
        for chart, line in zip(self.charts, lines, strict=True):
            if t is None:
                hide_from(chart.plot, line)
            else:
                line.setValue(t)
                show_on(chart.plot, line)

    def set_presenter(self, on: bool) -> None:
        """Bigger fonts and thicker lines, for a projector."""
        if on != self._style.presenter:
            self._style = Style(presenter=on)
            self._apply_look()

    def curve_data(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """The data behind what is drawn, by series name (expanded steps for counters)."""
        return curve_data(self._series, self, self._until)

    def export_image(self, path: str) -> None:
        """PNG (what the screen shows, no hover hint) or SVG (vectors), by the suffix."""
        save_charts_image(self, path)

    # ------------------------------------------------------------------ read-only helpers
    @property
    def model(self) -> RunModel | None:
        return self._model

    @property
    def follow(self) -> bool:
        return self._follow

    @property
    def now(self) -> float:
        """The run time the charts are drawn up to (the last Frame's, or the last event's)."""
        return self._now

    @property
    def theme(self) -> Theme:
        return self._theme

    def x_range(self) -> tuple[float, float]:
        (a, b), _ = self._vb.viewRange()
        return float(a), float(b)

    def markers(self) -> dict[str, tuple[float, str] | None]:
        """Join markers on the unfinished chart: position and label text, None when hidden."""
        return self.unfinished.markers()

    def timeline_rows(self) -> list[str]:
        return [r.worker.name for r in self.timeline.rows]

    def readout_text(self) -> str:
        return self.readout.text

    # ------------------------------------------------------------------ internals
    def _draw_counters(self) -> None:
        """Decimate the counters for the visible range once, and hand them to both charts."""
        xmin, xmax = self.x_range()
        self._drawer.draw(self._series.counters, xmin, xmax, self._vb.width(), self._follow,
                          self._until)  # fmt: skip

    def _fit_y(self) -> None:
        xmin, xmax = self.x_range()
        for chart in (self.unfinished, self.flow, self.rates):
            chart.fit_y(self._series, xmin, xmax)
        self.unfinished.place_labels(xmin, xmax)

    def _on_xlink_user_range(self) -> None:
        self._draw_counters()
        self._fit_y()

    def _set_row_stretch(self) -> None:
        """Share the height among the charts (legend_layout.row_stretch)."""
        rows = len(self.timeline.rows)
        self._stretch_rows = rows
        factors = row_stretch(
            rows, [s.strip_height for s in self.strips], self._glw.viewport().height(),
            self.readout.label.size().height(), self._style,
        )
        if factors == self._stretch:
            return  # a new factor re-lays out the whole chart grid
        self._stretch = factors
        lay = self._glw.ci.layout
        for row, factor in enumerate(factors, start=1):
            lay.setRowStretchFactor(row, factor)

    def _on_strip_sig_height_changed(self) -> None:
        self._set_row_stretch()

    def _rebuild_legend(self, i: int) -> None:
        entries = self.theory.entries(self.charts[i], self._theme, self._style)
        for legend in (self.legends[i], self.strips[i]):
            legend.set_entries(entries)
            legend.apply(self._theme, self._style)
        self._place_legends()

    def _place_legends(self) -> None:
        """Legends beside the charts while the plots keep enough width, else strips above them.

        A legend someone hid (the compare window hides them) stays hidden in both forms.
        """
        column = max(legend.column_size.width() for legend in self.legends)
        strips = legends_as_strips(self.width(), column, self._style)
        self._legend_strips = strips
        for legend, strip in zip(self.legends, self.strips, strict=True):
            hidden = not legend.isVisible()
            if not hidden:
                legend.set_collapsed(strips)
            strip.set_collapsed(hidden or not strips)
        self._set_row_stretch()

    @property
    def legend_strips(self) -> bool:
        """True while the legends are strips above the charts (not a column beside them)."""
        return self._legend_strips

    def _apply_look(self) -> None:
        theme, style = self._theme, self._style
        self._glw.setBackground(qcolor(theme.background))
        for chart, legend, strip in zip(self.charts, self.legends, self.strips, strict=True):
            chart.apply(theme, style)
            entries = self.theory.entries(chart, theme, style)
            for form in (legend, strip):
                form.set_entries(entries)
                form.apply(theme, style)
        self._place_legends()
        bottom = self.rates.plot
        axis_label(bottom, "bottom", "time since start", "s", theme, style)
        for chart in self.charts[:-1]:
            chart.plot.getAxis("bottom").setLabel("")
            chart.plot.getAxis("bottom").showLabel(False)
        for cur in self._cursor:
            cur.setPen(pen(theme.crosshair, 1))
        for grid in self._grids:
            grid.set_colors(theme.grid_major, theme.grid_minor)
        self._tip.setColor(qcolor(theme.foreground))
        self._tip.fill = pg.mkBrush(qcolor(theme.background + "e8"))
        self._tip.border = pen(theme.foreground, 1)
        self._tip.textItem.setFont(style.font())
        for ph in self._playhead:
            ph.setPen(pen(theme.playhead, 2 if not style.presenter else 3))
        self._set_row_stretch()
        self._last_key = None
        self._update_readout()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._place_legends()  # and the rows' heights
        self._update_readout()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange:
            theme = theme_for_palette(self.palette())
            if theme is not self._theme:
                self._theme = theme
                self._apply_look()
        super().changeEvent(event)

    def eventFilter(self, obj: object, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Leave:
            self._set_hover(None, None)
        return False

    # ------------------------------------------------------------------ hover
    def _on_scene_mouse_moved(self, pos: QPointF) -> None:
        for chart in self.charts:
            vb = chart.plot.getViewBox()
            if vb.sceneBoundingRect().contains(pos):
                p = vb.mapSceneToView(pos)
                row = round(p.y()) if chart is self.timeline else None
                self._set_hover(p.x(), row)
                return
        self._set_hover(None, None)

    def _set_hover(self, t: float | None, row: int | None) -> None:
        self._hover_t, self._hover_row = t, row
        self._show_lines(self._cursor, t)
        self._update_tip()
        self._update_readout()

    def _update_tip(self) -> None:
        t, row, m = self._hover_t, self._hover_row, self._model
        words = None
        if t is not None and row is not None and m is not None:
            words = self.timeline.lookup(m, row, t)
            # A task_done() error within a few pixels of the cursor is what to read first.
            px = self.timeline.plot.getViewBox().viewPixelSize()[0]
            mark = self.timeline.marks.near(row, t, 8 * px)
            if mark:
                words = f"{mark}\n{words}" if words else mark
        place_tip(self._tip, self.timeline.plot, t or 0.0, row or 0, words)

    def tip_scene_rect(self) -> QRectF | None:
        """Where the timeline's hover tip is drawn (scene pixels), None when hidden."""
        return self._tip.sceneBoundingRect() if self._tip.isVisible() else None

    def set_interactive(self, on: bool) -> None:
        """False while the panel is drawn as a picture: the readout offers no hover hint."""
        if on != self.interactive:
            self.interactive = on
            self._update_readout()

    def _update_readout(self) -> None:
        self.readout.update(
            self._model, self._series, self._hover_t, self._now, self._theme, self._style,
            offer_hint=self.interactive, fallback_width=self._glw.viewport().width() - 8,
            whole_run=not self._paced,  # a paced frame's readout needs no summary (10 ms)
        )
