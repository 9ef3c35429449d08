"""The live window under a flood of no-op tasks: what it shows at the end, what it costs."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest

from engine.config import RunConfig
from engine.distributions import Distribution
from engine.runner import Run
from gui.run_driver import RunDriver

pytestmark = pytest.mark.slow

# Fast enough that batches of many records reach the window (a small flood).
FLOOD = RunConfig(
    producers=1, consumers=2, tasks_per_producer=3000, task_duration=Distribution.constant(0),
    workload="cpu", sentinels="per_consumer", title="flood",
)
END_TIMEOUT_MS = 120_000


def test_applied_records_reach_the_window_as_the_list_polled(qtbot) -> None:
    """sig_applied hands its slots the very list the run's poll returned: a ``list`` signal
    copied every (src, record) pair through a QVariant and back, 0.3 s per 600,000 records."""
    driver = RunDriver()
    run = Run(FLOOD)
    polled: list[list] = []
    poll = run.poll

    def keeping_poll(*a: object, **k: object) -> list:
        applied = poll(*a, **k)
        polled.append(applied)
        return applied

    run.poll = keeping_poll  # type: ignore[method-assign]
    got: list[list] = []
    driver.sig_applied.connect(got.append)
    try:
        with qtbot.waitSignal(driver.sig_ended, timeout=END_TIMEOUT_MS):
            driver.start(FLOOD, run)
    finally:
        driver.discard()
    assert got and sum(map(len, got)) == run.model.events
    ids = {id(p) for p in polled}
    assert all(id(g) in ids for g in got)


def test_the_first_start_is_readied_while_the_window_waits(qtbot, monkeypatch) -> None:
    """The slow first steps of a start (the forkserver's start and its import of the worker
    module, the cpu work's speed measurement) are done once the window shows, not in the
    Start click that blocked the event loop for 300 ms to 1 s."""
    from multiprocessing import forkserver

    from engine import cpuwork, runner
    from gui.main_window import MainWindow

    monkeypatch.setattr(cpuwork, "_speed", None)
    # As in a fresh process: the forkserver has not forked a child yet (Run.start's warm-up
    # started and joined one, 150 ms of the first Start's slot).
    monkeypatch.setattr(runner, "_forkserver_warm", False)
    w = MainWindow(FLOOD.replace(start_method="forkserver"))
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(lambda: cpuwork._speed is not None, timeout=10_000)
    qtbot.waitUntil(lambda: runner._forkserver_warm, timeout=30_000)
    assert forkserver._forkserver._forkserver_pid is not None
    assert w.driver.run is None  # nothing was started
    w.close()


def test_after_a_flood_the_charts_hold_all_of_the_models_data(qtbot) -> None:
    """A frame takes a bounded share of a flood's backlog while the run goes on; once it has
    ended, every counter change and completion the model holds is on the charts."""
    import numpy as np

    from gui.main_window import MainWindow

    w = MainWindow(FLOOD)
    qtbot.addWidget(w)
    w.show()
    with qtbot.waitSignal(w.driver.sig_ended, timeout=END_TIMEOUT_MS):
        assert w.start_run()
    m = w.model
    data = w.charts.curve_data()
    for name, column in (("puts", m.s_puts), ("gets", m.s_gets), ("task_dones", m.s_dones)):
        x, y = data[name]
        # The step polyline's even slots are the raw points (buffers.StepSeries).
        assert np.array_equal(y[0::2], np.asarray(column[:], dtype=np.float64)), name
        assert np.array_equal(x[0::2], np.asarray(m.s_t[:], dtype=np.float64)), name
    assert y[-1] == FLOOD.tasks_per_producer + FLOOD.consumers  # sentinels are tasks too
    assert w.charts._series.done_t.n == len(m.done_t)
    assert w.charts.now >= m.end_t
    w.close()


def test_a_floods_records_are_not_scanned_for_marks_the_model_did_not_count(qtbot) -> None:
    """The timeline's error marks come from the records applied; while the model's counts of
    task_done() errors and lost items stand still, a drain's records are not looked at."""
    import pyqtgraph as pg

    from engine.events import Kind
    from engine.model import RunModel
    from gui.charts.marks import ErrorMarks

    class Untouchable(list):
        def __iter__(self):  # type: ignore[override]
            raise AssertionError("scanned")

    m = RunModel()
    t0 = 100.0
    m.feed([(0, 0, [(int(Kind.RUN_START), t0, 1, 1, 3)])])
    marks = ErrorMarks(pg.PlotItem())
    puts = [(int(Kind.PUT), t0 + i / 10, t0 + i / 10, (1 << 32) + i, i, 0.0) for i in range(3)]
    assert not marks.note(m.feed([(1, 0, puts[:1])]), m)  # the first look: nothing marked
    assert not marks.note(Untouchable(m.feed([(1, 1, puts[1:])])), m)
    error = (int(Kind.TASK_DONE_ERROR), t0 + 0.5, "ValueError: task_done() called too many times")
    assert marks.note(m.feed([(1, 3, [error])]), m)  # counted: taken from the records
    assert len(marks._noted) == 1


def test_a_floods_backlog_after_the_end_comes_in_bounded_frames(qtbot, monkeypatch) -> None:
    """A run that ends with the charts far behind the model (a flood) is caught up in frames
    of bounded cost, not in one whole-data frame (157 ms of a flood's end), and the window
    hears of the end once the charts hold all of the model."""
    import numpy as np

    from gui.charts import panel
    from gui.charts.series import ModelSeries
    from gui.main_window import MainWindow

    # Far less per frame than a flood brings: the charts are behind when the run ends.
    monkeypatch.setattr(panel, "LIVE_SYNC_POINTS", 100)
    monkeypatch.setattr(panel, "LIVE_SYNC_DONE", 100)
    monkeypatch.setattr(panel, "LIVE_SYNC_INTERVALS", 50)
    taken: list[int] = []
    sync_counters = ModelSeries.sync_counters

    def counting(self: ModelSeries, m, limit=None) -> bool:  # type: ignore[no-untyped-def]
        n0 = len(self.counters)
        got = sync_counters(self, m, limit)
        taken.append(len(self.counters) - n0)
        return got

    monkeypatch.setattr(ModelSeries, "sync_counters", counting)
    w = MainWindow(FLOOD)
    qtbot.addWidget(w)
    w.show()
    ended_with: list[int] = []
    w.driver.sig_ended.connect(lambda _r: ended_with.append(len(w.charts._series.counters)))
    with qtbot.waitSignal(w.driver.sig_ended, timeout=END_TIMEOUT_MS):
        assert w.start_run()
    m = w.model
    assert ended_with == [len(m.s_t)] and len(m.s_t) > 9000
    assert max(taken) <= 100 * panel.CATCH_UP_SYNC_FACTOR  # no frame took the rest whole
    data = w.charts.curve_data()
    for name, column in (("puts", m.s_puts), ("gets", m.s_gets), ("task_dones", m.s_dones)):
        x, y = data[name]
        assert np.array_equal(y[0::2], np.asarray(column[:], dtype=np.float64)), name
        assert np.array_equal(x[0::2], np.asarray(m.s_t[:], dtype=np.float64)), name
    assert w.charts._series.done_t.n == len(m.done_t)
    assert np.array_equal(w.charts._series.done_t.view(), np.sort(m.done_t.view()))
    shown_x, shown_y = data["shown_task_dones"]
    assert shown_y[-1] == len(m.done_t) + FLOOD.consumers and shown_x[-1] >= m.s_t[-1]
    assert [r.seen for r in w.charts.timeline.item.rows] == [
        len(r.worker.intervals) for r in w.charts.timeline.item.rows]
    w.close()


def test_a_live_frames_repaint_gets_a_tick_of_its_own(qtbot) -> None:
    """Under a flood a frame's refresh and its repaint each cost 5-15 ms of the window's CPU:
    in one turn of the event loop they were its longest gaps. The repaint is held until the
    next turn, and the driver's tick after a live frame drains nothing (nor draws)."""
    from gui.charts.panel import ChartsPanel

    driver = RunDriver()
    panel = ChartsPanel()
    qtbot.addWidget(panel)
    panel.resize(1280, 800)
    panel.show()
    cfg = FLOOD.replace(tasks_per_producer=30_000)
    run = Run(cfg)
    log: list[str] = []
    tick, drain = driver._on_timer_timeout, driver._drain

    def logging_tick() -> None:
        log.append("|")
        tick()

    def logging_drain(*a: object) -> None:
        log.append("D")
        drain(*a)

    def on_frame(frame) -> None:  # type: ignore[no-untyped-def]
        log.append("L" if frame.live else "F")
        panel.refresh(frame)
        held.append(panel._paint_hold.held)

    held: list[bool] = []
    driver._timer.timeout.disconnect()
    driver._timer.timeout.connect(logging_tick)
    driver._drain = logging_drain  # type: ignore[method-assign]
    driver.sig_frame.connect(on_frame)
    try:
        with qtbot.waitSignal(driver.sig_ended, timeout=END_TIMEOUT_MS):
            driver.start(cfg, run)
            panel.set_model(run.model, driver.frame())
    finally:
        driver.discard()
    ticks = "".join(log).split("|")
    live = [i for i, t in enumerate(ticks) if "L" in t]
    assert live, "no live frame"
    for i in live:
        if i + 1 < len(ticks):
            assert ticks[i + 1] == "", f"tick after a live frame: {ticks[i + 1]!r}"
    assert any(held)  # a live frame that drew held its repaint...
    qtbot.waitUntil(lambda: not panel._paint_hold.held, timeout=1000)  # ...for a turn
