"""SweepRunner: a sweep's runs through the main window's live run machinery, one after another.

engine/sweep.SweepPlan says which run comes next and keeps the progress; each run is started
with the window's ``start_run(cfg)``, so its live charts, log, theory table and diagnosis show
it as any run; RunDriver's ``sig_ended`` hands it back, it is measured with
engine/sweep.measure (the statistics are engine/sweep_report's) and its recording is kept
for the replay window. The end rules are ``run``'s: a run that can never end, or one whose
worker died, is stopped at once; one still going ``hang_timeout`` s after join() is stopped.
"""

from __future__ import annotations

import os
import shutil
import time
from typing import Protocol

from PySide6.QtCore import QObject, QTimer, Signal

from engine.config import RunConfig
from engine.explain import hopeless
from engine.sweep import Job, SweepPlan, measure
from gui.run_driver import RunDriver
from gui.run_start import RunStart

WATCH_MS = 250
USER_STOP = "stopped by user"


class RunHost(Protocol):
    """What the runner needs of the main window."""

    driver: RunDriver
    run_start: RunStart  # launches what start_run made turns later, or says why it could not

    def start_run(self, cfg: RunConfig | None = None) -> bool: ...


class SweepRunner(QObject):
    """Drives a SweepPlan through ``host``'s RunDriver; Stop ends it after the run in progress.

    ``sig_run_done`` after each measured run is recorded (and each warm-up), ``sig_started``
    when a run starts, ``sig_finished(complete)`` once: True when every run was done.
    """

    sig_started = Signal()
    sig_run_done = Signal()
    sig_finished = Signal(bool)

    def __init__(self, host: RunHost, plan: SweepPlan, *, hang_timeout: float | None = 60.0,
                 parent: QObject | None = None) -> None:  # fmt: skip
        super().__init__(parent)
        self.host = host
        self.plan = plan
        self.hang_timeout = hang_timeout
        self.job: Job | None = None
        self.running = False
        self.stop_requested = False
        self.finished = False
        self.complete = False
        self.error: str | None = None  # why a run could not start (the sweep ends there)
        self.warnings: list[str] = []
        self._problem: str | None = None
        self._started_at = 0.0
        self._join_seen_at: float | None = None
        self._watch = QTimer(self)
        self._watch.setObjectName("sweep_watch")
        self._watch.setInterval(WATCH_MS)
        self._watch.timeout.connect(self._on_watch_timeout)
        host.driver.sig_ended.connect(self._on_driver_sig_ended)
        host.run_start.sig_failed.connect(self._on_run_start_sig_failed)

    # ------------------------------------------------------------------ commands
    def start(self) -> None:
        if self.running or self.finished:
            return
        self.running = True
        self.plan.t0 = time.monotonic()
        QTimer.singleShot(0, self._next)

    def request_stop(self) -> None:
        """Stop after the run in progress (its result is kept), as Ctrl+C does for `sweep`."""
        if self.running and not self.finished:
            self.stop_requested = True
            if self.job is None:
                self._finish()

    def abort(self) -> None:
        """Stop now, the run in progress too (the window is closing)."""
        self.stop_requested = True
        self._watch.stop()
        if self.job is not None:
            self.host.driver.stop(reason=USER_STOP)
        self._finish()

    # ------------------------------------------------------------------ the loop
    def _next(self) -> None:
        if self.finished:
            return
        job = self.plan.next_job()
        if job is None or self.stop_requested:
            self._finish()
            return
        self._problem = None
        self._join_seen_at = None
        self.job = job
        self._started_at = time.monotonic()
        if not self.host.start_run(job.cfg):
            self.job = None
            self.error = "a run could not be started (is another run still going?)"
            self._finish()
            return
        self._watch.start()
        self.sig_started.emit()

    def _on_run_start_sig_failed(self, words: str) -> None:
        """The run start_run made could not start (the window says why): the sweep ends."""
        if self.job is None:
            return
        self._watch.stop()
        self.job = None
        self.error = f"a run could not be started: {words}"
        self._finish()

    def _on_watch_timeout(self) -> None:
        """``run``'s end rules, checked four times a second while a sweep's run goes on."""
        run = self.host.driver.run
        if self.job is None or run is None or run.ended:
            return
        m = run.model
        now = m.rel(time.perf_counter())
        if m.dead_workers() or any(c != 0 for c in list(run.exit_codes.values())):
            self._stop_run("a worker died", "worker died")
            return
        reason = None if run.pending else hopeless(m, now)
        if reason is not None:
            self._stop_run(f"the run can never end: {reason}", "it can never end")
            return
        if m.join_called_t is not None and self._join_seen_at is None:
            self._join_seen_at = time.monotonic()
        if self.hang_timeout is not None and self._join_seen_at is not None \
                and time.monotonic() - self._join_seen_at > self.hang_timeout:
            self._stop_run(f"the run did not end within {self.hang_timeout:g} s of "
                           "queue.join()", "hang timeout")  # fmt: skip

    def _stop_run(self, problem: str, reason: str) -> None:
        self._problem = problem
        self._watch.stop()
        self.host.driver.stop(reason=reason)

    def _on_driver_sig_ended(self, reason: str) -> None:
        job, run = self.job, self.host.driver.run
        if job is None or run is None or run.cfg is not job.cfg:
            return  # not one of the sweep's runs
        self._watch.stop()
        self.job = None
        seconds = time.monotonic() - self._started_at
        for w in getattr(run, "warnings", []):  # Run.start's: it ran turns after start_run
            if w not in self.warnings:
                self.warnings.append(w)
        if reason == USER_STOP and self._problem is None:
            # Stop in the main window: the person wants the sweep to end, not a failed run.
            self.stop_requested = True
            self._finish()
            return
        if job.point is None:
            self.plan.record(job, None, seconds)
        else:
            ok = run.end_reason == "joined" and self._problem is None
            problem = None if ok else (self._problem or f"the run ended: {reason}")
            trace = self._keep_trace(job)
            self.plan.record(job, measure(run, 0 if ok else 3, problem, trace), seconds)
        self.sig_run_done.emit()
        # After the window has finished with the run's end (its log, its diagnosis).
        QTimer.singleShot(0, self._next)

    def _keep_trace(self, job: Job) -> str | None:
        """Copy the driver's recording of the run where the plan says (for the replay window)."""
        src = self.host.driver.trace_path
        if job.trace is None or src is None:
            return None
        try:
            os.makedirs(os.path.dirname(job.trace), exist_ok=True)
            shutil.copyfile(src, job.trace)
        except OSError as error:
            self.warnings.append(f"could not keep the run's recording: {error}")
            return None
        return job.trace

    def _finish(self) -> None:
        if self.finished:
            return
        self._watch.stop()
        self.finished = True
        self.running = False
        self.complete = self.plan.complete and not self.stop_requested
        self.sig_finished.emit(self.complete)
