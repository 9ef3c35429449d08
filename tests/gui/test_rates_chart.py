"""The Rates chart: its right-axis lines hold the model's means and are painted, not hidden."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF
from PySide6.QtGui import QColor, QImage

from engine.config import RunConfig
from engine.model import RunModel
from gui.charts.series import sliding_rates
from tests.gui.conftest import finished_model

# Every task takes the same time, so the mean service time is flat: the case in which the
# line used to disappear under a grid line (bounded-queue, extra-task-done, many-consumers).
CONSTANT_SERVICE = RunConfig(
    tasks_per_producer=12, consumers=2, task_duration="constant(0.2)", time_scale=1.0,
    sentinels="per_consumer", seed=3,
)


@pytest.fixture(scope="module")
def constant_model() -> RunModel:
    return finished_model(CONSTANT_SERVICE)


def _expected_means(m: RunModel, grid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(np.array(m.done_t), kind="stable")
    t = np.array(m.done_t)[order]
    _, wait, service = sliding_rates(
        t, np.cumsum(np.array(m.done_wait)[order]), np.cumsum(np.array(m.done_service)[order]),
        grid,
    )
    return wait, service


def _near(img: QImage, x: float, y: float, colour: QColor, tol: int = 60) -> bool:
    """A pixel of ``colour`` (antialiasing allowed for) within a pixel of (x, y)."""
    for dy in (-1, 0, 1):
        px = QColor(img.pixel(round(x), round(y) + dy))
        diff = (abs(px.red() - colour.red()) + abs(px.green() - colour.green())
                + abs(px.blue() - colour.blue()))
        if diff <= tol:
            return True
    return False


def test_rates_lines_hold_the_models_mean_wait_and_service(panel, constant_model):
    m = constant_model
    panel.set_model(m)
    panel.refresh()
    rates = panel.rates
    g, wait = rates.wait.xy()
    _, service = rates.service.xy()
    want_wait, want_service = _expected_means(m, g)
    np.testing.assert_allclose(wait, want_wait, equal_nan=True)
    np.testing.assert_allclose(service, want_service, equal_nan=True)
    finite = service[np.isfinite(service)]
    assert finite.size > 10
    assert finite == pytest.approx(0.2, rel=0.5)  # the tasks' own duration


def test_mean_service_line_is_painted_even_on_a_grid_line(panel, qtbot, constant_model):
    """The right axis's lines are drawn over the chart's grid and its rate line.

    The service time is put exactly on the left axis's grid line at 4 tasks/s: before the
    fix the overlay was painted under the chart and the whole line vanished there.
    """
    m = constant_model
    panel.set_follow(False)
    panel.set_model(m)
    panel.refresh()
    rates = panel.rates
    rates.plot.setXRange(0.0, m.last_t, padding=0)
    rates.plot.setYRange(0.0, 10.0, padding=0)  # grid lines at 0, 2, 4, ...
    g, service = rates.service.xy()
    ok = np.flatnonzero(np.isfinite(service))
    level = float(np.median(service[ok]))
    rates.vb2.setYRange(0.0, level / 0.4, padding=0)  # ``level`` sits on the line at 4/s
    qtbot.wait(50)
    img = panel.grab().toImage()
    dpr = img.devicePixelRatio()
    colour = QColor(panel.theme.service)
    # A real run's service times scatter a little around the constant duration.
    flat = [i for i in ok if abs(service[i] - level) <= 0.01 * level]
    assert len(flat) >= 3, "no stretch of the line at its median"
    seen = 0
    for i in flat:
        scene = rates.vb2.mapViewToScene(QPointF(float(g[i]), float(service[i])))
        pos = panel._glw.mapTo(panel, panel._glw.mapFromScene(scene))
        if _near(img, pos.x() * dpr, pos.y() * dpr, colour):
            seen += 1
    assert seen >= 0.8 * len(flat), f"service line painted at {seen} of {len(flat)} points"
