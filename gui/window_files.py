"""WindowFiles: the main window's file commands: options, runs, programs, screenshots."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QStandardPaths, Qt
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox

from engine.config import ConfigError, load_config, save_config
from gui.window_layout import WindowLayout

if TYPE_CHECKING:
    from gui.charts import ChartsPanel
    from gui.code_view import CodeView
    from gui.config_panel import ConfigPanel
    from gui.event_log import EventLog
    from gui.flow import FlowView
    from gui.pending_charts import PendingCharts
    from gui.run_driver import RunDriver
    from gui.status_bar import RunStatusBar


class WindowFiles(WindowLayout):
    """The file dialogs and what they do, a base of MainWindow (which owns the panes).

    MainWindow -> WindowFiles -> WindowLayout -> QMainWindow: one chain, since PySide6
    crashes on a class with two Python bases that both derive from QMainWindow.

    Each command reports in the event log and the status bar; a failure names the file in a
    window-modal dialog that does not block the run being drawn.
    """

    config_panel: ConfigPanel
    event_log: EventLog
    status_bar: RunStatusBar
    code_view: CodeView
    driver: RunDriver
    last_error_box: QMessageBox | None
    charts: ChartsPanel | PendingCharts
    flow_view: FlowView
    screenshot_error: str | None
    _refit_pending: bool

    def save_screenshot(self, path: str, *, quiet: bool = False) -> bool:
        """Save a PNG of the whole window, drawn from the current model state.

        A failure is shown in a dialog (``quiet``: only kept in ``screenshot_error``).
        """
        self.charts.refresh()
        self.event_log.flush()
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
        # The picture is the model now, as the charts and the status bar.
        self.flow_view.follow(self.driver.model, self.driver.elapsed())
        self.flow_view.advance(10.0)  # tokens at rest in their places: a picture, not a blur
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

    def _write(self, path: str, write: Callable[[], object], what: str, said: str) -> bool:
        """Run ``write``; a dialog names ``path`` and the reason when it fails, else the log
        and the status bar say "<said> saved to <path>"."""
        try:
            write()
        except OSError as error:
            self._show_error(f"Could not save {what}", f"{path}: {error.strerror or error}")
            return False
        self.event_log.add_note(f"— {said} saved to {path}")
        self.status_bar.flash(f"✔ {said} saved to {path}")
        return True

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
        return self._write(path, lambda: save_config(cfg, path), "the configuration", "Options")

    def save_run_file(self, path: str) -> bool:
        """Copy the current run's recording (complete up to now) to ``path``."""
        source = self.driver.trace_path
        if source is None:
            self._show_error("Nothing to save", "Start a run first: every run is recorded.")
            return False
        return self._write(path, lambda: shutil.copyfile(source, path), "the run", "Run")

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
        save = self.code_view.save_program
        return self._write(path, lambda: save(path), "the program", "Program")

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
