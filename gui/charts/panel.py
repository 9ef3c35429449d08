"""ChartsPanel: the four live charts of a run on one shared, linked time axis."""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QPointF, QRectF, QSize
from PySide6.QtGui import QPainter, QResizeEvent, QTextDocument
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import QGraphicsItem, QGraphicsScene, QVBoxLayout, QWidget

from engine.model import RunModel
from gui.charts.axes import GridItem, chart_axes
from gui.charts.flow_plot import FlowChart
from gui.charts.legend import ChartLegend
from gui.charts.lod import StepLOD, bin_width
from gui.charts.palette import Theme, qcolor, theme_for_palette
from gui.charts.plotkit import ReadoutLabel, Style, axis_label, hide_from, pen, show_on
from gui.charts.rates_plot import RatesChart
from gui.charts.series import RATE_STEP_S, RATE_WINDOW_S, ModelSeries, decimate
from gui.charts.timeline_plot import TimelineChart
from gui.charts.unfinished_plot import UnfinishedChart

DRAWN = ("in_flight", "unfinished", "puts", "gets", "dones")  # depth is the band between
RISING = frozenset(("puts", "gets", "dones"))
READOUT_PERIOD_S = 0.1
# Below this plot width, a legend column beside the charts costs them too much: the legends
# become strips over each chart (presenter mode always uses strips: its text is big).
SIDE_LEGEND_MIN_PLOT_PX = 480
FOLLOW_WINDOW_S = 30.0  # while following, the x axis shows at most the last this many seconds
LIVE_CLOCK_MAX_AHEAD_S = 60.0  # a model further behind the wall clock is a replay, not live
# What one live refresh takes from the model at most (about 5 ms of work each).
LIVE_SYNC_POINTS = 20_000  # counter changes
LIVE_SYNC_DONE = 20_000  # completions
LIVE_SYNC_INTERVALS = 5_000  # timeline intervals per worker


