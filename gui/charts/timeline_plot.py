"""Per-worker timeline: one row per producer and consumer, coloured by what the worker does."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from pyqtgraph import Qt as pgQt
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QFont, QFontMetricsF, QPainter
from PySide6.QtWidgets import QStyleOptionGraphicsItem, QWidget

from engine.model import Activity, RunModel, WorkerInfo
from gui.charts.palette import ACTIVITY_WORDS, Theme, qcolor
from gui.charts.plotkit import Style, style_axes, swatch, time_only_navigation
from gui.charts.ring import GrowBuffer

TITLE = "Workers"
BAR_HEIGHT = 0.72  # of a row; the gap keeps neighbouring rows apart
ALWAYS_IN_LEGEND = (int(Activity.PROCESS), int(Activity.WAIT_GET))
MAX_LABELS = 400  # text items drawn per frame at most: beyond that nothing is readable anyway
_ENDED = (int(Activity.EXITED), int(Activity.DIED))


class TimelineRow:
    """One worker's closed intervals as numpy columns, synced from ``WorkerInfo.intervals``."""

    def __init__(self, worker: WorkerInfo) -> None:
        self.worker = worker
        self.t0 = GrowBuffer()
        self.t1 = GrowBuffer()
        self.act = GrowBuffer()
        self.label = GrowBuffer()
        self.failed = GrowBuffer()  # indices of FAILED intervals: never lost to sampling
        self.seen = 0

    def sync(self) -> bool:
        """Take the intervals added since the last call; True if there were any."""
        src = self.worker.intervals
        n = len(src)
        if n == self.seen:
            return False
        a = np.array(src[self.seen : n], dtype=np.float64).reshape(-1, 4)
        base = self.t0.n
        self.t0.extend(a[:, 0])
        self.t1.extend(a[:, 1])
        self.act.extend(a[:, 2])
        self.label.extend(a[:, 3])
        bad = np.flatnonzero(a[:, 2] == int(Activity.FAILED))
        if bad.size:
            self.failed.extend(bad + base)
        self.seen = n
        return True

    def at(self, t: float, now: float) -> tuple[float, float, int, int] | None:
        """The interval (t0, t1, activity, label) covering time ``t``, the open one included."""
        w = self.worker
        if w.since <= t <= max(now, w.since):
            return (w.since, max(now, w.since), int(w.activity), -1)
        t1 = self.t1.view()
        i = int(np.searchsorted(t1, t, side="left"))
        if i < t1.size and self.t0.view()[i] <= t:
            return (
                float(self.t0.view()[i]),
                float(t1[i]),
                int(self.act.view()[i]),
                int(self.label.view()[i]),
            )
        return None


