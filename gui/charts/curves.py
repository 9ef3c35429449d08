"""Graphics items for long live series: clipped to the view, peak-decimated, one draw call each."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pyqtgraph as pg
from pyqtgraph import functions as fn
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QPainter, QPolygonF


def polyline(x: np.ndarray, y: np.ndarray) -> QPolygonF:
    """A QPolygonF of the points, filled straight from numpy (no per-point Python)."""
    poly = fn.create_qpolygonf(x.size)
    a = fn.ndarray_from_qpolygonf(poly)
    a[:, 0] = x
    a[:, 1] = y
    return poly


class ViewSizedItem(pg.GraphicsObject):
    """An item drawn over its whole view: its bounding rectangle is the view's, kept as a
    copy. Qt asks an item for its bounds several times a frame; asking the ViewBox each time
    cost 0.2 ms per item and frame while the x axis scrolls."""

    def __init__(self) -> None:
        super().__init__()
        self._view_rect = QRectF()

    def boundingRect(self) -> QRectF:
        return self._view_rect

    def viewRangeChanged(self) -> None:
        vb = self.getViewBox()
        r = QRectF() if vb is None else QRectF(vb.viewRect())
        if r != self._view_rect:
            self.prepareGeometryChange()
            self._view_rect = r


class SeriesLine(ViewSizedItem):
    """One live series as polylines: only the part in view, a gap at each NaN, and
    peak-decimated (max and min per pixel column) when the view holds more points than pixels.

    ``set_data`` takes the series' live arrays (views, no copy) and costs nothing; the
    polylines are rebuilt at paint time, once per data version and view, straight from numpy.
    A PlotDataItem re-ran its clip/downsample/path pipeline (and a NaN split) on every
    ``setData`` and again on every scroll.
    """

    def __init__(self) -> None:
        super().__init__()
        self._x = np.zeros(0)
        self._y = np.zeros(0)
        self._pen: object = pg.mkPen(None)
        self._runs: list[QPolygonF] = []
        self._version = 0
        self._built: tuple | None = None

    def set_pen(self, pen: object) -> None:
        self._pen = pen
        self.update()

    def set_data(self, x: np.ndarray, y: np.ndarray) -> None:
        self._x, self._y = x, y
        self._version += 1
        self.update()

    def xy(self) -> tuple[np.ndarray, np.ndarray]:
        return self._x, self._y

    def _build(self, xmin: float, xmax: float, width_px: float) -> None:
        key = (self._version, xmin, xmax, width_px)
        if key == self._built:
            return
        self._built = key
        x, y = self._x, self._y
        n = min(x.size, y.size)
        lo = max(0, int(np.searchsorted(x[:n], xmin, side="left")) - 1)
        hi = min(n, int(np.searchsorted(x[:n], xmax, side="right")) + 1)
        xs, ys = x[lo:hi], y[lo:hi]
        cols = max(16, int(width_px))
        if xs.size > 4 * cols:
            ds = xs.size // cols
            k = xs.size // ds
            end = k * ds
            xd = np.empty(2 * k + (xs.size - end))
            yd = np.empty_like(xd)
            xd[: 2 * k : 2] = xs[:end:ds]
            xd[1 : 2 * k : 2] = xs[ds - 1 : end : ds]
            xd[2 * k :] = xs[end:]
            y2 = ys[:end].reshape(k, ds)
            # fmax/fmin skip NaN: a column with a gap keeps its values, an empty one is a gap.
            yd[: 2 * k : 2] = np.fmax.reduce(y2, axis=1)
            yd[1 : 2 * k : 2] = np.fmin.reduce(y2, axis=1)
            yd[2 * k :] = ys[end:]
            xs, ys = xd, yd
        # One polyline per run of finite values (a NaN is a gap).
        ok = np.isfinite(ys)
        edges = np.flatnonzero(np.diff(ok.astype(np.int8))) + 1
        bounds = np.concatenate(([0], edges, [ys.size]))
        self._runs = [polyline(xs[a:b], ys[a:b])
                      for a, b in pairwise(bounds.tolist())
                      if b - a > 1 and ok[a]]

    def paint(self, p: QPainter, *args: object) -> None:
        vb = self.getViewBox()
        if vb is None or not self._x.size:
            return
        (xmin, xmax), _ = vb.viewRange()
        self._build(xmin, xmax, vb.width())
        if self._runs:
            p.setPen(self._pen)
            for run in self._runs:
                p.drawPolyline(run)


class BandItem(pg.GraphicsObject):
    """The area between two series that share x, filled as one polygon.

    Used for stacked areas instead of curves filled down to zero: only the band itself is
    rasterised (much less area than fills painted over each other) and both edges come from
    the same x, so bands stacked on each other never leave gaps.
    """

    def __init__(self) -> None:
        super().__init__()
        self._polygon = QPolygonF()
        self._brush = pg.mkBrush(None)
        self._bounds = QRectF()

    def set_brush(self, brush: object) -> None:
        self._brush = pg.mkBrush(brush)
        self.update()

    def set_band(self, x: np.ndarray, lower: np.ndarray | None, upper: np.ndarray) -> None:
        """Fill between ``lower`` (None: zero) and ``upper`` over ``x``."""
        self.prepareGeometryChange()
        if x.size < 2:
            self._polygon = QPolygonF()
            self._bounds = QRectF()
        else:
            n = x.size
            self._polygon = fn.create_qpolygonf(2 * n)
            a = fn.ndarray_from_qpolygonf(self._polygon)
            a[:n, 0] = x
            a[:n, 1] = upper
            a[n:, 0] = x[::-1]
            if lower is None:
                a[n:, 1] = 0.0
                lo_min = 0.0
            else:
                a[n:, 1] = lower[::-1]
                lo_min = float(lower.min())
            self._bounds = QRectF(float(x[0]), lo_min, float(x[-1] - x[0]),
                                  float(upper.max()) - lo_min)
        self.update()

    def boundingRect(self) -> QRectF:
        return self._bounds

    def paint(self, p: QPainter, *args: object) -> None:
        if not self._polygon.isEmpty():
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(self._brush)
            p.drawPolygon(self._polygon)


class LinesItem(pg.GraphicsObject):
    """Several polylines that share one x array, painted in one item with one pen each.

    For pre-decimated series (about two points per pixel column) a PlotDataItem per line
    costs more in Python bookkeeping (bounds, display datasets, signals) than the drawing
    itself; here a frame is one ``drawPolyline`` per series (four times faster to raster
    than the same line as separate segments).
    """

    def __init__(self, names: tuple[str, ...]) -> None:
        super().__init__()
        self.names = names
        self._pens: dict[str, object] = {n: pg.mkPen(None) for n in names}
        self._polys: dict[str, QPolygonF] = {n: QPolygonF() for n in names}
        self._data: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._bounds = QRectF()

    def set_pen(self, name: str, pen: object) -> None:
        self._pens[name] = pen
        self.update()

    def set_lines(self, x: np.ndarray, ys: dict[str, np.ndarray]) -> None:
        self.prepareGeometryChange()
        self._data = {n: (x, ys[n]) for n in self.names}
        n = x.size if x.size > 1 else 0
        ymin, ymax = np.inf, -np.inf
        for name in self.names:
            if n:
                y = ys[name]
                self._polys[name] = polyline(x, y)
                ymin = min(ymin, float(y.min()))
                ymax = max(ymax, float(y.max()))
            else:
                self._polys[name] = QPolygonF()
        b = QRectF(float(x[0]), ymin, float(x[-1] - x[0]), ymax - ymin) if n else QRectF()
        # Cosmetic pens overhang by a pixel; Qt clips paint to the view anyway.
        pad = 1e-3 * (b.height() + 1)
        self._bounds = b.adjusted(0, -pad, 0, pad) if n else b
        self.update()

    def xy(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        return self._data.get(name, (np.zeros(0), np.zeros(0)))

    def boundingRect(self) -> QRectF:
        return self._bounds

    def paint(self, p: QPainter, *args: object) -> None:
        for name in self.names:
            poly = self._polys[name]
            if not poly.isEmpty():
                p.setPen(self._pens[name])
                p.drawPolyline(poly)
