"""One check for every chart item: what it holds and what it paints agree with the model.

Every curve, band, bar set and marker of a ChartsPanel registers here (``CHECKS``) with
- how to find it in a panel (the completeness test fails for a data item nobody registered),
- the model's own series for it (tests/gui/chartmodel.py: RunModel's public lists, never
  gui/charts code, so a chart that stops updating or draws the wrong thing disagrees),
- the colour it must paint.
``check_panel`` asserts, for each item, that its data as the item holds it (decimated,
clipped to the visible range) agrees with the model at sampled times, and that the grabbed
image has the item's colour where that data puts it. A new chart item gets both checks by
registering one ``ItemCheck``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pyqtgraph as pg
from pyqtgraph import functions as fn
from PySide6.QtCore import QPoint, QPointF
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QApplication

from engine.model import RunModel
from gui.charts import ChartsPanel
from gui.charts.curves import BandItem, LinesItem, SeriesLine
from gui.charts.palette import Theme
from gui.charts.timeline_plot import TimelineItem

COLOUR_TOL = 6  # per channel: the charts draw without antialiasing
SEARCH_PX = 2  # a probe looks this far around its point (thin lines, a grid line on top)
CLEAR_PX = 4  # probes this close to another item's marks are not counted (it may cover them)
FOUND_SHARE = 0.85  # of the uncovered probes, at least this share must show the colour


@dataclass
class Ctx:
    """One panel drawn from one model, up to ``until`` (a replay's playhead; else the end)."""

    panel: ChartsPanel
    model: RunModel
    until: float
    image: QImage = field(default_factory=QImage)

    def x_range(self) -> tuple[float, float]:
        return self.panel.x_range()

    def px(self, vb: pg.ViewBox) -> float:
        """Data units of one pixel along x."""
        a, b = vb.viewRange()[0]
        return (b - a) / max(1.0, vb.width())

    def _offset(self) -> QPoint:
        glw = self.panel._glw
        return glw.viewport().mapTo(glw, QPoint(0, 0))

    def to_pixel(self, vb: pg.ViewBox, x: float, y: float) -> QPoint:
        return self.panel._glw.mapFromScene(vb.mapViewToScene(QPointF(x, y))) + self._offset()

    def inside(self, vb: pg.ViewBox, pt: QPoint) -> bool:
        r = self.panel._glw.mapFromScene(vb.sceneBoundingRect()).boundingRect()
        r.translate(self._offset())
        m = SEARCH_PX + 1
        return r.adjusted(m, m, -m, -m).contains(pt)

    def has_colour(self, pt: QPoint, colour: QColor) -> bool:
        want = (colour.red(), colour.green(), colour.blue())
        for dx in range(-SEARCH_PX, SEARCH_PX + 1):
            for dy in range(-SEARCH_PX, SEARCH_PX + 1):
                x, y = pt.x() + dx, pt.y() + dy
                if 0 <= x < self.image.width() and 0 <= y < self.image.height():
                    c = self.image.pixelColor(x, y)
                    got = (c.red(), c.green(), c.blue())
                    if all(abs(a - b) <= COLOUR_TOL for a, b in zip(got, want, strict=True)):
                        return True
        return False

    def label_rects(self) -> list:
        """Screen rectangles of the marker lines' labels (they have an opaque background)."""
        out = []
        for chart in self.panel.charts:
            for it in chart.plot.items:
                if isinstance(it, pg.InfiniteLine) and it.isVisible() \
                        and getattr(it, "label", None) is not None:
                    r = self.panel._glw.mapFromScene(it.label.sceneBoundingRect()).boundingRect()
                    r.translate(self._offset())
                    out.append(r.adjusted(-CLEAR_PX, -CLEAR_PX, CLEAR_PX, CLEAR_PX))
        return out

    def under_cursor(self) -> Callable[[QPoint], bool]:
        """Whether a point lies under a shown playhead or cursor line: painted above every
        item (z 20-21, 2 px wide), it hides whatever the data puts in its pixel columns (a
        replay's playhead stands at the last event shown: a marker there is under it)."""
        cols = []
        for ln in self.panel._playhead + self.panel._cursor:
            vb = ln.getViewBox()
            if ln.isVisible() and vb is not None:
                cols.append((vb, self.to_pixel(vb, ln.value(), 0.0).x()))
        return lambda pt: any(abs(pt.x() - x) <= CLEAR_PX and self.inside(vb, pt)
                              for vb, x in cols)


@dataclass
class Probe:
    """A point where the data says the item's colour must be: (x, y) in view ``vb``."""

    vb: pg.ViewBox
    x: float
    y: float


@dataclass
class ItemCheck:
    """One chart item. ``held``: its disagreements with the model; ``probes``: where it must
    paint ``colour``; ``covers``: whether it paints over a screen point (so other items'
    probes there are not counted); ``item``/``sub`` find it in a panel."""

    name: str
    item: Callable[[ChartsPanel], object]
    colour: Callable[[Theme, RunModel], QColor]
    held: Callable[[Ctx], list[str]]
    probes: Callable[[Ctx], list[Probe]]
    covers: Callable[[Ctx], Callable[[QPoint], bool]] = lambda ctx: lambda pt: False
    min_probes: int = 3
    sub: str | None = None  # the series' name inside a LinesItem
    share: float = FOUND_SHARE  # of the uncovered probes, how many must show the colour
    marker: bool = False  # a vertical line: covered by another only if painted on top of it


CHECKS: list[ItemCheck] = []


def register(check: ItemCheck) -> ItemCheck:
    CHECKS.append(check)
    return check


def near_points(pts: list[QPoint]) -> Callable[[QPoint], bool]:
    arr = np.array([(p.x(), p.y()) for p in pts], dtype=float).reshape(-1, 2)

    def covers(pt: QPoint) -> bool:
        if not arr.size:
            return False
        d = np.abs(arr - (pt.x(), pt.y()))
        return bool(np.any((d[:, 0] <= CLEAR_PX) & (d[:, 1] <= CLEAR_PX)))

    return covers


def sample_times(ctx: Ctx, vb: pg.ViewBox, breaks: np.ndarray, n: int = 60) -> np.ndarray:
    """Times in the visible range midway between the model's change times that are at least
    two pixels apart (where the value is unambiguous on screen), at most ``n`` of them."""
    xmin, xmax = ctx.x_range()
    hi = min(xmax, ctx.until)
    inner = breaks[(breaks > xmin) & (breaks < hi)]
    b = np.concatenate(([max(xmin, breaks[0] if breaks.size else xmin)], inner, [hi]))
    mids = ((b[:-1] + b[1:]) / 2)[np.diff(b) >= 2 * ctx.px(vb)]
    if mids.size > n:
        mids = mids[np.linspace(0, mids.size - 1, n).astype(int)]
    return mids


def dense_times(ctx: Ctx, vb: pg.ViewBox) -> np.ndarray:
    xmin, xmax = ctx.x_range()
    return np.linspace(xmin, min(xmax, ctx.until), max(2, 2 * int(vb.width())))


def seriesline_drawn(line: SeriesLine) -> tuple[np.ndarray, np.ndarray]:
    """What a SeriesLine painted last: its visible, decimated polylines (NaN between runs)."""
    xs: list = []
    ys: list = []
    for run in line._runs:  # built at paint time from the held arrays
        a = fn.ndarray_from_qpolygonf(run)
        xs += [a[:, 0].copy(), [np.nan]]
        ys += [a[:, 1].copy(), [np.nan]]
    if not xs:
        return np.zeros(0), np.zeros(0)
    return np.concatenate(xs), np.concatenate(ys)


def band_drawn(band: BandItem) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """x, lower and upper edges of a BandItem's polygon."""
    a = fn.ndarray_from_qpolygonf(band._polygon)
    n = a.shape[0] // 2
    return a[:n, 0].copy(), a[n:, 1][::-1].copy(), a[:n, 1].copy()


def visible_changes(ctx: Ctx) -> int:
    xmin, xmax = ctx.x_range()
    t = np.asarray(ctx.model.s_t)
    return int(((t >= xmin) & (t <= xmax)).sum())


def _s_t(ctx: Ctx) -> np.ndarray:
    return np.asarray(ctx.model.s_t, dtype=float)


# ----------------------------------------------------------------------------- the check
def check_panel(panel: ChartsPanel, model: RunModel, until: float | None = None,
                only: list[str] | None = None) -> dict[str, dict[str, list[str]]]:
    """Every registered item's data and image against ``model``:
    {item name: {"held": problems with its data, "image": problems with its pixels}}."""
    QApplication.processEvents()
    ctx = Ctx(panel, model, model.last_t if until is None else until)
    ctx.image = panel._glw.grab().toImage()  # paints every item: SeriesLines build their runs
    labels = ctx.label_rects()
    under_cursor = ctx.under_cursor()
    covers = {c.name: (c.covers(ctx), c.marker) for c in CHECKS}
    added = list(panel.unfinished.plot.items)

    def on_top(other: ItemCheck, me: ItemCheck) -> bool:
        """Markers share a z value: Qt paints the one added to the plot later on top."""
        a, b = other.item(panel), me.item(panel)
        return a in added and b in added and added.index(a) > added.index(b)

    out: dict[str, dict[str, list[str]]] = {}
    for check in CHECKS:
        if only is not None and check.name not in only:
            continue
        held = list(check.held(ctx))
        problems: list[str] = []
        want = check.colour(panel.theme, model)
        pts = []
        for p in check.probes(ctx):
            pt = ctx.to_pixel(p.vb, p.x, p.y)
            if not ctx.inside(p.vb, pt) or any(r.contains(pt) for r in labels) \
                    or under_cursor(pt):
                continue
            if any(f(pt) for other in CHECKS if other.name != check.name
                   for f, mark in [covers[other.name]]
                   if not (mark and check.marker) or on_top(other, check)):
                continue
            pts.append(pt)
        found = [pt for pt in pts if ctx.has_colour(pt, want)]
        if len(pts) < check.min_probes:
            problems.append(f"{check.name}: only {len(pts)} uncovered places to look at (needs "
                            f"{check.min_probes}): this run does not show the item")
        elif len(found) < check.share * len(pts):
            missing = [(pt.x(), pt.y()) for pt in pts if pt not in found][:6]
            problems.append(f"{check.name}: colour {want.name()} at {len(found)} of {len(pts)} "
                            f"places the data puts it; missing at {missing}")
        out[check.name] = {"held": held, "image": problems}
    return out


def registered_items(panel: ChartsPanel) -> set[tuple[int, str | None]]:
    return {(id(c.item(panel)), c.sub) for c in CHECKS}


def data_items(panel: ChartsPanel) -> set[tuple[int, str | None]]:
    """Every item in the charts that draws data: what must be registered."""
    out: set[tuple[int, str | None]] = set()
    cursors = {id(x) for x in panel._cursor + panel._playhead}
    u = panel.unfinished
    # Markers join their plot when first shown: counted while still hidden too.
    hidden = [u.band, u.called_line, u.return_line, u.producers_line, *panel.theory.items()]
    plotted = [i for c in panel.charts for i in c.plot.items]
    for vb in [c.plot.getViewBox() for c in panel.charts] + [panel.rates.vb2]:
        for it in list(vb.addedItems) + plotted + hidden:
            if id(it) in cursors:
                continue
            if isinstance(it, LinesItem):
                out |= {(id(it), n) for n in it.names}
            elif isinstance(it, (SeriesLine, BandItem, TimelineItem, pg.InfiniteLine,
                                 pg.LinearRegionItem, pg.PlotDataItem, pg.BarGraphItem)):
                out.add((id(it), None))
    return out


def problems_text(results: dict[str, dict[str, list[str]]]) -> str:
    return "\n".join(p for r in results.values() for ps in r.values() for p in ps)


def zoom(panel: ChartsPanel, lo: float, hi: float) -> None:
    """What a user's zoom does: the charts stop following and show [lo, hi]."""
    panel.set_follow(False)
    panel.rates.plot.setXRange(lo, hi, padding=0)
    QApplication.processEvents()


def active_range(model: RunModel, until: float | None = None) -> tuple[float, float]:
    """From a little before the first put (or join()) to the end: the part of a short run
    with data."""
    end = model.last_t if until is None else until
    moments = [t for t in (model.join_called_t, model.producers_joined_t) if t is not None]
    first = min([float(model.s_t[0]), *moments]) if model.s_t else 0.0
    pad = 0.03 * (end - first)
    return max(0.0, first - pad), end + pad


# The items register themselves on import (after everything above exists).
import tests.gui.chartitems  # noqa: E402, F401
