"""RunSession: what the window decides about a run, without widgets: explain when, stop when,
shoot the unattended screenshot when."""

from __future__ import annotations

import multiprocessing
import threading
from enum import Enum

from engine import cpuwork
from engine.config import RunConfig
from engine.explain import SETTLE_S, Explanation
from engine.model import RunModel
from engine.runner import warm_forkserver

EXIT_JOINED = 0
EXIT_NOT_JOINED = 3
SHOT_DELAY_MS = 500  # after join() returns, so the last task_done and exits are on the charts
DIAGNOSE_PERIOD_S = 0.5
# Workers that go on after join() returned (missing sentinels, a premature join): the
# handout waits this long past the delay for the diagnosis that explains them.
SHOT_SETTLE_S = SETTLE_S + 2 * DIAGNOSE_PERIOD_S
# --quit-when-done: a run whose hang diagnosis holds this long is stopped (exit code 3), since
# nobody is there to press Stop.
UNATTENDED_HANG_S = 3.0


def ready_first_start(cfg: RunConfig) -> None:
    """Do now, while nobody waits, the slow first steps of a run's start in this process.

    The first Start of a window blocked its event loop 300 ms to 1 s (benchmarks/gui_flood.py,
    ``window.start_run``): the forkserver had to start and import the worker module before it
    could fork the first worker, and ``cpu`` work measured this machine's speed. Both happen
    once per process; done when the window first shows, Start only forks. The forkserver is
    warmed from a thread (it imports in its own process; the thread only waits for it).
    """
    if cfg.workload == "cpu":
        cpuwork.calibrate()  # first: the forkserver's imports would share the CPU with it
    if cfg.start_method == "forkserver":
        # Started and waited for (a no-op child forked) in a thread: Start then only forks.
        # Only starting it left Run.start's own warm-up (a child started and joined, 150 ms
        # of the first Start's slot) to wait for the server's imports.
        threading.Thread(target=warm_forkserver, args=(multiprocessing.get_context("forkserver"),),
                         name="queuelab-forkserver-warm-up", daemon=True).start()


class ShotStep(Enum):
    """What the unattended screenshot's timer says to do when it fires."""

    FINISH = "finish"  # take it (and quit, with --quit-when-done)
    RETRY = "retry"  # start the timer again: the words that explain the run are not shown yet
    WAIT_FOR_END = "wait for end"  # the run's end takes it (a premature join goes on)


class RunSession:
    """The diagnosis cadence, the unattended hang rule and the screenshot state machine.

    Plain Python, fed the monotonic time ``now`` and the run's model by the window, so every
    rule is testable alone (tests/test_run_session.py). ``screenshot`` and ``quit_when_done``
    are the command line's ``--screenshot PATH`` and ``--quit-when-done``.
    """

    def __init__(self, *, screenshot: str | None = None, quit_when_done: bool = False) -> None:
        self.screenshot = screenshot
        self.quit_when_done = quit_when_done
        self.shown: set[str] = set()  # sentences already in the event log, each said once
        self._next_diagnosis = 0.0
        self._deaths_seen = 0  # workers seen dead in this run: a new one is explained at once
        self._stuck_since: float | None = None
        self.auto_done = False
        self._waits_for_end = False
        self._deadline = 0.0

    @property
    def unattended(self) -> bool:
        """The window acts by itself at the run's end (a screenshot, quitting)."""
        return bool(self.screenshot) or self.quit_when_done

    # ------------------------------------------------------------------ each run
    def start(self) -> None:
        """A new run: nothing said yet, explain at the first frame, no screenshot taken."""
        self.shown.clear()
        self._stuck_since = None
        self._next_diagnosis = 0.0
        self._deaths_seen = 0
        self.reset_shot()

    def explain_due(self, model: RunModel | None, now: float, active: bool) -> bool:
        """Whether this frame explains the run: twice a second, and at once after a death
        (the chip says it then, not at the next half second)."""
        deaths = 0 if model is None else sum(
            w.exitcode not in (None, 0) for w in model.workers.values()
        )
        if deaths != self._deaths_seen:
            self._deaths_seen = deaths
            self._next_diagnosis = 0.0
        if now >= self._next_diagnosis and active:
            self._next_diagnosis = now + DIAGNOSE_PERIOD_S
            return True
        return False

    def new_sentences(self, found: tuple[str, ...] | list[str]) -> list[str]:
        """The sentences of ``found`` not yet logged (and now counted as logged)."""
        fresh = [s for s in found if s not in self.shown]
        self.shown.update(fresh)
        return fresh

    def should_stop(self, said: Explanation, model: RunModel, now: float) -> bool:
        """--quit-when-done: nobody will press Stop, so the run is stopped when it can never
        end (the headless run's rule) or its findings have held for UNATTENDED_HANG_S."""
        if not self.quit_when_done or model.join_returned_t is not None:
            return False
        self._stuck_since = (self._stuck_since or now) if said.findings else None
        if said.hopeless is not None:
            return True
        return self._stuck_since is not None and now - self._stuck_since >= UNATTENDED_HANG_S

    # ------------------------------------------------------------------ the unattended shot
    def reset_shot(self) -> None:
        self._waits_for_end = False
        self.auto_done = False

    def join_returned(self, now: float) -> bool:
        """join() returned: True to start the screenshot timer (SHOT_DELAY_MS)."""
        if not self.unattended or self.auto_done:
            return False
        self._deadline = now + SHOT_DELAY_MS / 1000 + SHOT_SETTLE_S
        return True

    def shot_step(
        self, model: RunModel | None, active: bool, explained: bool, now: float
    ) -> ShotStep:
        """The timer fired: take the picture now, or wait (``explained``: findings shown)."""
        # A premature join returns while producers still put: the handout should show the
        # whole run, so wait for its end.
        if model is not None and model.premature_join and active:
            self._waits_for_end = True
            return ShotStep.WAIT_FOR_END
        # Workers that go on after join() returned are what the lesson is about: the handout
        # shows the diagnosis that names them (it needs SETTLE_S of them waiting).
        waiting_for_words = (
            model is not None and active and not model.all_exited() and not explained
        )
        if waiting_for_words and now < self._deadline:
            return ShotStep.RETRY
        return ShotStep.FINISH

    def ended(self, timer_active: bool) -> bool:
        """The run ended: True to take the unattended screenshot (and quit) now."""
        waiting = self.unattended and not self.auto_done
        return waiting and (self._waits_for_end or not timer_active)


def exit_code(model: RunModel | None) -> int:
    """0 when the run's queue.join() returned, 3 otherwise (stopped, died, no run)."""
    joined = model is not None and model.join_returned_t is not None
    return EXIT_JOINED if joined else EXIT_NOT_JOINED
