"""Queueing theory's reference lines on the charts: predicted L and wait, and the batch bound.

For open arrivals (engine/theory.py's M/M/c, Allen–Cunneen or M/M/c/K) a dashed horizontal
line on the Unfinished chart at the predicted mean number of tasks in the system L (the
unfinished line is that number, live) and one on the Rates chart's right axis at the
predicted mean wait Wq (beside the measured mean-wait line). For a batch (everything put at
once) a dashed vertical line where the work could end at the earliest: the first put plus the
lower bound max(total work ÷ servers, longest task). An unstable system has no finite mean:
no line, the theory table says how fast its queue grows.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable

import numpy as np
import pyqtgraph as pg

from engine.config import RunConfig
from engine.events import LABEL_NONE
from engine.model import RunModel
from engine.theory import Prediction, batch_bound, predict, task_durations
from gui.charts.legend import Entry
from gui.charts.palette import Theme
from gui.charts.plotkit import Style, hide_from, line_sample, pen, show_on
from gui.charts.rates_plot import RatesChart
from gui.charts.unfinished_plot import UnfinishedChart

REF_Z = 4  # above the data (bands 0-2), under the join markers (5)


def _ms(s: float) -> str:
    return f"{s * 1000:.3g} ms" if s < 1 else f"{s:.3g} s"


class TheoryLines:
    """The reference lines of one ChartsPanel, fed a RunConfig by the window that shows a run.

    ``rebuild_legend(i)`` rebuilds chart ``i``'s legend (ChartsPanel's order: Unfinished is
    0, Rates 3) when the lines' entries change with a new config.
    """

    def __init__(self, unfinished: UnfinishedChart, rates: RatesChart,
                 rebuild_legend: Callable[[int], None]) -> None:  # fmt: skip
        self.unfinished = unfinished
        self.rates = rates
        self._rebuild_legend = rebuild_legend
        self.cfg: RunConfig | None = None
        self.cpus: int | None = None
        self.prediction: Prediction | None = None
        self.in_system = pg.InfiniteLine(angle=0, movable=False)
        self.wait = pg.InfiniteLine(angle=0, movable=False)
        self.bound = pg.InfiniteLine(angle=90, movable=False)
        for line in self.items():
            line.setZValue(REF_Z)
            line.hide()
        self.bound_t: float | None = None  # where the batch bound line stands (run seconds)
        self._bound_key: tuple | None = None
        self._tasks_key: tuple | None = None  # the tasks' part of the bound, computed for
        self._tasks_bound: tuple[float, float] | None = None
        self._theme: Theme | None = None
        self._style = Style()

    def items(self) -> list[pg.InfiniteLine]:
        return [self.in_system, self.wait, self.bound]

    # ------------------------------------------------------------------ config
    def set_config(self, cfg: RunConfig | None, cpus: int | None = None) -> None:
        """Predict for ``cfg`` (None: no lines); ``cpus`` defaults to this machine's."""
        self.cfg = cfg
        self.cpus = cpus if cpus is not None else os.cpu_count()
        pred = predict(cfg, self.cpus) if cfg is not None else None
        self.prediction = pred
        stable = pred is not None and pred.stable
        for line, value, yrange, plot in (
            (self.in_system, pred.mean_in_system if stable else None, self.unfinished.yrange,
             self.unfinished.plot),
            (self.wait, pred.mean_wait_s if stable else None, self.rates.yrange2,
             self.rates.vb2),
        ):  # fmt: skip
            ok = value is not None and math.isfinite(value)
            # The y range keeps the reference in view, so a prediction far off shows as such.
            yrange.extra = value if ok else None
            if ok:
                line.setValue(value)
                show_on(plot, line)  # type: ignore[arg-type]
            else:
                hide_from(plot, line)  # type: ignore[arg-type]
        self.bound_t = None
        self._bound_key = self._tasks_key = self._tasks_bound = None
        self._bound_at: tuple[float, float] | None = None
        hide_from(self.unfinished.plot, self.bound)
        for i in (0, 3):
            self._rebuild_legend(i)

    @property
    def batch(self) -> bool:
        return self.cfg is not None and self.prediction is None

    def update(self, m: RunModel, until: float | None = None) -> None:
        """A batch's bound line once every task is put (the bound needs their durations);
        ``until``: the model holds the whole run, shown as it was then (a replay)."""
        if not self.batch or self.cfg is None:
            return
        key = (id(m), m.puts)
        if key != self._bound_key:
            self._bound_key = key
            self._bound_at = self._bound(m)
        t = None
        if self._bound_at is not None:
            t, every_put_t = self._bound_at
            if until is not None and until < every_put_t:
                t = None
        if t != self.bound_t:
            self.bound_t = t
            if t is None:
                hide_from(self.unfinished.plot, self.bound)
            else:
                self.bound.setValue(t)
                show_on(self.unfinished.plot, self.bound)

    def _bound(self, m: RunModel) -> tuple[float, float] | None:
        """(the bound's time, when the last task was put) once every task is put, else None."""
        if m.task_puts < m.tasks_total:
            # Not every task is put yet (each put row is one of task_puts): the bound waits, and
            # gathering every task's duration each frame cost a flood 2-7 ms per frame.
            return None
        key = (id(m), m.task_puts)
        if key != self._tasks_key:  # the tasks' part: a sentinel's put changes none of it
            self._tasks_key, self._tasks_bound = key, self._tasks(m)
        if self._tasks_bound is None:
            return None
        put_t = np.concatenate([r.t_put[: r.n] for r in m.tasks.streams.values() if r.n])
        return float(np.nanmin(put_t)) + self._tasks_bound[0], self._tasks_bound[1]

    def _tasks(self, m: RunModel) -> tuple[float, float] | None:
        """(the batch bound, when the tasks_total-th task was put), None before that."""
        durations = task_durations(m)
        if not durations.size or durations.size < m.tasks_total:
            return None
        task_t = np.concatenate([r.t_put[: r.n][r.label[: r.n] != LABEL_NONE]
                                 for r in m.tasks.streams.values() if r.n])  # fmt: skip
        task_t = task_t[~np.isnan(task_t)]
        cfg = self.cfg
        assert cfg is not None
        bound = batch_bound(durations * cfg.time_scale, cfg.consumers, self.cpus,
                            cfg.workload == "cpu")  # fmt: skip
        # The line is due when the tasks_total-th task is put (a model fed that far has them).
        k = min(task_t.size, max(1, m.tasks_total)) - 1
        return bound, float(np.partition(task_t, k)[k])

    # ------------------------------------------------------------------ look
    def entries(self, chart: object, theme: Theme, style: Style) -> list[Entry]:
        """``chart``'s own legend entries followed by its reference lines' (whose pens take
        the theme's colours and the style's widths here: the panel asks on every change)."""
        self._apply(theme, style)
        out = list(chart.legend_entries(theme))  # type: ignore[attr-defined]
        pred = self.prediction
        model = pred.model.split(" ")[0] if pred is not None else ""
        if chart is self.unfinished:
            if pred is not None and pred.stable and pred.mean_in_system is not None:
                n = pred.mean_in_system
                out.append((line_sample(theme.unfinished, 2, dash=True),
                            f"predicted mean unfinished, L = {n:.3g} ({model})",
                            f"predicted L = {n:.3g}"))  # fmt: skip
            elif self.batch:
                out.append((line_sample(theme.dones, 2, dash=True),
                            "earliest possible end (first put + batch bound)",
                            "earliest end (bound)"))  # fmt: skip
        elif chart is self.rates and pred is not None and pred.stable \
                and pred.mean_wait_s is not None:
            w = _ms(pred.mean_wait_s)
            out.append((line_sample(theme.wait, 2, dash=True),
                        f"predicted mean wait, Wq = {w} ({model}, right axis)",
                        f"predicted wait {w}"))  # fmt: skip
        return out

    def _apply(self, theme: Theme, style: Style) -> None:
        if (theme, style.presenter) == (self._theme, self._style.presenter):
            return
        self._theme, self._style = theme, style
        width = 1.5 * (1.6 if style.presenter else 1)
        self.in_system.setPen(pen(theme.unfinished, width, dash=True))
        self.wait.setPen(pen(theme.wait, width, dash=True))
        self.bound.setPen(pen(theme.dones, width, dash=True))
