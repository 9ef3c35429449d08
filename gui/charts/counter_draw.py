"""CounterDrawer: the counters decimated for the visible range, once per change, for two charts."""

from __future__ import annotations

import numpy as np

from gui.charts.buffers import StepSeries
from gui.charts.flow_plot import FlowChart
from gui.charts.lod import StepLOD
from gui.charts.series import decimate
from gui.charts.unfinished_plot import UnfinishedChart

DRAWN = ("in_flight", "unfinished", "puts", "gets", "dones")  # depth is the band between
RISING = frozenset(("puts", "gets", "dones"))


class CounterDrawer:
    """Decimates the counters for the visible range and hands them to the unfinished and
    flow charts; nothing when neither the data, the range nor the cut changed."""

    def __init__(self, unfinished: UnfinishedChart, flow: FlowChart) -> None:
        self.unfinished = unfinished
        self.flow = flow
        self._lod = StepLOD(DRAWN, RISING)
        self.key: tuple | None = None  # what was drawn last (None: draw at the next call)

    def reset(self) -> None:
        self._lod.reset()
        self.key = None

    def draw(self, c: StepSeries, xmin: float, xmax: float, width: float, follow: bool,
             until: float | None) -> None:  # fmt: skip
        """Draw ``c`` over ``[xmin, xmax]`` (``until``: as it was then; None: all of it)."""
        key = (len(c), c.now, xmin, xmax, width, until)
        if key == self.key:
            return
        self.key = key
        if until is not None:
            xd, yd = self._until(c, until, xmin, xmax, width)
        else:
            x, ys = c.drawn(DRAWN)
            # Following, the view ends at the newest point: the bins of the incremental
            # decimation cover it, and a frame only folds in what arrived (in the first 30 s,
            # while the view still widens, the bins are rebuilt each time it doubles).
            # Otherwise the visible range is decimated afresh, as a zoom or pan needs.
            if follow and self._lod.follow(x, ys, xmin, xmax, width):
                xd, yd = self._lod.decimated(x, ys, xmin, xmax)
            else:
                xd, yd = decimate(x, ys, xmin, xmax, width, rising=RISING)
        self.unfinished.update_data(xd, yd)
        self.flow.update_data(xd, yd)

    def fold(self, c: StepSeries, xmin: float, xmax: float, width: float) -> None:
        """Fold what arrived into the follow-mode bins without drawing (a run's end comes in
        paced frames and is drawn once, when all is in: this keeps that frame short)."""
        self._lod.follow(*c.drawn(DRAWN), xmin, xmax, width)

    @staticmethod
    def _until(c: StepSeries, until: float, xmin: float, xmax: float,
               width: float) -> tuple[np.ndarray, dict[str, np.ndarray]]:  # fmt: skip
        """The steps up to ``until``, decimated (views of the whole run's arrays, no copy),
        each counter's value then held to ``until``."""
        n = c.upto(until)
        x, ys = c.drawn(DRAWN)
        x = x[:n]
        xd, yd = decimate(x, {k: y[:n] for k, y in ys.items()}, xmin, xmax, width,
                          rising=RISING)  # fmt: skip
        if n:
            xd = np.append(xd, max(until, float(x[-1])))
            yd = {k: np.append(v, ys[k][n - 1]) for k, v in yd.items()}
        return xd, yd
