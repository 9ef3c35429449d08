"""GUI test setup: Qt's offscreen platform before Qt loads, and real finished runs to draw."""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator

# Before any PySide6 import (pytest-qt imports it when it creates the QApplication).
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest

from engine.config import RunConfig
from engine.model import RunModel
from engine.runner import Run

# The run the charts' tests draw: two consumers, one sentinel each, ~0.5 s with start-up.
SHORT_RUN = RunConfig(
    tasks_per_producer=20, time_scale=0.02, consumers=2, sentinels="per_consumer", seed=1
)
# join() called before the producers are done, and producers slower than the consumers: the
# queue runs empty while tasks are still to come, so join() returns early.
PREMATURE_RUN = SHORT_RUN.replace(join_order="queue_first", put_interval="constant(1)",
                                  tasks_per_producer=12)


def finished_model(cfg: RunConfig, timeout: float = 60.0) -> RunModel:
    """Run ``cfg`` with real processes to its end and return the fed model."""
    with Run(cfg) as run:
        assert run.wait(timeout=timeout), f"the run did not end within {timeout} s"
    run.drain(0.05)
    return run.model


@pytest.fixture
def panel(qtbot):  # type: ignore[no-untyped-def]
    """A shown ChartsPanel at the window's size (the charts' tests draw into it)."""
    from gui.charts import ChartsPanel

    p = ChartsPanel()
    qtbot.addWidget(p)
    p.resize(1280, 800)
    p.show()
    qtbot.waitExposed(p)
    return p


@pytest.fixture(scope="session")
def short_run_model() -> RunModel:
    """A finished SHORT_RUN (shared: tests must only read it)."""
    return finished_model(SHORT_RUN)


@pytest.fixture(scope="session")
def premature_run_model() -> RunModel:
    """A finished PREMATURE_RUN whose join() returned while tasks were still to be put."""
    return finished_model(PREMATURE_RUN)


@pytest.fixture(autouse=True)
def _collect_garbage_between_tests() -> Iterator[None]:
    """Collect a test's cyclic garbage at its end, not during a later test's event processing.

    A window or panel left in a reference cycle is freed whenever Python's collector next
    runs; if that is while Qt dispatches events in another test, Qt calls into half-destroyed
    items ("pure virtual method called", an abort). Collecting here frees them at a calm point.
    """
    yield
    gc.collect()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item: pytest.Item) -> None:
    """Collect the garbage its fixtures left (a module's recorded Run: threads, queue, pipes)
    once they are all set up, before the test's widgets paint: freed while Qt painted a first
    frame, it crashed Qt in pyqtgraph's paintEvent (test_readout.py alone: 8 of 8 runs)."""
    gc.collect()
