"""A PlotDataItem tuned for long live series: peak downsampling, clip to view, no autorange work."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from pyqtgraph import Qt as pgQt
from PySide6.QtCore import QLineF, QRectF
from PySide6.QtGui import QPainter, QPainterPath


class FastCurve(pg.PlotDataItem):
    """Curve that stays cheap at 100k+ points.

    Peak downsampling keeps every spike visible with ~2 points per pixel column, clip-to-view
    only processes what is on screen, and the finite/dynamic-range checks (a full pass over the
    data on every ``setData``) are off: the series are finite by construction.

    A view-range change normally re-processes the data at once, and the frame's ``setData``
    that follows does it again. Between :meth:`hold` and :meth:`release` a range change is only
    noted, and ``release`` re-processes once if no ``setData`` came in between.
    """

    def __init__(self, *args: Any, downsample: bool = False, **kwargs: Any) -> None:
        kwargs.setdefault("antialias", False)
        # One min/max pair per pixel column (the default, 5, draws five per pixel).
        kwargs.setdefault("autoDownsampleFactor", 1.0)
        super().__init__(*args, **kwargs)
        self._downsample = downsample
        self._held = False
        self._range_dirty = False
        self.tune()

    def tune(self) -> None:
        """(Re)apply the fast settings; PlotItem.addItem overwrites them with the plot's own."""
        self.setClipToView(True)
        self.setDownsampling(auto=self._downsample, method="peak")
        self.setSkipFiniteCheck(True)
        self.setDynamicRangeLimit(None)

    def add_to(self, plot: pg.PlotItem | pg.ViewBox) -> FastCurve:
        plot.addItem(self)
        self.tune()
        return self

    def hold(self) -> None:
        self._held = True
        self._range_dirty = False

    def release(self) -> None:
        self._held = False
        if self._range_dirty:
            self._range_dirty = False
            super().viewRangeChanged()

    def viewRangeChanged(self, vb: Any = None, ranges: Any = None, changed: Any = None) -> None:
        if self._held:
            if changed is None or changed[0]:
                self._range_dirty = True
            return
        super().viewRangeChanged(vb, ranges, changed)

    def set_xy(self, x: np.ndarray, y: np.ndarray) -> None:
        self._range_dirty = False
        self.setData(x, y)

    def xy(self) -> tuple[np.ndarray, np.ndarray]:
        """The data given (not the downsampled display data)."""
        x, y = self.getOriginalDataset()
        if x is None or y is None:
            return np.zeros(0), np.zeros(0)
        return np.asarray(x), np.asarray(y)


class BandItem(pg.GraphicsObject):
    """The area between two series that share x, filled as one polygon.

    Used for stacked areas instead of curves filled down to zero: only the band itself is
    rasterised (much less area than fills painted over each other) and both edges come from
    the same x, so bands stacked on each other never leave gaps.
    """

    def __init__(self) -> None:
        super().__init__()
        self._path = QPainterPath()
        self._brush = pg.mkBrush(None)
        self._bounds = QRectF()

    def set_brush(self, brush: object) -> None:
        self._brush = pg.mkBrush(brush)
        self.update()

    def set_band(self, x: np.ndarray, lower: np.ndarray | None, upper: np.ndarray) -> None:
        """Fill between ``lower`` (None: zero) and ``upper`` over ``x``."""
        self.prepareGeometryChange()
        if x.size < 2:
            self._path = QPainterPath()
            self._bounds = QRectF()
        else:
            lo = np.zeros(x.size) if lower is None else lower
            px = np.concatenate((x, x[::-1]))
            py = np.concatenate((upper, lo[::-1]))
            self._path = pg.arrayToQPath(px, py, connect="all", finiteCheck=False)
            self._path.closeSubpath()
            self._bounds = QRectF(float(x[0]), float(lo.min()), float(x[-1] - x[0]),
                                  float(upper.max() - lo.min()))
        self.update()

    def boundingRect(self) -> QRectF:
        return self._bounds

    def paint(self, p: QPainter, *args: object) -> None:
        if not self._path.isEmpty():
            p.fillPath(self._path, self._brush)


class LinesItem(pg.GraphicsObject):
    """Several polylines that share one x array, painted in one item with one pen each.

    For pre-decimated series (about two points per pixel column) a PlotDataItem per line
    costs more in Python bookkeeping (bounds, display datasets, signals) than the drawing
    itself; here a frame is one ``drawLines`` per series.
    """

    def __init__(self, names: tuple[str, ...]) -> None:
        super().__init__()
        self.names = names
        self._pens: dict[str, object] = {n: pg.mkPen(None) for n in names}
        self._segs = {n: pgQt.internals.PrimitiveArray(QLineF, 4) for n in names}
        self._data: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._bounds = QRectF()

    def set_pen(self, name: str, pen: object) -> None:
        self._pens[name] = pen
        self.update()

    def set_lines(self, x: np.ndarray, ys: dict[str, np.ndarray]) -> None:
        self.prepareGeometryChange()
        self._data = {n: (x, ys[n]) for n in self.names}
        n = max(0, x.size - 1)
        ymin, ymax = np.inf, -np.inf
        for name in self.names:
            seg = self._segs[name]
            seg.resize(n)
            if n:
                y = ys[name]
                a = seg.ndarray()
                a[:, 0] = x[:-1]
                a[:, 1] = y[:-1]
                a[:, 2] = x[1:]
                a[:, 3] = y[1:]
                ymin = min(ymin, float(y.min()))
                ymax = max(ymax, float(y.max()))
        self._bounds = (QRectF(float(x[0]), ymin, float(x[-1] - x[0]), ymax - ymin) if n
                        else QRectF())
        self.update()

    def xy(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        return self._data.get(name, (np.zeros(0), np.zeros(0)))

    def boundingRect(self) -> QRectF:
        # Cosmetic pens overhang by a pixel; Qt clips paint to the view anyway.
        return self._bounds.adjusted(0, -1e-3 * (self._bounds.height() + 1),
                                     0, 1e-3 * (self._bounds.height() + 1))

    def paint(self, p: QPainter, *args: object) -> None:
        for name in self.names:
            seg = self._segs[name]
            if len(seg):
                p.setPen(self._pens[name])
                p.drawLines(*seg.drawargs())
