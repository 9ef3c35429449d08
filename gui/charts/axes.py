"""Chart axes and grid lines that stay cheap while the time axis scrolls every frame."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from pyqtgraph import Qt as pgQt
from PySide6.QtCore import QLineF, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPen, QPicture, QTextDocument

from gui.charts.curves import ViewSizedItem
from gui.charts.plotkit import pen

_TICKS: dict[tuple, list] = {}
_ALIGN = {
    "left": Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
    "right": Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
    "top": Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignBottom,
    "bottom": Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop,
}


def cached_ticks(axis: pg.AxisItem, lo: float, hi: float, size: float) -> list:
    """``axis.tickValues`` memoised: an axis and the grids of four charts share one range per
    frame. ``size`` is rounded to whole pixels so they all hit the same entry."""
    key = (id(axis), lo, hi, round(size))
    ticks = _TICKS.get(key)
    if ticks is None:
        if len(_TICKS) > 256:
            _TICKS.clear()
        ticks = _TICKS[key] = axis.tickValues(lo, hi, round(size))
    return ticks


class ChartAxis(pg.AxisItem):
    """An AxisItem that draws the same ticks and labels as pyqtgraph's, at a fraction of the
    cost, because its picture is rebuilt on every scroll (x) or range change (y).

    pyqtgraph measures every label with ``QPainter.boundingRect``, builds its specs point by
    point, records them in a QPicture and replays it, and works out its bounding rectangle
    afresh each time Qt asks (several times a frame): 3 ms a frame for the time axis alone, and
    10 ms when a flood moved the y ranges of all charts at once. Here tick spacing and label
    sizes are memoised, the same rules (levels, crowding limits, labels kept inside the axis)
    run over plain lists, the specs are drawn directly, ticks of one level in one call, and
    the bounding rectangle is computed once per geometry. Log scale, explicit ticks and grids
    keep pyqtgraph's own path.
    """

    def __init__(self, orientation: str, **kwargs: object) -> None:
        self._br_key: tuple | None = None
        self._br = QRectF()
        self._specs: tuple | None = None
        self._text_size: dict[str, tuple[float, float]] = {}
        self._text_font: QFont | None = None
        self._pens: dict[tuple, QPen] = {}
        self._spacing: dict[tuple[float, float], list] = {}
        self._short_labels: tuple[str, ...] = ()
        self._label_level = 0  # 0: the full label, else which short one
        super().__init__(orientation, **kwargs)

    # ------------------------------------------------------------------ label
    def set_short_label(self, *texts: str) -> None:
        """Shorter and shorter words for the label, for where the full ones are longer than a
        vertical axis is high (a short chart): a label that runs past its axis collides with
        the next chart's. ``{units}`` in a text stands for the units of the full label."""
        self._short_labels = tuple(t for t in texts if t)
        self._updateLabel()

    def _label_html(self, level: int) -> str:
        """The full label (level 0) or short label ``level``."""
        if level == 0 or not self._short_labels:
            return super().labelString()
        units = f"{self.labelUnitPrefix}{self.labelUnits}"
        style = ";".join(f"{k}: {v}" for k, v in self.labelStyle.items())
        text = self._short_labels[min(level, len(self._short_labels)) - 1]
        return f"<span style='{style}'>{text.format(units=units)}</span>"

    def labelString(self) -> str:
        return self._label_html(self._label_level)

    def _fit_label(self) -> bool:
        """Choose the longest label that fits the axis' height; True if that changed."""
        was = self._label_level
        self._label_level = 0
        if self._short_labels and self.orientation in ("left", "right"):
            doc = QTextDocument()
            doc.setDefaultFont(self.label.font())
            margins = 2 * self.label.document().documentMargin()
            for level in range(len(self._short_labels) + 1):
                self._label_level = level
                doc.setHtml(self._label_html(level))
                if doc.idealWidth() + margins <= self.size().height():
                    break
        return self._label_level != was

    def _updateLabel(self) -> None:
        self._fit_label()
        super()._updateLabel()

    def resizeEvent(self, ev: object = None) -> None:
        if self.label is not None and self._fit_label():
            self.label.setHtml(self.labelString())
        super().resizeEvent(ev)

    # ------------------------------------------------------------------ geometry
    def boundingRect(self) -> QRectF:
        if self.grid is not False:
            return super().boundingRect()
        g = self.geometry()
        key = (g.x(), g.y(), g.width(), g.height(), self.style["tickLength"],
               str(self.style["hideOverlappingLabels"]))
        if key != self._br_key:
            self._br_key = key
            self._br = super().boundingRect()
        return QRectF(self._br)

    # ------------------------------------------------------------------ ticks
    def tickSpacing(self, minVal: float, maxVal: float, size: float) -> list:
        """pyqtgraph's spacing, with labelled ticks on a short vertical axis far enough apart
        for their text: pyqtgraph's minimum of 2.25 intervals, rounded down to 1-2-5 steps,
        puts six labels 16 px apart on an 80 px axis, each of them 17 px high in presenter
        mode. Minor levels that no longer divide the major one are dropped."""
        levels = super().tickSpacing(minVal, maxVal, size)
        span = abs(maxVal - minVal)
        if self.orientation not in ("left", "right") or not levels or size <= 0 or span <= 0:
            return levels
        need = self._label_size("0")[1] / 0.8 * 1.6  # a label's full height, and air
        major, offset = levels[0]
        if major * size / span >= need:
            return levels
        mantissa = major / 10.0 ** math.floor(math.log10(major) + 1e-9)
        while major * size / span < need:
            step = 2.5 if round(mantissa) == 2 else 2.0  # 1 -> 2 -> 5 -> 10
            major *= step
            mantissa = 1.0 if round(mantissa) == 5 else mantissa * step
        out = [(major, offset)]
        for spacing, off in levels[1:]:
            ratio = major / spacing
            if abs(ratio - round(ratio)) < 1e-6:
                out.append((spacing, off))
        return out

    def tickValues(self, minVal: float, maxVal: float, size: float) -> list:
        """pyqtgraph's tick values, with the spacing memoised (it depends only on the span)
        and minor ticks that fall on major ones removed by arithmetic, not ``isclose``."""
        if self.logMode or self._tickSpacing is not None:
            return super().tickValues(minVal, maxVal, size)
        lo, hi = sorted((minVal * self.scale, maxVal * self.scale))
        key = (hi - lo, size)
        levels = self._spacing.get(key)
        if levels is None:
            if len(self._spacing) > 64:
                self._spacing.clear()
            levels = self._spacing[key] = self.tickSpacing(lo, hi, size)
        ticks = []
        coarser: list[float] = []
        for spacing, offset in levels:
            start = math.ceil((lo - offset) / spacing) * spacing + offset
            num = int((hi - start) / spacing) + 1
            values = np.arange(max(0, num)) * spacing + start
            for c in coarser:  # every level divides the coarser ones
                k = np.round(values / c)
                values = values[np.abs(values - k * c) > spacing * 0.01]
            coarser.append(spacing)
            ticks.append((spacing / self.scale, (values / self.scale).tolist()))
        return ticks

    def _label_size(self, text: str) -> tuple[float, float]:
        font = self.style["tickFont"] or QFont()
        if font != self._text_font:
            self._text_font = QFont(font)
            self._text_size.clear()
        size = self._text_size.get(text)
        if size is None:
            if len(self._text_size) > 4096:
                self._text_size.clear()
            br = QFontMetricsF(font).boundingRect(
                QRectF(0, 0, 100, 100), int(Qt.AlignmentFlag.AlignCenter), text)
            size = self._text_size[text] = (br.width(), br.height() * 0.8)  # as pyqtgraph
        return size

    def _level_pen(self, level: int) -> QPen:
        tp = self.tickPen()
        key = (level, tp.color().rgba(), tp.widthF(), str(self.style["tickAlpha"]))
        p = self._pens.get(key)
        if p is None:
            if len(self._pens) > 32:
                self._pens.clear()
            p = QPen(tp)
            alpha = self.style["tickAlpha"]
            if alpha is None:
                alpha = 255 / (level + 1)
            elif isinstance(alpha, float):
                alpha = min(255, max(0, round(alpha * 255)))
            if p.brush().style() == Qt.BrushStyle.SolidPattern:
                c = QColor(p.color())
                c.setAlpha(int(alpha))
                p.setColor(c)
            self._pens[key] = p
        return p

    # ------------------------------------------------------------------ specs
    def generateDrawSpecs(self, p: QPainter) -> tuple | None:
        lo, hi = self.range
        if self.logMode or self._tickLevels is not None or self.grid is not False or hi <= lo:
            return super().generateDrawSpecs(p)
        o = self.orientation
        vertical = o in ("left", "right")
        b = self.mapRectFromParent(self.geometry())
        length = b.height() if vertical else b.width()
        if length <= 0:
            return None
        # Where the axis line runs and where ticks start (pyqtgraph's offsets, to the pixel).
        if o == "left":
            span = (QPointF(b.right() - 1, b.top() - 1), QPointF(b.right() - 1, b.bottom() + 1))
            edge, direction = b.right(), -1
        elif o == "right":
            span = (QPointF(b.left() + 1, b.top() - 1), QPointF(b.left() + 1, b.bottom() + 1))
            edge, direction = b.left(), 1
        elif o == "top":
            span = (QPointF(b.left() - 1, b.bottom() - 1), QPointF(b.right() + 1, b.bottom() - 1))
            edge, direction = b.bottom(), -1
        else:
            span = (QPointF(b.left() - 1, b.top() + 1), QPointF(b.right() + 1, b.top() + 1))
            edge, direction = b.top(), 1
        axis_spec = (self.pen(), span[0], span[1])
        levels = cached_ticks(self, lo, hi, length + 2)
        scale = length / (hi - lo)
        tick_len = self.style["tickLength"]
        tick_specs = []
        positions: list[list[float | None]] = []
        for i, (_spacing, values) in enumerate(levels):
            pen_i = self._level_pen(i)
            tip = edge + tick_len / (i * 0.5 + 1.0) * direction
            pos: list[float | None] = []
            for v in values:
                x = (length - (v - lo) * scale) if vertical else (v - lo) * scale
                if 0 <= x <= length:
                    pos.append(x)
                    if vertical:
                        tick_specs.append((pen_i, QPointF(edge, x), QPointF(tip, x)))
                    else:
                        tick_specs.append((pen_i, QPointF(x, edge), QPointF(x, tip)))
                else:
                    pos.append(None)
            positions.append(pos)
        text_specs: list[tuple[QRectF, object, str]] = []
        if not self.style["showValues"]:
            return axis_spec, tick_specs, text_specs
        offset = max(0, tick_len) + self.style["tickTextOffset"][0 if vertical else 1]
        br = self.boundingRect()
        flags = _ALIGN[o] | Qt.TextFlag.TextDontClip
        fill_total = 0.0
        last_across = 0.0
        for i in range(min(len(levels), self.style["maxTextLevel"] + 1)):
            spacing, values = levels[i]
            if not values:
                continue
            strings = self.tickStrings(values, self.autoSIPrefixScale * self.scale, spacing)
            shown = [(x, s) for x, s in zip(positions[i], strings, strict=False) if x is not None]
            sizes = [self._label_size(s) for _, s in shown]
            along = [h if vertical else w for w, h in sizes]
            across = [w if vertical else h for w, h in sizes]
            fill_total += sum(along)
            if i > 0:
                fill = fill_total / (length + 2)
                if any(len(text_specs) >= n and fill >= lim
                       for n, lim in self.style["textFillLimits"]):
                    break
            last_across = max(across, default=0.0)
            for (x, s), (w, h) in zip(shown, sizes, strict=True):
                if o == "left":
                    rect = QRectF(edge - offset - w, x - h / 2.0, w, h)
                elif o == "right":
                    rect = QRectF(edge + offset, x - h / 2.0, w, h)
                elif o == "top":
                    rect = QRectF(x - w / 2.0, edge - offset - h, w, h)
                else:
                    rect = QRectF(x - w / 2.0, edge + offset, w, h)
                if br & rect != rect:
                    continue
                text_specs.append((rect, flags, s))
        self._updateMaxTextSize(last_across)
        return axis_spec, tick_specs, text_specs

    # ------------------------------------------------------------------ paint
    def paint(self, p: QPainter, *args: object) -> None:
        # ``picture`` stays pyqtgraph's "needs a redraw" flag; the specs are kept and drawn
        # straight away instead of through a recorded QPicture.
        p.save()
        try:
            if self.picture is None or self._specs is None:
                self._specs = self.generateDrawSpecs(p)
                self.picture = QPicture()  # not None: the specs above are current
            if self._specs is not None:
                self._draw_specs(p, *self._specs)
        finally:
            p.restore()

    def _draw_specs(self, p: QPainter, axis_spec: tuple, tick_specs: list,
                    text_specs: list) -> None:
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        p.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
        axis_pen, a, b = axis_spec
        p.setPen(axis_pen)
        p.drawLine(a, b)
        by_pen: dict[int, tuple[object, list[QLineF]]] = {}
        for pen_, a, b in tick_specs:
            by_pen.setdefault(id(pen_), (pen_, []))[1].append(QLineF(a, b))
        for pen_, lines in by_pen.values():
            p.setPen(pen_)
            p.drawLines(lines)
        if self.style["tickFont"] is not None:
            p.setFont(self.style["tickFont"])
        p.setPen(self.textPen())
        p.setClipRect(self.boundingRect().toAlignedRect(), Qt.ClipOperation.IntersectClip)
        for rect, flags, text in text_specs:
            p.drawText(rect, int(flags), text)


