"""Issue 12 (5, 7): task_done() errors marked on the timeline; stopped workers said "stopped";
the replay window shows the recorded run's diagnosis and how it ended."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QPointF
from PySide6.QtGui import QColor
from pytestqt.qtbot import QtBot

from engine.config import RunConfig, load_preset
from engine.events import ROLE_CONSUMER
from engine.model import RunModel
from engine.runner import Run
from engine.tracefile import TraceWriter
from gui.charts.marks import ERROR_WORDS
from gui.diagnosis_view import DiagnosisState
from gui.main_window import MainWindow
from gui.replay_window import ReplayWindow

END_MS = 60_000
# The lesson's run, faster: the producer stays slower than the consumers, so each consumer's
# extra task_done() finds the counter at 0 and raises.
EXTRA = load_preset("extra-task-done").replace(time_scale=0.4)
# One None for three consumers: join() returns, two consumers wait in get() until Stop.
ONE_SENTINEL = load_preset("one-sentinel-many-consumers").replace(time_scale=0.2)
# task_done() forgotten for failed tasks: join() waits for ever.
FORGOT = load_preset("forgot-task-done").replace(time_scale=0.3)


@pytest.fixture
def window(qtbot: QtBot) -> Iterator[MainWindow]:
    w = MainWindow(EXTRA, "extra-task-done")
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.close()


def record(path: Path, cfg: RunConfig, *, stop_after_join_s: float | None = None,
           hang_s: float | None = None) -> RunModel:
    """A real run written to ``path``; stopped ``stop_after_join_s`` after join() returned or
    ``hang_s`` after it was called (the hang timeout's way)."""
    with TraceWriter(path, cfg) as writer:
        run = Run(cfg)
        writer.attach(run)
        with run:
            if stop_after_join_s is None and hang_s is None:
                assert run.wait(60), "the recorded run did not end"
            else:
                m = run.model
                for _ in range(1200):
                    run.poll(0.02)
                    wanted = m.join_returned_t if hang_s is None else m.join_called_t
                    if wanted is not None:
                        break
                    run.wait(0.05)
                assert wanted is not None, "join() was never called"
                # What the hang timeout (or a user) waits before it stops the run.
                run.wait(hang_s if hang_s is not None else stop_after_join_s)
                run.stop(reason="hang timeout" if hang_s is not None else "stopped")
                assert run.wait(30)
    assert writer.error is None
    run.drain(0.05)
    return run.model


def _colour_near(img, x: float, y: float, colour: QColor, radius: int = 3) -> bool:
    for dx in range(-radius, radius + 1):
        for dy in range(-radius, radius + 1):
            c = QColor(img.pixel(round(x) + dx, round(y) + dy))
            if (abs(c.red() - colour.red()) + abs(c.green() - colour.green())
                    + abs(c.blue() - colour.blue())) < 40:
                return True
    return False


def test_task_done_error_is_marked_on_that_consumers_row(window: MainWindow, qtbot: QtBot):
    w = window
    assert w.start_run()
    qtbot.waitUntil(lambda: not w.driver.active, timeout=END_MS)
    m = w.model
    assert m is not None and m.task_done_errors >= 1
    w.charts.refresh()
    timeline = w.charts.timeline
    shown = timeline.marks.shown
    assert len(shown) == m.task_done_errors
    erred = {x.name for x in m.workers.values() if any("too many" in e for e in x.errors)}
    assert {name for _, _, name, _ in shown} == erred
    for row, t, name, text in shown:
        worker = timeline.rows[row].worker
        assert worker.name == name and worker.role == ROLE_CONSUMER  # on that consumer's row
        assert 0.0 < t <= m.last_t
        assert "too many" in text
    # The legend names the mark.
    assert any(ERROR_WORDS in e[1] for e in timeline.legend_entries(w.charts.theme))
    # It is drawn: the warning colour at the mark's place on screen.
    row, t, name, _ = shown[0]
    w.charts.set_follow(False)
    timeline.plot.setXRange(0.0, m.last_t, padding=0)
    qtbot.wait(50)
    img = w.charts.grab().toImage()
    vb = timeline.plot.getViewBox()
    glw = w.charts._glw
    pos = glw.mapTo(w.charts, glw.mapFromScene(vb.mapViewToScene(QPointF(t, row))))
    dpr = img.devicePixelRatio()
    assert _colour_near(img, pos.x() * dpr, pos.y() * dpr, QColor(w.charts.theme.warning))
    # Hovering it says what happened.
    w.charts._set_hover(t, row)
    tip = w.charts._tip.textItem.toPlainText()
    assert f"{name}: task_done() raised ValueError" in tip and "too many" in tip


def test_replayed_run_marks_errors_only_once_the_playhead_passes(qtbot: QtBot, tmp_path):
    path = tmp_path / "extra.qltrace"
    model = record(path, EXTRA)
    assert model.task_done_errors >= 1
    w = ReplayWindow()
    qtbot.addWidget(w)
    w.show()
    w.open_path(str(path))
    qtbot.waitUntil(lambda: w.loaded is not None, timeout=END_MS)
    first = min(t for _, t, _, _ in _marks_at_end(w, qtbot))
    w.seek(max(0.0, first - 0.05))
    w.settle()
    assert w.charts.timeline.marks.shown == []
    w.seek(w.playback.duration)
    w.settle()
    assert len(w.charts.timeline.marks.shown) == model.task_done_errors


def _marks_at_end(w: ReplayWindow, qtbot: QtBot) -> list:
    w.seek(w.playback.duration)
    w.settle()
    shown = list(w.charts.timeline.marks.shown)
    assert shown
    return shown


def test_workers_ended_by_stop_are_stopped_not_died(qtbot: QtBot):
    w = MainWindow(ONE_SENTINEL, "one-sentinel-many-consumers")
    qtbot.addWidget(w)
    w.show()
    try:
        assert w.start_run()
        qtbot.waitUntil(lambda: w.model is not None and w.model.join_returned_t is not None,
                        timeout=END_MS)
        # Two consumers wait in get() for a None that never comes: Stop ends them.
        qtbot.waitUntil(lambda: sum(x.alive for x in w.model.workers.values()) == 2,
                        timeout=END_MS)
        w.stop_run()
        qtbot.waitUntil(lambda: not w.driver.active, timeout=END_MS)
        m = w.model
        killed = [x for x in m.workers.values() if x.exitcode not in (None, 0)]
        assert len(killed) == 2
        w.event_log.flush()
        text = "\n".join(w.event_log.lines())
        assert "died" not in text, text
        for x in killed:
            assert f"stopped {x.name} (exit code {x.exitcode})" in text
        # Drawn as an ending, labelled "stopped"; the hover says so too.
        w.charts.refresh()
        item = w.charts.timeline.item
        item._geometry(0.0, m.last_t + 0.1, 800)
        labels = [lab[3] for lab in item._labels]
        assert labels.count("stopped") == 2 and not any("died" in x for x in labels)
        rows = {r.worker.name: i for i, r in enumerate(w.charts.timeline.rows)}
        for x in killed:
            words = w.charts.timeline.lookup(m, rows[x.name], x.exit_t)
            assert words is not None and "stopped" in words and "died" not in words
        assert "died (exit code)" not in [e[1] for e in
                                          w.charts.timeline.legend_entries(w.charts.theme)]
    finally:
        w.close()


def open_replay(qtbot: QtBot, path: Path) -> ReplayWindow:
    w = ReplayWindow()
    qtbot.addWidget(w)
    w.show()
    w.open_path(str(path))
    qtbot.waitUntil(lambda: w.loaded is not None, timeout=END_MS)
    w.seek(w.playback.duration)
    w.settle()
    return w


def test_replay_window_shows_the_diagnosis_of_a_hung_run(qtbot: QtBot, tmp_path):
    path = tmp_path / "hung.qltrace"
    record(path, FORGOT, hang_s=1.0)
    w = open_replay(qtbot, path)
    view = w.diagnosis.view
    qtbot.waitUntil(lambda: view.state is DiagnosisState.PROBLEM, timeout=5_000)
    text = view.text()
    assert "task_done() missing" in text
    assert "stopped (hang timeout)" in text and "before queue.join() returned" in text
    w.log.flush()
    log = "\n".join(w.log.lines())
    assert "! task_done() missing" in log
    assert w.status.alert_label.isVisible()


def test_replay_of_a_stopped_run_does_not_read_as_healthy(qtbot: QtBot, tmp_path):
    path = tmp_path / "stopped.qltrace"
    record(path, ONE_SENTINEL.replace(sentinels="per_consumer", time_scale=1.0),
           hang_s=0.3)
    w = open_replay(qtbot, path)
    view = w.diagnosis.view
    qtbot.waitUntil(lambda: view.state is DiagnosisState.PROBLEM, timeout=5_000)
    assert "The run ended badly: stopped (hang timeout)" in view.text()
    w.log.flush()
    log = "\n".join(w.log.lines())
    assert "Main stopped consumer-" in log and "(exit code -15)" in log and "died" not in log


def test_an_item_the_feeder_could_not_pickle_is_marked_on_its_producer_row(qtbot: QtBot):
    import pyqtgraph as pg

    from engine.events import Kind
    from engine.model import RunModel
    from gui.charts.marks import ErrorMarks

    m = RunModel()
    t0, tid = 100.0, (1 << 32) + 1
    lost = (int(Kind.FEED_ERROR), t0 + 0.25, tid, "PicklingError: Can't pickle <lambda>")
    m.feed([(0, 0, [(int(Kind.RUN_START), t0, 1, 1, 1)])])
    start = (int(Kind.WORKER_START), t0 + 0.01, 7, 0, 0)
    applied = m.feed([(1, 0, [start, (int(Kind.PUT), t0 + 0.2, t0 + 0.2, tid, 3, 0.0), lost])])
    marks = ErrorMarks(pg.PlotItem())
    assert marks.note(applied), "the live run's lost item is taken from what the model applied"
    assert marks.update(m, [1, 2])
    (row, t, name, _text), = marks.shown
    assert (row, round(t, 3), name) == (0, 0.25, "producer-0")
    tip = marks.near(0, 0.25, 0.01)
    assert tip is not None and "could not be pickled" in tip and "never return" in tip
    assert m.lost_items and m.unfinished == 1
