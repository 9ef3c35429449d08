"""Incremental peak decimation of the counter curves while the charts follow a live run."""

from __future__ import annotations

import math

import numpy as np

from gui.charts.buffers import GrowBuffer
from gui.charts.series import bin_peaks

MIN_POINTS_FOR_BINS = 4  # a region this short is drawn point by point


def bin_width(span: float, width_px: float) -> float:
    """The smallest power of two (in seconds) at least one pixel column of ``span`` over
    ``width_px`` wide: bins of one to two pixels, two points each, and the same width while
    the span changes by less than a factor of two."""
    px = span / max(16.0, width_px)
    return 2.0 ** math.ceil(math.log2(px)) if px > 0 else 0.0


class StepLOD:
    """Per-bin peaks of the expanded counter polylines, for one bin width, kept as they grow.

    Bins are aligned on multiples of the bin width, so a bin once complete never changes: a
    frame folds in only the points added since the last one, and drawing the visible part is
    a slice of the bins. Every non-empty bin gives two points, at the x of its first and last
    points: a rising series' first and last values, any other series' maximum then minimum
    (:func:`gui.charts.series.bin_peaks`, as in :func:`~gui.charts.series.decimate`). The
    points of the last, incomplete bin are reduced on the fly, and the very last point (the
    "now" tail) is always kept.
    """

    def __init__(self, names: tuple[str, ...], rising: frozenset[str]) -> None:
        self.names = names
        self.rising = rising
        self.bw = 0.0
        self.done = 0  # expanded points folded into complete bins
        self.ia = GrowBuffer()  # index of each bin's first point
        self.xa = GrowBuffer()
        self.xb = GrowBuffer()
        self.ya = {k: GrowBuffer() for k in names}
        self.yb = {k: GrowBuffer() for k in names}

    def _buffers(self) -> tuple[GrowBuffer, ...]:
        return (self.ia, self.xa, self.xb, *self.ya.values(), *self.yb.values())

    def reset(self, bw: float = 0.0) -> None:
        self.bw = bw
        self.done = 0
        for b in self._buffers():
            b.clear()

    def _coarsen(self, bw: float) -> None:
        """Go to a wider bin (a power-of-two multiple) by merging the bins already made: what
        a growing view needs, in O(bins) instead of O(points)."""
        xa = self.xa.view()
        starts = np.flatnonzero(np.diff(np.floor(xa / bw))) + 1
        starts = np.concatenate(([0], starts)) if xa.size else starts
        ends = np.concatenate((starts[1:], [xa.size])) - 1
        merged = {
            "ia": self.ia.view()[starts], "xa": xa[starts], "xb": self.xb.view()[ends],
        }
        ya = {}
        yb = {}
        for k in self.names:
            a, b = self.ya[k].view(), self.yb[k].view()
            ya[k], yb[k] = bin_peaks(a, b, starts, ends, k in self.rising)
        for b in self._buffers():
            b.clear()
        self.ia.extend(merged["ia"])
        self.xa.extend(merged["xa"])
        self.xb.extend(merged["xb"])
        for k in self.names:
            self.ya[k].extend(ya[k])
            self.yb[k].extend(yb[k])
        self.bw = bw

    def _bin_starts(self, x: np.ndarray, a: int, b: int) -> np.ndarray:
        k = np.floor(x[a:b] / self.bw)
        return np.concatenate(([a], np.flatnonzero(np.diff(k)) + 1 + a))

    def _reduce(self, x: np.ndarray, ys: dict[str, np.ndarray], a: int, b: int
                ) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray], dict[str, np.ndarray]]:
        """Bins of points ``[a, b)``: x of first and last point, first/last or max/min."""
        xs = x[a:b]
        k = np.floor(xs / self.bw)
        starts = np.flatnonzero(np.diff(k)) + 1
        starts = np.concatenate(([0], starts))
        ends = np.concatenate((starts[1:], [xs.size])) - 1
        ya: dict[str, np.ndarray] = {}
        yb: dict[str, np.ndarray] = {}
        for name in self.names:
            y = ys[name][a:b]
            ya[name], yb[name] = bin_peaks(y, y, starts, ends, name in self.rising)
        return xs[starts], xs[ends], ya, yb

    def update(self, x: np.ndarray, ys: dict[str, np.ndarray], bw: float) -> None:
        """Fold the complete bins among ``x`` (the expanded polyline, tail included)."""
        n = x.size - 1  # the last point is the moving "now" tail: never folded
        if x.size < self.done or bw <= 0:
            self.reset(bw)
        elif bw != self.bw:
            ratio = bw / self.bw if self.bw > 0 else 0.0
            if self.done and ratio > 1 and ratio == 2.0 ** round(math.log2(ratio)):
                self._coarsen(bw)
            else:
                self.reset(bw)
        if n <= 0 or bw <= 0:
            return
        if self.xa.n and self.done < x.size and (
                math.floor(x[self.done] / bw) == math.floor(self.xa.last() / bw)):
            # After a merge the newest bin may be one the next points still fall in: unfold it.
            self.done = int(self.ia.last())
            for b in self._buffers():
                b.n -= 1
        if n <= self.done:
            return
        last_bin_start = math.floor(x[n - 1] / bw) * bw
        stable = int(np.searchsorted(x[:n], last_bin_start, side="left"))
        if stable <= self.done:
            return
        ia = self._bin_starts(x, self.done, stable)
        xa, xb, ya, yb = self._reduce(x, ys, self.done, stable)
        self.ia.extend(ia)
        self.xa.extend(xa)
        self.xb.extend(xb)
        for name in self.names:
            self.ya[name].extend(ya[name])
            self.yb[name].extend(yb[name])
        self.done = stable

    def follow(self, x: np.ndarray, ys: dict[str, np.ndarray], xmin: float, xmax: float,
               width_px: float) -> bool:
        """:meth:`update` for a view of ``[xmin, xmax]`` on ``width_px`` that follows the run;
        False (nothing done) when the view holds too few points to be worth binning."""
        if x.size - int(np.searchsorted(x, xmin)) <= 2 * max(16, int(width_px)):
            return False
        self.update(x, ys, bin_width(xmax - xmin, width_px))
        return True

    def decimated(self, x: np.ndarray, ys: dict[str, np.ndarray], xmin: float, xmax: float
                  ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """The visible bins as one polyline per series, sharing x (call :meth:`update` first)."""
        xa, xb = self.xa.view(), self.xb.view()
        lo = max(0, int(np.searchsorted(xb, xmin, side="left")) - 1)
        hi = int(np.searchsorted(xa, xmax, side="right"))
        parts_x = [np.column_stack((xa[lo:hi], xb[lo:hi])).ravel()]
        parts_y = {k: [np.column_stack((self.ya[k].view()[lo:hi],
                                        self.yb[k].view()[lo:hi])).ravel()] for k in self.names}
        n = x.size - 1
        if n - self.done >= MIN_POINTS_FOR_BINS:
            txa, txb, tya, tyb = self._reduce(x, ys, self.done, n)
            parts_x.append(np.column_stack((txa, txb)).ravel())
            for k in self.names:
                parts_y[k].append(np.column_stack((tya[k], tyb[k])).ravel())
            tail = slice(n, x.size)
        else:
            tail = slice(self.done, x.size)
        parts_x.append(x[tail])
        for k in self.names:
            parts_y[k].append(ys[k][tail])
        return np.concatenate(parts_x), {k: np.concatenate(v) for k, v in parts_y.items()}
