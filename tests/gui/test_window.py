"""The main window with real worker processes: start to join, pause, stop, close, reset, keys."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Iterator

import numpy as np
import psutil
import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication, QToolButton

from engine.config import RunConfig, load_preset
from engine.distributions import Distribution
from engine.model import Activity, JoinState, RunModel
from engine.runner import RunStatus
from gui.main_window import MainWindow
from gui.run_session import EXIT_JOINED, EXIT_NOT_JOINED
from gui.window_layout import PRESENTER_SCALE

pytestmark = pytest.mark.slow

# One producer: with several, engine/workers.py lets the last producer's None sentinels
# overtake tasks still in another producer's feeder thread (reported to the lead), and the
# run then hangs in join(); that race is the engine's, not the window's.
SMALL = RunConfig(
    producers=1,
    consumers=2,
    tasks_per_producer=24,
    task_duration=Distribution.uniform(0.01, 0.04),
    sentinels="per_consumer",
    seed=7,
    title="small",
)
# Long enough (~5 s of work per consumer) that pause, stop and close happen mid-run.
LONG = SMALL.replace(tasks_per_producer=200, task_duration=Distribution.constant(0.1))

END_TIMEOUT_MS = 60_000


@pytest.fixture
def window(qtbot) -> Iterator[MainWindow]:
    w = MainWindow(SMALL)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.close()  # stops whatever run a failed test left behind


def worker_pids(w: MainWindow) -> list[int]:
    run = w.driver.run
    assert run is not None
    pids = [p.pid for p in run.processes.values()]
    assert pids and all(pids)
    return pids


def child_pids() -> set[int]:
    return {p.pid for p in psutil.Process().children(recursive=True)}


def alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def describe(w: MainWindow) -> str:
    """What the run was doing, for a failure message."""
    run, m = w.driver.run, w.model
    if run is None or m is None:
        return "no run"
    workers = {
        wi.name: (wi.pid, Activity(wi.activity).name, wi.exitcode, alive(wi.pid))
        for wi in m.workers.values()
    }
    return (
        f"status={run.status} ended={run.ended} pending={run.pending} polling="
        f"{w.driver.polling} join={m.join_words()!r} puts={m.puts} gets={m.gets} "
        f"dones={m.task_dones} events={m.events} lost={m.events_lost} workers={workers} "
        f"procs={[(p.pid, p.exitcode) for p in run.processes.values()]}"
    )


def run_to_end(qtbot, w: MainWindow) -> None:
    try:
        with qtbot.waitSignal(w.driver.sig_ended, timeout=END_TIMEOUT_MS):
            assert w.start_run()
    except Exception as error:
        raise AssertionError(describe(w)) from error


def steps(xy: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The raw (t, value) points of an expanded step polyline (every other point)."""
    x, y = xy
    return x[0::2], y[0::2]


def expected_rates(m: RunModel, grid: np.ndarray) -> tuple[np.ndarray, ...]:
    """Tasks done per second over (g - 1 s, g], and mean wait/service there, from the model."""
    t = np.asarray(m.done_t)
    wait = np.asarray(m.done_wait)
    service = np.asarray(m.done_service)
    order = np.argsort(t, kind="stable")
    t, wait, service = t[order], wait[order], service[order]
    rate, mw, ms = [], [], []
    for g in grid:
        sel = (t > g - 1.0) & (t <= g)
        rate.append(sel.sum() / min(max(g, 0.05), 1.0))
        mw.append(wait[sel].mean() if sel.any() else np.nan)
        ms.append(service[sel].mean() if sel.any() else np.nan)
    return np.array(rate), np.array(mw), np.array(ms)


# ---------------------------------------------------------------------------- start -> join


