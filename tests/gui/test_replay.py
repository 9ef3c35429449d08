"""Replay and compare windows on real recorded runs: scrubbing, playing, bad files, the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from engine.config import RunConfig
from engine.events import Kind
from engine.explain import summary_json
from engine.model import RunModel
from engine.replay import replay_model
from engine.runner import Run
from engine.tracefile import TraceWriter, read_trace
from gui.compare_window import FIGURES, CompareWindow
from gui.replay_window import ReplayWindow

ROOT = Path(__file__).resolve().parent.parent.parent
CFG = RunConfig(
    tasks_per_producer=20, time_scale=0.02, consumers=2, sentinels="per_consumer", seed=1
)
LOAD_TIMEOUT_MS = 20_000


def record(path: Path, cfg: RunConfig) -> RunModel:
    """Run ``cfg`` with real processes and a TraceWriter attached; returns the live model."""
    with TraceWriter(path, cfg) as writer:
        run = Run(cfg)
        writer.attach(run)
        with run:
            assert run.wait(60), "the recorded run did not end"
    assert writer.error is None
    return run.model


@pytest.fixture(scope="module")
def traces(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two recorded runs of the same work: 2 consumers (A) and 4 consumers (B)."""
    d = tmp_path_factory.mktemp("replay")
    a, b = d / "two.qltrace", d / "four.qltrace"
    record(a, CFG)
    record(b, CFG.replace(consumers=4))
    return a, b


def trace_counts_at(path: Path, t: float | None = None) -> tuple[int, int, int]:
    """Puts, gets and task_dones that had returned by ``t`` (None: all), counted straight from
    the file's records: the reference for the replay, never its own Replayer or RunModel.
    (Not the live run's model either: it stamps a record that arrives late, through another
    worker's pipe, with the time it was applied, so its series can lag the real times.)"""
    trace = read_trace(path)
    when = {int(Kind.PUT): 2, int(Kind.GET): 2, int(Kind.TASK_DONE): 1}  # the return time
    counts = {k: 0 for k in when}
    for _src, _first, records in trace.batches:
        for r in records:
            if r[0] in when and (t is None or r[when[r[0]]] - trace.t0 <= t):
                counts[r[0]] += 1
    return counts[int(Kind.PUT)], counts[int(Kind.GET)], counts[int(Kind.TASK_DONE)]


def open_window(qtbot: QtBot, path: Path) -> ReplayWindow:
    w = ReplayWindow()
    qtbot.addWidget(w)
    w.show()
    w.open_path(str(path))
    qtbot.waitUntil(lambda: w.loaded is not None, timeout=LOAD_TIMEOUT_MS)
    return w


def counts_text(m: RunModel) -> str:
    return f"put {m.puts:,} · get {m.gets:,} · task_done {m.task_dones:,}"


def time_of_done(path: Path, n: int) -> float:
    """Run seconds at which the n-th task_done took effect (a time with work around it)."""
    trace = read_trace(path)
    done = sorted(r[1] - trace.t0 for src, _f, records in trace.batches if src
                  for r in records if r[0] == int(Kind.TASK_DONE))
    return done[n - 1]


def scrub_to(qtbot: QtBot, w: ReplayWindow, t: float) -> None:
    w.slider.setValue(round(t * 1000))  # what a drag does: valueChanged with tracking on
    qtbot.waitUntil(lambda: w.playback is not None and w.playback.caught_up, timeout=10_000)


def playheads(w: ReplayWindow) -> list[float]:
    return [line.value() for line in w.charts._playhead if line.isVisible()]


def test_scrubber_moves_one_playhead_and_the_views_show_that_time(
    qtbot: QtBot, traces: tuple[Path, Path]
) -> None:
    path = traces[0]
    w = open_window(qtbot, path)
    late, early = time_of_done(path, 15), time_of_done(path, 5)
    for t in (late, early, late):  # forward, back (a rebuild), forward again
        scrub_to(qtbot, w, t)
        t_ms = round(t * 1000) / 1000
        puts, gets, dones = trace_counts_at(path, t_ms)
        assert playheads(w) == pytest.approx([t_ms] * 4)
        shown = w.playback.shown
        assert (shown.puts, shown.gets, shown.task_dones) == (puts, gets, dones)
        assert w.status.counts_label.text() == f"put {puts:,} · get {gets:,} · task_done {dones:,}"
        x, y = w.charts.curve_data()["task_dones"]
        assert y[-1] == dones
        assert x.max() <= t_ms + 1e-6, "the charts draw past the playhead"
        logged = [ln for ln in w.log.lines() if "s  " in ln]
        assert logged and float(logged[-1].split(" s ")[0]) <= t_ms + 0.01
    assert 5 <= w.playback.shown.task_dones < 20


