"""SweepWindow: Experiment ▸ Sweep…'s window: the sweep view, run by a SweepRunner."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import QDialog, QFileDialog, QMainWindow, QMessageBox

from engine.config import ConfigError, RunConfig
from engine.sweep import Param, SweepPlan, grid
from gui.sweep_dialog import SweepDialog
from gui.sweep_runner import SweepRunner
from gui.sweep_view import SweepView
from gui.window_layout import WIDE_SCREEN_PX

if TYPE_CHECKING:
    from gui.main_window import MainWindow

PROGRESS_MS = 1000  # the elapsed and estimated times tick once a second
FILTERS = {"png": "PNG image (*.png)", "svg": "SVG image (*.svg)", "csv": "CSV table (*.csv)",
           "json": "JSON (*.json)"}  # fmt: skip


class SweepWindow(QMainWindow):
    """One sweep: its view, its runner, and the folder its runs are kept in (for replay).

    The runs go through the main window (``host``), which shows each live; closing this
    window stops the sweep and the run in progress, and deletes the kept runs.
    ``sig_finished(complete)`` once the sweep has ended.
    """

    sig_finished = Signal(bool)

    def __init__(self, host: MainWindow, base: RunConfig, params: list[Param], repeats: int,
                 warmup: int, *, hang_timeout: float | None = 60.0) -> None:  # fmt: skip
        super().__init__(host, Qt.WindowType.Window)
        self.setObjectName("sweep_window")
        self.setWindowTitle("QueueLab — sweep of " + " × ".join(p.key for p in params))
        self.host = host
        self.screenshot: str | None = None
        self.screenshot_error: str | None = None
        self.runs_dir = tempfile.mkdtemp(prefix="queuelab-sweep-")
        self.points = grid(base, params)
        self.plan = SweepPlan(self.points, repeats=repeats, warmup=warmup,
                              save_runs=self.runs_dir)  # fmt: skip
        self.view = SweepView(base, params, repeats, self)
        self.setCentralWidget(self.view)
        self.runner = SweepRunner(host, self.plan, hang_timeout=hang_timeout, parent=self)
        self.runner.sig_started.connect(self._on_runner_sig_started)
        self.runner.sig_run_done.connect(self._on_runner_sig_run_done)
        self.runner.sig_finished.connect(self._on_runner_sig_finished)
        self.view.sig_stop.connect(self.runner.request_stop)
        self.view.sig_replay.connect(self._on_view_sig_replay)
        self.view.sig_export.connect(self._on_view_sig_export)
        self._tick = QTimer(self)
        self._tick.setObjectName("sweep_progress_tick")
        self._tick.setInterval(PROGRESS_MS)
        self._tick.timeout.connect(self._show_progress)
        QShortcut(QKeySequence.StandardKey.Close, self).activated.connect(self.close)
        self._size_for_screen()
        self.view.show_points(self.points, complete=False, finished=False)
        self._show_progress()

    def _size_for_screen(self) -> None:
        screen = self.host.screen() or QGuiApplication.primaryScreen()
        avail = screen.availableGeometry() if screen is not None else None
        if avail is None:
            self.resize(1100, 760)
            return
        # Wide screens: half of it, on the right, so the main window's live charts of the
        # run in progress stay in view beside it; narrower ones: most of it (it can be moved).
        share = 0.5 if avail.width() >= WIDE_SCREEN_PX else 0.8
        w = max(900, min(avail.width(), int(avail.width() * share)))
        h = max(640, min(avail.height(), int(avail.height() * 0.9)))
        self.resize(min(w, avail.width()), min(h, avail.height()))
        self.move(avail.right() - self.width() + 1, avail.top())

    # ------------------------------------------------------------------ running
    def start(self) -> None:
        self._tick.start()
        self.runner.start()

    def _show_progress(self) -> None:
        r = self.runner
        self.view.show_progress(self.plan.progress(), running=r.running,
                                stopping=r.stop_requested, finished=r.finished,
                                complete=r.complete)  # fmt: skip

    def _on_runner_sig_started(self) -> None:
        self._show_progress()

    def _on_runner_sig_run_done(self) -> None:
        self.view.show_points(self.points, complete=False, finished=False)
        self._show_progress()

    def _on_runner_sig_finished(self, complete: bool) -> None:
        self._tick.stop()
        self.view.show_points(self.points, complete=complete, finished=True)
        self._show_progress()
        if self.runner.error:
            self.host._show_error("The sweep stopped", self.runner.error)
        for w in self.runner.warnings:
            self.host.event_log.add_note(f"! sweep: {w}")
        self.host.event_log.add_note(f"— Sweep: {self.view.recommendation.text()}")
        if self.screenshot:
            # After the last redraw has been laid out.
            QTimer.singleShot(300, lambda: self._finish_shot(complete))
        else:
            self.sig_finished.emit(complete)

    def _finish_shot(self, complete: bool) -> None:
        if self.screenshot and not self.grab().save(self.screenshot, "PNG"):
            self.screenshot_error = f"could not save the screenshot to {self.screenshot}"
        self.sig_finished.emit(complete)

    @property
    def failed_runs(self) -> int:
        return sum(len(p.failed) for p in self.points)

    # ------------------------------------------------------------------ view requests
    def _on_view_sig_replay(self, path: str) -> None:
        from gui.replay_window import open_replay_window

        open_replay_window(self, path)

    def _on_view_sig_export(self, fmt: str) -> None:
        key = self.view.params[0].key.replace(".", "-")
        suggested = str(Path(self.host._default_dir()) / f"sweep-{key}.{fmt}")
        path, _ = QFileDialog.getSaveFileName(self, "Export the sweep", suggested, FILTERS[fmt])
        if path:
            if not path.lower().endswith("." + fmt):
                path += "." + fmt
            self.export_to(fmt, path)

    def export_to(self, fmt: str, path: str) -> bool:
        from gui.svg_png import svg_to_png

        try:
            self.view.export_to(fmt, path, svg_to_png)
        except (OSError, ValueError) as error:
            QMessageBox.warning(self, "Could not export the sweep", f"{path}: {error}")
            return False
        self.host.event_log.add_note(f"— Sweep exported to {path}")
        return True

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.runner.finished:
            self.runner.abort()
        self._tick.stop()
        shutil.rmtree(self.runs_dir, ignore_errors=True)
        super().closeEvent(event)


def start_sweep(host: MainWindow, base: RunConfig, params: list[Param], repeats: int,
                warmup: int) -> SweepWindow:  # fmt: skip
    """Open a SweepWindow beside ``host`` and start it."""
    w = SweepWindow(host, base, params, repeats, warmup)
    host.sweep_window = w  # an earlier sweep's window stays open until closed
    w.show()
    w.start()
    return w


def open_sweep_dialog(host: MainWindow) -> SweepWindow | None:
    """Experiment ▸ Sweep…: ask, then start; refused while a run or another sweep goes on."""
    current = host.sweep_window
    if current is not None and not current.runner.finished:
        current.raise_()
        current.activateWindow()
        return None
    if host.driver.active:
        host._show_error("A run is going on", "Stop the run first: a sweep runs its own runs.")
        return None
    try:
        cfg = host.config_panel.config()
    except ConfigError as error:
        host._show_error("Fix the options first", str(error))
        return None
    dialog = SweepDialog(cfg, host)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    params, repeats, warmup = dialog.choice()
    return start_sweep(host, dialog.cfg, params, repeats, warmup)  # its sentinels may differ
