"""StepMode: Run ▸ Step mode in the main window — the pane, its keys, restart and schedules."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import QDockWidget, QFileDialog, QMenuBar

from engine.config import RunConfig
from engine.runner import Run, RunStatus
from engine.schedule import (
    ScheduleError,
    check_names,
    load_schedule,
    save_schedule,
    schedules_for,
    shipped_schedule,
)
from engine.step import State, Step, StepController, StepError
from gui.step_view import StepRow, StepView

if TYPE_CHECKING:
    from gui.main_window import MainWindow

MAX_KEYS = 10  # processes 0-9 get a number key
# gui --step --screenshot / --quit-when-done: nobody will choose. Once every process has
# waited this long for a choice, the picture is taken (the choices shown) and the run ends.
UNATTENDED_CHOICE_S = 0.6


class StepMode(QObject):
    """Owns the step pane and actions; the window asks it for the Run to start (make_run)."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.w = window
        self.view = StepView(window)
        self.dock = QDockWidget("Step mode", window)
        self.dock.setObjectName("step_dock")
        self.dock.setWidget(self.view)
        # The bottom dock area lies under the central view only (the side columns keep their
        # full height): where the pane goes as a strip in presenter mode (set_strip).
        window.setCorner(Qt.Corner.BottomLeftCorner, Qt.DockWidgetArea.LeftDockWidgetArea)
        window.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)
        window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.dock)
        self.dock.hide()
        self._plan: list[tuple[Step, int]] = []
        self._plan_source = ""
        self._last_schedule: list[Step] = []
        self._logged = 0  # steps of the current run already told in the event log

        tip = "Every queue operation waits for you to let it go (Ctrl+T)"
        self.action = self._action("Step mode", ("Ctrl+T",), self._on_action_toggled, tip)
        self.action.setCheckable(True)
        self.action.setObjectName("action_step_mode")
        self.next_action = self._action("Next", ("N",), self._on_view_sig_next)
        self.run_action = self._action("Run freely", ("R",), self._on_view_sig_run)
        self.step_action = self._action("Step again", ("S",), self._on_view_sig_step)
        self.next_action.setProperty("help_text", "Step mode: let the earliest waiting "
                                     "operation go (keys 0-9: that process's)")  # fmt: skip
        # Shortcuts, not actions: ten rows of Help ▸ Keyboard shortcuts would say less.
        self.key_shortcuts = []
        for n in range(MAX_KEYS):
            key = QShortcut(QKeySequence(str(n)), window)
            key.setContext(Qt.ShortcutContext.WindowShortcut)
            key.activated.connect(lambda n=n: self.grant(n))
            self.key_shortcuts.append(key)
        self.view.sig_grant.connect(self.grant)
        self.view.sig_next.connect(self._on_view_sig_next)
        self.view.sig_run.connect(self._on_view_sig_run)
        self.view.sig_step.connect(self._on_view_sig_step)
        self.view.sig_restart.connect(self.restart_with_schedule)
        self.view.sig_follow.connect(self.follow_shipped)
        self.view.sig_save.connect(self.save_schedule_file)
        window.driver.sig_frame.connect(self._on_driver_sig_frame)
        # An announcement needs no new record, so frames alone may miss it: look 20x a second.
        self._timer = QTimer(self)
        self._timer.setObjectName("step_refresh")
        self._timer.setInterval(50)
        self._timer.timeout.connect(self._on_timer_timeout)
        window.driver.sig_ended.connect(self._on_driver_sig_ended)
        # A Start launches its run turns later (gui/run_start.py): its stepper exists then.
        window.run_start.sig_launched.connect(self.started)
        window.run_start.sig_failed.connect(self._on_run_start_sig_failed)
        window.config_panel.sig_config_changed.connect(self._on_config_panel_sig_config_changed)
        self.set_preset(window.config_panel.preset)
        self._sync_keys()

    def _action(self, text: str, keys: tuple[str, ...], slot: Any, tip: str = "") -> QAction:
        a = QAction(text, self.w)
        a.setShortcuts([QKeySequence(k) for k in keys])
        a.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        a.setToolTip(tip or text)
        a.triggered.connect(slot)
        self.w.addAction(a)
        return a

    def install_menu(self, bar: QMenuBar) -> None:
        """Add Step mode (and its commands) to the Run menu."""
        for a in bar.actions():
            if a.menu() is not None and a.text().replace("&", "") == "Run":
                menu = a.menu()
                menu.addSeparator()
                menu.addAction(self.action)
                for extra in (self.next_action, self.run_action, self.step_action):
                    menu.addAction(extra)
                return

    # ------------------------------------------------------------------ state
    @property
    def on(self) -> bool:
        return self.action.isChecked()

    @property
    def stepper(self) -> StepController | None:
        run = self.w.driver.run
        return getattr(run, "stepper", None) if run is not None else None

    @property
    def live(self) -> bool:
        return self.w.driver.status in (RunStatus.RUNNING, RunStatus.PAUSED)

    def make_run(self, cfg: RunConfig) -> Run | None:
        """The Run the window starts: a stepping one while Step mode is on, else None."""
        if not self.on:
            return None
        return Run(cfg, step=True)

    def started(self, run: Any) -> None:
        """A run started: follow the schedule a restart (or Follow) asked for, then step on."""
        st = getattr(run, "stepper", None)
        self._logged = 0
        if st is not None:
            self._timer.start()
        if st is not None and self._plan:
            st.follow(self._plan, self._plan_source, then="step")
        self._plan = []
        self.refresh()

    def _on_run_start_sig_failed(self, _words: str) -> None:
        self._plan = []  # the schedule asked for was the run's that could not start

    def set_strip(self, on: bool) -> None:
        """Presenter mode with the flow view in front (the window says when): the pane docks
        below the flow view as a short strip, so the view keeps the window's width and its text
        its size; beside it the flow view had ~550 px and ~9 px text at 1280x800. Off: the
        right column (the charts need the height more). A floated pane stays where it is."""
        self.view.set_strip(on)
        if self.dock.isFloating():
            return
        areas = Qt.DockWidgetArea
        area = areas.BottomDockWidgetArea if on else areas.RightDockWidgetArea
        if self.w.dockWidgetArea(self.dock) != area:
            self.w.addDockWidget(area, self.dock)  # moves it, shown or hidden
        if on and self.dock.isVisible():
            self.fit_strip()

    def fit_strip(self) -> None:
        """The strip as tall as its rows and controls need, no taller (Qt shares the height
        out between the view and the bottom dock by their hints otherwise)."""
        if self.view.strip and not self.dock.isFloating():
            need = self.dock.sizeHint().height()
            self.w.resizeDocks([self.dock], [need], Qt.Orientation.Vertical)

    def set_preset(self, preset: str | None) -> None:
        self.view.set_schedules(schedules_for(preset))

    def _on_config_panel_sig_config_changed(self, _cfg: object) -> None:
        self.set_preset(self.w.config_panel.preset)

    # ------------------------------------------------------------------ commands
    def _on_action_toggled(self, on: bool) -> None:
        self.dock.setVisible(on)
        if on:
            self.dock.raise_()
            self.fit_strip()
        st = self.stepper
        if st is not None and self.live:
            if not on and st.stepping:
                st.run_free()
            elif on and not st.stepping:
                st.step_mode()
        self.refresh()

    def grant(self, src: int) -> None:
        st, m = self.stepper, self.w.model
        if st is None or m is None or not self.live or not st.stepping:
            return
        try:
            st.grant(src, m)
        except StepError as exc:
            self.w.status_bar.showMessage(str(exc), 4000)
        self.refresh()

    def _on_view_sig_next(self) -> None:
        st, m = self.stepper, self.w.model
        if st is not None and m is not None and self.live and st.stepping:
            st.grant_next(m)
            self.refresh()

    def _on_view_sig_run(self) -> None:
        st = self.stepper
        if st is not None and self.live:
            st.run_free()
            self.refresh()

    def _on_view_sig_step(self) -> None:
        st = self.stepper
        if st is not None and self.live:
            st.step_mode()
            self.refresh()

    def restart_with_schedule(self) -> None:
        """Undo is impossible with real processes: rerun from the start, replaying the choices."""
        st = self.stepper
        steps = list(st.schedule) if st is not None else list(self._last_schedule)
        self._restart([(s, i) for i, s in enumerate(steps, 1)], "the choices so far")

    def follow_shipped(self, name: str) -> None:
        try:
            steps = load_schedule(shipped_schedule(name))
            check_names(steps, self.w.config_panel.config() or RunConfig(), f"{name}.schedule")
        except ScheduleError as exc:
            self.w.status_bar.showMessage(str(exc), 6000)
            return
        self._restart(steps, f"{name}.schedule")

    def _restart(self, plan: list[tuple[Step, int]], source: str) -> None:
        if not self.on:
            self.action.setChecked(True)
        self.w.driver.discard()
        self._plan, self._plan_source = plan, source
        if not self.w.start_run():
            self._plan = []

    def save_schedule_file(self, path: str | None = None) -> bool:
        """Save the steps taken so far (one process:operation a line; run --schedule reads it)."""
        st = self.stepper
        steps = list(st.schedule) if st is not None else self._last_schedule
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self.w, "Save schedule", "run.schedule",
                                                  "Schedules (*.schedule)")  # fmt: skip
        if not path:
            return False
        run = self.w.driver.run
        name = run.cfg.title if run is not None and run.cfg.title else "QueueLab run"
        title = f"{name}: {len(steps)} steps"
        try:
            save_schedule(path, steps, title)
        except OSError as exc:
            self.w._show_error("Could not save the schedule", f"{path}: {exc}")
            return False
        self.w.status_bar.showMessage(f"Schedule saved to {path}", 4000)
        return True

    # ------------------------------------------------------------------ showing
    def _on_driver_sig_frame(self) -> None:
        if self.on:
            self.refresh()

    def _on_timer_timeout(self) -> None:
        st = self.stepper
        if st is None or not self.on or self.w.driver.run is None or self.w.driver.run.ended:
            self._timer.stop()
        self.refresh()
        self._unattended_choice(st)

    def _unattended_choice(self, st: StepController | None) -> None:
        """Unattended (--screenshot, --quit-when-done), a choice nobody will make ends the run:
        the screenshot shows step mode waiting at it (the join race's first step), rather than
        the window waiting for ever."""
        session = self.w.session
        if (st is None or st.held_since is None or not session.unattended or session.auto_done
                or not self.live):  # fmt: skip
            return
        if time.perf_counter() - st.held_since < UNATTENDED_CHOICE_S:
            return
        self.w.event_log.add_note("— Step mode, unattended: nobody to choose the next step; "
                                  "the run ends here", self.w.driver.elapsed())  # fmt: skip
        self.w._finish_auto()  # the picture (and, with --quit-when-done, the window's end)
        self.w.stop_run()

    def _on_driver_sig_ended(self, _reason: str) -> None:
        st = self.stepper
        if st is not None:
            self._last_schedule = list(st.schedule)
        self.refresh()

    def _sync_keys(self) -> None:
        st = self.stepper
        active = self.on and self.live and st is not None and st.stepping
        for a in (*self.key_shortcuts, self.next_action, self.run_action):
            a.setEnabled(active)
        self.step_action.setEnabled(self.on and self.live and st is not None and not st.stepping)

    def rows(self) -> list[StepRow]:
        st, m = self.stepper, self.w.model
        if st is None or m is None:
            return []
        lines = self.w.code_view.line_map()
        out = []
        for p in st.procs.values():
            key = st.line_key(p, m)
            line = lines.get(key) if key else None
            waiting = p.state is State.PENDING
            why = st.would_block(p, m) if waiting else st.blocked(p, m)
            call = st.op_text(p, m) if p.op else ""
            out.append(StepRow(p.src, p.name, waiting, call, line, why, st.state_words(p, m)))
        return out

    def code_lines(self) -> dict[int, str] | None:
        """Line -> who waits there, for the Code pane while stepping (None: show the usual)."""
        st, m = self.stepper, self.w.model
        if not self.on or st is None or m is None or not st.stepping:
            return None
        lines = self.w.code_view.line_map()
        by_line: dict[int, list[str]] = {}
        for p in st.procs.values():
            key = st.line_key(p, m)
            at = lines.get(key) if key else None
            if at is not None and p.state in (State.PENDING, State.GRANTED, State.WAITING):
                by_line.setdefault(at, []).append(p.name)
        return {at: ", ".join(names) for at, names in by_line.items()}

    def refresh(self) -> None:
        self._sync_keys()
        st, m = self.stepper, self.w.model
        run = self.w.driver.run
        if not self.on:
            return
        if run is None or st is None or m is None:
            text = ("Step mode is on: Start (Space) runs the configuration with every queue "
                    "operation waiting for you.")  # fmt: skip
            if run is not None and not run.ended:
                text = "This run was started without step mode: Stop it, then Start again."
            self.view.show_state([], text, None, live=False, stepping=False,
                                 can_restart=bool(self._last_schedule))  # fmt: skip
            return
        self._log_steps(st)
        self.view.show_state(self.rows(), self._status_text(st, m, run),
                             str(st.error) if st.error else None, live=self.live,
                             stepping=st.stepping, can_restart=True)  # fmt: skip
        if st.stepping:
            # The Code pane lights where each process waits: the same moment as this pane, not
            # up to a frame later (the timer's refreshes come between frames; a tick between
            # them may change who waits where).
            self.w._show_code_lines()

    def _log_steps(self, st: StepController) -> None:
        """Each step let go becomes a line of the event log, the story of the schedule."""
        new = st.schedule[self._logged:]
        if not new:
            return
        t = self.w.driver.elapsed()
        for i, step in enumerate(new, self._logged + 1):
            self.w.event_log.add_note(f"→ step {i}: {step.name} may do {step.note}", t)
        self._logged = len(st.schedule)

    def _status_text(self, st: StepController, m: Any, run: Run) -> str:
        n = len(st.schedule)
        if run.ended:
            return f"The run has ended after {n} steps. Restart with this schedule to see it again."
        if st.plan:
            total = st.plan_done + len(st.plan)
            return f"Following {st.plan_source}: step {st.plan_done + 1} of {total}…"
        if not st.stepping:
            return f"Running freely after {n} steps. Step (S) pauses at the next queue operation."
        nxt = st.next_choice(m)
        if nxt is None:
            return f"Step {n + 1}: nobody is waiting for permission yet (a task is at work)."
        return (f"Step {n + 1}: click a process or press its number to let its operation "
                f"happen. Next (N) lets {nxt.name} go.")  # fmt: skip