def test_start_to_join_every_chart_matches_the_model(qtbot, window: MainWindow) -> None:
    run_to_end(qtbot, window)
    m = window.model
    assert m is not None
    assert window.driver.status is RunStatus.FINISHED
    assert m.join_state == JoinState.RETURNED and window.exit_code == EXIT_JOINED
    total = 24 + 2  # tasks and one sentinel per consumer
    assert (m.puts, m.gets, m.task_dones, m.unfinished) == (total, total, total, 0)
    assert m.events_lost == 0

    data = window.charts.curve_data()
    n = len(m.s_t)
    assert n == 3 * total
    model_cols = {
        "puts": m.s_puts,
        "gets": m.s_gets,
        "task_dones": m.s_dones,
        "depth": np.subtract(m.s_puts, m.s_gets),
        "in_flight": np.subtract(m.s_gets, m.s_dones),
        "unfinished": np.subtract(m.s_puts, m.s_dones),
    }
    for name, col in model_cols.items():
        t, y = steps(data[name])
        np.testing.assert_array_equal(t, m.s_t, err_msg=name)
        np.testing.assert_array_equal(y, col, err_msg=name)
    # What is drawn is those series, clipped and peak-decimated per pixel column: every drawn
    # value is one the counter really had, no peak is lost, and the last value is the model's.
    shown_x = data["shown_unfinished"][0]
    assert shown_x.size >= 2 and np.all(np.diff(shown_x) >= 0)
    assert shown_x[0] <= m.s_t[0] + 1e-9 and shown_x[-1] >= m.s_t[-1]
    for shown, name in [
        ("shown_unfinished", "unfinished"),
        ("shown_in_flight", "in_flight"),
        ("shown_puts", "puts"),
        ("shown_gets", "gets"),
        ("shown_task_dones", "task_dones"),
    ]:
        x, y = data[shown]
        np.testing.assert_array_equal(x, shown_x, err_msg=shown)  # one x: stacks stay stacked
        col = np.asarray(model_cols[name])
        assert set(np.unique(y)) <= set(np.unique(col)), shown
        assert (y.max(), y.min(), y[-1]) == (col.max(), col.min(), col[-1]), shown
    assert np.all(data["shown_unfinished"][1] >= data["shown_in_flight"][1])
    assert data["shown_unfinished"][1][-1] == 0

    grid, rate = data["rate"]
    assert grid.size > 0 and grid[-1] <= m.end_t + 0.05
    want_rate, want_wait, want_service = expected_rates(m, grid)
    np.testing.assert_allclose(rate, want_rate, atol=1e-9)
    np.testing.assert_allclose(data["mean_wait"][1], want_wait, atol=1e-9)
    np.testing.assert_allclose(data["mean_service"][1], want_service, atol=1e-9)
    assert rate.max() > 0

    # Timeline: one row per worker with exactly the model's intervals.
    assert window.charts.timeline_rows() == [w.name for _, w in sorted(m.workers.items())]
    for row in window.charts.timeline.rows:
        iv = np.array(row.worker.intervals, dtype=float).reshape(-1, 4)
        np.testing.assert_array_equal(row.t0.view(), iv[:, 0])
        np.testing.assert_array_equal(row.t1.view(), iv[:, 1])
        np.testing.assert_array_equal(row.act.view(), iv[:, 2])
    processed = sum(
        1 for r in window.charts.timeline.rows for a in r.act.view() if a == Activity.PROCESS
    )
    assert processed >= 24

    markers = window.charts.markers()
    assert markers["join_returned"] is not None
    assert markers["join_returned"][0] == pytest.approx(m.join_returned_t)
    assert markers["join_called"][0] == pytest.approx(m.join_called_t)
    assert markers["producers_joined"][0] == pytest.approx(m.producers_joined_t)

    # Status bar and controls after the end.
    sb = window.status_bar
    assert sb.state_label.text().strip() == "Finished"
    assert sb.join_label.text() == m.join_words()
    assert f"put {total}" in sb.counts_label.text()
    assert sb.lost_label.text() == "0 lost"
    assert window.controls.start_action.isEnabled()
    assert window.controls.start_action.text() == "Run again"
    assert not window.controls.stop_action.isEnabled()
    assert not window.config_panel.locked
    assert not window.driver.polling


