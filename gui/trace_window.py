"""The window for ``python main.py trace PROGRAM.py``: a user's own program on the live charts.

:class:`TraceWindow` is the main window with the run display fed by a traced program
(engine/trace_run.py) instead of a configured run: its processes appear on the charts as they
start, the code pane shows the program's file with the line each process is at lit, and a
console pane shows what the program prints. The configuration dock is hidden (a program has
none); Start traces the program again, Stop ends its whole process tree.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections import deque

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QFontDatabase, QTextCursor
from PySide6.QtWidgets import QComboBox, QPlainTextEdit, QWidget

from engine.config import RunConfig
from engine.events import Kind
from engine.explain import explain
from engine.model import RunModel
from engine.states import Activity
from engine.trace_cli import TraceArgs, program_title, trace_config
from engine.trace_narration import TraceNarrator
from engine.trace_run import TraceRun
from gui.frame_clock import Frame
from gui.main_window import MainWindow
from gui.trace_panels import TracePanel

_GET = int(Kind.GET)
CONSOLE_PERIOD_MS = 100
# Unattended, the picture waits this long at most for the program's last output to reach the
# console (a grandchild that outlives main may hold the output pipe open).
OUTPUT_WAIT_S = 3.0
OUTPUT_HOLD_S = 0.25  # records are shipped every 12 ms: a quarter second puts them first
CONSOLE_MAX_BLOCKS = 20_000  # the oldest lines go first in a program that prints a flood


class TraceWindow(MainWindow):
    """MainWindow showing a traced program; ``start_run`` (re)starts the program."""

    def __init__(
        self,
        argv: list[str],
        *,
        screenshot: str | None = None,
        quit_when_done: bool = False,
        parent: QWidget | None = None,
    ) -> None:
        self.argv = list(argv)
        self.trace_cfg: RunConfig = trace_config(argv)
        self._source_file: str | None = None  # the file the code pane shows
        self._files: list[str] = []  # the program's files seen in its records
        self._shown_model: RunModel | None = None  # the lane the charts show
        self._focus_src: int | None = None  # the process whose line was clicked
        self._notes_shown = 0  # the session's notes already in the event log
        self._held_output: deque[tuple[float, str]] = deque()  # read, not in the log yet
        self._finish_deadline: float | None = None  # unattended: waiting for the last output
        super().__init__(
            self.trace_cfg, None, screenshot=screenshot, quit_when_done=quit_when_done,
            defer_charts=True, parent=parent,
        )  # fmt: skip
        self.config_dock.hide()
        self.console = QPlainTextEdit(self)
        self.console.setObjectName("trace_console")
        self.console.setReadOnly(True)
        self.console.setMaximumBlockCount(CONSOLE_MAX_BLOCKS)
        self.console.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.console.setPlaceholderText("What the program prints appears here.")
        self.console_dock = self._dock("Program output", "console_dock", self.console)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.console_dock)
        self.trace_panel = TracePanel(self)
        self.trace_panel.sig_lane_chosen.connect(self._on_trace_panel_sig_lane_chosen)
        self.trace_panel.sig_process_clicked.connect(self._on_trace_panel_sig_process_clicked)
        self.processes_dock = self._dock("Processes and queues", "processes_dock", self.trace_panel)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.processes_dock)
        self.splitDockWidget(self.processes_dock, self.console_dock, Qt.Orientation.Vertical)
        # The code pane can show any of the program's files (lines lit in each).
        self.file_combo = QComboBox(self)
        self.file_combo.setObjectName("trace_file_combo")
        self.file_combo.setToolTip("The program's files that called a queue operation")
        self.file_combo.activated.connect(self._on_file_combo_activated)
        self.code_view.header.insertWidget(1, self.file_combo)
        # The program's code with its lit lines is what there is to look at; the event log is
        # one tab away.
        self.code_dock.show()
        self.tabifyDockWidget(self.log_dock, self.code_dock)
        self.code_dock.raise_()
        self._console_timer = QTimer(self)
        self._console_timer.setObjectName("trace_console_timer")
        self._console_timer.setInterval(CONSOLE_PERIOD_MS)
        self._console_timer.timeout.connect(self._on_console_timer_timeout)
        self.setWindowTitle(f"QueueLab — trace: {program_title(argv)}")

    # ------------------------------------------------------------------ starting
    def start_run(self) -> bool:
        """Trace the program (again); False if it could not start."""
        if self.driver.active:
            return False
        self.load_charts()
        self._shot_timer.stop()
        self.session.reset_shot()
        self._files = []
        self._source_file = None
        self._held_output.clear()
        self._finish_deadline = None
        self.file_combo.clear()
        self._focus_src = None
        try:
            self.driver.start(self.trace_cfg, TraceRun(self.argv, self.trace_cfg))
        except Exception as error:  # why: a failed start must not take the window down
            self.driver.discard()
            self._show_error("Could not start the program", f"{type(error).__name__}: {error}")
            self._refresh_controls()
            return False
        self.session.start()
        self._show_diagnosis([])
        self.status_bar.show_alert(None)
        self._show_source()
        self.charts.set_follow(self.follow_action.isChecked())
        self.charts.set_playhead(None)
        self._shown_model = None
        self._follow_lane()
        self.event_log.add_note(f"— Tracing: python {' '.join(self.argv)}", 0.0)
        self.console.clear()
        self._notes_shown = 0
        self._console_timer.start()
        self.code_dock.raise_()
        self._refresh_controls()
        return True

    def _show_source(self, path: str | None = None) -> None:
        """Show ``path`` in the code pane (default: the program's own file)."""
        if path is None and self.argv[0] != "-m":
            path = os.path.abspath(self.argv[0])
        if path is None or path == self._source_file:
            return
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                text = f.read()
        except OSError:
            return
        self._source_file = path
        self.code_view.edit.setPlainText(text)
        self.code_view.caption.set_texts(f"Your program: {path}", os.path.basename(path))
        self.code_view.clear_running()
        self._add_file(path)
        self.file_combo.setCurrentIndex(self._files.index(path))

    def _add_file(self, path: str) -> None:
        if path not in self._files and os.path.isfile(path):
            self._files.append(path)
            self.file_combo.addItem(os.path.basename(path), path)
            self.file_combo.setItemData(len(self._files) - 1, path, Qt.ItemDataRole.ToolTipRole)

    def _on_file_combo_activated(self, index: int) -> None:
        if 0 <= index < len(self._files):
            self._show_source(self._files[index])
            self._show_code_lines()

    # ------------------------------------------------------------------ lanes
    def _follow_lane(self) -> None:
        """Charts, log and status show the chosen lane's model (the first queue until the
        program makes one: a placeholder)."""
        m = self.driver.model
        if m is None or m is self._shown_model:
            return
        first = self._shown_model is None
        self._shown_model = m
        self.charts.set_model(m)
        if first:
            self.event_log.set_model(m)
        else:
            # Keep what the log said so far; from now on it narrates this queue.
            self.event_log.flush()
            self.event_log._model = m
        # The tutorial's narration assumes producers and consumers; a program names its own.
        run = self.driver.run
        lane = run.session.lane if isinstance(run, TraceRun) else None
        self.event_log._narrator = TraceNarrator(m, lane)
        if lane is not None and not first:
            self.event_log.add_note(f"— The charts show queue {lane.name}", self.driver.elapsed())
        self.charts.refresh()

    def _on_trace_panel_sig_lane_chosen(self, qid: int) -> None:
        run = self.driver.run
        if isinstance(run, TraceRun):
            run.session.selected = qid
            self._follow_lane()
            self._refresh_status(force=True)

    def _on_trace_panel_sig_process_clicked(self, src: int) -> None:
        """Show the process's current line: its file in the code pane, the line in sight."""
        self._focus_src = src
        site = self._lines_now().get(src)
        if site is None:
            self.statusBar().showMessage("That process has called no queue operation yet", 4000)
            return
        self.code_dock.show()
        self.code_dock.raise_()
        self._show_source(site[0])
        self._show_code_lines(focus=site[1])
        # The line selected too: the one asked for, among the others lit.
        edit = self.code_view.edit
        cursor = QTextCursor(edit.document().findBlockByNumber(site[1] - 1))
        cursor.select(QTextCursor.SelectionType.LineUnderCursor)
        edit.setTextCursor(cursor)
        edit.ensureCursorVisible()

    # ------------------------------------------------------------------ live
    def _on_driver_sig_frame(self, frame: Frame) -> None:
        self._follow_lane()
        super()._on_driver_sig_frame(frame)

    def _lines_now(self) -> dict[int, tuple[str, int]]:
        """src -> (file, line) each process is at: its get() while it waits there, else the
        line of its latest queue operation (or Process.join())."""
        run = self.driver.run
        if not isinstance(run, TraceRun):
            return {}
        demux = run.session.demux
        waiting = {
            src
            for lane in run.session.lanes
            for src, w in lane.model.workers.items()
            if w.alive and w.activity == Activity.WAIT_GET
        }
        out: dict[int, tuple[str, int]] = {}
        for src, ops in demux.sites.items():
            op = _GET if src in waiting and _GET in ops else demux.last_op.get(src)
            site = ops.get(op) if op is not None else None
            if site is None and ops:
                site = next(reversed(ops.values()))
            if site is not None:
                out[src] = site
        return out

    def _show_code_lines(self, focus: int | None = None) -> None:
        """Light up the line each live process is at, in the file the code pane shows."""
        run = self.driver.run
        if not isinstance(run, TraceRun):
            return
        session = run.session
        lines = self._lines_now()
        self.trace_panel.update_from(session, lines)
        n = len(session.names)
        procs = ", ".join(name for _pid, name in session.names.values())
        text = f"{n} process{'es' if n != 1 else ''} traced: {procs}" if n else ""
        if self.lesson_view.setup_label.text() != text:
            self.lesson_view.setup_label.setText(text)
        for path, _line in lines.values():
            self._add_file(path)
        if self._source_file is None and self._files:
            self._show_source(self._files[0])  # -m MODULE: the first file that used a queue
        if focus is None and any(lane.model.stop_t is not None for lane in session.lanes):
            return  # frozen as the stop found them: what it kills is not the program's doing
        ended = {
            src for lane in session.lanes for src, w in lane.model.workers.items() if not w.alive
        }
        running: dict[int, list[str]] = {}
        for src, (path, line) in lines.items():
            if path != self._source_file or (src in ended and src != self._focus_src):
                continue
            running.setdefault(line, []).append(session.names.get(src, (0, f"process {src}"))[1])
        shown = {line: ", ".join(who) for line, who in running.items()}
        if shown != self.code_view.running() or focus is not None:
            self.code_view.edit.set_running(shown, focus)

    def _diagnose(self, now: float) -> None:
        """Every queue's findings (named by queue when there are several). An unattended
        window (--screenshot) ends a program only while its main process waits in a join:
        before that, main may put at any time."""
        run = self.driver.run
        if not isinstance(run, TraceRun):
            return
        session = run.session
        if not session.lanes:
            if session.notes:  # not an idle program: one whose queues are not followed
                self._show_diagnosis([_untraced(session)])
            return
        t = self.driver.elapsed()
        live = self.driver.active
        found: list[str] = []
        shown = None
        for lane in session.lanes:
            said = explain(lane.model, t, live=live)
            prefix = f"queue {lane.name}: " if len(session.lanes) > 1 else ""
            found += [prefix + sentence for sentence in said.findings]
            if lane is session.lane:
                shown = said
            if (
                self.session.quit_when_done
                and session.demux.main_blocked
                and self.session.should_stop(said, lane.model, now)
            ):
                self.driver.stop(reason="the program can never end (--quit-when-done)")
        self._log_diagnoses(tuple(found), t)
        self._show_diagnosis(found)
        if shown is not None:
            self.status_bar.show_alert(shown.alert)

    def _show_diagnosis(self, found: list[str] | None, *, ended: bool = False) -> None:
        """A process that failed before its target ran is a problem the lesson names first
        (the queues' findings cannot: it never reached a queue)."""
        run = self.driver.run
        if found is not None and isinstance(run, TraceRun) and run.session.lanes:
            early = run.session.early_failures
            found = [*early, *(f for f in found if f not in early)]
        super()._show_diagnosis(found, ended=ended)

    def _on_driver_sig_ended(self, reason: str) -> None:
        super()._on_driver_sig_ended(reason)
        run = self.driver.run
        if isinstance(run, TraceRun):
            self._show_code_lines()
            lanes = run.session.lanes
            if not lanes and run.session.notes:
                self._show_diagnosis([_untraced(run.session)], ended=True)
            elif len(lanes) > 1:
                found = [
                    f"queue {lane.name}: {sentence}"
                    for lane in lanes
                    for sentence in explain(lane.model).findings
                ]
                self._log_diagnoses(tuple(found), self.driver.elapsed())
                self._show_diagnosis(found, ended=True)

    def _on_console_timer_timeout(self) -> None:
        run = self.driver.run
        if not isinstance(run, TraceRun):
            return
        notes = run.session.notes
        while self._notes_shown < len(notes):
            self.event_log.add_note(f"! {notes[self._notes_shown]}", self.driver.elapsed())
            self._notes_shown += 1
        chunks = run.take_output()
        self._log_output(run, chunks)
        if chunks:
            cursor = self.console.textCursor()
            cursor.movePosition(QTextCursor.MoveOperation.End)
            cursor.insertText("".join(text for _t, text in chunks))
            self.console.setTextCursor(cursor)
            self.console.ensureCursorVisible()
        if (not self.driver.active and not run.output and not self._held_output
                and not run.output_open):  # fmt: skip
            self._console_timer.stop()

    def _finish_auto(self) -> None:
        """Unattended: the picture (and the end) once the program's output is all shown: it
        arrives through a pipe and a thread, after the program's end was seen."""
        if self._finish_deadline is not None:
            return  # waiting already
        self._finish_deadline = time.monotonic() + OUTPUT_WAIT_S
        self._finish_after_output()

    def _finish_after_output(self) -> None:
        run = self.driver.run
        deadline = self._finish_deadline if self._finish_deadline is not None else 0.0
        pending = isinstance(run, TraceRun) and (run.output_open or bool(run.output))
        if pending and time.monotonic() < deadline:
            QTimer.singleShot(CONSOLE_PERIOD_MS // 2, self._finish_after_output)
            return
        self._on_console_timer_timeout()  # the last chunk into the console before the picture
        super()._finish_auto()

    def _log_output(self, run: TraceRun, chunks: list[tuple[float, str]]) -> None:
        """The program's output among the event log's lines, by time: each line is stamped
        when it was read and held OUTPUT_HOLD_S, so the records of what the program did
        before printing (shipped every few ms) are in the log first."""
        self._held_output.extend(chunks)
        held = self._held_output
        ended = not self.driver.active
        if not held or (run.pending and not ended):
            return  # records still waiting for the model: they come first
        now = time.perf_counter()
        m = run.model
        while held and (ended or now - held[0][0] >= OUTPUT_HOLD_S):
            t, text = held.popleft()
            at = m.rel(t) if m.t0 is not None else 0.0
            for line in text.splitlines():
                self.event_log.add_note(f"│ {line}", at)

    @property
    def exit_code(self) -> int:
        """The program's own exit code once it ended (3 while none is known)."""
        run = self.driver.run
        code = getattr(getattr(run, "session", None), "exit_code", None)
        return 3 if code is None else code


def _untraced(session) -> str:  # session: engine.trace_session.TraceSession
    return (
        "This program's queues are not traced, so nothing moves on the charts: "
        + "; ".join(session.notes)
        + "."
    )


def run_trace_gui(opts: TraceArgs, screenshot: str | None = None) -> int:
    """Open the window on the traced program, started at once; returns the program's code."""
    from gui.qt_app import SIGNAL_POLL_MS, make_app

    app = make_app()
    window = TraceWindow(opts.argv, screenshot=screenshot, quit_when_done=screenshot is not None)
    window.show()
    window.showMaximized()
    QTimer.singleShot(0, window.load_charts)
    wake = QTimer(app)
    wake.setObjectName("signal_wake")
    wake.timeout.connect(lambda: None)
    wake.start(SIGNAL_POLL_MS)
    previous = signal.signal(signal.SIGINT, lambda *_: window.close())
    QTimer.singleShot(50, window.start_run)
    try:
        app.exec()
    finally:
        signal.signal(signal.SIGINT, previous)
        wake.stop()
        window.driver.shutdown()
    code = window.exit_code
    if opts.save is not None and window.driver.trace_path is not None:
        try:
            window.save_run_file(opts.save)
        except OSError as exc:
            print(f"queuelab: warning: cannot save the trace: {exc}", file=sys.stderr)
    if window.screenshot_error is not None:
        print(f"queuelab: error: {window.screenshot_error}", file=sys.stderr)
    window.deleteLater()
    return code
