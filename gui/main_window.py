"""MainWindow: configuration, controls, live charts, lesson, code, event log and status."""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QFont, QShowEvent
from PySide6.QtWidgets import (
    QMainWindow,
    QMenuBar,
    QMessageBox,
    QWidget,
)

from engine import own_function
from engine.config import RunConfig
from engine.explain import explain, summary_lines
from engine.model import RunModel
from engine.runner import RunStatus
from gui.code_view import CodeView
from gui.config_panel import ConfigPanel
from gui.controls import RunControls, icon
from gui.event_log import EventLog
from gui.flow import FlowView
from gui.flow.tabs import ViewTabs
from gui.frame_clock import Frame
from gui.lesson_view import LessonView, setup_words
from gui.pending_charts import PendingCharts
from gui.run_driver import RunDriver
from gui.run_session import SHOT_DELAY_MS, RunSession, ShotStep, exit_code, ready_first_start
from gui.run_start import RunStart
from gui.status_bar import RunStatusBar
from gui.step_mode import StepMode
from gui.theory_view import TheoryView
from gui.window_actions import build_chrome
from gui.window_files import WindowFiles

if TYPE_CHECKING:
    from gui.charts import ChartsPanel


class MainWindow(WindowFiles):
    """The whole product window. ``start_run``/``pause_run``/... are what the controls call."""

    sig_screenshot_saved = Signal(str)
    sig_done = Signal(int)  # --quit-when-done: the exit code, just before the window closes

    def __init__(
        self,
        cfg: RunConfig | None = None,
        preset: str | None = None,
        *,
        screenshot: str | None = None,
        quit_when_done: bool = False,
        defer_charts: bool = False,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("main_window")
        self.setWindowIcon(icon("queuelab"))
        dock = QMainWindow.DockOption
        self.setDockOptions(dock.AnimatedDocks | dock.AllowTabbedDocks)
        # Cadence, hang rule and the unattended screenshot: widget-free (gui/run_session.py).
        self.session = RunSession(screenshot=screenshot, quit_when_done=quit_when_done)
        self._closing = self._presenter = False
        self._zoom = 1.0
        self._base_font: QFont | None = None  # the application font before any scaling
        self.last_error_box: QMessageBox | None = None
        # --screenshot: why the PNG could not be written (run_gui prints it and exits 1).
        self.screenshot_error: str | None = None
        self._laid_out = False  # the docks exist and have their sizes (see _size_for_screen)
        self._refit_pending = self._widths_pending = False

        self.driver = RunDriver(self)
        self.run_start = RunStart(self.driver, self)  # a Start's launch, turns after it
        # The flow view (issue 16): a tab beside the charts, cut from the same model.
        self.flow_view = FlowView(self)
        self.view_tabs: ViewTabs | None = None
        # pyqtgraph takes about as long to import as the rest of the window: with
        # defer_charts the window shows first and the charts arrive on the next loop turn.
        self.charts: ChartsPanel | PendingCharts = PendingCharts(self)
        self.setCentralWidget(self.charts)
        if not defer_charts:
            self.load_charts()

        self.config_panel = ConfigPanel(self)
        self.config_dock = self._dock("Configuration", "config_dock", self.config_panel)
        self.lesson_view = LessonView(self)
        self.lesson_dock = self._dock("Lesson", "lesson_dock", self.lesson_view)
        self.event_log = EventLog(self)
        self.log_dock = self._dock("Event log", "log_dock", self.event_log)
        self.code_view = CodeView(self)
        self.code_dock = self._dock("Code", "code_dock", self.code_view)
        self.theory_view = TheoryView(self)
        self.theory_dock = self._dock("Theory", "theory_dock", self.theory_view)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.lesson_dock)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.config_dock)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.log_dock)

        self.status_bar = RunStatusBar(self)
        self.setStatusBar(self.status_bar)
        self.controls = RunControls(self)

        # One-shot timer for --screenshot / --quit-when-done, a child so close() can stop it.
        self._shot_timer = QTimer(self)
        self._shot_timer.setObjectName("auto_screenshot")
        self._shot_timer.setSingleShot(True)
        self._shot_timer.setInterval(SHOT_DELAY_MS)
        self._shot_timer.timeout.connect(self._on_shot_timer_timeout)

        self._build_menus_and_toolbar()
        self.step_mode = StepMode(self)  # Run ▸ Step mode: its pane, keys and restarts
        self.step_mode.install_menu(self._menu_bar)

        self.driver.sig_applied.connect(self._on_driver_sig_applied)
        self.driver.sig_frame.connect(self._on_driver_sig_frame)
        self.driver.sig_log_frame.connect(self._on_driver_sig_log_frame)
        self.driver.sig_sync.connect(self._on_driver_sig_sync)
        self.driver.sig_status.connect(self._on_driver_sig_status)
        self.driver.sig_join_returned.connect(self._on_driver_sig_join_returned)
        self.driver.sig_ended.connect(self._on_driver_sig_ended)
        self.controls.sig_start.connect(self.start_run)
        self.run_start.sig_launched.connect(self._on_run_start_sig_launched)
        self.run_start.sig_failed.connect(self._on_run_start_sig_failed)
        self.controls.sig_pause.connect(self.pause_run)
        self.controls.sig_resume.connect(self.resume_run)
        self.controls.sig_stop.connect(self.stop_run)
        self.controls.sig_reset.connect(self.reset_run)
        self.config_panel.sig_config_changed.connect(self._on_config_panel_sig_config_changed)
        self.config_panel.sig_validity_changed.connect(self._on_config_panel_sig_validity_changed)
        self.config_panel.sig_preset_failed.connect(self._on_config_panel_sig_preset_failed)
        self.code_view.sig_save_requested.connect(self._on_save_program_action_triggered)

        self.config_panel.set_config(cfg if cfg is not None else RunConfig(), preset=preset)
        self.charts.set_model(None)
        self._refresh_controls()
        self._size_for_screen()
        self.tabifyDockWidget(self.log_dock, self.theory_dock)  # beside the log, either layout
        self.theory_dock.visibilityChanged.connect(self._on_theory_dock_visibilityChanged)
        (self.code_dock if self.log_beside else self.config_dock).raise_()
        self.sweep_window = None  # Experiment ▸ Sweep… (gui/sweep_window.py)
        self._start_readied = False

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._start_readied:
            # Once the window is on screen: Start then only forks (run_session.py).
            self._start_readied = True
            QTimer.singleShot(0, self._on_ready_timer_timeout)

    def _on_ready_timer_timeout(self) -> None:
        if self._closing or self.driver.run is not None:
            return
        try:
            cfg = self.config_panel.config()
        except Exception:  # why: invalid options: the first Start will say so
            return
        ready_first_start(cfg)

    # ------------------------------------------------------------------ layout
    def load_charts(self) -> None:
        """Put the real ChartsPanel in place (a no-op once it is there)."""
        pending = self.charts
        if not isinstance(pending, PendingCharts):
            return
        from gui.charts import ChartsPanel

        charts = ChartsPanel(self)
        charts.setObjectName("charts")
        charts.set_follow(pending.follow)
        if pending.presenter:
            charts.set_presenter(True)
        charts.set_model(pending.model)
        self.charts = charts
        # The charts are what people came to see: docks may never squeeze them to a strip.
        charts.setMinimumWidth(560)
        self.view_tabs = ViewTabs(charts, self.flow_view, self)
        self.view_tabs.currentChanged.connect(self._on_view_tabs_currentChanged)
        self.setCentralWidget(self.view_tabs)  # deletes the placeholder
        if self._laid_out:
            self._apply_dock_widths()
            self._widths_pending = True  # and again once Qt has shared the width out
            self._refit_lesson_soon()

    def show_flow(self, on: bool = True) -> None:
        """Bring the flow view's tab (or the charts') to the front."""
        self.load_charts()
        if self.view_tabs is not None:
            self.view_tabs.show_flow(on)

    def _on_view_tabs_currentChanged(self, _index: int) -> None:
        self._place_step_pane()  # the flow view wants the width, the charts the height

    def set_lesson_widget(self, widget: QWidget) -> None:
        """Put a richer lesson pane in the Lesson dock (the plain LessonView steps aside)."""
        self.lesson_dock.setWidget(widget)

    def _build_menus_and_toolbar(self) -> None:
        # The actions are a table (gui/window_actions.py); each becomes self.<name>_action.
        docks = [self.lesson_dock, self.code_dock, self.config_dock, self.log_dock,
                 self.theory_dock]
        self._menu_bar, self.toolbar = build_chrome(self, self.controls.actions, docks)

    def menuBar(self) -> QMenuBar:
        """The menu bar in the top row (QMainWindow's own would replace that row)."""
        return self._menu_bar

    # ------------------------------------------------------------------ run commands
    @property
    def model(self) -> RunModel | None:
        return self.driver.model

    def start_run(self, cfg: RunConfig | None = None) -> bool:
        """Ready the views for a fresh run of the panel's config (or ``cfg``, a sweep's point)
        and launch it once they are drawn (gui/run_start.py); False if not."""
        if self.driver.status in (RunStatus.RUNNING, RunStatus.PAUSED, RunStatus.STOPPING):
            return False
        if cfg is None and not self.config_panel.is_valid():
            return False
        cfg = cfg if cfg is not None else self.config_panel.config()
        try:
            own_function.check(cfg.workload)  # the user's own function: nothing is started
        except own_function.WorkloadError as error:
            self.driver.discard()
            self._refuse_workload(str(error))
            return False
        self.load_charts()
        self._shot_timer.stop()
        # The views first, painted before the workers' start-up and flood share the CPU.
        run = self.driver.start(cfg, self.step_mode.make_run(cfg), launch=False)
        self.code_view.show_config(cfg)
        self.code_view.clear_running()
        self.charts.set_follow(self.follow_action.isChecked())
        self.charts.set_playhead(None)
        self.charts.theory.set_config(cfg)
        self.charts.set_model(run.model)
        self.theory_view.show_run(run.model, cfg, live=True)
        self.event_log.set_model(run.model)
        self.event_log.add_note(f"— Run started: {setup_words(cfg)}", 0.0)
        self._show_log_or_options(log=True)
        # It imports: a refusal shown under the workload field from an earlier Start goes.
        self.config_panel.editors["workload"].set_error(self.config_panel.errors().get("workload"))
        self.session.start()
        self._show_diagnosis([])
        self.status_bar.show_alert(None)
        self.run_start.schedule(run)
        self._refresh_controls()
        return True

    def _on_run_start_sig_launched(self, run: object) -> None:
        for warning in getattr(run, "warnings", []):
            self.event_log.add_note(f"! {warning}", 0.0)
        self._refresh_controls()

    def _on_run_start_sig_failed(self, words: str) -> None:
        self._show_error("Could not start the run", words)
        self._refresh_controls()
        if self.session.unattended:  # nobody will close the dialog: end, and say why
            print(f"queuelab: error: could not start the run: {words}", file=sys.stderr)
            QTimer.singleShot(0, self._finish_auto)

    def pause_run(self) -> None:
        self.run_start.launch_now()  # pressed before the launch: it pauses the run it starts
        if self.driver.status is RunStatus.RUNNING:
            self.driver.pause()

    def resume_run(self) -> None:
        if self.driver.status is RunStatus.PAUSED:
            self.driver.resume()

    def toggle_pause(self) -> None:
        if self.driver.status is RunStatus.PAUSED:
            self.resume_run()
        else:
            self.pause_run()

    def stop_run(self) -> None:
        self.run_start.launch_now()  # pressed before the launch: the run ends as any stopped
        if self.driver.status in (RunStatus.RUNNING, RunStatus.PAUSED):
            self.driver.stop()

    def reset_run(self) -> None:
        """Forget the run (stopping it if needed): empty charts and log, options editable."""
        self._shot_timer.stop()
        self.session.reset_shot()
        self.run_start.cancel()
        self.driver.discard()
        self.charts.set_model(None)
        self.theory_view.show_run(None, None)
        self.flow_view.set_model(None)
        self.event_log.set_model(None)
        self.code_view.clear_running()
        self._show_diagnosis(None)
        self.status_bar.show_alert(None)
        self._show_log_or_options(log=False)
        self._refresh_controls()
        self._refresh_status(force=True)

    # ------------------------------------------------------------------ driver slots
    def _on_driver_sig_applied(self, applied: list) -> None:
        self.charts.note_records(applied)
        self.event_log.add_records(applied)

    def _on_driver_sig_frame(self, frame: Frame) -> None:
        self.charts.refresh(frame)
        if self.charts.behind:  # a paced frame left part of a backlog: the next one takes it,
            self.driver.request_frame()  # and turns between frames take more of it meanwhile
            self.driver.request_sync()
        self.flow_view.follow(self.driver.model, frame.now)  # the charts' time, not the last event
        self._refresh_status()
        self._show_code_lines()
        now = time.monotonic()
        if self.session.explain_due(self.driver.model, now, self.driver.active):
            self._diagnose(now)

    def _on_driver_sig_sync(self) -> None:
        if self.charts.catch_up():  # still behind
            self.driver.request_sync()

    def _on_driver_sig_log_frame(self) -> None:
        self.event_log.flush()
        if self.event_log.pending:
            self.driver.request_log_frame()

    def _diagnose(self, now: float) -> None:
        """Explain a hang in the log as soon as the events prove it (each sentence once)."""
        m = self.driver.model
        if m is None or m.t0 is None:
            return
        live = self.driver.status in (RunStatus.RUNNING, RunStatus.PAUSED)
        said = explain(m, self.driver.elapsed(), live=live)
        self._log_diagnoses(said.findings, said.t)
        if not self.theory_view.visibleRegion().isEmpty():
            # ~0.1 s at 10^5 tasks: computed while someone looks (a tabbed dock behind another
            # stays "visible" to Qt, hence the region), and at the run's end.
            self.theory_view.show_run(m, self.driver.run.cfg, live=True)
        self._show_diagnosis(list(said.findings))
        self.status_bar.show_alert(said.alert)
        # An unattended window must not wait forever: the same rule ends a headless run.
        if self.session.should_stop(said, m, now):
            self.driver.stop(reason="queue.join() can never return (--quit-when-done)")

    def _on_theory_dock_visibilityChanged(self, visible: bool) -> None:
        run, m = self.driver.run, self.driver.model
        if visible and run is not None and m is not None:
            self.theory_view.show_run(m, run.cfg, live=self.driver.active)

    def _show_diagnosis(self, found: list[str] | None, *, ended: bool = False) -> None:
        """Findings in the lesson pane (None: no run); its height follows what they need."""
        changed = self.lesson_view.show_diagnosis(found, ended=ended)
        if changed and self.isVisible():
            self._refit_lesson_soon()

    def _show_code_lines(self) -> None:
        """Light up the lines the workers execute; frozen once a stop kills them."""
        run, m = self.driver.run, self.driver.model
        if run is None or m is None or m.t0 is None or m.stop_t is not None:
            return
        stepping = self.step_mode.code_lines()  # step mode: where each process waits
        if stepping is not None:
            if stepping != self.code_view.running():
                self.code_view.clear_running()
                self.code_view.edit.set_running(stepping, focus=min(stepping, default=None))
            return
        self.code_view.show_run(m, run.cfg)

    def _log_diagnoses(self, found: tuple[str, ...], t: float) -> None:
        for sentence in self.session.new_sentences(found):
            self.event_log.add_note(f"! {sentence}", t)

    def _on_driver_sig_status(self, status: RunStatus) -> None:
        self._refresh_controls()
        self._refresh_status(force=True)

    def _on_driver_sig_join_returned(self, t: float) -> None:
        if self.session.join_returned(time.monotonic()):
            self._shot_timer.start()

    def _on_driver_sig_ended(self, reason: str) -> None:
        self.charts.refresh()
        self.flow_view.follow(self.driver.model, self.driver.elapsed())
        self.event_log.flush()
        m = self.driver.model
        if m is not None:
            end = m.end_t if m.end_t is not None else m.last_t
            self.event_log.add_note(f"— Run ended: {reason}", end)
            for line in summary_lines(m)[1:]:
                self.event_log.add_note(f"— {line}", end)
            said = explain(m, end)
            if m.join_returned_t is None or m.dead_workers():
                self._log_diagnoses(said.findings, end)
            self._show_diagnosis(list(said.findings), ended=True)
            self.status_bar.show_alert(said.alert)
            self.theory_view.show_run(m, self.driver.run.cfg)
        self._refresh_controls()
        self._refresh_status(force=True)
        if self.session.ended(self._shot_timer.isActive()):
            self._finish_auto()

    def _on_shot_timer_timeout(self) -> None:
        explained = bool(self.lesson_view.diagnosis_view.sentences())
        step = self.session.shot_step(
            self.driver.model, self.driver.active, explained, time.monotonic()
        )
        if step is ShotStep.RETRY:
            self._shot_timer.start()
        elif step is ShotStep.FINISH:
            self._finish_auto()

    def _refuse_workload(self, message: str) -> None:
        """Say why the user's function cannot run: under its field, and in a dialog."""
        self.config_panel.editors["workload"].set_error(message)
        self.status_bar.join_label.setText("Nothing was started: the workload cannot be imported.")
        self._show_error("Could not start the run", message)
        self._refresh_controls()
        if self.session.screenshot or self.session.quit_when_done:
            QTimer.singleShot(0, self._finish_auto)  # unattended: the picture shows the message

    def _finish_auto(self) -> None:
        self.session.auto_done = True
        if self.session.screenshot:
            # Unattended (--quit-when-done) nobody would read a dialog: the command says it.
            self.save_screenshot(self.session.screenshot, quiet=self.session.quit_when_done)
        if self.session.quit_when_done:
            self.sig_done.emit(self.exit_code)
            QTimer.singleShot(0, self.close)

    @property
    def exit_code(self) -> int:
        """0 when the last run's queue.join() returned, 3 otherwise (stopped, died, none)."""
        return exit_code(self.driver.model)

    # ------------------------------------------------------------------ views
    def _refresh_controls(self) -> None:
        # A run whose launch is due (turns away) is shown running: Start is not offered twice.
        status = RunStatus.RUNNING if self.run_start.pending else self.driver.status
        has_run = self.driver.run is not None
        valid = self.config_panel.is_valid()
        self.controls.update_state(status, valid=valid, has_run=has_run)
        live = status in (RunStatus.RUNNING, RunStatus.PAUSED, RunStatus.STOPPING)
        self.config_panel.set_locked(live)
        self.open_action.setEnabled(not live)

    def _refresh_status(self, force: bool = False) -> None:
        d = self.driver
        self.status_bar.show_run(d.model, d.status, d.elapsed(), d.events_per_s, force=force)
        if d.run is None and not self.config_panel.is_valid():
            self.status_bar.set_state_text("Invalid options", "invalid")
            self.status_bar.join_label.setText("Fix the options marked in red to start a run.")

    def _on_config_panel_sig_config_changed(self, cfg: RunConfig | None) -> None:
        old_text = self.lesson_view.text_label.text()
        self.lesson_view.show_config(cfg)
        panel = self.config_panel
        title = (panel.preset_title or panel.modified_from) if panel.modified_from else None
        modified = self.lesson_view.show_modified(title, panel.changes())
        if self.isVisible() and (self.lesson_view.text_label.text() != old_text or modified):
            self._refit_lesson_soon()
        if not self.driver.active:  # a live run keeps showing the program it runs
            self.code_view.show_config(cfg)
        self._update_title(cfg)
        self._refresh_controls()
        self._refresh_status(force=True)

    def _on_config_panel_sig_validity_changed(self, valid: bool) -> None:
        self._refresh_controls()

    def _on_config_panel_sig_preset_failed(self, message: str) -> None:
        self._show_error("Could not load the preset", message)

    def _on_sweep_action_triggered(self) -> None:
        from gui.sweep_window import open_sweep_dialog

        open_sweep_dialog(self)

    def _on_follow_action_toggled(self, on: bool) -> None:
        self.charts.set_follow(on)

    # ------------------------------------------------------------------ closing
    def closeEvent(self, event: QCloseEvent) -> None:
        """Stop the run with every worker, and every timer, before the window goes."""
        self._closing = True
        self._shot_timer.stop()
        self.run_start.cancel()
        if self.sweep_window is not None:
            self.sweep_window.close()  # stops the sweep before its run is stopped here
        self.driver.shutdown()
        self.driver.drop_recording()  # the temporary trace goes with the window
        # The application font is shared with other windows.
        self._presenter = False
        self._zoom = 1.0
        self._apply_scale()
        super().closeEvent(event)