def test_tutorial_lines_in_event_log_and_filter(qtbot, window: MainWindow) -> None:
    window.config_panel.set_config(load_preset("tutorial").replace(time_scale=0.05), "tutorial")
    run_to_end(qtbot, window)
    log = window.event_log
    bodies = [line[len("   0.00 s  ") :] for line in log.lines()]
    for expected in (
        "Producer starting",
        "Producer finished",
        "Consumer starting",
        "Consumer finished",
        "Main found that the producer has finished",
        "Main found that all tasks are processed",
    ):
        assert expected in bodies, expected
    added = [b for b in bodies if b.startswith(".producer added (")]
    got = [b for b in bodies if b.startswith(".consumer got (")]
    assert len(added) == len(got) == 10
    assert bodies.index("Main found that all tasks are processed") > max(
        bodies.index(g) for g in got
    )
    # Filter: only matching lines are shown, all are kept.
    log.set_filter("consumer got")
    assert log.shown_lines() == [ln for ln in log.lines() if "consumer got" in ln]
    assert "10 of" in log.count_label.text()
    log.set_filter("")
    assert len(log.shown_lines()) == len(log.lines())


def test_log_pause_holds_view_and_catches_up(window: MainWindow) -> None:
    log = window.event_log
    log.set_model(RunModel())
    log.add_note("first")
    log.set_following(False)
    log.add_note("second")
    assert [ln.strip() for ln in log.shown_lines()] == ["first"]
    assert "+1 new" in log.follow_button.text()
    log.set_following(True)
    assert [ln.strip() for ln in log.shown_lines()] == ["first", "second"]


def test_log_is_bounded(window: MainWindow) -> None:
    from gui.event_log import MAX_LINES

    log = window.event_log
    log.set_model(RunModel())
    for i in range(MAX_LINES + 50):
        log._append([f"line {i}"])
    assert len(log.lines()) == MAX_LINES
    assert log.view.document().blockCount() <= MAX_LINES
    assert log.lines()[-1] == f"line {MAX_LINES + 49}"


def test_log_under_a_flood_lists_the_newest_lines_and_counts_the_rest(window: MainWindow) -> None:
    """One flush appends at most the lines the view shows at once (laying out hundreds made
    the longest event-loop gaps): the newest, in order, after a note counting the events left
    out."""
    from engine.events import Kind
    from gui.event_log import MAX_PENDING_RECORDS, MIN_FLUSH_LINES

    log = window.event_log
    window.log_dock.raise_()
    window.log_dock.show()
    log.view.resize(log.view.width(), 240)  # about 15 lines
    listed = log.lines_per_flush()
    spacing = log.view.fontMetrics().lineSpacing()
    fits = log.view.viewport().height() // spacing
    assert MIN_FLUSH_LINES <= listed <= max(MIN_FLUSH_LINES, fits)
    m = RunModel()
    m.feed([(0, 0, [(int(Kind.RUN_START), 1.0, 1, 1, 10_000)])])
    log.set_model(m)
    before = len(log.lines())
    n = MAX_PENDING_RECORDS + 200
    puts = [(int(Kind.PUT), 1.0 + i * 1e-4, 1.0 + i * 1e-4, (1 << 32) + i, i, 0.5)
            for i in range(n)]
    log.add_records(m.feed([(1, 0, puts)]))
    log.flush()
    new = log.lines()[before:]
    assert len(new) == listed + 1
    assert new[0].strip() == f"— {n - listed:,} events came too fast to list —"
    labels = [int(ln.split("(", 1)[1].split(",", 1)[0]) for ln in new[1:]]
    assert labels == list(range(n - listed, n))
    assert log.pending == 0


