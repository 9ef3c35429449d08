"""MainWindow: configuration, controls, live charts, lesson, code, event log and status."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QStandardPaths, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QFont,
    QGuiApplication,
    QKeySequence,
    QResizeEvent,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QFileDialog,
    QHBoxLayout,
    QMainWindow,
    QMenuBar,
    QMessageBox,
    QSizePolicy,
    QStyle,
    QToolBar,
    QWidget,
)

from engine.config import ConfigError, RunConfig, load_config, save_config
from engine.explain import SETTLE_S, explain, summary_lines
from engine.model import RunModel
from engine.runner import RunStatus
from gui.code_view import CodeView
from gui.config_panel import ConfigPanel
from gui.controls import RunControls, icon
from gui.event_log import EventLog
from gui.lesson_view import LessonView, setup_words
from gui.pending_charts import PendingCharts
from gui.run_driver import RunDriver
from gui.status_bar import RunStatusBar

if TYPE_CHECKING:
    from gui.charts import ChartsPanel

EXIT_JOINED = 0
EXIT_NOT_JOINED = 3
SHOT_DELAY_MS = 500  # after join() returns, so the last task_done and exits are on the charts
PRESENTER_SCALE = 1.3
ZOOM_STEP = 1.15
ZOOM_MIN = 0.6
ZOOM_MAX = 3.0
# A diagnosis may take this share of the window's height from the tabs below the lesson.
LESSON_SHARE = 0.4
LESSON_SHARE_PROBLEM = 0.5
DIAGNOSE_PERIOD_S = 0.5
# Workers still running after join() returned (one sentinel, many consumers) are the lesson: the
# handout waits this long past the delay for the diagnosis that explains them.
SHOT_SETTLE_S = SETTLE_S + 2 * DIAGNOSE_PERIOD_S
# --quit-when-done: a run whose hang diagnosis holds this long is stopped (exit code 3), since
# nobody is there to press Stop.
UNATTENDED_HANG_S = 3.0
APP_NAME = "QueueLab"
WIDE_SCREEN_PX = 1700
# The code's column on wide screens: its statements (not its comments) fit in presenter mode.
RIGHT_COLUMN_PX = 500


class MainWindow(QMainWindow):
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
        self.setDockOptions(
            QMainWindow.DockOption.AnimatedDocks | QMainWindow.DockOption.AllowTabbedDocks
        )
        self._auto_shot_path = screenshot
        self._quit_when_done = quit_when_done
        self._auto_done = False
        self._shot_waits_for_end = False
        self._shot_deadline = 0.0
        self._next_diagnosis = 0.0
        self._stuck_since: float | None = None
        self._deaths_seen = 0  # workers seen dead in this run: a new one is diagnosed at once
        self._diagnoses_shown: set[str] = set()
        self._closing = False
        self._presenter = False
        self._zoom = 1.0
        self._base_font: QFont | None = None  # the application font before any scaling
        self.last_error_box: QMessageBox | None = None
        # --screenshot: why the PNG could not be written (run_gui prints it and exits 1).
        self.screenshot_error: str | None = None
        self._laid_out = False  # the docks exist and have their sizes (see _size_for_screen)
        self._refit_pending = False
        self._widths_pending = False

        self.driver = RunDriver(self)
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

        self.driver.sig_applied.connect(self._on_driver_sig_applied)
        self.driver.sig_frame.connect(self._on_driver_sig_frame)
        self.driver.sig_log_frame.connect(self._on_driver_sig_log_frame)
        self.driver.sig_status.connect(self._on_driver_sig_status)
        self.driver.sig_join_returned.connect(self._on_driver_sig_join_returned)
        self.driver.sig_ended.connect(self._on_driver_sig_ended)
        self.controls.sig_start.connect(self.start_run)
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

    # ------------------------------------------------------------------ layout
    def _dock(self, title: str, name: str, widget: QWidget) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetClosable
            | QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetFloatable
        )
        return dock

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
        self.setCentralWidget(charts)  # deletes the placeholder
        if self._laid_out:
            self._apply_dock_widths()
            self._widths_pending = True  # and again once Qt has shared the width out
            self._refit_lesson_soon()

    def set_lesson_widget(self, widget: QWidget) -> None:
        """Put a richer lesson pane in the Lesson dock (the plain LessonView steps aside)."""
        self.lesson_dock.setWidget(widget)

    def _size_for_screen(self) -> None:
        screen = self.screen() or QGuiApplication.primaryScreen()
        avail = screen.availableGeometry() if screen is not None else None
        width = avail.width() if avail is not None else 1280
        height = avail.height() if avail is not None else 800
        # The four charts need the full height to stay readable. Wide screens give the log a
        # column of its own; narrower ones share the left column between options and log,
        # and the log comes to the front while a run is going (the options are locked then).
        # The code shares the log's place: the log's column on wide screens, the options'
        # tabs otherwise (it comes to the front while a run goes on).
        self.log_beside = width >= WIDE_SCREEN_PX
        if not self.log_beside:
            self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.log_dock)
            self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.code_dock)
            self.tabifyDockWidget(self.config_dock, self.code_dock)
            self.tabifyDockWidget(self.code_dock, self.log_dock)
            self.config_dock.raise_()
        else:
            self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.code_dock)
            self.tabifyDockWidget(self.log_dock, self.code_dock)
            self.code_dock.raise_()
        if avail is not None:
            # A projector or a laptop: use all of it. Without a window manager (Xvfb) a
            # maximize request does nothing, so the size is also set by hand.
            self.resize(avail.size())
            self.move(avail.topLeft())
        else:
            self.resize(1280, 800)
        self._laid_out = True
        self._apply_dock_widths()
        self._fit_lesson_height(self._left_width(), height)

    def _left_width(self) -> int:
        """The left column: a third of the window, 340-480 px (380 when the log is beside).

        The lesson and the code (which shares this column below 1700 px) read best with their
        lines unwrapped; the charts keep the rest.
        """
        floor = 380 if self.log_beside else 340
        return max(floor, min(int(self.width() * 0.34), 480))

    def _apply_dock_widths(self) -> None:
        # Re-applied when the real charts replace the placeholder: a new central widget
        # makes Qt share the width out again, and the docks would take most of it. A cap
        # keeps them from it; people can still drag the splitter up to that.
        # On a wide screen the side columns stay about 25% each, so the charts keep half.
        cap = self._left_width()
        right = (self.log_dock, self.code_dock)
        for dock in (self.lesson_dock, self.config_dock, *right):
            dock.setMaximumWidth(cap if dock not in right or not self.log_beside else 480)
        self.resizeDocks([self.config_dock], [self._left_width()], Qt.Orientation.Horizontal)
        if self.log_beside:
            self.resizeDocks([self.log_dock], [RIGHT_COLUMN_PX], Qt.Orientation.Horizontal)

    def _refit_lesson_soon(self) -> None:
        """Fit the lesson once Qt has laid the docks out again (it shares heights out anew)."""
        if not self._refit_pending:
            self._refit_pending = True
            QTimer.singleShot(0, self._on_refit_timer_timeout)

    def _on_refit_timer_timeout(self) -> None:
        self._refit_pending = False
        if self.isVisible() and not self._closing:
            if self._widths_pending:
                self._widths_pending = False
                self._apply_dock_widths()
            self._fit_lesson_height(self.lesson_dock.width(), self.height())

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._refit_lesson_soon()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self._laid_out:
            self._refit_lesson_soon()

    def _fit_lesson_height(self, width: int, height: int) -> None:
        """Give the lesson just the height its text needs; the rest goes to the options."""
        lv = self.lesson_view
        if self.isVisible() and lv.width() > 50:
            # Measured: the text at the width it gets beside a scroll bar (so a scroll bar
            # that shows for a moment cannot stay because it narrowed the text), plus what
            # the dock adds around it (title bar, frames).
            bar = self.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent, None, lv)
            need = lv.text_height(lv.width() - 2 * lv.frameWidth() - bar)
            need += self.lesson_dock.height() - lv.viewport().height()
        else:
            need = lv.text_height(width - 28) + 28  # before the first layout: an estimate
        problem = bool(lv.diagnosis_view.sentences())
        share = LESSON_SHARE_PROBLEM if problem else LESSON_SHARE
        lesson = max(120, min(need, int(height * share)))
        # resizeDocks shares the column's real height out in proportion to the sizes given:
        # they must add up to it (separator included), or the lesson gets less than it needs.
        central = self.centralWidget()
        column = central.height() if self.isVisible() and central is not None else height - 110
        column -= self.style().pixelMetric(QStyle.PixelMetric.PM_DockWidgetSeparatorExtent)
        self.resizeDocks(
            [self.lesson_dock, self.config_dock],
            [lesson, max(200, column - lesson)],
            Qt.Orientation.Vertical,
        )

    def _show_log_or_options(self, log: bool) -> None:
        if not self.log_beside:
            # While a run goes on the options are locked: its code, with the lines the
            # workers execute, is more to look at than the log (one click away).
            (self.code_dock if log else self.config_dock).raise_()

    def _build_menus_and_toolbar(self) -> None:
        c = self.controls

        def action(name: str, text: str, keys: str | None, slot: object, tip: str = "") -> QAction:
            a = QAction(icon(name), text, self)
            a.setObjectName(f"action_{name}")
            if keys:
                a.setShortcut(QKeySequence(keys))
            if tip:
                a.setToolTip(tip)
            a.triggered.connect(slot)  # type: ignore[arg-type]
            self.addAction(a)
            return a

        self.open_action = action(
            "open",
            "&Open config…",
            "Ctrl+O",
            self._on_open_action_triggered,
            "Load options from a TOML file",
        )
        self.save_action = action(
            "save",
            "&Save config…",
            "Ctrl+S",
            self._on_save_action_triggered,
            "Save these options to a TOML file",
        )
        self.screenshot_action = action(
            "screenshot",
            "Save s&creenshot…",
            "Ctrl+Shift+S",
            self._on_screenshot_action_triggered,
            "Save a PNG of the whole window (for handouts)",
        )
        self.save_run_action = action(
            "save",
            "Save &run…",
            "Ctrl+Shift+R",
            self._on_save_run_action_triggered,
            "Save this run (its config and every event) to replay or compare later",
        )
        self.open_run_action = action(
            "open",
            "Open r&un…",
            "Ctrl+Shift+O",
            self._on_open_run_action_triggered,
            "Replay a saved run in its own window",
        )
        self.compare_action = action(
            "open",
            "Co&mpare runs…",
            None,
            self._on_compare_action_triggered,
            "Open two saved runs side by side",
        )
        self.quit_action = action("quit", "&Quit", "Ctrl+Q", self.close)
        self.follow_action = action(
            "follow",
            "&Follow live",
            "F",
            self._on_follow_action_toggled,
            "Keep the newest seconds of the run in view (F)",
        )
        self.follow_action.setCheckable(True)
        self.follow_action.setChecked(True)
        self.presenter_action = action(
            "presenter",
            "&Presenter mode",
            "F5",
            self._on_presenter_action_toggled,
            "Larger text and thicker lines for a projector (F5)",
        )
        self.presenter_action.setCheckable(True)
        self.save_program_action = action(
            "save_program",
            "Save &program…",
            "Ctrl+Shift+P",
            self._on_save_program_action_triggered,
            "Save the program in the Code pane as a .py file that runs with plain python",
        )
        self.zoom_in_action = action(
            "zoom_in", "Zoom &in", None, self.zoom_in, "Larger text everywhere (Ctrl+=)"
        )
        self.zoom_in_action.setShortcuts([QKeySequence("Ctrl+="), QKeySequence("Ctrl++")])
        self.zoom_out_action = action(
            "zoom_out", "Zoom &out", "Ctrl+-", self.zoom_out, "Smaller text everywhere (Ctrl+-)"
        )
        self.zoom_reset_action = action(
            "zoom_reset", "&Actual size", "Ctrl+0", self.zoom_reset, "Text at its normal size"
        )

        bar = QMenuBar(self)
        bar.setObjectName("menu_bar")
        self._menu_bar = bar
        file_menu = bar.addMenu("&File")
        file_menu.addAction(self.open_action)
        file_menu.addAction(self.save_action)
        file_menu.addAction(self.save_program_action)
        file_menu.addSeparator()
        file_menu.addAction(self.save_run_action)
        file_menu.addAction(self.open_run_action)
        file_menu.addAction(self.compare_action)
        file_menu.addSeparator()
        file_menu.addAction(self.screenshot_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        run_menu = bar.addMenu("&Run")
        for a in c.actions:
            run_menu.addAction(a)
        view_menu = bar.addMenu("&View")
        view_menu.addAction(self.follow_action)
        view_menu.addAction(self.presenter_action)
        view_menu.addAction(self.zoom_in_action)
        view_menu.addAction(self.zoom_out_action)
        view_menu.addAction(self.zoom_reset_action)
        view_menu.addSeparator()
        for dock in (self.lesson_dock, self.code_dock, self.config_dock, self.log_dock):
            view_menu.addAction(dock.toggleViewAction())
        from gui.help_menu import HelpMenu

        self.help_menu = HelpMenu(self, bar)

        tools = QToolBar("Run", self)
        tools.setObjectName("run_toolbar")
        tools.setMovable(False)
        tools.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        for a in c.actions:
            tools.addAction(a)
        tools.addSeparator()
        tools.addAction(self.follow_action)
        tools.addAction(self.presenter_action)
        tools.addAction(self.screenshot_action)
        self.toolbar = tools
        # Menus and run buttons share one row: on a 1280x800 projector every line of height
        # goes to the charts, which need it most in presenter mode.
        chrome = QWidget(self)
        chrome.setObjectName("chrome_row")
        row = QHBoxLayout(chrome)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        bar.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Preferred)
        # No line under the menus: the row is one strip. Colours only (the zoom sets fonts).
        bar.setStyleSheet("QMenuBar#menu_bar { background: transparent; border: none; }")
        row.addWidget(bar, 0, Qt.AlignmentFlag.AlignVCenter)
        row.addWidget(tools, 1)
        self.setMenuWidget(chrome)

    def menuBar(self) -> QMenuBar:
        """The menu bar in the top row (QMainWindow's own would replace that row)."""
        return self._menu_bar

    # ------------------------------------------------------------------ run commands
    @property
    def model(self) -> RunModel | None:
        return self.driver.model

    def start_run(self) -> bool:
        """Start a fresh run with the panel's config; False if it is invalid or fails to start."""
        if self.driver.status in (RunStatus.RUNNING, RunStatus.PAUSED, RunStatus.STOPPING):
            return False
        if not self.config_panel.is_valid():
            return False
        cfg = self.config_panel.config()
        self.load_charts()
        self._reset_auto_shot()
        QGuiApplication.setOverrideCursor(Qt.CursorShape.BusyCursor)
        try:
            run = self.driver.start(cfg)
        except Exception as error:  # why: a failed start must not take the window down
            self.driver.discard()
            self._show_error("Could not start the run", f"{type(error).__name__}: {error}")
            self._refresh_controls()
            return False
        finally:
            QGuiApplication.restoreOverrideCursor()
        self._diagnoses_shown.clear()
        self._stuck_since = None
        self._next_diagnosis = 0.0
        self._deaths_seen = 0
        self._show_diagnosis([])
        self.status_bar.show_alert(None)
        self.code_view.show_config(cfg)
        self.code_view.clear_running()
        self.charts.set_follow(self.follow_action.isChecked())
        self.charts.set_playhead(None)
        self.charts.set_model(run.model)
        self.event_log.set_model(run.model)
        self.event_log.add_note(f"— Run started: {setup_words(cfg)}", 0.0)
        self._show_log_or_options(log=True)
        for warning in run.warnings:
            self.event_log.add_note(f"! {warning}", 0.0)
        self._refresh_controls()
        return True

    def pause_run(self) -> None:
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
        if self.driver.status in (RunStatus.RUNNING, RunStatus.PAUSED):
            self.driver.stop()

    def reset_run(self) -> None:
        """Forget the run (stopping it if needed): empty charts and log, options editable."""
        self._reset_auto_shot()
        self.driver.discard()
        self.charts.set_model(None)
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

    def _on_driver_sig_frame(self) -> None:
        self.charts.refresh()
        self._refresh_status()
        self._show_code_lines()
        now = time.monotonic()
        # A death is said at once (status bar chip), not at the next half-second diagnosis.
        m = self.driver.model
        deaths = 0 if m is None else sum(w.exitcode not in (None, 0) for w in m.workers.values())
        if deaths != self._deaths_seen:
            self._deaths_seen = deaths
            self._next_diagnosis = 0.0
        if now >= self._next_diagnosis and self.driver.active:
            self._next_diagnosis = now + DIAGNOSE_PERIOD_S
            self._diagnose(now)

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
        found = list(said.findings)
        self._log_diagnoses(found, said.t)
        self._show_diagnosis(found)
        self.status_bar.show_alert(said.alert)
        if not self._quit_when_done or m.join_returned_t is not None:
            return
        self._stuck_since = (self._stuck_since or now) if found else None
        # An unattended window must not wait forever: the same rule ends a headless run.
        if said.hopeless is not None or (
            self._stuck_since is not None and now - self._stuck_since >= UNATTENDED_HANG_S
        ):
            self.driver.stop(reason="queue.join() can never return (--quit-when-done)")

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
        self.code_view.show_run(m, run.cfg)

    def _log_diagnoses(self, found: list[str], t: float) -> None:
        for sentence in found:
            if sentence not in self._diagnoses_shown:
                self._diagnoses_shown.add(sentence)
                self.event_log.add_note(f"! {sentence}", t)

    def _on_driver_sig_status(self, status: RunStatus) -> None:
        self._refresh_controls()
        self._refresh_status(force=True)

    def _on_driver_sig_join_returned(self, t: float) -> None:
        if (self._auto_shot_path or self._quit_when_done) and not self._auto_done:
            self._shot_deadline = time.monotonic() + SHOT_DELAY_MS / 1000 + SHOT_SETTLE_S
            self._shot_timer.start()

    def _on_driver_sig_ended(self, reason: str) -> None:
        self.charts.refresh()
        self.event_log.flush(force=True)
        m = self.driver.model
        if m is not None:
            end = m.end_t if m.end_t is not None else m.last_t
            self.event_log.add_note(f"— Run ended: {reason}", end)
            for line in summary_lines(m)[1:]:
                self.event_log.add_note(f"— {line}", end)
            said = explain(m, end)
            found = list(said.findings)
            if m.join_returned_t is None or m.dead_workers():
                self._log_diagnoses(found, end)
            self._show_diagnosis(found, ended=True)
            self.status_bar.show_alert(said.alert)
        self._refresh_controls()
        self._refresh_status(force=True)
        waiting = (self._auto_shot_path or self._quit_when_done) and not self._auto_done
        if waiting and (self._shot_waits_for_end or not self._shot_timer.isActive()):
            self._finish_auto()

    def _on_shot_timer_timeout(self) -> None:
        m = self.driver.model
        # A premature join returns while producers still put: the handout should show the
        # whole run, so wait for its end.
        if m is not None and m.premature_join and self.driver.active:
            self._shot_waits_for_end = True
            return
        # Workers that go on after join() returned are what the lesson is about: the handout
        # shows the diagnosis that names them (it needs SETTLE_S of them waiting).
        waiting_for_words = (
            m is not None
            and self.driver.active
            and not m.all_exited()
            and not self.lesson_view.diagnosis_view.sentences()
        )
        if waiting_for_words and time.monotonic() < self._shot_deadline:
            self._shot_timer.start()
            return
        self._finish_auto()

    def _reset_auto_shot(self) -> None:
        self._shot_timer.stop()
        self._shot_waits_for_end = False
        self._auto_done = False

    def _finish_auto(self) -> None:
        self._auto_done = True
        if self._auto_shot_path:
            # Unattended (--quit-when-done) nobody would read a dialog: the command says it.
            self.save_screenshot(self._auto_shot_path, quiet=self._quit_when_done)
        if self._quit_when_done:
            self.sig_done.emit(self.exit_code)
            QTimer.singleShot(0, self.close)

    @property
    def exit_code(self) -> int:
        """0 when the last run's queue.join() returned, 3 otherwise (stopped, died, none)."""
        m = self.driver.model
        return EXIT_JOINED if m is not None and m.join_returned_t is not None else EXIT_NOT_JOINED

    # ------------------------------------------------------------------ views
    def _refresh_controls(self) -> None:
        status = self.driver.status
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

    def _update_title(self, cfg: RunConfig | None) -> None:
        if cfg is None:
            return
        title = cfg.title or "custom configuration"
        self.setWindowTitle(f"{APP_NAME} — {title}")

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

    def _on_follow_action_toggled(self, on: bool) -> None:
        self.charts.set_follow(on)

    def _on_presenter_action_toggled(self, on: bool) -> None:
        self.set_presenter(on)

    def set_presenter(self, on: bool) -> None:
        """Scale every text up for a projector; the charts thicken their lines too."""
        if on == self._presenter:
            return
        self._presenter = on
        self.presenter_action.setChecked(on)
        self._apply_scale()

    @property
    def presenter(self) -> bool:
        return self._presenter

    @property
    def zoom(self) -> float:
        """The Ctrl+= / Ctrl+- factor, on top of presenter mode's."""
        return self._zoom

    @property
    def font_scale(self) -> float:
        """How much larger than normal every text is now."""
        return self._zoom * (PRESENTER_SCALE if self._presenter else 1.0)

    def set_zoom(self, zoom: float) -> None:
        zoom = min(ZOOM_MAX, max(ZOOM_MIN, zoom))
        if abs(zoom - 1.0) < 0.01:
            zoom = 1.0
        if zoom != self._zoom:
            self._zoom = zoom
            self._apply_scale()

    def zoom_in(self) -> None:
        self.set_zoom(self._zoom * ZOOM_STEP)

    def zoom_out(self) -> None:
        self.set_zoom(self._zoom / ZOOM_STEP)

    def zoom_reset(self) -> None:
        self.set_zoom(1.0)

    def _apply_scale(self) -> None:
        scale = self.font_scale
        app = QApplication.instance()
        if isinstance(app, QApplication):
            if self._base_font is None:
                self._base_font = app.font()
            font = QFont(self._base_font)
            if scale != 1.0:
                font.setPointSizeF(self._base_font.pointSizeF() * scale)
            # The application font, not the window's: an application style sheet stops a
            # parent's font from reaching its children.
            app.setFont(font)
            if scale == 1.0:
                self._base_font = None
            # The style sheet fixed every widget's font when it polished it; polish again.
            app.setStyleSheet(app.styleSheet())
        self.event_log.set_font_scale(scale)
        self.code_view.set_font_scale(scale)
        self.lesson_view.update_fonts()
        # The charts know two sizes: presenter's, for presenter mode or a zoom as large.
        self.charts.set_presenter(self._presenter or self._zoom >= PRESENTER_SCALE)
        if self.isVisible():
            self._refit_lesson_soon()

    # ------------------------------------------------------------------ files
    def _show_error(self, title: str, text: str) -> None:
        box = QMessageBox(
            QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok, self
        )
        box.setObjectName("error_box")
        box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.last_error_box = box
        box.open()  # window-modal but not blocking: a running run keeps being drawn

    def open_config_file(self, path: str) -> bool:
        """Load a TOML config into the panel; a dialog names the file and line of a problem."""
        try:
            cfg = load_config(path)
        except ConfigError as error:
            self._show_error("Could not open the configuration", str(error))
            return False
        self.config_panel.set_config(cfg, preset=None)
        self.event_log.add_note(f"— Options loaded from {path}")
        return True

    def save_config_file(self, path: str) -> bool:
        try:
            cfg = self.config_panel.config()
        except ConfigError as error:
            self._show_error("Cannot save invalid options", str(error))
            return False
        try:
            save_config(cfg, path)
        except OSError as error:
            self._show_error(
                "Could not save the configuration", f"{path}: {error.strerror or error}"
            )
            return False
        self.event_log.add_note(f"— Options saved to {path}")
        self.status_bar.flash(f"✔ Options saved to {path}")
        return True

    def save_run_file(self, path: str) -> bool:
        """Copy the current run's recording (complete up to now) to ``path``."""
        source = self.driver.trace_path
        if source is None:
            self._show_error("Nothing to save", "Start a run first: every run is recorded.")
            return False
        try:
            shutil.copyfile(source, path)
        except OSError as error:
            self._show_error("Could not save the run", f"{path}: {error.strerror or error}")
            return False
        self.event_log.add_note(f"— Run saved to {path}")
        self.status_bar.flash(f"✔ Run saved to {path}")
        return True

    def suggested_run_name(self) -> str:
        """``tutorial-2026-12-02-1430.qltrace``: the preset the run came from and when."""
        panel = self.config_panel
        preset = panel.preset or "custom"
        if panel.modified_from is not None:
            preset = f"{panel.modified_from}-modified"
        return f"{preset}-{time.strftime('%Y-%m-%d-%H%M')}.qltrace"

    def _on_save_run_action_triggered(self) -> None:
        suggested = str(Path(self._default_dir()) / self.suggested_run_name())
        path, _ = QFileDialog.getSaveFileName(
            self, "Save run", suggested, "QueueLab runs (*.qltrace)"
        )
        if path:
            self.save_run_file(path if path.endswith(".qltrace") else path + ".qltrace")

    def _on_open_run_action_triggered(self) -> None:
        from gui.replay_window import open_replay_window

        open_replay_window(self)

    def _on_compare_action_triggered(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(
            self, "Choose two saved runs", self._default_dir(), "QueueLab runs (*.qltrace)"
        )
        if len(paths) != 2:
            if paths:
                self._show_error("Compare runs", "Choose exactly two saved runs.")
            return
        from engine.tracefile import TraceError, read_trace
        from gui.compare_window import CompareWindow

        try:
            first, second = read_trace(paths[0]), read_trace(paths[1])
        except (TraceError, OSError) as error:
            self._show_error("Could not open the runs", str(error))
            return
        self._compare_window = CompareWindow(first, second, self)
        self._compare_window.show()

    def save_screenshot(self, path: str, *, quiet: bool = False) -> bool:
        """Save a PNG of the whole window, drawn from the current model state.

        A failure is shown in a dialog (``quiet``: only kept in ``screenshot_error``).
        """
        self.charts.refresh()
        self.event_log.flush(force=True)
        self._refresh_status(force=True)
        # The run's end has just changed texts ("Run again", the status words) and maybe the
        # lesson's height: their layouts are still pending, and grab() would draw them in the
        # old sizes (elided, cut).
        self._settle_layouts()
        if self._refit_pending:
            self._on_refit_timer_timeout()
            self._settle_layouts()
        # A handout cannot be hovered: no "hover a chart" hint in the picture.
        self.charts.set_interactive(False)
        try:
            pixmap = self.grab()
        finally:
            self.charts.set_interactive(True)
        ok = pixmap.save(path, "PNG")
        if ok:
            self.sig_screenshot_saved.emit(path)
            self.event_log.add_note(f"— Screenshot saved to {path}")
            self.status_bar.flash(f"✔ Screenshot saved to {path}")
        else:
            self.screenshot_error = f"could not save the screenshot to {path}"
            if not quiet:
                self._show_error(
                    "Could not save the screenshot", f"{path}: cannot write a PNG there"
                )
        return ok

    @staticmethod
    def _settle_layouts() -> None:
        for _ in range(3):  # a resized child asks its parent for a new layout in turn
            QApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)

    def _default_dir(self) -> str:
        """Where file dialogs open: Documents, or the home folder when there is none.

        Qt names Documents even where the folder does not exist; a dialog given a missing
        folder pre-fills its name as the file name (Enter wrote ~/Documents.qltrace).
        """
        docs = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
        for folder in (docs, str(Path.home())):
            if folder and Path(folder).is_dir():
                return folder
        return str(Path.cwd())

    def _on_open_action_triggered(self) -> None:
        if not self.config_panel.confirm_discard("Opening a configuration file"):
            return
        path, _ = QFileDialog.getOpenFileName(
            self, "Open configuration", self._default_dir(), "QueueLab config (*.toml);;All (*)"
        )
        if path:
            self.open_config_file(path)

    def _on_save_action_triggered(self) -> None:
        name = (self.config_panel.preset or "queuelab") + ".toml"
        path, _ = QFileDialog.getSaveFileName(
            self,
            "Save configuration",
            str(Path(self._default_dir()) / name),
            "QueueLab config (*.toml)",
        )
        if path:
            if not path.endswith(".toml"):
                path += ".toml"
            self.save_config_file(path)

    def save_program_file(self, path: str) -> bool:
        """Write the Code pane's program; a dialog says why when it cannot."""
        try:
            self.code_view.save_program(path)
        except OSError as error:
            self._show_error("Could not save the program", f"{path}: {error.strerror or error}")
            return False
        self.event_log.add_note(f"— Program saved to {path}")
        self.status_bar.flash(f"✔ Program saved to {path}")
        return True

    def _on_save_program_action_triggered(self) -> None:
        name = (self.config_panel.preset or "queuelab").replace("-", "_") + ".py"
        path, _ = QFileDialog.getSaveFileName(
            self, "Save program", str(Path(self._default_dir()) / name), "Python (*.py)"
        )
        if path:
            if not path.endswith(".py"):
                path += ".py"
            self.save_program_file(path)

    def _on_screenshot_action_triggered(self) -> None:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        name = f"queuelab-{self.config_panel.preset or 'run'}-{stamp}.png"
        path, _ = QFileDialog.getSaveFileName(
            self, "Save screenshot", str(Path(self._default_dir()) / name), "PNG image (*.png)"
        )
        if path:
            if not path.lower().endswith(".png"):
                path += ".png"
            self.save_screenshot(path)

    # ------------------------------------------------------------------ closing
    def closeEvent(self, event: QCloseEvent) -> None:
        """Stop the run with every worker, and every timer, before the window goes."""
        self._closing = True
        self._shot_timer.stop()
        self.driver.shutdown()
        self.driver.drop_recording()  # the temporary trace goes with the window
        # The application font is shared with other windows.
        self._presenter = False
        self._zoom = 1.0
        self._apply_scale()
        super().closeEvent(event)
