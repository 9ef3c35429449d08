"""Per-worker timeline: one row per producer and consumer, coloured by what the worker does."""

from __future__ import annotations

import re
from itertools import chain

import numpy as np
import pyqtgraph as pg
from pyqtgraph import Qt as pgQt
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QFont, QFontMetricsF, QPainter
from PySide6.QtWidgets import QStyleOptionGraphicsItem, QWidget

from engine.model import Activity, RunModel, WorkerInfo
from engine.tasks import distinct
from gui.charts.buffers import GrowBuffer
from gui.charts.legend import Entry
from gui.charts.marks import ERROR_WORDS, ErrorMarks
from gui.charts.palette import ACTIVITY_SHORT, ACTIVITY_WORDS, Theme, qcolor
from gui.charts.plotkit import Style, style_axes, swatch, time_only_navigation

TITLE = "Workers"
BAR_HEIGHT = 0.72  # of a row; the gap keeps neighbouring rows apart
ALWAYS_IN_LEGEND = (int(Activity.PROCESS), int(Activity.WAIT_GET))
MAX_LABELS = 400  # text items drawn per frame at most: beyond that nothing is readable anyway
ROW_RESERVE_MAX = 1 << 20  # intervals reserved per row up front, at most
_ENDED = (int(Activity.EXITED), int(Activity.DIED))