def test_event_log_and_chart_frames_get_event_loop_turns_of_their_own(
    qtbot, window: MainWindow
) -> None:
    """A driver tick drains events, draws a chart frame or updates the log: never two of them
    (each is one bounded turn of the event loop), and the log keeps up while the run goes on."""
    d = window.driver
    seen: list[set[str]] = []
    real_tick = d._on_timer_timeout

    def tick() -> None:
        seen.append(set())
        real_tick()

    d._timer.timeout.disconnect(d._on_timer_timeout)
    d._timer.timeout.connect(tick)
    d.sig_frame.connect(lambda: seen and seen[-1].add("frame"))
    d.sig_log_frame.connect(lambda: seen and seen[-1].add("log"))
    d.sig_applied.connect(lambda _a: seen and seen[-1].add("drain"))
    lines_while_running: list[int] = []
    d.sig_log_frame.connect(lambda: lines_while_running.append(len(window.event_log.lines())))
    run_to_end(qtbot, window)
    kinds = [k for k in seen if k]
    assert all(len(k) == 1 for k in kinds[:-1]), [k for k in kinds if len(k) > 1]
    assert {"frame", "log", "drain"} <= set().union(*kinds)
    assert max(lines_while_running) > 5  # narrated lines showed up before the run's end


# ---------------------------------------------------------------------------- pause / resume


def test_pause_holds_every_worker_and_resume_reaches_the_join(qtbot, window: MainWindow) -> None:
    window.config_panel.set_config(LONG)
    assert window.start_run()
    assert window.config_panel.locked
    qtbot.waitUntil(lambda: window.model.task_dones >= 6, timeout=END_TIMEOUT_MS)
    pids = worker_pids(window)
    window.controls.pause_action.trigger()
    assert window.driver.status is RunStatus.PAUSED
    assert window.controls.pause_action.text() == "Resume"
    m = window.model
    # Each consumer holds at its next step (within one 50 ms sleep slice) and says so.
    consumers = [w for w in m.workers.values() if w.name.startswith("consumer")]
    qtbot.waitUntil(lambda: all(w.activity == Activity.PAUSED for w in consumers), timeout=5000)
    qtbot.wait(300)
    before = (m.events, m.puts, m.gets, m.task_dones)
    clock = window.driver.elapsed()
    qtbot.wait(1500)
    assert (m.events, m.puts, m.gets, m.task_dones) == before
    assert window.driver.elapsed() == pytest.approx(clock, abs=0.05)  # the charts' clock too
    assert m.task_dones < 200
    live = [pid for pid in pids if alive(pid)]
    assert {w.pid for w in consumers} <= set(live)  # held, not dead
    assert window.driver.status is RunStatus.PAUSED

    with qtbot.waitSignal(window.driver.sig_ended, timeout=END_TIMEOUT_MS):
        window.controls.pause_action.trigger()  # Resume
        assert window.driver.status is RunStatus.RUNNING
    assert m.join_returned_t is not None and m.task_dones == 200 + 2
    notes = [ln.split("— ", 1)[1] for ln in window.event_log.lines() if "— " in ln]
    assert [n for n in notes if n.startswith(("Paused", "Resumed"))] == [
        "Paused: every worker holds at its next queue operation or task step",
        "Resumed",
    ]
    assert window.driver.status is RunStatus.FINISHED
    assert window.exit_code == EXIT_JOINED
    assert not any(alive(pid) for pid in pids)


# ---------------------------------------------------------------------------- stop / close


def test_stop_ends_every_process(qtbot, window: MainWindow) -> None:
    window.config_panel.set_config(LONG)
    assert window.start_run()
    qtbot.waitUntil(lambda: window.model.gets >= 3, timeout=END_TIMEOUT_MS)
    pids = worker_pids(window)
    assert all(alive(pid) for pid in pids if pid in child_pids())
    with qtbot.waitSignal(window.driver.sig_ended, timeout=5000) as ended:
        window.controls.stop_action.trigger()
    assert ended.args[0] == "stopped by user"
    assert window.driver.status is RunStatus.STOPPED
    assert not any(alive(pid) for pid in pids)
    assert not set(pids) & child_pids()
    assert window.exit_code == EXIT_NOT_JOINED
    assert window.status_bar.state_label.text().strip() == "Stopped"
    assert not window.config_panel.locked
    assert any("Run ended: stopped by user" in ln for ln in window.event_log.lines())


