"""SweepPlot: throughput per swept value, 95 % interval bars, the scalability fit, live."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QVBoxLayout, QWidget

from engine.distributions import format_number
from engine.usl import Fit
from gui.charts.palette import Theme, qcolor, theme_for_palette
from gui.charts.plotkit import Style, no_si_prefix, pen

# Okabe–Ito, as the charts' palette: one colour per value of a grid's second parameter.
SERIES = ("#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9")
TIME_KEYS = ("join_delay",)
MIN_FIT_POINTS = 3


def unit_of(key: str) -> str | None:
    """The unit of a swept key, for the axis label (None: a count or a plain number)."""
    name, _, part = key.partition(".")
    if part or name in TIME_KEYS:
        return "s"  # a distribution's number: seconds
    if name == "time_scale":
        return "×"
    return None


def axis_words(key: str) -> str:
    words = {"consumers": "consumers (processes)", "producers": "producers (processes)",
             "maxsize": "queue maxsize (tasks)", "tasks_per_producer": "tasks per producer",
             "failure_rate": "failure rate (share of tasks)"}  # fmt: skip
    unit = unit_of(key)
    return words.get(key, key) + (f" ({unit})" if unit else "")


class SweepPlot(QWidget):
    """A pyqtgraph plot redrawn whole from the rows after each run (a sweep has few points)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.theme: Theme = theme_for_palette(self.palette())
        self.style_ = Style()
        self.widget = pg.PlotWidget(self)
        self.widget.setObjectName("sweep_plot")
        self.plot: pg.PlotItem = self.widget.getPlotItem()
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        self.legend = self.plot.addLegend(offset=(-10, 10))
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.widget)
        # What is drawn, by role (tests read them): medians, intervals, fit, CPUs line.
        self.points: list[pg.ScatterPlotItem] = []
        self.bars: list[pg.ErrorBarItem] = []
        self.fits: list[pg.PlotDataItem] = []
        self.cpu_line: pg.InfiniteLine | None = None
        self._apply_look()

    def _apply_look(self) -> None:
        th, font = self.theme, self.style_.font()
        self.widget.setBackground(qcolor(th.background))
        for side in ("left", "bottom"):
            ax = self.plot.getAxis(side)
            ax.setPen(pen(th.foreground, 1))
            ax.setTextPen(pen(th.foreground, 1))
            ax.setStyle(tickFont=font)
            no_si_prefix(ax)
        self.legend.setLabelTextColor(qcolor(th.foreground))
        self.legend.setBrush(pg.mkBrush(qcolor(th.background + "e0")))

    def show_rows(self, key: str, other: str | None, rows: list[dict],
                  fit_list: list[tuple[dict, Fit | None]], cpus: int | None,
                  all_values: list[float]) -> None:  # fmt: skip
        """Draw ``rows`` (engine/sweep_report.point_stats'); ``all_values`` fix the x range."""
        self.plot.clear()
        self.legend.clear()
        self.points, self.bars, self.fits, self.cpu_line = [], [], [], None
        # Measured points per value of the other parameter (the fit's "for").
        self._measured: dict[tuple, int] = {}
        for r in rows:
            if r["throughput_median"]:
                where = tuple((k, v) for k, v in r["values"].items() if k != key)
                self._measured[where] = self._measured.get(where, 0) + 1
        th = self.theme
        label = {"color": th.foreground, "font-size": f"{self.style_.font_pt + 1}pt"}
        self.plot.setLabel("bottom", axis_words(key), **label)
        self.plot.setLabel("left", "throughput (tasks/s)", **label)
        for ax in ("left", "bottom"):
            no_si_prefix(self.plot.getAxis(ax))
        series: dict[object, list[dict]] = {}
        for r in rows:
            if r["throughput_median"]:
                series.setdefault(r["values"][other] if other else None, []).append(r)
        for i, (value, group) in enumerate(series.items()):
            colour = SERIES[i % len(SERIES)]
            group.sort(key=lambda r: r["values"][key])
            x = np.array([float(r["values"][key]) for r in group])
            y = np.array([float(r["throughput_median"]) for r in group])
            name = (f"{other} = {format_number(float(value))}" if other
                    else "median of the runs, bar: 95 % interval")
            line = pg.PlotDataItem(x, y, pen=pen(colour, 1.2))
            line.setOpacity(0.6)
            self.plot.addItem(line)
            ci = [r["throughput_ci"] for r in group]
            has = np.array([c is not None for c in ci])
            if has.any():
                lo = np.array([y[j] - c[0] if c else 0.0 for j, c in enumerate(ci)])
                hi = np.array([c[1] - y[j] if c else 0.0 for j, c in enumerate(ci)])
                bar = pg.ErrorBarItem(x=x[has], y=y[has], top=hi[has], bottom=lo[has],
                                      beam=self._beam(all_values), pen=pen(colour, 2))  # fmt: skip
                self.plot.addItem(bar)
                self.bars.append(bar)
            dots = pg.ScatterPlotItem(x, y, size=10, brush=pg.mkBrush(qcolor(colour)),
                                      pen=pg.mkPen(qcolor(th.background)), name=name)  # fmt: skip
            self.plot.addItem(dots)
            self.points.append(dots)
        self._draw_fits(key, fit_list, all_values)
        if key == "consumers" and cpus:
            self.cpu_line = pg.InfiniteLine(cpus, angle=90, movable=False,
                                            pen=pen(th.producers_line, 1, dash=True),
                                            label=f"{cpus} CPUs",
                                            labelOpts={"position": 0.06, "color": th.foreground,
                                                       "anchors": [(0, 1), (0, 1)]})  # fmt: skip
            self.plot.addItem(self.cpu_line, ignoreBounds=True)
        lo_x, hi_x = (min(all_values), max(all_values)) if all_values else (0.0, 1.0)
        pad = (hi_x - lo_x) * 0.06 or 0.5
        self.plot.setXRange(lo_x - pad, hi_x + pad, padding=0)
        tops = [(r["throughput_ci"] or [0, r["throughput_median"]])[1] for g in series.values()
                for r in g]  # fmt: skip
        # The fit may rise past the points: shown up to half as high again, then clipped.
        meds = [r["throughput_median"] for g in series.values() for r in g]
        fit_top = max((float(np.max(c.getData()[1])) for c in self.fits), default=0.0)
        top = max([*tops, min(fit_top, 1.5 * max(meds, default=0.0))], default=0.0)
        self.plot.setYRange(0.0, top * 1.15 if top > 0 else 1.0, padding=0)
        if len(set(all_values)) <= 12:
            ticks = [(v, format_number(float(v))) for v in sorted(set(all_values))]
            self.plot.getAxis("bottom").setTicks([ticks, []])
        else:
            self.plot.getAxis("bottom").setTicks(None)

    @staticmethod
    def _beam(values: list[float]) -> float:
        span = (max(values) - min(values)) if len(values) > 1 else 1.0
        return span * 0.03 or 0.1

    def _draw_fits(self, key: str, fit_list: list[tuple[dict, Fit | None]],
                   all_values: list[float]) -> None:  # fmt: skip
        if key != "consumers" or not all_values:
            return
        grid = np.linspace(max(1.0, min(all_values)), max(all_values), 120)
        for i, (where, fit) in enumerate(fit_list):
            # Two points fit any curve: drawn from three measured points on (the JSON export
            # and the table keep engine/usl's fit whatever the count).
            if fit is None or self._measured.get(tuple(where.items()), 0) < MIN_FIT_POINTS:
                continue
            colour = SERIES[i % len(SERIES)] if len(fit_list) > 1 else self.theme.foreground
            peak = "" if fit.peak_n is None else f", N* = {fit.peak_n:.1f}"
            model = "USL" if fit.model == "usl" else "Amdahl"
            words = (f"{model} fit: σ = {fit.sigma:.3f}, κ = {fit.kappa:.4f}"
                     f"{peak}, r² = {fit.r2:.2f}")  # fmt: skip
            if where:
                words += " (" + ", ".join(f"{k} = {format_number(float(v))}"
                                          for k, v in where.items()) + ")"  # fmt: skip
            curve = pg.PlotDataItem(grid, fit.predict(grid), pen=pen(colour, 1.5, dash=True),
                                    name=words)  # fmt: skip
            curve.setZValue(-1)
            self.plot.addItem(curve)
            self.fits.append(curve)

    def set_presenter(self, on: bool) -> None:
        self.style_ = Style(presenter=on)
        self._apply_look()

    def grab_png(self, path: str) -> bool:
        return self.widget.grab().save(path, "PNG")

