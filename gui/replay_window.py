"""ReplayWindow: a saved run played by the live window's driver, charts, log and status bar."""

from __future__ import annotations

import gc
import math
import time
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QSlider,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from engine.model import RunModel
from engine.runner import RunStatus
from gui.event_log import EventLog
from gui.flow import FlowView
from gui.flow.tabs import ReplayFollower, ViewTabs
from gui.frame_clock import Frame
from gui.replay_cut import ModelAt
from gui.replay_diagnosis import ReplayDiagnosis
from gui.replay_exports import build_menu, export_dialog, export_to
from gui.replay_playback import Playback, ReplayCharts
from gui.run_driver import RunDriver
from gui.status_bar import RunStatusBar
from gui.theory_view import TheoryView, theory_applies
from gui.trace_loader import PREPARE_SHARE, READ_SHARE, LoadedRun, TraceLoader

SPEEDS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0)
TRACE_FILTER = "QueueLab traces (*.qltrace *.jsonl);;All files (*)"


def _speed_text(s: float) -> str:
    return f"{s:g}×"


class ReplayWindow(QMainWindow):
    """Play, pause, change speed and scrub through a recorded run; File ▸ Open run… loads one."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("replay_window")
        self.setWindowTitle("QueueLab — replay")
        self.resize(1280, 800)
        self.loaded: LoadedRun | None = None
        self.playback: Playback | None = None
        self.exit_code = 0
        self.load_seconds: float | None = None
        self._path: str | None = None
        self._fail_exit_code = 0
        self._warnings: list[str] = []
        self._told_end = False
        self._theory_due = 0.0
        self._log_model: RunModel | None = None  # the model the event log narrates
        self._playing_shown = False

        self.loader = TraceLoader(self)
        self.loader.sig_progress.connect(self._on_loader_sig_progress)
        self.loader.sig_warning.connect(self._on_loader_sig_warning)
        self.loader.sig_loaded.connect(self._on_loader_sig_loaded)
        self.loader.sig_failed.connect(self._on_loader_sig_failed)

        build_menu(self)
        self.stack = QStackedWidget(self)
        self.setCentralWidget(self.stack)
        self.stack.addWidget(self._build_loading_page())
        self.stack.addWidget(self._build_replay_page())
        self.status = RunStatusBar(self)
        self.setStatusBar(self.status)
        self.status.set_state_text("No run", "idle")
        self.status.join_label.setText("File ▸ Open run… (Ctrl+O) to replay a saved run.")

        # The live window's driver and frame clock play the recording (issue 13): the
        # playback is one more run, its PlayheadSource one more source of records.
        self.driver = RunDriver(self)
        self.driver.sig_applied.connect(self._on_driver_sig_applied)
        self.driver.sig_frame.connect(self._on_driver_sig_frame)
        self.driver.sig_log_frame.connect(self._on_driver_sig_log_frame)
        space = QShortcut(QKeySequence(Qt.Key.Key_Space), self)
        space.activated.connect(self.toggle_play)
        self._set_controls_enabled(False)

    # ------------------------------------------------------------------ building
    def _build_loading_page(self) -> QWidget:
        page = QWidget(self)
        lay = QVBoxLayout(page)
        lay.addStretch(1)
        self.loading_label = QLabel("Open a saved run with File ▸ Open run… (Ctrl+O).", page)
        self.loading_label.setObjectName("replay_loading_label")
        self.loading_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.loading_label.setWordWrap(True)
        self.progress = QProgressBar(page)
        self.progress.setObjectName("replay_progress")
        self.progress.setRange(0, 1000)
        self.progress.setFormat("%p%")
        self.progress.setFixedWidth(420)
        self.progress.hide()
        lay.addWidget(self.loading_label)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.progress)
        row.addStretch(1)
        lay.addLayout(row)
        lay.addStretch(2)
        return page

    def _build_replay_page(self) -> QWidget:
        page = QWidget(self)
        lay = QVBoxLayout(page)
        lay.setContentsMargins(6, 4, 6, 0)
        lay.setSpacing(4)
        bar = QHBoxLayout()
        bar.setSpacing(8)
        self.play_button = QToolButton(page)
        self.play_button.setObjectName("replay_play")
        self.play_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.play_button.setToolTip("Play or pause the replay (Space).")
        self.play_button.setMinimumWidth(84)
        self.play_button.clicked.connect(self.toggle_play)
        self.speed_combo = QComboBox(page)
        self.speed_combo.setObjectName("replay_speed")
        self.speed_combo.setToolTip("Replay speed: run seconds per wall-clock second.")
        for s in SPEEDS:
            self.speed_combo.addItem(_speed_text(s), s)
        self.speed_combo.setCurrentIndex(SPEEDS.index(1.0))
        self.speed_combo.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Space stays play/pause
        self.speed_combo.currentIndexChanged.connect(self._on_speed_combo_currentIndexChanged)
        self.slider = QSlider(Qt.Orientation.Horizontal, page)
        self.slider.setObjectName("replay_scrubber")
        self.slider.setToolTip("Drag to move the playhead across all charts.")
        self.slider.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.slider.valueChanged.connect(self._on_slider_valueChanged)
        self.time_label = QLabel(page)
        self.time_label.setObjectName("replay_time")
        self.time_label.setMinimumWidth(150)
        self.time_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        bar.addWidget(self.play_button)
        bar.addWidget(QLabel("Speed", page))
        bar.addWidget(self.speed_combo)
        bar.addWidget(self.slider, 1)
        bar.addWidget(self.time_label)
        lay.addLayout(bar)

        split = QSplitter(Qt.Orientation.Horizontal, page)
        self.charts = ReplayCharts(split)
        self.charts.set_follow(False)
        # The diagnosis above the log: what held the recorded run up, as the live window said.
        column = QWidget(split)
        col = QVBoxLayout(column)
        col.setContentsMargins(0, 0, 0, 0)
        col.setSpacing(0)
        self.diagnosis = ReplayDiagnosis(column)
        self.log = EventLog(column)
        # Queueing theory beside the recorded run's measurement, at the playhead.
        self.side_tabs = QTabWidget(column)
        self.side_tabs.setObjectName("replay_side_tabs")
        self.theory_view = TheoryView(self.side_tabs)
        self.side_tabs.addTab(self.log, "Event log")
        self.side_tabs.addTab(self.theory_view, "Theory")
        self._theory_key: tuple | None = None
        col.addWidget(self.diagnosis)
        self.side_tabs.currentChanged.connect(self._on_side_tabs_currentChanged)
        col.addWidget(self.side_tabs, 1)
        # The flow view (issue 16), a tab beside the charts, cut at the playhead.
        self.flow_view = FlowView(split)
        self.flow_follower = ReplayFollower(self)
        self.view_tabs = ViewTabs(self.charts, self.flow_view, split)
        split.addWidget(self.view_tabs)
        split.addWidget(column)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        split.setSizes([860, 420])
        lay.addWidget(split, 1)
        self._update_play_button()
        return page

    # ------------------------------------------------------------------ loading
    def open_path(self, path: str, *, exit_code_on_failure: int = 0) -> None:
        """Load ``path`` off the GUI thread; the current run stays until the new one is ready."""
        self._path = str(path)
        self._fail_exit_code = exit_code_on_failure
        self._warnings = []
        self._load_started = time.perf_counter()
        if self.loaded is None:
            self.stack.setCurrentIndex(0)
        self.loading_label.setText(f"Loading {Path(path).name}…")
        self.progress.setValue(0)
        self.progress.show()
        self.stack.setCurrentIndex(0)
        self.set_playing(False)
        self.status.set_state_text("Loading…", "running")
        self.status.join_label.setText(f"Reading {path}")
        self.loader.start(self._path)

    def _on_loader_sig_progress(self, f: float) -> None:
        self.progress.setValue(round(f * 1000))
        if f >= READ_SHARE + PREPARE_SHARE and self._path is not None:
            # The model of the whole run: what makes every seek afterwards one cut.
            self.loading_label.setText(
                f"Building the model of {Path(self._path).name} (seeking is instant after)…")

    def _on_loader_sig_warning(self, message: str) -> None:
        self._warnings.append(message)

    def _on_loader_sig_failed(self, message: str) -> None:
        self.progress.hide()
        self.exit_code = self._fail_exit_code or self.exit_code
        if self.loaded is not None:
            self.stack.setCurrentIndex(1)
            self._show_state()
        else:
            self.loading_label.setText("Open a saved run with File ▸ Open run… (Ctrl+O).")
            self.status.set_state_text("No run", "invalid")
            self.status.join_label.setText(message)
        QMessageBox.critical(self, "Cannot open this run", message)

    def _on_loader_sig_loaded(self, loaded: LoadedRun) -> None:
        # Time to usable window: reading + preparing on the thread, then the first frame here.
        self.loaded = loaded
        self.playback = Playback(loaded)
        self.playback.speed = self.speed
        self.diagnosis.reset()
        self._told_end = False
        self.charts.set_trace_marks(loaded.trace)
        cfg = loaded.trace.config
        self.charts.theory.set_config(cfg if theory_applies(cfg) else None)
        self._theory_key = None
        self.flow_follower.reset(loaded.trace, loaded.model)
        self.flow_view.set_model(None)
        # A million loaded records would make every full garbage collection walk them (about
        # a second's freeze); they hold no cycles, so refcounting alone still frees them.
        gc.freeze()
        self.progress.hide()
        self.stack.setCurrentIndex(1)
        name = Path(loaded.trace.path).name
        self.setWindowTitle(f"QueueLab — replay — {name}")
        dur = loaded.duration_s
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(1, math.ceil(dur * 1000)))  # the end is reachable
        self.slider.setValue(0)
        self.slider.blockSignals(False)
        self._set_controls_enabled(True)
        self.driver.start(loaded.trace.config, self.playback, record=False)
        self.playback.request(0.0)
        self.playback.step()
        self._show_frame(self.driver.frame(), reset=True)
        self.load_seconds = time.perf_counter() - self._load_started
        self.log.add_note(
            f"— {name}: {loaded.n_events:,} events over {dur:.2f} s, "
            f"loaded in {self.load_seconds:.2f} s —"
        )
        for w in self._warnings:
            self.log.add_note(f"! {w}")
        self.time_label.setToolTip(
            f"{loaded.n_events:,} events; the file loaded in {self.load_seconds:.2f} s."
        )

    # ------------------------------------------------------------------ playing
    def _set_controls_enabled(self, on: bool) -> None:
        for w in (self.play_button, self.speed_combo, self.slider):
            w.setEnabled(on)
        for act in self.export_actions.values():
            act.setEnabled(on)

    @property
    def speed(self) -> float:
        return float(self.speed_combo.currentData())

    def set_speed(self, speed: float) -> None:
        self.speed_combo.setCurrentIndex(SPEEDS.index(speed))

    @property
    def playing(self) -> bool:
        """Playing, as the window last showed it (the playback stops at the end in a drain
        tick; the button and status say so at the next frame)."""
        return self._playing_shown

    def _on_speed_combo_currentIndexChanged(self, _index: int) -> None:
        if self.playback is not None:
            self.playback.speed = self.speed

    def toggle_play(self) -> None:
        self.set_playing(not self.playing)

    def set_playing(self, on: bool) -> None:
        pb = self.playback
        if pb is not None:
            pb.set_playing(on)
            self._playing_shown = pb.playing
            self.driver.request_frame()
        self._update_play_button()
        self._show_state()

    def seek(self, t_s: float) -> None:
        """Move the playhead to ``t_s`` run seconds; the driver's next ticks feed and draw."""
        if self.playback is None:
            return
        self.playback.request(t_s)
        self.driver.request_frame()
        # The flow view cuts a model at once (it never waits for the feeding): now, not at
        # the driver's next frame, so a drag of the scrubber moves the tokens as it goes.
        self.flow_follower.show(self.flow_view, self.playback, 1.0, False)

    def settle(self, timeout_s: float = 30.0) -> None:
        """Feed until the views show the playhead's time (tests, export)."""
        end = time.monotonic() + timeout_s
        pb = self.playback
        if pb is None:
            return
        while not pb.fed and time.monotonic() < end:
            self._on_driver_sig_applied(pb.poll(budget_s=0.05))
        self._on_driver_sig_frame(self.driver.frame())

    @property
    def playhead_s(self) -> float:
        return self.playback.target if self.playback is not None else 0.0

    def _update_play_button(self) -> None:
        self.play_button.setText("❚❚  Pause" if self.playing else "▶  Play")

    def _on_slider_valueChanged(self, value: int) -> None:
        self.seek(value / 1000.0)

    def _on_driver_sig_applied(self, applied: list[tuple[int, tuple]]) -> None:
        pb = self.playback
        if pb is None or not applied:
            return
        if pb.shown is not self._log_model:
            self._set_log_model(pb.shown)  # a jump back: the rebuilt model's tail only
        self.log.add_records(applied)

    def _set_log_model(self, model: RunModel) -> None:
        self._log_model = model
        self.log.set_model(model)

    def _on_driver_sig_log_frame(self) -> None:
        self.log.flush()

    def _on_driver_sig_frame(self, frame: Frame) -> None:
        self._show_frame(frame, reset=self.playback is not None
                         and self.playback.shown is not self._log_model)  # fmt: skip

    @property
    def whole(self) -> RunModel | None:
        """The whole run's model (the loader fed it once): the charts, status and flow view
        cut it at the playhead, so a seek anywhere is a cut, never a feed."""
        return self.loaded.model if self.loaded is not None else None

    def _show_frame(self, frame: Frame, *, reset: bool = False) -> None:
        """Draw the playback at the playhead (the charts' clock: held time taken out)."""
        pb = self.playback
        if pb is None:
            return
        self._playing_shown = pb.playing
        if self.charts.model is not self.whole:
            self.charts.set_model(self.whole)
            self._fit_x()
        if reset and self._log_model is not pb.shown:
            self._set_log_model(pb.shown)
        self.charts.set_until(pb.run_time)
        self.charts.refresh()
        # The driver's clock paces the log; once the playhead rests it shows every line.
        if reset or (pb.fed and not self.playing):
            self.log.flush()
        self.charts.set_playhead(pb.run_time)
        self.flow_follower.show(self.flow_view, pb, self.speed if self.playing else 1.0,
                                self.playing)  # fmt: skip
        self._update_play_button()
        self.slider.blockSignals(True)
        at_end = pb.target >= pb.duration
        self.slider.setValue(self.slider.maximum() if at_end else round(pb.target * 1000))
        self.slider.blockSignals(False)
        self.time_label.setText(f"{pb.run_time:7.2f} s / {pb.run_duration:.2f} s")
        self._show_state()
        pb.drawn()

    def _fit_x(self) -> None:
        # The whole run on one axis, so the playhead walks across it instead of it scrolling.
        d = self.playback.run_duration if self.playback is not None else 1.0
        self.charts.unfinished.plot.setXRange(0.0, max(d, 0.05) * 1.02, padding=0)

    def _show_state(self) -> None:
        pb = self.playback
        if pb is None:
            return
        at_end = pb.target >= pb.duration
        status = RunStatus.RUNNING if self.playing else RunStatus.PAUSED
        if at_end and not self.playing:
            status = RunStatus.FINISHED
        t, loaded = pb.run_time, pb.run
        assert loaded.model is not None  # the window's loader always feeds the whole run
        shown = ModelAt(loaded.model, t, self.charts.counts_at(t), loaded.count_until(pb.target))
        self.status.show_run(shown, status, t, 0.0, force=True)  # type: ignore[arg-type]
        if self.playing:
            words = f"Replay ▶ {_speed_text(self.speed)}"
        elif at_end:
            words = "Replay: end"
        else:
            words = "Replay paused"
        self.status.set_state_text(words, status.value)
        self.status.rate_label.setText(f"{shown.events:,} of {loaded.n_events:,} events")
        self._show_diagnosis(at_end and pb.fed)
        self._show_theory(at_end and pb.fed)

    def _on_side_tabs_currentChanged(self, _index: int) -> None:
        pb = self.playback
        if pb is not None and self.theory_view.isVisible():
            self._theory_key = None
            self._show_theory(pb.fed and pb.target >= pb.duration)

    def _show_theory(self, at_end: bool) -> None:
        """The theory table at the playhead: on change, at most twice a second while playing."""
        pb, loaded = self.playback, self.loaded
        if pb is None or loaded is None or pb.rebuilding:
            return
        if not at_end and not self.theory_view.isVisible():
            return  # behind the log's tab: computed when shown (it costs ~0.1 s at 10^5 tasks)
        now = time.monotonic()
        key = (id(pb.shown), pb.shown.events, at_end)
        if key == self._theory_key or (self.playing and now < self._theory_due):
            return
        self._theory_key, self._theory_due = key, now + 0.5
        self.theory_view.show_run(pb.shown, loaded.trace.config, live=not at_end)

    def _show_diagnosis(self, at_end: bool) -> None:
        pb = self.playback
        if pb is None or pb.rebuilding:
            return
        m = pb.shown
        self.diagnosis.update_at(m, pb.run_time, at_end=at_end, playing=self.playing)
        found = self.diagnosis.found
        self.status.show_alert(self.diagnosis.alert)
        if at_end and not self._told_end:
            # Once per file, in the log too: the recorded run's problems and how it ended.
            self._told_end = True
            self.log.flush()
            if m.end_reason:
                self.log.add_note(f"— Run ended: {m.end_reason}", m.end_t)
            for sentence in found:
                self.log.add_note(f"! {sentence}", m.last_t)

    # ------------------------------------------------------------------ file menu
    def _on_open_action_triggered(self) -> None:
        start = str(Path(self._path).parent) if self._path else ""
        path, _ = QFileDialog.getOpenFileName(self, "Open a saved run", start, TRACE_FILTER)
        if path:
            self.open_path(path)

    def export_dialog(self, fmt: str) -> None:
        export_dialog(self, fmt)

    def export_to(self, fmt: str, path: str) -> None:
        """Write the run (csv, chrome) or the charts or flow view at the playhead to ``path``."""
        export_to(self, fmt, path)

    # ------------------------------------------------------------------ closing
    def closeEvent(self, event: QCloseEvent) -> None:
        self.driver.discard()
        self.loader.cancel()
        self.flow_follower.close()
        super().closeEvent(event)


def open_replay_window(parent: QWidget | None, path: str | None = None) -> ReplayWindow:
    """A ReplayWindow of its own (deleted when closed) on ``path``, or asking for a file.

    With a parent (the main window) it lives as long as that window at most; the parent keeps
    the Python object alive, so the caller need not.
    """
    w = ReplayWindow(parent)
    w.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
    w.show()
    if path:
        w.open_path(path)
    else:
        w.open_action.trigger()
    return w
