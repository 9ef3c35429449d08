"""Issue 12 (8): the compare window gives every chart a legend, keeps its headers whole, and
says how each run ended and what went wrong (a run stopped while join() waited is no healthy
run)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from engine.config import RunConfig, load_preset
from engine.runner import Run
from engine.tracefile import TraceWriter, read_trace
from gui.compare_window import CompareWindow

ENDED_ROW = "how it ended"  # the rows the window adds (literal: a renamed row is a change)
PROBLEMS_ROW = "problems found"

HEALTHY = load_preset("tutorial").replace(time_scale=0.05)
# Three consumers, one sentinel each, but stopped (as the hang timeout does) mid-run.
STOPPED = load_preset("one-sentinel-many-consumers").replace(sentinels="per_consumer")
FORGOT = load_preset("forgot-task-done").replace(time_scale=0.3)


def record(path: Path, cfg: RunConfig, *, stop_after_join_called_s: float | None = None) -> None:
    with TraceWriter(path, cfg) as writer:
        run = Run(cfg)
        writer.attach(run)
        with run:
            if stop_after_join_called_s is None:
                assert run.wait(60)
            else:
                for _ in range(1200):
                    run.poll(0.02)
                    if run.model.join_called_t is not None:
                        break
                    run.wait(0.05)
                assert run.model.join_called_t is not None
                run.wait(stop_after_join_called_s)
                run.stop(reason="hang timeout")
                assert run.wait(30)
    assert writer.error is None


@pytest.fixture(scope="module")
def traces(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("compare")
    out = {"healthy": d / "healthy-run-with-a-long-name.qltrace",
           "stopped": d / "stopped-run-with-a-long-name.qltrace",
           "forgot": d / "forgot.qltrace"}
    record(out["healthy"], HEALTHY)
    record(out["stopped"], STOPPED, stop_after_join_called_s=0.3)
    record(out["forgot"], FORGOT, stop_after_join_called_s=1.0)
    return out


def open_compare(qtbot: QtBot, a: Path, b: Path) -> CompareWindow:
    w = CompareWindow(read_trace(a), read_trace(b))
    qtbot.addWidget(w)
    w.resize(1280, 800)
    w.show()
    qtbot.waitExposed(w)
    return w


def test_a_stopped_run_does_not_read_as_healthy(qtbot: QtBot, traces) -> None:
    w = open_compare(qtbot, traces["healthy"], traces["stopped"])
    rows = {r[0]: r for r in w.table_text()}
    assert rows[ENDED_ROW][1] == "join() returned"
    assert rows[ENDED_ROW][2] == "stopped; join() waiting"
    assert rows[PROBLEMS_ROW][1] == "none"
    a = w.findChild(object, "compare_verdict_a")
    b = w.findChild(object, "compare_verdict_b")
    assert a.property("healthy") is True and a.text().startswith("✔ queue.join() returned")
    assert b.property("healthy") is False
    assert "stopped (hang timeout)" in b.text() and "before queue.join() returned" in b.text()


def test_problems_found_are_named(qtbot: QtBot, traces) -> None:
    w = open_compare(qtbot, traces["healthy"], traces["forgot"])
    rows = {r[0]: r for r in w.table_text()}
    assert rows[PROBLEMS_ROW][2].startswith("task_done() missing")
    b = w.findChild(object, "compare_verdict_b")
    assert "1 problem found: task_done() missing" in b.text()
    assert "task_done() missing" in b.toolTip()


def test_every_chart_has_a_legend_and_headers_are_whole(qtbot: QtBot, traces) -> None:
    w = open_compare(qtbot, traces["healthy"], traces["stopped"])
    for panel in w.panels:
        for column, strip in zip(panel.legends, panel.strips, strict=True):
            shown = [form for form in (column, strip)
                     if form.isVisible() and not form.collapsed and form.entries]
            assert len(shown) == 1, "each chart shows its legend in one form"
    header = w.table.horizontalHeader()
    fm = header.fontMetrics()
    for c in range(w.table.columnCount()):
        text = w.table.horizontalHeaderItem(c).text()
        assert fm.horizontalAdvance(text) + 8 <= header.sectionSize(c), f"header {text!r} cut"
    assert w.table.horizontalHeaderItem(2).toolTip() == traces["stopped"].name
