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

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QFontDatabase, QTextCursor
from PySide6.QtWidgets import QPlainTextEdit, QWidget

from engine.config import RunConfig
from engine.events import Kind
from engine.states import Activity, JoinState
from engine.trace_cli import TraceArgs, program_title, trace_config
from engine.trace_narration import TraceNarrator
from engine.trace_run import TraceRun
from gui.main_window import MainWindow

_LINE, _GET = int(Kind.LINE), int(Kind.GET)
_OPS = frozenset(int(k) for k in (Kind.PUT, Kind.GET, Kind.TASK_DONE, Kind.JOIN_BEGIN))
CONSOLE_PERIOD_MS = 100
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
        # src -> {op kind: (file, line)}, and src -> the op kind it did last
        self._sites: dict[int, dict[int, tuple[str, int]]] = {}
        self._last_op: dict[int, int] = {}
        self._source_file: str | None = None
        self._notes_shown = 0  # the session's notes already in the event log
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
        self._sites.clear()
        self._last_op.clear()
        try:
            run = self.driver.start(self.trace_cfg, TraceRun(self.argv, self.trace_cfg))
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
        self.charts.set_model(run.model)
        self.event_log.set_model(run.model)
        # The tutorial's narration assumes producers and consumers; a program names its own.
        self.event_log._narrator = TraceNarrator(run.model)
        self.event_log.add_note(f"— Tracing: python {' '.join(self.argv)}", 0.0)
        self.console.clear()
        self._notes_shown = 0
        self._console_timer.start()
        self.code_dock.raise_()
        self._refresh_controls()
        return True

    def _show_source(self) -> None:
        path = None if self.argv[0] == "-m" else os.path.abspath(self.argv[0])
        self._source_file = path
        if path is None:
            return
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                text = f.read()
        except OSError:
            return
        self.code_view.edit.setPlainText(text)
        self.code_view.caption.set_texts(f"Your program: {path}", os.path.basename(path))
        self.code_view.clear_running()

    # ------------------------------------------------------------------ live
    def _on_driver_sig_applied(self, applied: list) -> None:
        super()._on_driver_sig_applied(applied)
        sites, last = self._sites, self._last_op
        for src, r in applied:
            kind = r[0]
            if kind == _LINE:
                sites.setdefault(src, {})[r[2]] = (r[3], r[4])
            elif kind in _OPS:
                last[src] = kind

    def _show_code_lines(self) -> None:
        """Light up the line each process called its latest queue operation from."""
        m = self.driver.model
        run = self.driver.run
        if isinstance(run, TraceRun):
            procs = ", ".join(name for _pid, name in run.session.names.values())
            n = len(run.session.names)
            text = f"{n} process{'es' if n != 1 else ''} traced: {procs}" if n else ""
            if self.lesson_view.setup_label.text() != text:
                self.lesson_view.setup_label.setText(text)
        if m is None or self._source_file is None:
            return
        names = {0: "main"}
        names.update({src: w.name for src, w in m.workers.items()})
        running: dict[int, list[str]] = {}
        for src, ops in self._sites.items():
            w = m.workers.get(src)
            if w is not None and not w.alive:
                continue
            waiting = w is not None and w.activity == Activity.WAIT_GET
            op = _GET if waiting and _GET in ops else self._last_op.get(src)
            site = ops.get(op) if op is not None else None
            if site is None or site[0] != self._source_file:
                continue
            running.setdefault(site[1], []).append(names.get(src, f"process {src}"))
        shown = {line: ", ".join(who) for line, who in running.items()}
        if shown != self.code_view.running():
            self.code_view.edit.set_running(shown)

    def _diagnose(self, now: float) -> None:
        """As the lessons do; but an unattended window (--screenshot) ends a program only
        while its main process waits in queue.join(): before that, main may put at any time."""
        m = self.driver.model
        unattended = self.session.quit_when_done
        if m is not None and m.join_state != JoinState.WAITING:
            self.session.quit_when_done = False
        try:
            super()._diagnose(now)
        finally:
            self.session.quit_when_done = unattended

    def _on_console_timer_timeout(self) -> None:
        run = self.driver.run
        if not isinstance(run, TraceRun):
            return
        notes = run.session.notes
        while self._notes_shown < len(notes):
            self.event_log.add_note(f"! {notes[self._notes_shown]}", self.driver.elapsed())
            self._notes_shown += 1
        chunks = run.take_output()
        if chunks:
            cursor = self.console.textCursor()
            cursor.movePosition(QTextCursor.MoveOperation.End)
            cursor.insertText("".join(text for _t, text in chunks))
            self.console.setTextCursor(cursor)
            self.console.ensureCursorVisible()
        if not self.driver.active and not run.output:
            self._console_timer.stop()

    @property
    def exit_code(self) -> int:
        """The program's own exit code once it ended (3 while none is known)."""
        run = self.driver.run
        code = getattr(getattr(run, "session", None), "exit_code", None)
        return 3 if code is None else code


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
