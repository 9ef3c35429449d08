"""Issue 14, item 4 in the window: the user's own function's results on hover, its workload typed
in the config panel, and a workload that cannot be imported refused with nothing started."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from engine.config import RunConfig
from engine.model import Activity
from gui.config_panel import ConfigPanel
from gui.main_window import MainWindow

END_MS = 60_000
TASKS = '''\
def square(value):
    return {"n": value, "square": value * value}


def picky(value):
    if value == 2:
        raise KeyError("two")
    return value
'''


@pytest.fixture
def tasks_file(tmp_path: Path) -> Path:
    path = tmp_path / "window_tasks.py"
    path.write_text(TASKS)
    return path


def own_config(workload: str) -> RunConfig:
    return RunConfig(workload=workload, tasks_per_producer=4, consumers=2, seed=5,
                     sentinels="per_consumer", task_duration="constant(0.01)")  # fmt: skip


@pytest.fixture
def window(qtbot: QtBot, tasks_file: Path) -> Iterator[MainWindow]:
    w = MainWindow(own_config(f"{tasks_file}:square"), None)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.close()


def _hover_task(w: MainWindow, label: int, activity: Activity) -> str:
    """Hover the middle of the interval where a worker did ``activity`` on task ``label``."""
    w.charts.refresh()
    for row, r in enumerate(w.charts.timeline.rows):
        for t0, t1, act, lab in r.worker.intervals:
            if act == int(activity) and lab == label and t1 > t0:
                w.charts._set_hover((t0 + t1) / 2, row)
                return w.charts._tip.textItem.toPlainText()
    raise AssertionError(f"no {activity.name} interval for task {label}")


def test_hovering_a_task_shows_what_the_function_returned(window: MainWindow, qtbot: QtBot):
    w = window
    assert w.start_run()
    qtbot.waitUntil(lambda: not w.driver.active, timeout=END_MS)
    assert w.model is not None and w.model.task_results[3] == "{'n': 3, 'square': 9}"
    tip = _hover_task(w, 3, Activity.PROCESS)
    assert "processing task 3" in tip
    assert "returned {'n': 3, 'square': 9}" in tip


def test_hovering_a_failed_task_shows_its_traceback(
    window: MainWindow, qtbot: QtBot, tasks_file: Path
):
    w = window
    w.config_panel.set_config(own_config(f"{tasks_file}:picky"))
    assert w.start_run()
    qtbot.waitUntil(lambda: not w.driver.active, timeout=END_MS)
    assert w.model is not None and w.model.failures == 1
    tip = _hover_task(w, 2, Activity.FAILED)
    assert "failed on task 2" in tip
    assert 'File "window_tasks.py", line 7, in picky' in tip
    assert "KeyError: 'two'" in tip


def test_the_workload_field_takes_a_typed_function(qtbot: QtBot, tasks_file: Path):
    panel = ConfigPanel()
    qtbot.addWidget(panel)
    editor = panel.editors["workload"]
    editor.combo.setEditText(f"{tasks_file}:square")
    assert panel.is_valid() and panel.config().workload == f"{tasks_file}:square"
    editor.combo.setEditText("no colon here")
    assert not panel.is_valid() and "module:function" in (editor.error or "")
    editor.combo.setCurrentIndex(editor.combo.findData("cpu"))
    assert panel.is_valid() and panel.config().workload == "cpu"
    panel.set_config(own_config("pkg.mod:fn"))
    assert editor.combo.currentText() == "pkg.mod:fn"


def test_a_workload_that_cannot_be_imported_starts_nothing(
    window: MainWindow, tmp_path: Path, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
):
    w = window
    w.config_panel.set_config(own_config("no_such_module_w3:fn"))
    assert w.config_panel.is_valid()  # the form is right; the import is tried at Start
    assert not w.start_run()
    assert w.driver.run is None and w.model is None  # nothing was started
    message = w.config_panel.editors["workload"].error or ""
    assert "no_such_module_w3" in message and "cannot import" in message
    assert w.last_error_box is not None and "no_such_module_w3" in w.last_error_box.text()
    # Once the module exists, Start works and the refusal under the field goes.
    (tmp_path / "no_such_module_w3.py").write_text("def fn(value):\n    return -value\n")
    w.last_error_box.close()
    monkeypatch.chdir(tmp_path)
    assert w.start_run()
    assert w.config_panel.editors["workload"].error is None
    qtbot.waitUntil(lambda: not w.driver.active, timeout=END_MS)
    assert w.model is not None and w.model.task_results[3] == "-3"
