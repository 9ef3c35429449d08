"""Helpers every chart shares: axis styling, y ranges with hysteresis, legend swatches."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont

from gui.charts.palette import Theme, qcolor

LEFT_AXIS_PX = 84  # every plot's left axis has this width, so the shared x axes line up
RIGHT_AXIS_PX = 64


@dataclass
class Style:
    """Sizes that presenter mode changes."""

    presenter: bool = False

    @property
    def line_width(self) -> float:
        # Width 1 is the fast path of QPainter's raster engine; presenter mode pays for width.
        return 2.5 if self.presenter else 1.0

    @property
    def font_pt(self) -> int:
        return 13 if self.presenter else 9

    @property
    def title_pt(self) -> int:
        return 14 if self.presenter else 10

    @property
    def left_axis_px(self) -> int:
        return 130 if self.presenter else LEFT_AXIS_PX

    @property
    def right_axis_px(self) -> int:
        return 96 if self.presenter else RIGHT_AXIS_PX

    def font(self, bold: bool = False) -> QFont:
        f = QFont()
        f.setPointSize(self.font_pt)
        f.setBold(bold)
        return f


def time_only_navigation(plot: pg.PlotItem) -> None:
    """Every chart pans and zooms along time only, with pyqtgraph's menu and buttons hidden."""
    plot.setMenuEnabled(False)
    plot.hideButtons()
    plot.setMouseEnabled(x=True, y=False)


def vline(z: float) -> pg.InfiniteLine:
    """A hidden vertical line above the data at depth ``z`` (a cursor, a playhead): show_on."""
    line = pg.InfiniteLine(angle=90, movable=False)
    line.setZValue(z)
    line.hide()
    return line


def show_on(plot: pg.PlotItem, item: pg.GraphicsObject) -> None:
    """Show ``item`` in ``plot``, adding it there on first use.

    A hidden item that sits in a plot still handles every range and transform change of its
    view (a labelled InfiniteLine re-places its label each time): while the x axis scrolls,
    the hidden markers, cursors and playheads cost more than the data.
    """
    if item.scene() is None:
        plot.addItem(item, ignoreBounds=True)
    if not item.isVisible():
        item.show()


def hide_from(plot: pg.PlotItem, item: pg.GraphicsObject) -> None:
    """Hide ``item`` and take it out of ``plot`` (see :func:`show_on`)."""
    item.hide()
    if item.scene() is not None:
        plot.removeItem(item)


def pen(color: str, width: float = 1.0, dash: bool = False) -> object:
    p = pg.mkPen(qcolor(color), width=width)
    if dash:
        p.setDashPattern([5, 4])
    p.setCosmetic(True)
    return p


def style_axes(plot: pg.PlotItem, theme: Theme, style: Style, show_right: bool = True) -> None:
    """Colours, fonts and fixed widths of a plot's axes."""
    font = style.font()
    # The hidden top axis too: it still follows the x range, and an SI prefix check there
    # re-renders its (invisible) label on every scroll.
    no_si_prefix(plot.getAxis("top"))
    for name in ("left", "bottom", "right"):
        ax = plot.getAxis(name)
        ax.setPen(pen(theme.foreground, 1))
        ax.setTextPen(pen(theme.foreground, 1))
        ax.setStyle(tickFont=font, tickTextOffset=4)
        ax.label.setFont(font)
        # SI prefixes re-render the label on every range change; axis_label opts back in.
        no_si_prefix(ax)
    plot.getAxis("left").setWidth(style.left_axis_px)
    right = plot.getAxis("right")
    if show_right:
        plot.showAxis("right")
        right.setWidth(style.right_axis_px)


def no_si_prefix(ax: pg.AxisItem) -> None:
    """Turn the automatic SI prefix off *and* drop the one in force.

    ``enableAutoSIPrefix(False)`` in pyqtgraph 0.14 still computes a prefix when the label is
    visible, and the ticks then read in ms under a label that says s.
    """
    ax.enableAutoSIPrefix(False)
    if ax.autoSIPrefixScale != 1.0 or ax.labelUnitPrefix:
        ax.autoSIPrefixScale = 1.0
        ax.labelUnitPrefix = ""
        ax._updateLabel()


def axis_label(plot: pg.PlotItem, side: str, text: str, units: str | None, theme: Theme,
               style: Style, si_prefix: bool = False, short: tuple[str, ...] = ()) -> None:
    """The axis' label; ``short`` wordings (``{units}`` allowed), shortest last, for an axis
    too short for it."""
    plot.setLabel(side, text, units=units, **{"color": theme.foreground,
                                               "font-size": f"{style.font_pt}pt"})
    set_short = getattr(plot.getAxis(side), "set_short_label", None)
    if set_short is not None:  # a ChartAxis
        set_short(*short)
    # No automatic SI prefix by default: the linked time axes must all read in seconds.
    if si_prefix:
        plot.getAxis(side).enableAutoSIPrefix(True)
    else:
        no_si_prefix(plot.getAxis(side))