def test_close_mid_run_leaves_no_child_and_no_timer(qtbot) -> None:
    w = MainWindow(LONG)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    assert w.start_run()
    def consumers() -> list[int]:
        return [wi.pid for wi in w.model.workers.values() if wi.name.startswith("consumer")]

    # A consumer is known by pid once its START record is in (a busy machine can show three
    # gets of one consumer before another's start): pid 0 until then.
    qtbot.waitUntil(lambda: w.model.gets >= 3 and all(consumers()), timeout=END_TIMEOUT_MS)
    pids = worker_pids(w)
    taking = consumers()
    assert set(taking) <= child_pids()  # (the producers may be done already)
    assert all(alive(pid) for pid in taking)
    timers = w.findChildren(QTimer)
    assert any(t.isActive() for t in timers)  # the driver's poll timer, at least
    w.close()
    assert not set(pids) & child_pids()
    assert not any(alive(pid) for pid in pids)
    still = [t.objectName() or repr(t) for t in w.findChildren(QTimer) if t.isActive()]
    assert still == []
    assert w.driver.run.ended


# ---------------------------------------------------------------------------- reset, keys, shot


def test_reset_clears_run_and_unlocks(qtbot, window: MainWindow) -> None:
    run_to_end(qtbot, window)
    assert window.event_log.lines()
    window.controls.reset_action.trigger()
    assert window.driver.run is None and window.charts.model is None
    assert window.event_log.lines() == []
    assert not window.config_panel.locked
    assert window.controls.start_action.text() == "Start"
    assert not window.controls.reset_action.isEnabled()
    assert window.status_bar.state_label.text().strip() == "Ready"