class ChartsPanel(QWidget):
    """Live charts of a :class:`RunModel`; the window's frame timer calls :meth:`refresh`.

    Each refresh converts only what the model appended since the last one (its lists only
    grow), so a frame costs the same after an hour as after a second.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._model: RunModel | None = None
        self._series = ModelSeries()
        self._lod = StepLOD(DRAWN, RISING)
        self._follow = True
        self._style = Style()
        self._theme: Theme = theme_for_palette(self.palette())
        self._last_key: tuple | None = None
        self._behind = False  # the last refresh left part of the model for the next one
        self._now = 0.0
        self._hover_t: float | None = None
        self._hover_row: int | None = None
        self._applying_range = False
        self._drawn_key: tuple | None = None
        self._readout_html = ""
        # False for a picture (export, screenshot): no "hover a chart" hint.
        self.interactive = True
        self._whole_run_key: tuple[int, int] | None = None
        self._whole_run_text = ""
        self._readout_at = 0.0
        self._measure = QTextDocument()  # measures readout parts as the label lays them out
        self._measure.setDocumentMargin(0)
        self._measured: dict[str, float] = {}
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

        ci = self._glw.ci
        self._readout = ReadoutLabel("", justify="left")
        ci.addItem(self._readout, row=0, col=0, colspan=2)
        self.unfinished = UnfinishedChart(ci.addPlot(row=1, col=0, axisItems=chart_axes()))
        self.timeline = TimelineChart(ci.addPlot(row=2, col=0, axisItems=chart_axes()),
                                      self._theme)
        self.flow = FlowChart(ci.addPlot(row=3, col=0, axisItems=chart_axes()))
        self.rates = RatesChart(ci.addPlot(row=4, col=0, axisItems=chart_axes(time_axis=True)))
        self.charts = [self.unfinished, self.timeline, self.flow, self.rates]
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
        # One time axis for all: every view box (and the rates' right-axis overlay) gets the
        # same x range from _on_view_sig_x_range_changed. pyqtgraph's own x links do the same
        # through screen geometry, twice per view and scroll.
        self._x_views: list[pg.ViewBox] = [c.plot.getViewBox() for c in self.charts]
        self._x_views.append(self.rates.vb2)
        self._linking = False
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
        for vb in self._x_views:
            vb.setLimits(xMin=-1.0)
            vb.sigXRangeChanged.connect(self._on_view_sig_x_range_changed)
        self._vb.setXRange(0.0, 1.0, padding=0)

        # Cursor, playhead and tip join their plots when first shown (see plotkit.show_on).
        self._cursor: list[pg.InfiniteLine] = []
        self._playhead: list[pg.InfiniteLine] = []
        for _chart in self.charts:
            cur = pg.InfiniteLine(angle=90, movable=False)
            cur.setZValue(20)
            cur.hide()
            self._cursor.append(cur)
            ph = pg.InfiniteLine(angle=90, movable=False)
            ph.setZValue(21)
            ph.hide()
            self._playhead.append(ph)
        # What the worker under the cursor does: next to the cursor, the counters go on top.
        self._tip = pg.TextItem("", anchor=(0, 1))
        self._tip.setZValue(30)
        self._tip.hide()
        self._glw.scene().sigMouseMoved.connect(self._on_scene_mouse_moved)
        self._glw.viewport().installEventFilter(self)
        self._apply_look()

    # ------------------------------------------------------------------ public API
    def set_model(self, model: RunModel | None) -> None:
        """Show ``model`` (a new run or a replay); clears every curve."""
        self._model = model
        self._series.clear()
        self._lod.reset()
        self._last_key = None
        self._behind = False
        self._now = 0.0
        for chart in self.charts:
            if chart is not self.timeline:
                chart.clear()
        self.timeline.marks.clear()
        self.timeline.set_model(model)
        self._rebuild_legend(1)
        self._drawn_key = None
        self._vb.setXRange(0.0, 1.0, padding=0)
        self._hover_t = None
        self._update_readout()
        self.refresh()

    def refresh(self) -> None:
        """Draw what the model appended since the last call; nearly free when nothing did."""
        m = self._model
        if m is None:
            return
        live = self._live_now(m)
        key = (m.events, m.last_t, live)
        if key == self._last_key and not self._behind:
            return
        self._last_key = key
        now = max(m.last_t, live if live is not None else 0.0, self._now)
        self._now = now
        s = self._series
        # Live, a frame takes at most so much of what the model added (a flood's backlog is
        # caught up over a few frames, each of bounded cost); a replay or a finished run is
        # synced whole.
        live_run = live is not None
        s.behind = False
        counters = s.sync_counters(m, LIVE_SYNC_POINTS if live_run else None)
        moved = s.counters.set_now(now)
        changed_from = s.sync_done(m, LIVE_SYNC_DONE if live_run else None)
        rates = s.update_rates(now, changed_from)
        if self.timeline.sync(m, now, LIVE_SYNC_INTERVALS if live_run else None):
            self._rebuild_legend(1)
        self._behind = s.behind or self.timeline.behind
        if len(self.timeline.rows) != self._stretch_rows:
            self._set_row_stretch()
        if self._follow:
            self._follow_range(now)
        if counters or moved:
            self._drawn_key = None
        self._draw_counters()
        if rates:
            self.rates.update_data(s)
        self.unfinished.update_markers(m, now)
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

    def note_records(self, applied: list[tuple[int, tuple]]) -> None:
        """Records a live run applied to the model: the timeline marks task_done() errors."""
        if self.timeline.marks.note(applied):
            self._last_key = None

    def set_follow(self, follow: bool) -> None:
        """True: the x axis scrolls with the run. False: free zoom and pan (starts at 'all')."""
        was = self._follow
        self._follow = follow
        if follow:
            self._last_key = None
            self._follow_range(self._now)
            self._fit_y()
        elif was:
            self._vb.setXRange(0.0, max(self._now, 0.05) * 1.02, padding=0)

    def set_playhead(self, t: float | None) -> None:
        for chart, ph in zip(self.charts, self._playhead, strict=True):
            if t is None:
                hide_from(chart.plot, ph)
            else:
                ph.setValue(t)
                show_on(chart.plot, ph)

    def set_presenter(self, on: bool) -> None:
        """Bigger fonts and thicker lines, for a projector."""
        if on != self._style.presenter:
            self._style = Style(presenter=on)
            self._apply_look()

    def curve_data(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """The data behind what is drawn, by series name (expanded steps for counters)."""
        s = self._series
        out = {}
        for name in ("depth", "in_flight", "unfinished", "puts", "gets"):
            x, y = s.counters.xy(name)
            out[name] = (x.copy(), y.copy())
        x, y = s.counters.xy("dones")
        out["task_dones"] = (x.copy(), y.copy())
        # What the line items hold: the visible range, decimated to the plot's width.
        out["shown_unfinished"] = self.unfinished.lines.xy("unfinished")
        out["shown_in_flight"] = self.unfinished.lines.xy("in_flight")
        out["shown_puts"] = self.flow.lines.xy("puts")
        out["shown_gets"] = self.flow.lines.xy("gets")
        out["shown_task_dones"] = self.flow.lines.xy("dones")
        g = s.grid.view().copy()
        out["rate"] = (g, s.rate.view().copy())
        out["mean_wait"] = (g, s.mean_wait.view().copy())
        out["mean_service"] = (g, s.mean_service.view().copy())
        return out

    def export_image(self, path: str) -> None:
        """PNG (what the screen shows) or SVG (vector, via pyqtgraph), chosen by suffix."""
        suffix = Path(path).suffix.lower()
        if suffix not in (".svg", ".png", ""):
            raise ValueError(f"export_image: use a .png or .svg path, not {path!r}")
        was = self.interactive
        self.set_interactive(False)  # a picture: no "hover a chart" hint
        try:
            if suffix == ".svg":
                self._export_svg(path)
            elif not self._glw.grab().save(path, "PNG"):
                raise OSError(f"could not write {path}")
        finally:
            self.set_interactive(was)

    def _export_svg(self, path: str) -> None:
        # pyqtgraph's SVGExporter rewrites item coordinates and fails on drawRects output;
        # Qt's own SVG paint device records what the view paints, vectors and all. The view's
        # visible area is what is drawn: the scene's rectangle only ever grows (a window once
        # larger, a long readout) and would add empty page around the charts.
        view = self._glw
        source = view.viewport().rect()
        w, h = source.width(), source.height()
        gen = QSvgGenerator()
        gen.setFileName(path)
        gen.setSize(QSize(w, h))
        gen.setViewBox(QRectF(0, 0, w, h))
        gen.setTitle("QueueLab charts")
        painter = QPainter()
        if not painter.begin(gen):
            raise OSError(f"could not write {path}")
        try:
            painter.fillRect(QRectF(0, 0, w, h), qcolor(self._theme.background))
            view.render(painter, QRectF(0, 0, w, h), source)
        finally:
            painter.end()
        if not Path(path).is_file() or Path(path).stat().st_size == 0:
            raise OSError(f"could not write {path}")

    # ------------------------------------------------------------------ read-only helpers
    @property
    def model(self) -> RunModel | None:
        return self._model

    @property
    def follow(self) -> bool:
        return self._follow

    @property
    def theme(self) -> Theme:
        return self._theme

    def x_range(self) -> tuple[float, float]:
        (a, b), _ = self._vb.viewRange()
        return float(a), float(b)

    def markers(self) -> dict[str, tuple[float, str] | None]:
        """Join markers on the unfinished chart: position and label text, None when hidden."""
        u = self.unfinished

        def info(line: pg.InfiniteLine) -> tuple[float, str] | None:
            return (float(line.value()), line.label.textItem.toPlainText()) if line.isVisible() \
                else None

        return {"join_called": info(u.called_line), "join_returned": info(u.return_line),
                "producers_joined": info(u.producers_line)}

    def timeline_rows(self) -> list[str]:
        return [r.worker.name for r in self.timeline.rows]

    def readout_text(self) -> str:
        return self._readout.text

    # ------------------------------------------------------------------ internals
    def _live_now(self, m: RunModel) -> float | None:
        """Run time by the wall clock while a live run is in progress, so the x axis keeps
        moving between events (a stuck join() is watched as time passes)."""
        if m.t0 is None or m.end_t is not None or not m.workers:
            return None
        t = m.rel(time.perf_counter())
        if t < m.last_t or t - m.last_t > LIVE_CLOCK_MAX_AHEAD_S:
            return None  # a replay or a foreign clock: draw up to the last event only
        return t

    def _follow_range(self, now: float) -> None:
        if now <= FOLLOW_WINDOW_S:
            lo, hi = 0.0, max(now, 0.05) * 1.02
        else:
            lo, hi = now - FOLLOW_WINDOW_S, now + FOLLOW_WINDOW_S * 0.02
        a, b = self._vb.viewRange()[0]
        if (a, b) != (lo, hi):
            self._applying_range = self._linking = True
            try:
                for vb in self._x_views:
                    vb.setXRange(lo, hi, padding=0)
            finally:
                self._applying_range = self._linking = False

    def _draw_counters(self) -> None:
        """Decimate the counters for the visible range once, and hand them to both charts."""
        xmin, xmax = self.x_range()
        width = self._vb.width()
        key = (len(self._series.counters), self._series.counters.now, xmin, xmax, width)
        if key == self._drawn_key:
            return
        self._drawn_key = key
        x = self._series.counters.ex.view()
        ys = {k: self._series.counters.ey[k].view() for k in DRAWN}
        cols = max(16, int(width))
        # Following, the view ends at the newest point: the bins of the incremental decimation
        # cover it, and a frame only folds in what arrived (in the first 30 s, while the view
        # still widens, the bins are rebuilt each time it doubles). Otherwise the visible
        # range is decimated afresh, as a zoom or pan needs.
        if self._follow and x.size - int(np.searchsorted(x, xmin)) > 2 * cols:
            self._lod.update(x, ys, bin_width(xmax - xmin, width))
            xd, yd = self._lod.decimated(x, ys, xmin, xmax)
        else:
            xd, yd = decimate(x, ys, xmin, xmax, width, rising=RISING)
        self.unfinished.update_data(xd, yd)
        self.flow.update_data(xd, yd)

    def _fit_y(self) -> None:
        xmin, xmax = self.x_range()
        for chart in (self.unfinished, self.flow, self.rates):
            chart.fit_y(self._series, xmin, xmax)
        self.unfinished.place_labels(xmin, xmax)

    def _on_view_sig_x_range_changed(self, vb: pg.ViewBox, *_: object) -> None:
        if self._linking:
            return
        self._linking = True
        try:
            lo, hi = vb.viewRange()[0]
            for other in self._x_views:
                if other is not vb:
                    other.setXRange(lo, hi, padding=0)
        finally:
            self._linking = False
        if not self._applying_range:  # the user zoomed or panned: redraw for the new range
            self._draw_counters()
            self._fit_y()

    def _set_row_stretch(self) -> None:
        """Share the height: the timeline gets room for its rows (a fifth to about a third of
        the panel), the other charts share the rest 6:4:4 (the join() counter first), each with
        its legend strip on top.

        QGraphicsGridLayout gives rows heights in proportion to their stretch factors (the
        plots ask for little), so the factors are the heights wanted, in pixels.
        """
        rows = len(self.timeline.rows)
        self._stretch_rows = rows
        style = self._style
        strip = [s.strip_height for s in self.strips]
        total = max(300.0, self._glw.viewport().height() - self._readout.size().height() - 24)
        time_axis = 3.0 * style.font_pt + 12  # ticks and title under the last chart
        row_px = 30 if style.presenter else 24
        timeline = min(max(max(1, rows) * row_px + 16 + strip[1], 0.2 * total), 0.36 * total)
        rest = max(60.0, total - timeline - strip[0] - strip[2] - strip[3] - time_axis)
        heights = (rest * 6 / 14 + strip[0], timeline, rest * 4 / 14 + strip[2],
                   rest * 4 / 14 + strip[3] + time_axis)
        factors = tuple(max(1, round(h)) for h in heights)
        if factors == self._stretch:
            return  # a new factor re-lays out the whole chart grid
        self._stretch = factors
        lay = self._glw.ci.layout
        for row, factor in enumerate(factors, start=1):
            lay.setRowStretchFactor(row, factor)

    def _on_strip_sig_height_changed(self) -> None:
        self._set_row_stretch()

    def _rebuild_legend(self, i: int) -> None:
        entries = self.charts[i].legend_entries(self._theme)
        for legend in (self.legends[i], self.strips[i]):
            legend.set_entries(entries)
            legend.apply(self._theme, self._style)
        self._place_legends()

    def _place_legends(self) -> None:
        """Legends beside the charts while the plots keep enough width, else strips above them.

        A legend someone hid (the compare window hides them) stays hidden in both forms.
        """
        style = self._style
        column = max(legend.column_size.width() for legend in self.legends)
        plot_w = self.width() - column - style.left_axis_px - style.right_axis_px - 24
        strips = style.presenter or plot_w < SIDE_LEGEND_MIN_PLOT_PX
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
            entries = chart.legend_entries(theme)
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
        for chart, cur in zip(self.charts, self._cursor, strict=True):
            if t is None:
                hide_from(chart.plot, cur)
            else:
                cur.setValue(t)
                show_on(chart.plot, cur)
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
        if not words:
            hide_from(self.timeline.plot, self._tip)
            return
        tip = self._tip
        # Shown first: TextItem skips its transform update while hidden.
        show_on(self.timeline.plot, tip)
        tip.setText(words)
        # Placed in pixels, then clamped into the plot: beside the cursor on the side with
        # room, above the hovered bar (below it on the top row); the view box clips the rest.
        vb = self.timeline.plot.getViewBox()
        box = vb.sceneBoundingRect()
        size = tip.boundingRect()  # pixels: the text ignores the view's scale
        w, h = size.width(), size.height()
        at = vb.mapViewToScene(QPointF(t, row))
        half_bar = abs(vb.mapViewToScene(QPointF(t, row + 0.36)).y() - at.y())
        gap = 8.0
        x = at.x() + gap if at.x() + gap + w <= box.right() - 1 else at.x() - gap - w
        y = at.y() - half_bar - h
        if y < box.top() + 1:
            y = at.y() + half_bar
        x = max(box.left() + 1, min(x, box.right() - 1 - w))
        y = max(box.top() + 1, min(y, box.bottom() - 1 - h))
        tip.setAnchor((0.0, 0.0))
        tip.setPos(vb.mapSceneToView(QPointF(x, y)))
        tip.updateTransform(force=True)

    def tip_scene_rect(self) -> QRectF | None:
        """Where the timeline's hover tip is drawn (scene pixels), None when hidden."""
        return self._tip.sceneBoundingRect() if self._tip.isVisible() else None

    def _readout_room(self) -> float:
        """Width the readout's text may take: the panel's, less margins."""
        w = self._readout.size().width()
        if w <= 1:
            w = self._glw.viewport().width() - 8
        return w - 10  # the text item's document margins (4 each side) and a little slack

    def _readout_lines(self, parts: list[str], hint: str) -> str:
        """``parts`` joined on as few lines as fit the panel's width, ``hint`` added if it fits
        on the last line: a readout cut at the window's edge hides what it is there for."""
        size = f"font-size:{self._style.font_pt + 1}pt"
        doc = self._measure
        doc.setDefaultFont(self._readout.item.font())
        font = doc.defaultFont().key()
        room = self._readout_room()
        sep = "&nbsp;&nbsp;│&nbsp;&nbsp;"

        widths = self._measured
        if len(widths) > 256:
            widths.clear()

        def width(html: str) -> float:
            key = f"{font}|{size}|{html}"
            w = widths.get(key)
            if w is None:  # a text layout each: the separator and the hint are asked often
                doc.setHtml(f"<span style='{size}'>{html}</span>")
                w = widths[key] = doc.idealWidth()
            return w

        sep_w = width(sep)
        lines: list[list[str]] = []
        used = 0.0
        for part in parts:
            pw = width(part)
            if lines and used + sep_w + pw <= room:
                lines[-1].append(part)
                used += sep_w + pw
            else:
                lines.append([part])
                used = pw
        text = "<br>".join(sep.join(line) for line in lines)
        if hint and used + width(hint) <= room:
            text += hint
        return text

    def _whole_run_words(self, m: RunModel) -> str:
        key = (id(m), m.events)
        if key != self._whole_run_key:  # the summary walks every task: once per change
            self._whole_run_key, self._whole_run_text = key, _whole_run(m)
        return self._whole_run_text

    def set_interactive(self, on: bool) -> None:
        """False while the panel is drawn as a picture: the readout offers no hover hint."""
        if on != self.interactive:
            self.interactive = on
            self._update_readout()

    def _update_readout(self) -> None:
        theme, style = self._theme, self._style
        m, s = self._model, self._series
        t = self._hover_t
        at = t if t is not None else self._now
        parts: list[str] = []
        hint = ""

        def span(text: str, color: str | None = None, bold: bool = False) -> str:
            c = f"color:{color};" if color else ""
            b = "font-weight:bold;" if bold else ""
            return f"<span style='{c}{b}'>{text}</span>"

        if m is None:
            parts.append("No run yet — start one to see its charts.")
        else:
            i = s.counters.index_at(at) if len(s.counters) else -1
            started = len(s.counters) > 0 or self._now > 0
            if started and (t is None or 0 <= t <= self._now):
                c = s.counters.cols
                # Before the first put every counter is still zero.
                val = {k: int(c[k].view()[i]) if i >= 0 else 0 for k in c}
                head = f"t = {at:.3f} s" if t is not None else f"now {at:.1f} s"
                parts.append(span(head, theme.foreground, True))
                parts.append(span(f"unfinished {val['unfinished']}", theme.unfinished, True)
                             + " = " + span(f"queued {val['depth']}", theme.queued)
                             + " + " + span(f"in progress {val['in_flight']}", theme.in_flight))
                parts.append(span(f"puts {val['puts']}", theme.puts) + " · "
                             + span(f"gets {val['gets']}", theme.gets) + " · "
                             + span(f"task_done {val['dones']}", theme.dones))
                g = s.grid.view()
                if t is None and m.end_t is not None:
                    # The run is over: its whole-run means, the figures its summary gives.
                    parts.append(span(self._whole_run_words(m), theme.rate))
                elif g.size:
                    j = min(g.size - 1, max(0, math.floor(at / RATE_STEP_S)))
                    r = s.rate.view()[j]
                    w, sv = s.mean_wait.view()[j], s.mean_service.view()[j]
                    # Three figures at most: the readout then fits two lines in presenter mode.
                    # They are the sliding window's, and say so: a finished run's last second
                    # is no mean of the run.
                    win = f"{RATE_WINDOW_S:g} s"
                    rate = f"last {win}: " if t is None else f"{win} to t: "
                    rate += f"{r:.0f} done/s" if r >= 100 else f"{r:.1f} done/s"
                    if math.isfinite(w):
                        rate += f" · wait {_fmt_s(w)} · service {_fmt_s(sv)}"
                    parts.append(span(rate, theme.rate))
            elif t is not None:
                parts.append(span(f"t = {t:.3f} s", theme.foreground, True))
            else:
                parts.append("Waiting for the first events…")
            if t is None and i >= 0 and not style.presenter and self.interactive:
                hint = span("&nbsp;&nbsp;(hover a chart to read values)", theme.crosshair[:7])
        text = self._readout_lines(parts, hint)
        html = f"{text}|{theme.name}|{style.font_pt}"
        if html != self._readout_html:  # setHtml re-lays out the text: only when it changed
            self._readout_html = html
            self._readout.setText(text, color=theme.foreground, size=f"{style.font_pt + 1}pt")


def _whole_run(m: RunModel) -> str:
    """Throughput and mean times over the whole run, as its summary lines say them."""
    sm = m.summary()
    rate = sm.throughput_per_s
    words = f"whole run: {rate:.0f} done/s" if rate >= 100 else f"whole run: {rate:.2f} done/s"
    if sm.task_dones and m.done_t:
        words += f" · mean wait {_fmt_s(sm.mean_wait_s)} · mean service {_fmt_s(sm.mean_service_s)}"
    return words


def _fmt_s(x: float) -> str:
    if x >= 1:
        return f"{x:.2f} s"
    if x >= 0.1:
        return f"{x * 1000:.0f} ms"
    return f"{x * 1000:.1f} ms"
