"""The trace window with several queues, untraced queues, a clicked process, other files.

Real programs, real processes, a real TraceWindow: the lanes table, the queue note, the
code pane following a clicked process into another file, and the program's output among the
event log's lines.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt

from engine.states import Activity
from gui.trace_window import TraceWindow

ROOT = Path(__file__).resolve().parents[2]
PROGRAMS = ROOT / "tests" / "programs"

# A package run with -m: the worker's loop lives in another file than the main module.
HELPER = '''
def work(jobs):
    while True:
        job = jobs.get()
        if job is None:
            jobs.task_done()
            return
        jobs.task_done()
'''
MAIN = '''
import multiprocessing as mp, sys, time
from app.helper import work

if __name__ == "__main__":
    jobs = mp.JoinableQueue()
    ps = [mp.Process(target=work, args=(jobs,), name=f"helper-{i}") for i in range(2)]
    for p in ps:
        p.start()
    for i in range(5):
        jobs.put(i)
    jobs.join()  # ships main's records before it prints
    print("five queued", flush=True)
    time.sleep(30)
'''


def _start(qtbot, argv: list[str]) -> TraceWindow:
    win = TraceWindow(argv)
    qtbot.addWidget(win)
    win.load_charts()
    win.show()
    assert win.start_run()
    return win


def _cells(table, row: int) -> list[str]:
    return [table.item(row, c).text() for c in range(table.columnCount())]


def test_pipeline_shows_two_lanes_with_their_counts(qtbot) -> None:
    win = _start(qtbot, [str(PROGRAMS / "pipeline.py")])
    try:
        qtbot.waitUntil(lambda: not win.driver.active, timeout=60_000)
        win._show_code_lines()
        lanes = win.trace_panel.lanes
        assert lanes.rowCount() == 2
        assert _cells(lanes, 0) == ["first", "Joinable", "16", "16", "16", "0"]
        assert _cells(lanes, 1) == ["second", "Joinable", "16", "16", "16", "0"]
        session = win.driver.run.session
        first, second = session.lanes
        assert win.charts.model is first.model
        assert sorted(w.name for w in first.model.workers.values()) == ["square"]
        # Clicking the second queue's row charts it: its workers are collect and square.
        qtbot.mouseClick(
            lanes.viewport(), Qt.MouseButton.LeftButton,
            pos=lanes.visualItemRect(lanes.item(1, 0)).center(),
        )  # fmt: skip
        assert win.driver.model is second.model and win.charts.model is second.model
        assert sorted(w.name for w in second.model.workers.values()) == ["collect", "square"]
        does = {
            _cells(win.trace_panel.table, r)[0]: _cells(win.trace_panel.table, r)[4]
            for r in range(win.trace_panel.table.rowCount())
        }
        assert does["square"] == "first: consumer · second: producer"
        assert does["main"].startswith("first: puts (main)")
    finally:
        win.driver.shutdown()


def test_a_multiprocessing_queue_says_it_has_no_unfinished_counter(qtbot) -> None:
    win = _start(qtbot, [str(PROGRAMS / "poison_pill.py")])
    try:
        qtbot.waitUntil(lambda: not win.driver.active, timeout=60_000)
        win._show_code_lines()
        lanes = win.trace_panel.lanes
        rows = {_cells(lanes, r)[0]: _cells(lanes, r) for r in range(lanes.rowCount())}
        assert rows["results"] == ["results", "Queue", "20", "20", "—", "0 queued"]
        session = win.driver.run.session
        win._on_trace_panel_sig_lane_chosen(session.lanes[1].qid)
        win._show_code_lines()
        assert "no unfinished counter" in win.trace_panel.note.text()
    finally:
        win.driver.shutdown()


def test_untraced_queues_are_said_not_shown_idle(qtbot, tmp_path: Path) -> None:
    prog = tmp_path / "mgr.py"
    prog.write_text(
        "import multiprocessing as mp\nif __name__ == '__main__':\n"
        "    with mp.Manager() as m:\n        q = m.JoinableQueue()\n        q.put(1)\n"
        "        q.get()\n        q.task_done()\n        q.join()\n"
    )
    win = _start(qtbot, [str(prog)])
    try:
        qtbot.waitUntil(lambda: not win.driver.active, timeout=60_000)

        def said_plainly() -> None:
            said = win.lesson_view.diagnosis_view.sentences()
            why = (said, win.driver.run.session.notes, win.console.toPlainText())
            assert any(
                "queues are not traced" in s and "Manager().JoinableQueue()" in s for s in said
            ), why

        qtbot.waitUntil(said_plainly, timeout=10_000)
        win._show_code_lines()
        assert win.trace_panel.note.text().startswith("No queue of this program is traced")
    finally:
        win.driver.shutdown()


def test_clicking_a_process_shows_its_line_in_another_file(qtbot, tmp_path: Path) -> None:
    pkg = tmp_path / "app"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "helper.py").write_text(HELPER)
    (pkg / "main.py").write_text(MAIN)
    import os

    cwd = os.getcwd()
    os.chdir(tmp_path)  # -m finds the package in the current folder, as python -m does
    try:
        win = _start(qtbot, ["-m", "app.main"])
    finally:
        os.chdir(cwd)
    try:
        session = win.driver.run.session

        def helpers_wait() -> None:
            m = win.driver.model
            ws = [w for w in m.workers.values() if w.name.startswith("helper-")]
            assert len(ws) == 2 and all(w.activity == Activity.WAIT_GET for w in ws)
            assert any("│ five queued" in line for line in win.event_log.lines())

        qtbot.waitUntil(helpers_wait, timeout=60_000)
        win._show_code_lines()
        # -m: the code pane shows the first file that used a queue: the main module.
        files = [win.file_combo.itemText(i) for i in range(win.file_combo.count())]
        assert "main.py" in files and "helper.py" in files
        table = win.trace_panel.table
        row = next(r for r in range(table.rowCount()) if table.item(r, 0).text() == "helper-0")
        qtbot.mouseClick(
            table.viewport(), Qt.MouseButton.LeftButton,
            pos=table.visualItemRect(table.item(row, 0)).center(),
        )  # fmt: skip
        assert win._source_file == str(pkg / "helper.py")
        helper_lines = HELPER.splitlines()
        lit = win.code_view.running()
        assert any(
            "jobs.get()" in helper_lines[line - 1] and "helper-0" in who
            for line, who in lit.items()
        ), lit
        cursor_line = win.code_view.edit.textCursor().blockNumber() + 1
        assert "jobs.get()" in helper_lines[cursor_line - 1]
        # The output line sits among the event log's lines, after main's puts and join.
        lines = win.event_log.lines()
        out = next(i for i, line in enumerate(lines) if "│ five queued" in line)
        assert any("main put" in line for line in lines[:out])
        assert any("queue.join() returned" in line for line in lines[:out])
        assert session.names
    finally:
        win.driver.shutdown()
