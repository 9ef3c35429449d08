"""What a ChartsPanel draws, as arrays and marker texts, for tests and exports to read."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg

from gui.charts.series import ModelSeries
from gui.charts.unfinished_plot import UnfinishedChart

if TYPE_CHECKING:
    from gui.charts.panel import ChartsPanel


def curve_data(
    s: ModelSeries, panel: ChartsPanel, until: float | None
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The data behind what is drawn, by series name (expanded steps for counters), as of
    ``until`` when the panel cuts its model there (None: all of it)."""
    out = {}
    for name, key in (("depth", "depth"), ("in_flight", "in_flight"),
                      ("unfinished", "unfinished"), ("puts", "puts"), ("gets", "gets"),
                      ("dones", "task_dones")):  # fmt: skip
        if until is None:
            x, y = s.counters.xy(name)
            out[key] = (x.copy(), y.copy())
        else:
            out[key] = s.counters.xy_until(name, until)
    # What the line items hold: the visible range, decimated to the plot's width.
    out["shown_unfinished"] = panel.unfinished.lines.xy("unfinished")
    out["shown_in_flight"] = panel.unfinished.lines.xy("in_flight")
    out["shown_puts"] = panel.flow.lines.xy("puts")
    out["shown_gets"] = panel.flow.lines.xy("gets")
    out["shown_task_dones"] = panel.flow.lines.xy("dones")
    g, rate, wait, service = (a.copy() for a in s.rates_until(until))
    out["rate"] = (g, rate)
    out["mean_wait"] = (g, wait)
    out["mean_service"] = (g, service)
    return out


def join_markers(u: UnfinishedChart) -> dict[str, tuple[float, str] | None]:
    """Join markers on the unfinished chart: position and label text, None when hidden."""

    def info(line: pg.InfiniteLine) -> tuple[float, str] | None:
        return (float(line.value()), line.label.textItem.toPlainText()) if line.isVisible() \
            else None

    return {"join_called": info(u.called_line), "join_returned": info(u.return_line),
            "producers_joined": info(u.producers_line)}
