"""The readout above the charts, figure by figure: what it says at a hovered time against the
model's own lists, what it says before a run and outside one, how times are written, and how
its parts wrap on a narrow panel.

test_readout.py checks which window the rates cover and the hover hint; test_charts.py one
hovered time's counters. These check every figure of the hovered readout (the in-progress
count and the gets too, and the rate, wait and service of the sliding window, computed task
by task in chartmodel.py, not by the charts' code) at several times, and the edges.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from chartmodel import rates_on_grid, step_at

from engine.model import RunModel
from gui.charts import ChartsPanel
from gui.charts.readout import _fmt_s
from gui.charts.series import RATE_STEP_S


def text_of(p: ChartsPanel) -> str:
    """The readout as a person reads it: no markup, line breaks kept as " / "."""
    html = p.readout.html.split("|")[0].replace("<br>", " / ")
    return re.sub(r"<[^>]+>", "", html).replace("&nbsp;", " ")


@pytest.fixture
def make_panel(qtbot):
    """Panels kept alive until the test's teardown: one freed when the test function returns
    would be painted half-destroyed by pytest-qt's event processing after it (a segfault)."""
    made: list[ChartsPanel] = []

    def make(width: int = 1600) -> ChartsPanel:
        p = ChartsPanel()
        qtbot.addWidget(p)
        p.resize(width, 800)
        p.show()
        qtbot.waitExposed(p)
        made.append(p)
        return p

    yield make
    for p in made:
        p.close()
    made.clear()


@pytest.mark.parametrize(("x", "words"), [
    (2.5, "2.50 s"), (1.0, "1.00 s"),  # a second and more: seconds
    (0.9994, "999 ms"), (0.1, "100 ms"),  # a tenth and more: whole milliseconds
    (0.0999, "99.9 ms"), (0.0042, "4.2 ms"),
])
def test_times_are_written_in_the_unit_a_person_reads(x: float, words: str) -> None:
    assert _fmt_s(x) == words


def test_every_figure_at_a_hovered_time_is_the_models(make_panel, short_run_model) -> None:
    m = short_run_model
    p = make_panel()
    p.set_model(m)
    p.refresh()
    rates = rates_on_grid(m, p.now)
    grid, rate = rates["rate"]
    first, last = m.s_t[0], m.s_t[-1]
    checked_rates = 0
    for t in np.linspace(first, last, 7):
        p._set_hover(float(t), None)  # what the panel does when the cursor is at t
        text = text_of(p)
        ts = np.array([t])
        v = {k: int(step_at(m, k, ts)[0]) for k in
             ("unfinished", "depth", "in_flight", "puts", "gets", "dones")}
        assert f"t = {t:.3f} s" in text
        assert (f"unfinished {v['unfinished']} = queued {v['depth']} + "
                f"taken {v['in_flight']}") in text, text
        assert f"puts {v['puts']} · gets {v['gets']} · task_done {v['dones']}" in text, text
        # The rate of the window ending at the grid point at or before t.
        j = min(grid.size - 1, math.floor(t / RATE_STEP_S))
        r = rate[j]
        figure = f"{r:.0f} done/s" if r >= 100 else f"{r:.1f} done/s"
        assert f"1 s to t: {figure}" in text, text
        w, sv = rates["wait"][1][j], rates["service"][1][j]
        if math.isfinite(w):
            checked_rates += 1
            assert f" · wait {_fmt_s(w)} · service {_fmt_s(sv)}" in text, text
        else:
            assert "wait" not in text.split("1 s to t:")[1]  # no completion: no mean to say
    assert checked_rates >= 3, "too few hovered times had completions to check"
    # Back to no hover: the run's latest figures, "now", and the whole run's means.
    p._set_hover(None, None)
    text = text_of(p)
    assert f"now {p.now:.1f} s" in text and "whole run:" in text
    assert f"unfinished {m.s_puts[-1] - m.s_dones[-1]}" in text


def test_a_hovered_time_outside_the_run_says_only_the_time(make_panel, short_run_model) -> None:
    p = make_panel()
    p.set_model(short_run_model)
    p.refresh()
    for t in (-0.5, p.now + 1.0):
        p._set_hover(t, None)
        text = text_of(p)
        assert text.strip() == f"t = {t:.3f} s", text
    p._set_hover(0.0, None)  # the run's first instant is in it: the counters, all zero
    assert "unfinished 0 = queued 0 + taken 0" in text_of(p)


def test_before_a_run_and_before_its_first_events(make_panel) -> None:
    p = make_panel()
    p.refresh()
    assert "No run yet" in text_of(p)
    p.set_model(RunModel())
    p.refresh()
    text = text_of(p)
    assert "Waiting for the first events" in text and "hover a chart" not in text


def test_a_narrow_panel_wraps_the_readout_between_its_parts(make_panel, short_run_model,
                                                           qtbot) -> None:
    wide = make_panel(1900)
    wide.set_model(short_run_model)
    wide.refresh()
    one_line = text_of(wide)
    assert " / " not in one_line and "hover a chart" in one_line
    narrow = make_panel(560)
    narrow.set_model(short_run_model)
    narrow.refresh()
    lines = text_of(narrow).split(" / ")
    assert len(lines) >= 2, lines
    for width in (1900, 900, 700, 560):  # and each line fits: none is cut at the edge
        narrow.resize(width, 800)
        qtbot.waitUntil(lambda w=width: narrow.width() == w)
        narrow.refresh()
        label = narrow.readout.label
        assert label.item.document().idealWidth() <= label.size().width(), width
    # Cut between parts only, each part whole: joined again they read as on one line.
    parts = [q.strip() for q in one_line.replace("(hover a chart to read values)", "")
             .split("│")]
    assert [q.strip() for line in lines for q in line.split("│")
            if "hover a chart" not in q] == parts
