"""Every chart item against the model after real runs: its data and its pixels (chartcheck)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtWidgets import QApplication

from engine.config import RunConfig, load_preset
from engine.distributions import Distribution
from engine.model import RunModel
from gui.charts import ChartsPanel
from tests.gui.chartcheck import (
    CHECKS,
    active_range,
    check_panel,
    data_items,
    problems_text,
    registered_items,
    zoom,
)
from tests.gui.conftest import PREMATURE_RUN, SHORT_RUN, finished_model

RATES = {"Rates: done-per-second line", "Rates: mean-wait line", "Rates: mean-service line"}
BARS = {c.name for c in CHECKS if c.name.startswith("Workers:")}
# Zero-length tasks, 2,400 counter changes: more points than pixels, so the charts decimate.
FLOOD = RunConfig(tasks_per_producer=800, consumers=2, sentinels="per_consumer", seed=3,
                  task_duration=Distribution.constant(0.0),
                  put_interval=Distribution.constant(0.0))
# Open arrivals, exponential both ways, rho = 0.5: the reference lines at M/M/2's L and Wq.
OPEN = RunConfig(producers=2, consumers=2, tasks_per_producer=20, seed=5,
                 sentinels="per_consumer", put_interval=Distribution.exponential(0.1),
                 task_duration=Distribution.exponential(0.05))
REFERENCE = {"Unfinished: predicted L line", "Rates: predicted wait line"}
# Scenarios drawn with their reference lines: an open system's levels, a batch's bound. (In
# the others the bound line, a marker, would hide a few more of the lines' places to look.)
THEORY = {"open", "short"}
# name: (config, part of the active range shown (0..1), items this run need not show)
SCENARIOS: dict[str, tuple[RunConfig, tuple[float, float], set[str]]] = {
    # The shared short run: half a second of work, too short for the 1 s rate window.
    "short": (SHORT_RUN, (0.0, 1.0), RATES),
    # A bounded queue (the preset): two seconds with every rate line well above zero.
    "bounded": (load_preset("bounded-queue"), (0.0, 1.0), set()),
    # An open system: its predicted L and Wq drawn as dashed lines, each checked. A short
    # queue: gets run within a pixel of puts (their pixels are checked in the others).
    "open": (OPEN, (0.0, 1.0), {c.name for c in CHECKS} - REFERENCE),
    # The same, zoomed into its middle: only the visible part is held and drawn.
    "bounded-zoomed": (load_preset("bounded-queue"), (0.3, 0.7), {
        "Unfinished: join() called line", "Unfinished: join() returned line",
        "Unfinished: producers joined line", "Unfinished: join() band"}),
    # Lines within a pixel of each other all along: the pixels are checked in the others,
    # the data (decimated) here.
    "flood": (FLOOD, (0.0, 1.0), {c.name for c in CHECKS}),
    # join() returns early: the return line in the warning colour. One task at a time, so
    # the lines run within a pixel of each other: their pixels are checked in the others.
    "premature": (PREMATURE_RUN, (0.0, 1.0), {c.name for c in CHECKS}
                  - {"Unfinished: join() returned line"}),
}
# Known failures, marked xfail while they are open (issue 12 item 3's lines under the grid
# were the first: fixed, the Rates chart's overlay is drawn on top).
KNOWN_STRICT: set[tuple[str, str]] = set()
KNOWN_LOOSE: set[tuple[str, str]] = set()

_models: dict[str, RunModel] = {}
_results: dict[str, dict[str, list[str]]] = {}


def model_of(scenario: str) -> RunModel:
    cfg = SCENARIOS[scenario][0]
    key = repr(cfg)
    if key not in _models:
        _models[key] = finished_model(cfg)
    return _models[key]


@pytest.fixture(scope="module")
def panel(qapp: QApplication) -> Iterator[ChartsPanel]:
    p = ChartsPanel()
    p.resize(1280, 800)
    p.show()
    QApplication.processEvents()
    yield p
    p.close()
    p.deleteLater()


def shown(p: ChartsPanel, model: RunModel, part: tuple[float, float],
          cfg: RunConfig | None = None) -> None:
    """``model`` in the panel as a user sees it after a run: follow off, zoomed onto the
    part of the run with data (a short run's first second is its workers starting)."""
    p.theory.set_config(cfg)  # queueing theory's reference lines for ``cfg`` (None: none)
    p.set_model(model)
    p.refresh()
    lo, hi = active_range(model)
    zoom(p, lo + part[0] * (hi - lo), lo + part[1] * (hi - lo))
    p.refresh()


def results(p: ChartsPanel, scenario: str) -> dict[str, dict[str, list[str]]]:
    if scenario not in _results:
        model = model_of(scenario)
        cfg = SCENARIOS[scenario][0] if scenario in THEORY else None
        shown(p, model, SCENARIOS[scenario][1], cfg)
        _results[scenario] = check_panel(p, model)
    return _results[scenario]


# Scenarios checked by their data only. The flood: its lines run within a pixel of each other
# all along, so which one a pixel shows is the paint order's, not the data's; one probe in a
# few, in a quiet spot of a flood (a place the data makes unambiguous), came out without its
# line's colour in full CI runs only (3 of ~8, never in 40+ runs of this file alone) while the
# data check agreed with the model. Its pixels are those the other scenarios check.
DATA_ONLY = {"flood"}


def cases(image: bool) -> list[object]:
    out = []
    for scenario in SCENARIOS:
        if image and scenario in DATA_ONLY:
            continue
        for check in CHECKS:
            marks = []
            if image and (scenario, check.name) in KNOWN_STRICT | KNOWN_LOOSE:
                strict = (scenario, check.name) in KNOWN_STRICT
                marks.append(pytest.mark.xfail(strict=strict,
                                               reason="issue 12 item 3, fixed on the gui branch"))
            out.append(pytest.param(scenario, check.name, marks=marks,
                                    id=f"{scenario}-{check.name}"))
    return out


@pytest.mark.parametrize(("scenario", "item"), cases(image=False))
def test_item_holds_what_the_model_says(panel: ChartsPanel, scenario: str, item: str) -> None:
    """Its data, as decimated and clipped for the view, at sampled times."""
    problems = results(panel, scenario)[item]["held"]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(("scenario", "item"), cases(image=True))
def test_item_paints_its_colour_where_the_model_puts_it(panel: ChartsPanel, scenario: str,
                                                        item: str) -> None:
    problems = results(panel, scenario)[item]["image"]
    if item in SCENARIOS[scenario][2]:
        problems = [p for p in problems if "this run does not show the item" not in p]
    assert not problems, "\n".join(problems)


def test_every_data_item_of_the_charts_is_registered(panel: ChartsPanel) -> None:
    """A chart item nobody registered in chartcheck would go unchecked: fail instead."""
    shown(panel, model_of("short"), (0.0, 1.0), SHORT_RUN)
    missing = data_items(panel) - registered_items(panel)
    assert not missing, f"{len(missing)} chart items are not registered in tests/gui/chartcheck.py"
    assert len(data_items(panel)) >= 16


def test_the_check_fails_for_a_chart_that_shows_another_run(panel: ChartsPanel) -> None:
    """The check itself can fail: the panel drawn from one run, checked against another."""
    shown(panel, model_of("bounded"), (0.0, 1.0))
    res = check_panel(panel, model_of("short"))
    wrong = [name for name, r in res.items() if r["held"]]
    assert any(r["image"] for r in res.values())
    assert {"Unfinished: unfinished line", "Unfinished: queued band", "Flow: puts line",
            "Rates: mean-wait line", "Workers: process bars"} <= set(wrong), wrong


def test_an_unregistered_item_is_noticed(panel: ChartsPanel) -> None:
    """What the completeness test sees when a chart grows a curve nobody registered."""
    import pyqtgraph as pg

    shown(panel, model_of("short"), (0.0, 1.0), SHORT_RUN)
    extra = pg.PlotDataItem([0.0, 1.0], [0.0, 1.0])
    panel.flow.plot.addItem(extra)
    try:
        assert data_items(panel) - registered_items(panel) == {(id(extra), None)}
    finally:
        panel.flow.plot.removeItem(extra)


def test_reference_lines_stand_at_engine_theorys_predictions(panel: ChartsPanel) -> None:
    """Open arrivals: dashed lines at M/M/c's L and Wq, named with their values in the legends;
    a batch: the earliest possible end. Checked (data and pixels) by the chartcheck items."""
    import os

    from engine.theory import predict

    model = model_of("open")
    shown(panel, model, (0.0, 1.0), OPEN)
    pred = predict(OPEN, os.cpu_count())
    assert pred is not None and pred.model == "M/M/c" and pred.stable
    assert panel.theory.in_system.isVisible() and panel.theory.wait.isVisible()
    assert panel.theory.in_system.value() == pytest.approx(pred.mean_in_system, rel=1e-12)
    assert panel.theory.wait.value() == pytest.approx(pred.mean_wait_s, rel=1e-12)
    assert not panel.theory.bound.isVisible()
    words = [e[1] for e in panel.theory.entries(panel.unfinished, panel.theme, panel._style)]
    assert f"predicted mean unfinished, L = {pred.mean_in_system:.3g} (M/M/c)" in words
    res = check_panel(panel, model, only=sorted(REFERENCE))
    assert set(res) == REFERENCE
    assert not problems_text(res), problems_text(res)
    # The batch: the bound line, and no level lines.
    shown(panel, model_of("short"), (0.0, 1.0), SHORT_RUN)
    assert panel.theory.bound.isVisible() and not panel.theory.in_system.isVisible()
    res = check_panel(panel, model_of("short"), only=["Unfinished: batch bound line"])
    assert not problems_text(res), problems_text(res)