def stopped(w: WorkerInfo, stop_t: float | None) -> bool:
    """The worker was ended by Stop (or the hang timeout), not by a fault of its own.

    The same rule as ``RunModel.dead_workers``: a death after the stop was asked for.
    """
    return w.stopped_by(stop_t)


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

    def reserve(self, n: int) -> None:
        for b in (self.t0, self.t1, self.act, self.label):
            b.reserve(n)

    def sync(self, limit: int | None = None) -> bool:
        """Take the intervals added since the last call (at most ``limit``); True if any."""
        src = self.worker.intervals
        n = len(src)
        if limit is not None:
            n = min(n, self.seen + limit)
        if n == self.seen:
            return False
        # The model's IntervalLog hands out columns (no tuple per interval); a plain list of
        # tuples goes through fromiter over the flattened tuples (np.array() on a list of
        # tuples first works out its shape, element by element, at three times the cost).
        if hasattr(src, "columns"):
            cols = src.columns(self.seen, n)
        else:
            a = np.fromiter(chain.from_iterable(src[self.seen : n]), dtype=np.float64,
                            count=4 * (n - self.seen)).reshape(-1, 4)
            cols = (a[:, 0], a[:, 1], a[:, 2], a[:, 3])
        base = self.t0.n
        self.t0.extend(cols[0])
        self.t1.extend(cols[1])
        self.act.extend(cols[2])
        self.label.extend(cols[3])
        bad = np.flatnonzero(cols[2] == int(Activity.FAILED))
        if bad.size:
            self.failed.extend(bad + base)
        self.seen = n
        return True

    def at(
        self, t: float, now: float, until: float | None = None
    ) -> tuple[float, float, int, int] | None:
        """The interval (t0, t1, activity, label) covering time ``t``, the open one included
        (none after ``until``, the one open there ending at it)."""
        w = self.worker
        if until is not None and t > until:
            return None
        if w.since <= t <= max(now, w.since):
            return (w.since, max(now, w.since), int(w.activity), -1)
        t1 = self.t1.view()
        i = int(np.searchsorted(t1, t, side="left"))
        if i < t1.size and self.t0.view()[i] <= t:
            return (
                float(self.t0.view()[i]),
                float(t1[i] if until is None else min(t1[i], until)),
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
        # The model holds the whole run; draw it as it was at this time (a replay's playhead).
        self.until: float | None = None
        self.stop_t: float | None = None  # the run's Stop: deaths after it are "stopped"
        self.behind = self._unpainted = False  # _unpainted: a quiet sync took rows' data
        self._bounds_key: tuple[float, int] | None = None
        self._bounds = QRectF()
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
        self._brushes = {int(a): activity_brush(theme, Activity(a)) for a in theme.activities}
        self.update()

    def set_font(self, font: QFont) -> None:
        self._font = QFont(font)
        self.update()

    def set_rows(self, rows: list[TimelineRow]) -> None:
        self.prepareGeometryChange()
        self.rows = rows
        self._version += 1
        self.update()

    def sync(self, now: float, limit: int | None = None, until: float | None = None,
             quiet: bool = False) -> bool:  # fmt: skip
        """Pull new intervals (at most ``limit`` per row); True if anything visible changed;
        ``behind``: a row has more. ``quiet``: repainted at the next sync that is not."""
        changed = until != self.until or self._unpainted
        self.until = until
        self.behind = False
        for row in self.rows:
            changed |= row.sync(limit)
            self.behind |= row.seen < len(row.worker.intervals)
        if now != self.now:
            if int(now) != int(self.now):
                self.prepareGeometryChange()
            self.now = now
            changed = True
        if changed:
            self._version, self._unpainted = self._version + 1, quiet
            if not quiet:
                self.update()
        return changed

    def boundingRect(self) -> QRectF:
        right = max(1.0, float(int(self.now) + 1))
        key = (right, len(self.rows))
        if key != self._bounds_key:  # asked several times a frame: built once per change
            self._bounds_key = key
            self._bounds = QRectF(0.0, -0.5, right, max(1, len(self.rows)))
        return self._bounds

    # ----------------------------------------------------------------- geometry
    def _geometry(self, xmin: float, xmax: float, width_px: float) -> None:
        key = (self._version, xmin, xmax, width_px)
        if key == self._cache_key:
            return
        self._cache_key = key
        labels: list[tuple[float, float, int, str]] = []
        cols = max(16, int(width_px))
        px = (xmax - xmin) / cols if xmax > xmin else 1.0
        # Rects as parallel columns (x start, x end, row, activity), gathered from every row
        # and split by activity once at the end.
        xs_parts: list[np.ndarray] = []
        xe_parts: list[np.ndarray] = []
        r_parts: list[np.ndarray] = []
        a_parts: list[np.ndarray] = []

        def add(xs: np.ndarray, xe: np.ndarray, r: int | np.ndarray, ac: np.ndarray) -> None:
            if xs.size:
                xs_parts.append(xs)
                xe_parts.append(xe)
                r_parts.append(np.broadcast_to(np.asarray(r, dtype=np.float64), xs.shape))
                a_parts.append(ac)

        sampled: list[int] = []
        samples: list[np.ndarray] = []
        centres = xmin + (np.arange(cols) + 0.5) * px
        until = self.until
        right = xmax if until is None else min(xmax, until)
        if until is not None:
            centres = np.where(centres <= until, centres, np.nan)  # nothing after the cut
        for r, row in enumerate(self.rows):
            t0, t1 = row.t0.view(), row.t1.view()
            act, lab = row.act.view(), row.label.view()
            lo = int(np.searchsorted(t1, xmin, side="left"))
            hi = max(lo, int(np.searchsorted(t0, right, side="right")))
            if hi - lo <= cols:
                xs, xe, ac = t0[lo:hi], t1[lo:hi], act[lo:hi]
                if until is not None:  # the interval open at the cut ends there
                    xe = np.minimum(xe, until)
                lb = lab[lo:hi]
                # A one-pixel gap after each task, so back-to-back tasks read as separate bars.
                xe = np.where((ac == int(Activity.PROCESS)) & (xe - xs > 4 * px), xe - px, xe)
                for i in np.flatnonzero(
                    ((ac == int(Activity.PROCESS)) | (ac == int(Activity.FAILED)))
                    & ((xe - xs) > 12 * px)
                    & (lb >= 0)
                )[: MAX_LABELS - len(labels)]:
                    labels.append((float(xs[i]), float(xe[i]), r, str(int(lb[i]))))
                add(xs, xe, r, ac)
            else:
                # More intervals than pixels: what the worker did at each column's centre.
                found = lo + np.searchsorted(t1[lo:hi], centres, side="left")
                idx = np.minimum(found, hi - 1)
                covered = (found < hi) & (t0[idx] <= centres)
                samples.append(np.where(covered, act[idx], -1.0))
                sampled.append(r)
                f = row.failed.view().astype(np.intp)
                if f.size:
                    f = f[(t1[f] >= xmin) & (t0[f] <= right)]
                    # At least one pixel wide, so a failure never disappears when zoomed out.
                    fe = np.maximum(t1[f], t0[f] + px)
                    add(t0[f], fe if until is None else np.minimum(fe, until), r, act[f])
            w = row.worker
            if w.since <= right and self.now >= xmin:
                end = max(self.now, w.since)
                if w.activity in _ENDED:
                    end = max(end, w.since + px)
                act = w.activity
                if act == Activity.DIED and stopped(w, self.stop_t):
                    # Killed by Stop: an ending like any other, not a fault of the worker.
                    act = Activity.EXITED
                    labels.append((w.since, end, r, "stopped"))
                elif act == Activity.DIED:
                    labels.append((w.since, end, r, f"died · exit code {w.exitcode}"))
                add(np.array([w.since]), np.array([end]), r, np.array([float(act)]))
        if samples:
            # Runs of equal columns, in all sampled rows at once (a row's first column always
            # starts a run).
            grid = np.vstack(samples)
            start = np.ones(grid.shape, dtype=bool)
            start[:, 1:] = grid[:, 1:] != grid[:, :-1]
            rr, cc = np.nonzero(start)
            nxt = np.empty_like(cc)
            nxt[:-1] = cc[1:]
            nxt[-1] = cols
            nxt[:-1][rr[1:] != rr[:-1]] = cols
            ac = grid[rr, cc]
            keep = ac >= 0
            add(xmin + cc[keep] * px, xmin + nxt[keep] * px,
                np.asarray(sampled, dtype=np.float64)[rr[keep]], ac[keep])
        rects: dict[int, object] = {}
        if xs_parts:
            xs = np.concatenate(xs_parts)
            xe = np.concatenate(xe_parts)
            rows = np.concatenate(r_parts)
            acts = np.concatenate(a_parts)
            block = np.column_stack((xs, rows - BAR_HEIGHT / 2, xe - xs,
                                     np.full(xs.size, BAR_HEIGHT)))
            for a_val in distinct(acts.astype(np.int64)):  # counted, not sorted (np.unique)
                arr = block[acts == a_val]
                prim = self._prims.get(int(a_val))
                if prim is None:  # kept across frames: only its numpy storage is rewritten
                    prim = self._prims[int(a_val)] = pgQt.internals.PrimitiveArray(QRectF, 4)
                prim.resize(arr.shape[0])
                prim.ndarray()[:] = arr
                rects[int(a_val)] = prim
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
            self._paint_labels(p, xmax)

    def _paint_labels(self, p: QPainter, xmax: float) -> None:
        tr = p.transform()
        right_edge = tr.map(QPointF(xmax, 0.0)).x()  # the view's right side, in pixels
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
            ending = text.startswith(("died", "stopped"))
            if fm.horizontalAdvance(words) + 4 > box.width() and not ending:
                continue
            if fm.height() > box.height() + 2:
                continue
            if ending and fm.horizontalAdvance(words) + 8 > box.width():
                # The ending's bar is too short for its word (a run that ended right after):
                # the word goes beside the bar, in a colour that reads on the background.
                beside = QRectF(box.right() + 4, box.top(), fm.horizontalAdvance(words) + 8,
                                box.height())
                if beside.right() > right_edge - 2:
                    # No room after the bar (it ends at the view's edge): the word goes over
                    # the bars before it, on a patch of background so it stays readable.
                    beside.moveRight(min(box.left(), right_edge) - 2)
                    p.fillRect(beside, qcolor(self.theme.background))
                colour = self.theme.warning if text.startswith("died") else self.theme.foreground
                p.setPen(qcolor(colour))
                p.drawText(beside, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                           words)
                p.setPen(qcolor(self.theme.label_text))
                continue
            p.drawText(box, int(Qt.AlignmentFlag.AlignCenter), words)
        p.restore()


def activity_brush(theme: Theme, a: Activity) -> QBrush:
    """How the bars of activity ``a`` are filled (the legend's squares too)."""
    if a == Activity.STARTING:
        # Hatched, so "not started yet" never reads as "waiting in get()".
        hatch = pg.mkBrush(qcolor(theme.activities[Activity.WAIT_GET]))
        hatch.setStyle(Qt.BrushStyle.BDiagPattern)
        return hatch
    return pg.mkBrush(qcolor(theme.activities[a]))


def worker_rows(model: RunModel | None) -> list[TimelineRow]:
    """Rows in display order: producers then consumers, as the model numbers them."""
    workers = sorted(model.workers.items()) if model is not None else []
    return [TimelineRow(w) for src, w in workers if src > 0]


class TimelineChart:
    """The plot around :class:`TimelineItem`: worker names as y ticks, row 0 on top."""

    title = TITLE

    def __init__(self, plot: pg.PlotItem, theme: Theme) -> None:
        self.plot = plot
        time_only_navigation(plot)
        plot.invertY(True)
        self.item = TimelineItem(theme)
        plot.addItem(self.item)
        self.marks = ErrorMarks(plot)
        self.rows: list[TimelineRow] = []
        self._n_workers = -1
        self._reserved_for = -1
        self.seen: set[int] = set(ALWAYS_IN_LEGEND)
        self._checked: dict[int, int] = {}
        self._set_ticks()

    def legend_entries(self, theme: Theme) -> list[Entry]:
        """The colours this run has shown so far (a short key: the full one has nine)."""
        entries: list[Entry] = [(self._swatch(theme, a), words, ACTIVITY_SHORT[a])
                                for a, words in ACTIVITY_WORDS.items() if a in self.seen]
        if self.marks.shown:
            entries.append((self.marks.item, ERROR_WORDS, "task_done() error"))
        return entries

    def _swatch(self, theme: Theme, a: Activity) -> pg.BarGraphItem:
        """The legend's square for ``a``, filled as the bars are (hatched for "starting")."""
        item = swatch(theme.activities[a])
        if a == Activity.STARTING:
            item.setOpts(brush=activity_brush(theme, a))
        return item

    def _note_activities(self) -> bool:
        """Add the activities of new intervals to ``seen``; True if that grew it."""
        before = len(self.seen)
        for row in self.rows:
            n = row.t0.n
            if n > self._checked.get(id(row), 0):
                new = row.act.view()[self._checked.get(id(row), 0):n].astype(np.int64)
                self.seen.update(distinct(new))  # np.unique sorts, first imports numpy.ma
                self._checked[id(row)] = n
            w = row.worker
            # A worker ended by Stop is drawn (and keyed) as exited: "died" is for faults.
            ended_by_stop = w.activity == Activity.DIED and stopped(w, self.item.stop_t)
            self.seen.add(int(Activity.EXITED if ended_by_stop else w.activity))
        return len(self.seen) > before

    def apply(self, theme: Theme, style: Style) -> None:
        style_axes(self.plot, theme, style)
        self.plot.getAxis("right").setStyle(showValues=False)
        # Worker names have no tick marks before them: air between a name and the axis line.
        self.plot.getAxis("left").setStyle(tickTextOffset=8)
        self.item.set_theme(theme)
        self.item.set_font(style.font())
        self.marks.apply(theme, style)

    def set_model(self, model: RunModel | None) -> None:
        self.rows = worker_rows(model)
        self._reserved_for = -1
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

    def sync(self, model: RunModel, now: float, limit: int | None = None,
             until: float | None = None, quiet: bool = False) -> bool:  # fmt: skip
        """Pull new intervals (at most ``limit`` per row; ``quiet``: TimelineItem.sync's); True
        if the legend needs new entries. ``until``: the whole run's model, drawn as then."""
        if len(model.workers) != self._n_workers:
            self.set_model(model)
        if model.tasks_total != self._reserved_for:
            # Room for what the run announced (a get and a task per task at most, per row),
            # so a flood's rows never move their arrays mid-run (see GrowBuffer).
            self._reserved_for = model.tasks_total
            n = min(ROW_RESERVE_MAX, 2 * (model.tasks_total + len(self.rows)) + 64)
            for row in self.rows:
                row.reserve(n)
        self.item.stop_t = model.stop_t
        self.item.sync(now, limit, until, quiet)
        grew = self._note_activities()
        marks = self.marks.update(model, [r.worker.src for r in self.rows], until)
        return grew or marks

    @property
    def behind(self) -> bool:
        """The last sync stopped at its limit: some worker has more intervals waiting."""
        return self.item.behind

    def lookup(self, model: RunModel, row: int, t: float) -> str | None:
        """Words for what worker ``row`` did at time ``t`` (for the hover readout)."""
        if not 0 <= row < len(self.rows):
            return None
        r = self.rows[row]
        hit = r.at(t, self.item.now, self.item.until)
        if hit is None:
            return None
        t0, t1, act, label = hit
        w = r.worker
        if t0 == w.since and act == int(w.activity) and w.task in model.tasks:
            label = model.tasks[w.task][0]
        a = Activity(act)
        if a in (Activity.PROCESS, Activity.FAILED) and label >= 0:
            what = f"{'processing' if a == Activity.PROCESS else 'failed on'} task {label}"
        elif a == Activity.DIED and stopped(w, model.stop_t):
            what = f"stopped by Stop (killed, exit code {w.exitcode})"
        elif a == Activity.DIED:
            what = f"died, exit code {w.exitcode}"
        else:
            what = ACTIVITY_WORDS[a]
        words = f"{w.name}: {what} ({t0:.3f}–{t1:.3f} s)"
        # The user's own function (workload = "module:function"): what it returned or raised.
        if a == Activity.PROCESS and label in model.task_results:
            words += f"\nreturned {model.task_results[label]}"
        elif a == Activity.FAILED and label in model.task_tracebacks:
            raised = min(model.task_tracebacks[label], key=lambda e: abs(e[0] - t1))[1]
            words += "\n" + _traceback_tail(raised)
        return words


def _traceback_tail(text: str, frames: int = 2) -> str:
    """The innermost frames and the exception of a traceback, files by their base name."""
    lines = [line for line in text.splitlines() if not line.startswith("Traceback (")]
    start = max(0, len(lines) - 1 - 2 * frames)
    tail = [re.sub(r'File "(?:[^"]*[/\\])?([^"/\\]+)"', r'File "\1"', line)
            for line in lines[start:]]  # fmt: skip
    return "raised: " + "\n".join(tail).strip()