def nice_ceil(x: float) -> float:
    """The next 'round' number at or above ``x`` (1, 2, 2.5, 5 × 10^k)."""
    if x <= 0:
        return 1.0
    e = math.floor(math.log10(x))
    for m in (1.0, 2.0, 2.5, 5.0, 10.0):
        v = m * 10.0**e
        if v >= x * (1 - 1e-12):
            return v
    return 10.0 ** (e + 1)


class YRange:
    """A fixed y range that moves only when the data leaves it or shrinks well inside it.

    Autoranging every frame rescans all points and makes the axis jitter; this keeps the range
    still for long stretches and rounds it to a readable top.
    """

    def __init__(self, plot_or_vb: object, floor: float | None = 0.0, headroom: float = 1.12,
                 shrink_below: float = 0.4, min_span: float = 1.0) -> None:
        self.vb = plot_or_vb if isinstance(plot_or_vb, pg.ViewBox) else plot_or_vb.getViewBox()
        self.floor = floor
        self.headroom = headroom
        self.shrink_below = shrink_below
        self.min_span = min_span
        self.lo = 0.0
        self.hi = min_span
        self.extra: float | None = None  # a reference line's value that must stay in view
        self.vb.setYRange(self.lo, self.hi, padding=0)

    def reset(self) -> None:
        self.lo, self.hi = 0.0, self.min_span
        self.vb.setYRange(self.lo, self.hi, padding=0)

    def fit(self, dmin: float, dmax: float) -> None:
        if not (math.isfinite(dmin) and math.isfinite(dmax)):
            return
        if self.extra is not None:
            dmax = max(dmax, self.extra)
        lo = self.floor if self.floor is not None else dmin
        span_now = self.hi - self.lo
        inside = self.lo <= lo and dmax <= self.hi
        loose = (dmax - lo) < self.shrink_below * span_now and span_now > self.min_span
        if inside and not loose and (self.floor is not None or lo - self.lo < 0.5 * span_now):
            return
        span = max(self.min_span, (dmax - lo) * self.headroom)
        if self.floor is not None:
            new_lo, new_hi = self.floor, self.floor + nice_ceil(span)
        else:
            step = nice_ceil(span) / 5
            new_lo = math.floor(lo / step) * step
            new_hi = new_lo + nice_ceil(dmax - new_lo + step * 0.5)
        if (new_lo, new_hi) != (self.lo, self.hi):
            self.lo, self.hi = new_lo, new_hi
            self.vb.setYRange(new_lo, new_hi, padding=0)


class ReadoutLabel(pg.LabelItem):
    """A LabelItem that never widens the layout: a long readout is clipped, the charts stay.

    Changing the text re-lays out the whole chart grid in pyqtgraph (three geometry updates
    per ``setText``); here only a change of the text's height does, so the ten readout
    updates a second cost one ``setHtml`` each.
    """

    def setText(self, text: str, **args: object) -> None:
        if not hasattr(self, "_shown_height"):  # LabelItem.__init__ sets the first text
            self._shown_height = -1.0
        self.text = text
        self.opts.update(args)
        style = [f"color: {pg.mkColor(self.opts['color'] or '#000').name()}"]
        if "size" in self.opts:
            style.append(f"font-size: {self.opts['size']}")
        self.item.setHtml(f"<span style='{'; '.join(style)}'>{text}</span>")
        height = self.item.boundingRect().height()
        if height != self._shown_height:
            self._shown_height = height
            self.updateMin()
            self.resizeEvent(None)

    def updateMin(self) -> None:
        super().updateMin()
        self.setMinimumWidth(0)
        for which in (Qt.SizeHint.MinimumSize, Qt.SizeHint.PreferredSize):
            self._sizeHint[which] = (0, self._sizeHint[which][1])
        self.updateGeometry()


def swatch(color: str) -> pg.BarGraphItem:
    """A filled square for the legend (never added to a plot)."""
    return pg.BarGraphItem(x=[0], height=[1], width=1, brush=pg.mkBrush(qcolor(color)), pen=None)


@functools.lru_cache(maxsize=64)
def line_sample(color: str, width: float = 2.0, dash: bool = False) -> pg.PlotDataItem:
    """A line for the legend (never added to a plot, never changed: legends share one per
    look; a PlotDataItem costs ~1.6 ms, and a Start rebuilt the legends with five)."""
    return pg.PlotDataItem([0, 1], [0, 0], pen=pen(color, width, dash))