class TimelineItem(pg.GraphicsObject):
    """Draws every row's bars with one ``drawRects`` call per activity.

    Geometry is rebuilt only when the data or the visible range change. When a row has more
    intervals in view than there are pixels, it is sampled once per pixel column (consecutive
    equal columns merge into one bar), so the cost follows the width of the plot, not the
    length of the run; failures are always drawn, however short.
    """

    def __init__(self, theme: Theme) -> None:
        super().__init__()
        self.rows: list[TimelineRow] = []
        self.now = 0.0
        self.theme = theme
        self._version = 0
        self._cache_key: tuple | None = None
        self._rects: dict[int, object] = {}
        self._prims: dict[int, object] = {}
        self._labels: list[tuple[float, float, int, str]] = []
        self._brushes: dict[int, object] = {}
        self._font = QFont()
        self.set_theme(theme)

    # ----------------------------------------------------------------- state
    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        self._brushes = {a: pg.mkBrush(qcolor(c)) for a, c in theme.activities.items()}
        # Hatched, so "not started yet" never reads as "waiting in get()".
        hatch = pg.mkBrush(qcolor(theme.activities[Activity.WAIT_GET]))
        hatch.setStyle(Qt.BrushStyle.BDiagPattern)
        self._brushes[int(Activity.STARTING)] = hatch
        self.update()

    def set_font(self, font: QFont) -> None:
        self._font = QFont(font)
        self.update()

    def set_rows(self, rows: list[TimelineRow]) -> None:
        self.prepareGeometryChange()
        self.rows = rows
        self._version += 1
        self.update()

    def sync(self, now: float) -> bool:
        """Pull new intervals from the workers; True if anything visible changed."""
        changed = False
        for row in self.rows:
            changed |= row.sync()
        if now != self.now:
            if int(now) != int(self.now):
                self.prepareGeometryChange()
            self.now = now
            changed = True
        if changed:
            self._version += 1
            self.update()
        return changed

    def boundingRect(self) -> QRectF:
        right = max(1.0, float(int(self.now) + 1))
        return QRectF(0.0, -0.5, right, max(1, len(self.rows)))

    # ----------------------------------------------------------------- geometry
    def _geometry(self, xmin: float, xmax: float, width_px: float) -> None:
        key = (self._version, xmin, xmax, width_px)
        if key == self._cache_key:
            return
        self._cache_key = key
        per_act: dict[int, list[np.ndarray]] = {}
        labels: list[tuple[float, float, int, str]] = []
        cols = max(16, int(width_px))
        px = (xmax - xmin) / cols if xmax > xmin else 1.0
        for r, row in enumerate(self.rows):
            t0, t1 = row.t0.view(), row.t1.view()
            act, lab = row.act.view(), row.label.view()
            lo = int(np.searchsorted(t1, xmin, side="left"))
            hi = int(np.searchsorted(t0, xmax, side="right"))
            hi = max(hi, lo)
            if hi - lo <= cols:
                xs, xe, ac = t0[lo:hi], t1[lo:hi], act[lo:hi]
                lb = lab[lo:hi]
                # A one-pixel gap after each task, so back-to-back tasks read as separate bars.
                xe = np.where((ac == int(Activity.PROCESS)) & (xe - xs > 4 * px), xe - px, xe)
                for i in np.flatnonzero(
                    ((ac == int(Activity.PROCESS)) | (ac == int(Activity.FAILED)))
                    & ((xe - xs) > 12 * px)
                    & (lb >= 0)
                )[: MAX_LABELS - len(labels)]:
                    labels.append((float(xs[i]), float(xe[i]), r, str(int(lb[i]))))
            else:
                # Sample once per pixel column: what the worker did at the column's centre.
                c = xmin + (np.arange(cols) + 0.5) * px
                idx = lo + np.searchsorted(t1[lo:hi], c, side="left")
                ok = idx < hi
                idx = np.minimum(idx, hi - 1)
                ok &= t0[idx] <= c
                a = np.where(ok, act[idx], -1.0)
                edge = np.flatnonzero(np.diff(a)) + 1
                starts = np.concatenate(([0], edge))
                ends = np.concatenate((edge, [cols]))
                ac = a[starts]
                keep = ac >= 0
                xs = xmin + starts[keep] * px
                xe = xmin + ends[keep] * px
                ac = ac[keep]
                f = row.failed.view().astype(np.intp)
                if f.size:
                    f = f[(t1[f] >= xmin) & (t0[f] <= xmax)]
                    # At least one pixel wide, so a failure never disappears when zoomed out.
                    xs = np.concatenate((xs, t0[f]))
                    xe = np.concatenate((xe, np.maximum(t1[f], t0[f] + px)))
                    ac = np.concatenate((ac, act[f]))
            w = row.worker
            if w.since <= xmax and self.now >= xmin:
                end = max(self.now, w.since)
                if w.activity in _ENDED:
                    end = max(end, w.since + px)
                xs = np.concatenate((xs, [w.since]))
                xe = np.concatenate((xe, [end]))
                ac = np.concatenate((ac, [float(w.activity)]))
                if w.activity == Activity.DIED:
                    labels.append((w.since, end, r, f"died · exit code {w.exitcode}"))
            if xs.size:
                y = np.full(xs.size, r - BAR_HEIGHT / 2)
                block = np.column_stack((xs, y, xe - xs, np.full(xs.size, BAR_HEIGHT)))
                for a_val in np.unique(ac):
                    per_act.setdefault(int(a_val), []).append(block[ac == a_val])
        rects: dict[int, object] = {}
        for a_val, blocks in per_act.items():
            arr = np.concatenate(blocks)
            prim = self._prims.get(a_val)
            if prim is None:  # kept across frames: only its numpy storage is rewritten
                prim = self._prims[a_val] = pgQt.internals.PrimitiveArray(QRectF, 4)
            prim.resize(arr.shape[0])
            prim.ndarray()[:] = arr
            rects[a_val] = prim
        self._rects = rects
        self._labels = labels

    # ----------------------------------------------------------------- paint
    def paint(
        self, p: QPainter, opt: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        vb = self.getViewBox()
        if vb is None or not self.rows:
            return
        (xmin, xmax), _ = vb.viewRange()
        self._geometry(xmin, xmax, vb.width())
        p.setPen(Qt.PenStyle.NoPen)
        # Failures and deaths last, so they stay on top of anything they overlap.
        order = sorted(self._rects, key=lambda a: a in (Activity.FAILED, Activity.DIED))
        for a_val in order:
            p.setBrush(self._brushes.get(a_val, pg.mkBrush("#888888")))
            p.drawRects(*self._rects[a_val].drawargs())
        if self._labels:
            self._paint_labels(p)

    def _paint_labels(self, p: QPainter) -> None:
        tr = p.transform()
        fm = QFontMetricsF(self._font)
        p.save()
        p.resetTransform()
        p.setFont(self._font)
        p.setPen(qcolor(self.theme.label_text))
        for x0, x1, r, text in self._labels:
            a = tr.map(QPointF(x0, r - BAR_HEIGHT / 2))
            b = tr.map(QPointF(x1, r + BAR_HEIGHT / 2))
            box = QRectF(a, b).normalized()
            words = text if not text[0].isdigit() else f"task {text}"
            if fm.horizontalAdvance(words) + 6 > box.width():
                words = text
            if fm.horizontalAdvance(words) + 4 > box.width() and not text.startswith("died"):
                continue
            if fm.height() > box.height() + 2:
                continue
            if text.startswith("died"):
                box.setWidth(max(box.width(), fm.horizontalAdvance(words) + 8))
            p.drawText(box, int(Qt.AlignmentFlag.AlignCenter), words)
        p.restore()


def worker_rows(model: RunModel | None) -> list[TimelineRow]:
    """Rows in display order: producers then consumers, as the model numbers them."""
    if model is None:
        return []
    return [TimelineRow(w) for _, w in sorted(model.workers.items()) if _ > 0]


class TimelineChart:
    """The plot around :class:`TimelineItem`: worker names as y ticks, row 0 on top."""

    title = TITLE

    def __init__(self, plot: pg.PlotItem, theme: Theme) -> None:
        self.plot = plot
        time_only_navigation(plot)
        plot.invertY(True)
        self.item = TimelineItem(theme)
        plot.addItem(self.item)
        self.curves: list = []
        self.rows: list[TimelineRow] = []
        self._n_workers = -1
        self.seen: set[int] = set(ALWAYS_IN_LEGEND)
        self._checked: dict[int, int] = {}
        self._set_ticks()

    def legend_entries(self, theme: Theme) -> list[tuple[object, str]]:
        """The colours this run has shown so far (a short key: the full one has nine)."""
        return [(swatch(theme.activities[a]), words) for a, words in ACTIVITY_WORDS.items()
                if a in self.seen]

    def _note_activities(self) -> bool:
        """Add the activities of new intervals to ``seen``; True if that grew it."""
        before = len(self.seen)
        for row in self.rows:
            n = row.t0.n
            if n > self._checked.get(id(row), 0):
                new = np.unique(row.act.view()[self._checked.get(id(row), 0):n])
                self.seen.update(int(a) for a in new)
                self._checked[id(row)] = n
            self.seen.add(int(row.worker.activity))
        return len(self.seen) > before

    def apply(self, theme: Theme, style: Style) -> None:
        style_axes(self.plot, theme, style)
        self.plot.getAxis("right").setStyle(showValues=False)
        self.item.set_theme(theme)
        self.item.set_font(style.font())

    def set_model(self, model: RunModel | None) -> None:
        self.rows = worker_rows(model)
        self._n_workers = len(model.workers) if model is not None else -1
        self.seen = set(ALWAYS_IN_LEGEND)
        self._checked = {}
        self.item.set_rows(self.rows)
        self.item.now = 0.0
        self._set_ticks()

    def _set_ticks(self) -> None:
        names = [(i, r.worker.name) for i, r in enumerate(self.rows)]
        self.plot.getAxis("left").setTicks([names, []])
        n = max(1, len(self.rows))
        self.plot.setYRange(-0.5, n - 0.5, padding=0.02)

    def sync(self, model: RunModel, now: float) -> bool:
        """Pull new intervals; True if the legend needs new entries."""
        if len(model.workers) != self._n_workers:
            self.set_model(model)
        self.item.sync(now)
        return self._note_activities()

    def lookup(self, model: RunModel, row: int, t: float) -> str | None:
        """Words for what worker ``row`` did at time ``t`` (for the hover readout)."""
        if not 0 <= row < len(self.rows):
            return None
        r = self.rows[row]
        hit = r.at(t, self.item.now)
        if hit is None:
            return None
        t0, t1, act, label = hit
        w = r.worker
        if t0 == w.since and act == int(w.activity) and w.task in model.tasks:
            label = model.tasks[w.task][0]
        a = Activity(act)
        if a in (Activity.PROCESS, Activity.FAILED) and label >= 0:
            what = f"{'processing' if a == Activity.PROCESS else 'failed on'} task {label}"
        elif a == Activity.DIED:
            what = f"died, exit code {w.exitcode}"
        else:
            what = ACTIVITY_WORDS[a]
        return f"{w.name}: {what} ({t0:.3f}–{t1:.3f} s)"
