"""RunStart: a Start's run is launched turns after the click, once its views are drawn."""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QWidget

from gui.run_driver import RunDriver

# A timer, not a posted call: the views' repaints (posted events) and the timers already due
# (input too) come first, so the Start click's turn ends before the workers take the CPU.
LAUNCH_DELAY_MS = 1
# The charts settle in a few repaints (their legends and axes take their new sizes one layout
# pass at a time: 3-4 repaints, ~35 ms); the launch waits for a turn without one, this long
# at most (a window that never stops repainting still starts its run).
SETTLE_MAX_S = 0.1


class RunStart(QObject):
    """Launches the run a Start made (``RunDriver.start(launch=False)``) once it is drawn.

    The Start click's turn readies every view for the new run, and their repaints follow in
    the same turn: ~25 ms of the window's CPU. With the workers launched in that turn four
    processes took the two cores from it and it lasted 85-93 ms (benchmarks/gui_flood.py,
    ``--gaps``: the longest gap of a 2 producers + 2 consumers flood). Launched here, that
    turn is over before they start. The run itself is untouched: ``Run.start`` stamps
    RUN_START and starts the workers as it always did, with nothing of the window between.

    ``sig_launched(run)`` once its workers are starting; ``sig_failed(words)`` when it could
    not start: it was discarded, nothing of it is left running.
    """

    sig_launched = Signal(object)
    sig_failed = Signal(str)

    def __init__(self, driver: RunDriver, window: QWidget) -> None:
        super().__init__(window)
        self.driver = driver
        self._window = window
        self._run: Any = None
        self._repainted = False  # the window repainted since the timer last fired
        self._due = 0.0  # the launch waits for the window's repaints until then (monotonic)
        self._timer = QTimer(self)
        self._timer.setObjectName("run_launch")
        self._timer.setSingleShot(True)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(LAUNCH_DELAY_MS)
        self._timer.timeout.connect(self._on_timer_timeout)

    @property
    def pending(self) -> bool:
        """A run is made and shown, and its launch is due (nothing of it started yet)."""
        return self._run is not None and self.driver.run is self._run

    def schedule(self, run: Any) -> None:
        """Launch ``run`` (the driver's current, unlaunched run) after the window's repaints."""
        if self._run is None:
            self._window.installEventFilter(self)
        self._run = run
        self._repainted = True  # the views just changed: their repaint is to come
        self._due = time.monotonic() + SETTLE_MAX_S
        self._timer.start()

    def cancel(self) -> None:
        """Launch nothing (the run is being discarded, the window closes)."""
        self._timer.stop()
        if self._run is not None:
            self._window.removeEventFilter(self)
        self._run = None

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # Every repaint of a top-level window starts with its UpdateRequest.
        if event.type() == QEvent.Type.UpdateRequest:
            self._repainted = True
        return False

    def launch_now(self) -> None:
        """Launch the pending run at once: Stop or Pause pressed before it was act on it."""
        if self.pending:
            self._launch()

    def _on_timer_timeout(self) -> None:
        if self._repainted and time.monotonic() < self._due:
            self._repainted = False  # the views are still settling: look again a turn later
            self._timer.start()
            return
        self._launch()

    def _launch(self) -> None:
        run = self._run
        self.cancel()
        if run is None or self.driver.run is not run:
            return  # replaced or discarded meanwhile: that run never starts
        QGuiApplication.setOverrideCursor(Qt.CursorShape.BusyCursor)
        try:
            self.driver.launch()
        except Exception as error:  # why: a failed start must not take the window down
            self.driver.discard()
            self.sig_failed.emit(f"{type(error).__name__}: {error}")
            return
        finally:
            QGuiApplication.restoreOverrideCursor()
        self.sig_launched.emit(run)
