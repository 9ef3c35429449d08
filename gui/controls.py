"""RunControls: the Start, Pause/Resume, Stop and Reset actions, their shortcuts and states."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction, QIcon, QKeySequence
from PySide6.QtWidgets import QWidget

from engine.resources_path import resource_dir
from engine.runner import RunStatus

ICONS_DIR: Path = resource_dir("icons")


def icon(name: str) -> QIcon:
    """resources/icons/<name>.svg, or an empty icon if it is missing."""
    path = ICONS_DIR / f"{name}.svg"
    return QIcon(str(path)) if path.is_file() else QIcon()


class RunControls(QObject):
    """Owns the run actions; ``update_state`` enables exactly what makes sense right now.

    Space is one key for "go on": start when no run is going, pause while running, resume
    while paused.
    """

    sig_start = Signal()
    sig_pause = Signal()
    sig_resume = Signal()
    sig_stop = Signal()
    sig_reset = Signal()

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self._status = RunStatus.IDLE
        self._valid = True
        self._has_run = False

        def action(name: str, text: str, tip: str, *keys: QKeySequence | str) -> QAction:
            a = QAction(icon(name), text, window)
            a.setObjectName(f"action_{name}")
            a.setShortcuts([QKeySequence(k) for k in keys])
            shown = " or ".join(
                QKeySequence(k).toString(QKeySequence.SequenceFormat.NativeText) for k in keys
            )
            a.setToolTip(f"{tip} ({shown})" if shown else tip)
            a.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            window.addAction(a)
            return a

        self.start_action = action("start", "Start", "Start a run with these options", "Space")
        self.pause_action = action("pause", "Pause", "Hold every worker at its next step", "Space")
        self.stop_action = action("stop", "Stop", "End the run and every worker process", "Esc")
        self.reset_action = action(
            "reset", "Reset", "Clear the run and edit options again", "Ctrl+R"
        )
        # Space belongs to whichever of Start and Pause is enabled; giving it to both would
        # make it ambiguous, so it moves between them in update_state.
        self.pause_action.setShortcuts([])
        # What Help ▸ Keyboard shortcuts lists for them, whichever holds Space now.
        self.start_action.setProperty("help_keys", "Space")
        self.start_action.setProperty("help_text", "Start a run (Run again once it ended)")
        self.pause_action.setProperty("help_keys", "Space")
        self.pause_action.setProperty("help_text", "Pause or resume the run going on")
        self.start_action.triggered.connect(self._on_start_action_triggered)
        self.pause_action.triggered.connect(self._on_pause_action_triggered)
        self.stop_action.triggered.connect(self.sig_stop)
        self.reset_action.triggered.connect(self.sig_reset)
        self.update_state(RunStatus.IDLE, valid=True, has_run=False)

    @property
    def actions(self) -> list[QAction]:
        return [self.start_action, self.pause_action, self.stop_action, self.reset_action]

    def update_state(self, status: RunStatus, *, valid: bool, has_run: bool) -> None:
        self._status, self._valid, self._has_run = status, valid, has_run
        live = status in (RunStatus.RUNNING, RunStatus.PAUSED)
        can_start = valid and status in (RunStatus.IDLE, RunStatus.FINISHED, RunStatus.STOPPED)
        self.start_action.setEnabled(can_start)
        self.start_action.setText("Run again" if has_run and can_start else "Start")
        self.pause_action.setEnabled(live)
        paused = status is RunStatus.PAUSED
        self.pause_action.setText("Resume" if paused else "Pause")
        self.pause_action.setIcon(icon("start" if paused else "pause"))
        self.pause_action.setToolTip(
            ("Let every worker continue" if paused else "Hold every worker at its next step")
            + " (Space)"
        )
        self.stop_action.setEnabled(live)
        self.reset_action.setEnabled(has_run and status is not RunStatus.STOPPING)
        space = [QKeySequence("Space")]
        self.start_action.setShortcuts(space if not live else [])
        self.pause_action.setShortcuts(space if live else [])
        if not valid and not live:
            self.start_action.setToolTip("Fix the options marked in red to start a run")
        else:
            self.start_action.setToolTip("Start a run with these options (Space)")

    def _on_start_action_triggered(self) -> None:
        if self.start_action.isEnabled():
            self.sig_start.emit()

    def _on_pause_action_triggered(self) -> None:
        if self._status is RunStatus.PAUSED:
            self.sig_resume.emit()
        elif self._status is RunStatus.RUNNING:
            self.sig_pause.emit()