def test_space_plays_to_the_end_and_stops(qtbot: QtBot, traces: tuple[Path, Path]) -> None:
    path = traces[0]
    w = open_window(qtbot, path)
    w.set_speed(0.25)
    scrub_to(qtbot, w, time_of_done(path, 1))
    before = w.playback.shown.events
    qtbot.keyClick(w, Qt.Key.Key_Space)
    assert w.playing
    assert "Pause" in w.play_button.text()
    qtbot.waitUntil(lambda: w.playback.shown.events > before, timeout=10_000)
    # The driver draws in a frame tick of its own, after the drain tick that fed the records.
    qtbot.waitUntil(lambda: playheads(w)[0] > time_of_done(path, 1), timeout=10_000)
    w.set_speed(16.0)
    qtbot.waitUntil(lambda: not w.playing, timeout=20_000)
    puts, gets, dones = trace_counts_at(path)
    assert counts_text(w.playback.shown) == f"put {puts:,} · get {gets:,} · task_done {dones:,}"
    assert w.status.state_label.text().strip() == "Replay: end"
    assert w.slider.value() == w.slider.maximum()


def test_bad_file_shows_a_dialog_naming_the_line(
    qtbot: QtBot, traces: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gui.replay_window as rw

    shown: list[str] = []
    monkeypatch.setattr(rw.QMessageBox, "critical", lambda _p, _t, text: shown.append(text))
    bad = tmp_path / "bad.qltrace"
    lines = traces[0].read_text().splitlines()
    bad.write_text("\n".join([lines[0], lines[1], "{not json", *lines[2:]]) + "\n")
    w = open_window(qtbot, traces[0])
    events = w.playback.shown.events
    monkeypatch.setattr(rw.QFileDialog, "getOpenFileName", lambda *a, **k: (str(bad), ""))
    w.open_action.trigger()
    qtbot.waitUntil(lambda: bool(shown), timeout=LOAD_TIMEOUT_MS)
    assert "line 3" in shown[0] and "bad.qltrace" in shown[0]
    # The run that was open stays open and usable.
    assert w.stack.currentIndex() == 1
    assert w.playback.shown.events == events
    scrub_to(qtbot, w, 0.0)


def test_truncated_file_loads_with_a_warning(
    qtbot: QtBot, traces: tuple[Path, Path], tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    data = traces[0].read_bytes()
    cut = tmp_path / "cut.qltrace"
    cut.write_bytes(data[: len(data) - 25])
    w = open_window(qtbot, cut)
    assert 0 < w.loaded.n_events < read_trace(traces[0]).n_events
    assert "warning" in capfd.readouterr().err
    assert any(ln.lstrip().startswith("!") for ln in w.log.lines())


def test_run_replay_returns_2_after_the_dialog_for_a_bad_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, qapp: QApplication
) -> None:
    import gui.replay_window as rw
    from gui.launch import run_replay

    shown: list[str] = []

    def dialog(_parent: object, _title: str, text: str) -> None:
        shown.append(text)
        QTimer.singleShot(0, lambda: [tw.close() for tw in qapp.topLevelWidgets()])

    monkeypatch.setattr(rw.QMessageBox, "critical", dialog)
    bad = tmp_path / "empty.qltrace"
    bad.write_bytes(b"")
    assert run_replay(str(bad)) == 2
    assert len(shown) == 1 and "empty.qltrace" in shown[0]


def test_run_replay_shows_the_run_and_returns_0(
    traces: tuple[Path, Path], qapp: QApplication
) -> None:
    from gui.launch import run_replay

    seen: list[ReplayWindow] = []

    def close_when_loaded() -> None:
        for tw in qapp.topLevelWidgets():
            if isinstance(tw, ReplayWindow) and tw.loaded is not None:
                seen.append(tw)
                tw.close()
                return
        QTimer.singleShot(50, close_when_loaded)

    QTimer.singleShot(50, close_when_loaded)
    assert run_replay(str(traces[0])) == 0
    assert seen and seen[0].load_seconds is not None


def test_compare_window_links_time_axes_and_tabulates_differences(
    qtbot: QtBot, traces: tuple[Path, Path]
) -> None:
    ta, tb = read_trace(traces[0]), read_trace(traces[1])
    w = CompareWindow(ta, tb)
    qtbot.addWidget(w)
    w.show()
    sa, sb = summary_json(replay_model(ta)), summary_json(replay_model(tb))
    rows = {r[0]: r for r in w.table_text()}
    assert len(rows) == len(FIGURES) + 2  # and how each run ended, and its problems
    ev = rows["events"]
    diff = sb["events"] - sa["events"]
    assert ev[1:4] == [f"{sa['events']:,}", f"{sb['events']:,}", f"{diff:+,}"]
    assert ev[4] == f"{sb['events'] / sa['events']:.2f}×"
    ms = rows["makespan (s)"]
    assert ms[3] == f"{sb['makespan_s'] - sa['makespan_s']:+.3f} s"
    assert w.panels[0].timeline_rows() == ["producer-0", "consumer-0", "consumer-1"]
    assert len(w.panels[1].timeline_rows()) == 5
    assert w.panels[0].x_range() == w.panels[1].x_range()
    w.panels[1].rates.plot.setXRange(0.1, 0.2, padding=0)  # zoom B: A follows
    assert w.panels[0].x_range() == pytest.approx((0.1, 0.2))


@pytest.mark.slow
def test_cli_replay_of_a_bad_file_exits_2_with_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.qltrace"
    bad.write_text('{"format": "queuelab-trace", "version": 99}\n')
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    p = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "replay", str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=ROOT,
    )
    assert p.returncode == 2
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and "bad.qltrace" in lines[0] and "line 1" in lines[0]
    assert "Traceback" not in p.stderr


