"""The Theory pane is computed while someone looks at it (and at the run's end), not behind a
hidden tab twice a second: at 10^5 tasks one computation takes a tenth of a second of the
window's time."""

from __future__ import annotations

import os

import pytest
from pytestqt.qtbot import QtBot

from engine.config import RunConfig
from engine.distributions import Distribution
from engine.theory import theory_json
from gui.main_window import MainWindow

pytestmark = pytest.mark.slow

# Open arrivals, long enough to look at mid-run: a put about every 50 ms, 60 tasks.
OPEN = RunConfig(producers=1, consumers=2, tasks_per_producer=60, seed=5,
                 put_interval=Distribution.exponential(0.05),
                 task_duration=Distribution.exponential(0.05), sentinels="per_consumer",
                 title="open")  # fmt: skip


def test_the_theory_pane_follows_the_run_only_while_shown(qtbot: QtBot) -> None:
    w = MainWindow(OPEN)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    try:
        w.log_dock.raise_()  # the Theory tab behind the event log's
        qtbot.waitUntil(lambda: w.theory_view.visibleRegion().isEmpty(), timeout=5_000)
        with qtbot.waitSignal(w.driver.sig_ended, timeout=60_000):
            assert w.start_run()
            qtbot.waitUntil(lambda: w.driver.model.task_dones >= 10, timeout=30_000)
            qtbot.wait(1_200)  # two diagnosis ticks and more
            assert w.theory_view.doc is None, "computed behind a hidden tab"
            w.theory_dock.raise_()
            qtbot.waitUntil(lambda: w.theory_view.doc is not None, timeout=5_000)
            shown_at = w.theory_view.doc["little"]["mean_in_system"]
            assert shown_at is not None
        # At the end it is the whole run's, shown or not.
        assert w.theory_view.doc == theory_json(w.driver.model, OPEN, os.cpu_count())
    finally:
        w.close()
