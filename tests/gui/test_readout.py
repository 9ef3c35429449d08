"""Issue 12 (13): the header's rates say which window they cover; a finished run shows its
whole-run means; a picture of the charts offers no hover hint."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from engine.config import RunConfig
from engine.replay import Replayer
from engine.runner import Run
from engine.tracefile import TraceWriter, read_trace
from gui import launch
from gui.charts import ChartsPanel, image_export
from gui.charts.readout import _fmt_s
from gui.replay_playback import ReplayCharts

HINT = "hover a chart"
CFG = RunConfig(tasks_per_producer=20, time_scale=0.05, consumers=2, sentinels="per_consumer",
                seed=2)


@pytest.fixture(scope="module")
def trace_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("readout") / "run.qltrace"
    with TraceWriter(path, CFG) as writer:
        run = Run(CFG)
        writer.attach(run)
        with run:
            assert run.wait(60)
    assert writer.error is None
    return path


def readout(p: ChartsPanel) -> str:
    return re.sub(r"<[^>]+>", "", p.readout.html.split("|")[0]).replace("&nbsp;", " ")


def make_panel(qtbot, width: int = 1280) -> ReplayCharts:
    p = ReplayCharts()
    qtbot.addWidget(p)
    p.resize(width, 800)
    p.show()
    qtbot.waitExposed(p)
    return p


def test_a_finished_run_shows_its_whole_run_means(qtbot, short_run_model):
    m = short_run_model
    assert m.end_t is not None
    p = make_panel(qtbot)
    p.set_model(m)
    p.refresh()
    text = readout(p)
    s = m.summary()
    assert "whole run:" in text and "last 1 s" not in text
    assert f"mean wait {_fmt_s(s.mean_wait_s)}" in text
    assert f"mean service {_fmt_s(s.mean_service_s)}" in text


def test_a_running_run_labels_its_window(qtbot, trace_path):
    replayer = Replayer(read_trace(trace_path))
    mid = replayer.duration_s * 0.7
    m = replayer.seek(mid)
    assert m.end_t is None and m.done_t, "the playhead should be mid-run, after completions"
    p = make_panel(qtbot)
    p.set_model(m)
    p.refresh()
    text = readout(p)
    assert re.search(r"last 1 s: [\d.]+ done/s", text), text
    assert "whole run" not in text
    # Hovering: the window ends at the cursor's time.
    p._set_hover(mid / 2, None)
    assert "1 s to t:" in readout(p)


def test_pictures_of_the_charts_offer_no_hover_hint(qtbot, tmp_path, trace_path, monkeypatch):
    seen: list[str] = []
    real_save = image_export._save

    def spy(panel, out_path):  # type: ignore[no-untyped-def]
        seen.append(readout(panel))
        real_save(panel, out_path)

    monkeypatch.setattr(image_export, "_save", spy)
    launch.export_trace_image(trace_path, tmp_path / "x.png")
    assert seen and HINT not in seen[0] and "whole run:" in seen[0]
    # The panel's own export, too; and the hint is back afterwards.
    p = make_panel(qtbot, 1920)  # wide enough for the hint on the readout's line
    p.set_model(Replayer(read_trace(trace_path)).seek(1e9))
    p.refresh()
    assert HINT in readout(p)
    image_export.save_charts_image(p, tmp_path / "y.png")
    assert HINT not in seen[-1]
    assert HINT in readout(p)