class TimeAxis(ChartAxis):
    """The shared time axis: bottom of the last chart, its ticks carried up by the grids."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__("bottom", **kwargs)


def chart_axes(time_axis: bool = False) -> dict[str, pg.AxisItem]:
    """Axes for a chart's PlotItem (``axisItems=``, which shows each one given): left, right
    and bottom, the bottom one the shared :class:`TimeAxis` on the chart that shows time. The
    top axis stays pyqtgraph's own, hidden."""
    axes: dict[str, pg.AxisItem] = {o: ChartAxis(o) for o in ("left", "right")}
    axes["bottom"] = TimeAxis() if time_axis else ChartAxis("bottom")
    return axes


class GridItem(ViewSizedItem):
    """Grid lines at the axes' tick positions, drawn behind the data with opaque pens.

    pyqtgraph's own grid is drawn by the axes as translucent lines over the whole plot, and
    the scrolling x axis re-renders it every frame: that alone cost half the frame time at
    1280×800. Here one ``drawLines`` per level from a preallocated line array, under the
    bands, so fills simply cover it.
    """

    def __init__(self, x_axis: pg.AxisItem, y_axis: pg.AxisItem | None) -> None:
        super().__init__()
        self.x_axis = x_axis
        self.y_axis = y_axis
        self.setZValue(-100)
        self._pens = (pg.mkPen("#dddddd"), pg.mkPen("#eeeeee"))
        self._lines = [pgQt.internals.PrimitiveArray(QLineF, 4) for _ in range(2)]

    def set_colors(self, major: str, minor: str) -> None:
        self._pens = (pen(major, 1), pen(minor, 1))
        self.update()

    def paint(self, p: QPainter, *args: object) -> None:
        vb = self.getViewBox()
        if vb is None:
            return
        r = vb.viewRect()
        x0, x1 = sorted((r.left(), r.right()))
        y0, y1 = sorted((r.top(), r.bottom()))
        xt = cached_ticks(self.x_axis, x0, x1, vb.width() + 2)
        yt = (cached_ticks(self.y_axis, y0, y1, vb.height() + 2)
              if self.y_axis is not None else [])
        for lvl in (1, 0):
            xs = xt[lvl][1] if lvl < len(xt) else []
            ys = yt[lvl][1] if lvl < len(yt) else []
            n = len(xs) + len(ys)
            if not n:
                continue
            prim = self._lines[lvl]
            prim.resize(n)
            a = prim.ndarray()
            k = len(xs)
            if k:
                a[:k, 0] = a[:k, 2] = xs
                a[:k, 1], a[:k, 3] = y0, y1
            if ys:
                a[k:, 1] = a[k:, 3] = ys
                a[k:, 0], a[k:, 2] = x0, x1
            p.setPen(self._pens[lvl])
            p.drawLines(*prim.drawargs())