def test_keyboard_space_escape_ctrl_r(qtbot, window: MainWindow) -> None:
    window.config_panel.set_config(LONG)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=2000)
    qtbot.keyClick(window, Qt.Key.Key_Space)
    assert window.driver.status is RunStatus.RUNNING
    qtbot.waitUntil(lambda: window.model.gets >= 1, timeout=END_TIMEOUT_MS)
    qtbot.keyClick(window, Qt.Key.Key_Space)
    assert window.driver.status is RunStatus.PAUSED
    qtbot.keyClick(window, Qt.Key.Key_Space)
    assert window.driver.status is RunStatus.RUNNING
    pids = worker_pids(window)
    with qtbot.waitSignal(window.driver.sig_ended, timeout=5000):
        qtbot.keyClick(window, Qt.Key.Key_Escape)
    assert window.driver.status is RunStatus.STOPPED
    assert not any(alive(pid) for pid in pids)
    qtbot.keyClick(window, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    assert window.driver.run is None
    # Space starts a run even right after typing a value into a spin box.
    spin = window.config_panel.editors["consumers"].spin
    spin.setFocus()
    qtbot.waitUntil(spin.hasFocus, timeout=2000)
    qtbot.keyClick(spin, Qt.Key.Key_Space)
    assert window.driver.status is RunStatus.RUNNING
    # ...but a text field still gets its spaces.
    window.event_log.filter_edit.setFocus()
    qtbot.waitUntil(window.event_log.filter_edit.hasFocus, timeout=2000)
    qtbot.keyClicks(window.event_log.filter_edit, "a b")
    assert window.event_log.filter_edit.text() == "a b"
    assert window.driver.status is RunStatus.RUNNING


def test_screenshot_and_quit_when_done(qtbot, tmp_path) -> None:
    out = tmp_path / "shot.png"
    w = MainWindow(SMALL, screenshot=str(out), quit_when_done=True)
    qtbot.addWidget(w)
    w.resize(1100, 760)
    w.show()
    qtbot.waitExposed(w)
    with qtbot.waitSignal(w.sig_done, timeout=END_TIMEOUT_MS) as done:
        assert w.start_run()
    assert done.args == [EXIT_JOINED]
    assert out.is_file()
    image = QImage(str(out))
    dpr = w.devicePixelRatioF()
    assert (image.width(), image.height()) == (round(w.width() * dpr), round(w.height() * dpr))
    qtbot.waitUntil(lambda: not w.isVisible(), timeout=2000)
    assert not w.driver.polling


def test_unattended_hang_is_explained_and_stopped(qtbot) -> None:
    # Every task fails and the consumer skips task_done(): join() can never return.
    cfg = SMALL.replace(tasks_per_producer=4, failure_rate=1.0, on_failure="skip_task_done")
    w = MainWindow(cfg, quit_when_done=True)
    qtbot.addWidget(w)
    w.show()
    with qtbot.waitSignal(w.sig_done, timeout=END_TIMEOUT_MS) as done:
        assert w.start_run()
    assert done.args == [EXIT_NOT_JOINED]
    m = w.model
    assert m.join_returned_t is None and m.unfinished >= 4
    problems = [ln for ln in w.event_log.lines() if ln[len("   0.00 s  ") :].startswith("!")]
    assert any("task_done" in ln for ln in problems), w.event_log.lines()
    qtbot.waitUntil(lambda: not w.isVisible(), timeout=5000)
    assert w.driver.run.ended


def test_every_run_is_recorded_and_save_run_keeps_it(qtbot, window: MainWindow, tmp_path) -> None:
    from engine.replay import replay_model
    from engine.tracefile import read_trace

    run_to_end(qtbot, window)
    recording = window.driver.trace_path
    assert recording is not None and os.path.exists(recording)
    out = tmp_path / "saved.qltrace"
    assert window.save_run_file(str(out))
    replayed = replay_model(read_trace(out))
    live = window.model
    assert replayed.summary().to_json() == live.summary().to_json()
    window.close()
    assert not os.path.exists(recording)  # the temporary recording goes with the window


# ---------------------------------------------------------------------------- labels in full


def cut_labels(w: MainWindow) -> list[str]:
    """Toolbar, menu and status texts that are hidden, squeezed (elided) or off the window."""
    QApplication.processEvents()
    bad = []
    right = w.width()
    for b in w.toolbar.findChildren(QToolButton):
        a = b.defaultAction()
        if a is None:
            if b.isVisible():  # the » button: some action did not fit
                bad.append("toolbar overflow button shown")
            continue
        x1 = b.mapTo(w, b.rect().topRight()).x()
        if not b.isVisible() or b.width() < b.sizeHint().width() or x1 > right:
            bad.append(f"button {a.text()!r} w={b.width()} needs {b.sizeHint().width()} x1={x1}")
    bar = w.menuBar()
    if bar.width() < bar.sizeHint().width():
        bad.append(f"menu bar w={bar.width()} needs {bar.sizeHint().width()}")
    sb = w.status_bar
    for label in (sb.state_label, sb.lost_label, sb.alert_label, sb.elapsed_label, sb.join_label,
                  sb.counts_label, sb.rate_label):  # fmt: skip
        if label.isVisible() and label.width() < label.sizeHint().width():
            bad.append(f"status {label.objectName()} {label.text()!r} squeezed")
    for label in (sb.state_label, sb.lost_label):
        if not label.isVisible():
            bad.append(f"status {label.objectName()} hidden")
    caption = w.code_view.caption
    if caption.fontMetrics().horizontalAdvance(caption.text()) > caption.contentsRect().width():
        bad.append(f"code caption {caption.text()!r} cut")
    return bad


@pytest.mark.parametrize("presenter", [False, True], ids=["normal", "presenter"])
@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
@pytest.mark.parametrize("size", [(1280, 800), (1920, 1080)], ids=["1280", "1920"])
def test_every_control_label_shows_in_full(
    qtbot, size: tuple[int, int], dark: bool, presenter: bool
) -> None:
    from gui.qt_app import apply_theme

    app = QApplication.instance()
    assert isinstance(app, QApplication)
    palette, sheet, style = app.palette(), app.styleSheet(), app.style().name()
    apply_theme(app, dark=dark)
    w = MainWindow(SMALL)
    qtbot.addWidget(w)
    try:
        w.show()
        w.resize(*size)
        qtbot.waitExposed(w)
        w.set_presenter(presenter)
        ctl = w.controls
        for status, has_run in [
            (RunStatus.IDLE, False),
            (RunStatus.RUNNING, True),
            (RunStatus.PAUSED, True),
            (RunStatus.FINISHED, True),  # "Run again", the text that used to be elided
            (RunStatus.STOPPED, True),
        ]:
            ctl.update_state(status, valid=True, has_run=has_run)
            w.status_bar.show_run(None, status, 123.4, 98765.0, force=True)
            assert cut_labels(w) == [], (status, ctl.start_action.text())
        assert ctl.start_action.text() == "Run again"
    finally:
        w.close()
        app.setStyle(style)
        app.setPalette(palette)
        app.setStyleSheet(sheet)


def test_a_screenshot_right_after_the_end_draws_run_again_whole(qtbot, tmp_path) -> None:
    """The run's end renames Start and grab() follows at once: pending layouts go first."""
    w = MainWindow(SMALL)
    qtbot.addWidget(w)
    w.show()
    w.resize(1280, 800)
    qtbot.waitExposed(w)
    QApplication.processEvents()
    button = w.toolbar.widgetForAction(w.controls.start_action)
    assert isinstance(button, QToolButton)
    before = button.width()
    w.controls.update_state(RunStatus.FINISHED, valid=True, has_run=True)
    assert w.save_screenshot(str(tmp_path / "end.png"))  # no event loop turn in between
    assert button.width() >= button.sizeHint().width() > before
    w.close()


def test_gui_presenter_flag_opens_in_presenter_mode(qtbot, tmp_path) -> None:
    import main
    from gui.launch import run_gui

    args = main.build_parser().parse_args(["gui", "--presenter", "--start"])
    assert args.presenter and args.start
    assert not main.build_parser().parse_args(["gui"]).presenter
    base = QApplication.font().pointSizeF()
    seen: dict[str, object] = {}

    def peek() -> None:
        for widget in QApplication.topLevelWidgets():
            if isinstance(widget, MainWindow):
                seen["presenter"] = widget.presenter
                seen["action"] = widget.presenter_action.isChecked()
                seen["pt"] = QApplication.font().pointSizeF()

    QTimer.singleShot(200, peek)
    out = tmp_path / "handout.png"
    code = run_gui(
        SMALL.replace(tasks_per_producer=6),
        start=True,
        screenshot=str(out),
        quit_when_done=True,
        presenter=True,
    )
    assert code == EXIT_JOINED and out.is_file()
    assert seen == {"presenter": True, "action": True, "pt": pytest.approx(base * PRESENTER_SCALE)}
    assert QApplication.font().pointSizeF() == pytest.approx(base)  # put back at close


def test_a_handout_waits_for_the_diagnosis_of_workers_left_waiting(qtbot, tmp_path) -> None:
    """One sentinel, three consumers: join() returns, two wait in get() forever; PNG says why."""
    out = tmp_path / "one-sentinel.png"
    cfg = load_preset("one-sentinel-many-consumers").replace(time_scale=0.1)
    w = MainWindow(cfg, screenshot=str(out), quit_when_done=True)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    said: list[list[str]] = []
    w.sig_screenshot_saved.connect(
        lambda _path: said.append(w.lesson_view.diagnosis_view.sentences())
    )
    with qtbot.waitSignal(w.sig_done, timeout=END_TIMEOUT_MS) as done:
        assert w.start_run()
    assert done.args == [EXIT_JOINED] and out.is_file()
    assert said and any("missing sentinels" in s for s in said[0]), said
    assert w.status_bar.alert is not None  # the handout's status bar points at it too
    qtbot.waitUntil(lambda: not w.isVisible(), timeout=5000)