def test_the_replay_is_one_more_run_of_the_live_windows_driver(
    qtbot: QtBot, traces: tuple[Path, Path]
) -> None:
    """No timer of its own: the RunDriver polls the playback as it polls a live run, and the
    playhead the charts draw at is the PlayheadSource's now()."""
    from PySide6.QtCore import QTimer

    path = traces[0]
    w = open_window(qtbot, path)
    assert [t.objectName() for t in w.findChildren(QTimer) if t.parent() is w] == []
    assert w.driver.run is w.playback and w.driver.polling
    t = time_of_done(path, 7)
    scrub_to(qtbot, w, t)
    t_ms = round(t * 1000) / 1000
    source = w.playback.source
    assert source.now() == pytest.approx(w.loaded.trace.t0 + t_ms)
    assert w.driver.frame().now == pytest.approx(t_ms) and not w.driver.frame().live
    assert playheads(w) == pytest.approx([t_ms] * 4)
    # Playing is the driver's drain moving the source's clock on.
    before = source.now()
    w.set_playing(True)
    qtbot.waitUntil(lambda: source.now() > before and playheads(w)[0] > t_ms, timeout=10_000)
    w.set_playing(False)


def test_the_flow_view_seeks_anywhere_from_the_moment_the_trace_is_loaded(
    qtbot: QtBot, traces: tuple[Path, Path]
) -> None:
    """The loader feeds the whole-run model once; the flow view cuts it at every playhead, so
    no seek, back or forth, waits for the playback's feeding (issue 16)."""
    from engine.flow_layout import flow_frame
    from engine.replay import replay_model

    path = traces[0]
    w = open_window(qtbot, path)
    whole = w.loaded.model
    assert whole is not None and w.flow_follower.model is whole
    full = replay_model(read_trace(path))
    assert (whole.events, whole.puts, whole.task_dones) == (full.events, full.puts, full.task_dones)
    w.view_tabs.show_flow()
    end = w.playback.duration
    for t in (end * 0.9, end * 0.1, end * 0.6, end * 0.3):
        w.seek(t)  # no settle(): nothing is fed for the flow view
        f = w.flow_view.frame
        assert w.flow_view.model is whole and f is not None and f.t == pytest.approx(t)
        want = {tok.tid: tok.place for tok in flow_frame(full, t, w.flow_view._limits()).tokens}
        assert {tok.tid: tok.place for tok in f.tokens} == want, f"at {t:.3f} s"
