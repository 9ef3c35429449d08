"""The trace window: a user's program's processes on the charts, its lines lit, its output."""

from __future__ import annotations

import time
from pathlib import Path

import psutil

from engine.states import Activity
from gui.trace_window import TraceWindow

ROOT = Path(__file__).resolve().parents[2]

SLOW = '''
import multiprocessing as mp, time, sys

def worker(q):
    while True:
        item = q.get()
        if item is None:
            q.task_done()
            break
        time.sleep(0.02)
        q.task_done()

if __name__ == "__main__":
    mp.set_start_method("forkserver")
    q = mp.JoinableQueue()
    ps = [mp.Process(target=worker, args=(q,), name=f"cruncher-{i}") for i in range(2)]
    for p in ps:
        p.start()
    for i in range(20):
        q.put(i)
    print("all queued", flush=True)
    time.sleep(float(sys.argv[1]))
    for p in ps:
        q.put(None)
    q.join()
    print("done", flush=True)
'''


def _window(qtbot, tmp_path: Path, *args: str) -> TraceWindow:
    prog = tmp_path / "crunch.py"
    prog.write_text(SLOW)
    win = TraceWindow([str(prog), *args])
    qtbot.addWidget(win)
    win.load_charts()
    win.show()
    assert win.start_run()
    return win


def test_processes_lines_and_output_appear_live(qtbot, tmp_path: Path) -> None:
    win = _window(qtbot, tmp_path, "30")
    try:
        def waiting_with_lines() -> None:
            m = win.driver.model
            names = sorted(w.name for w in m.workers.values())
            assert names == ["cruncher-0", "cruncher-1"]
            assert all(w.activity == Activity.WAIT_GET for w in m.workers.values())
            assert any("cruncher" in who for who in win.code_view.running().values())
            assert "all queued" in win.console.toPlainText()

        qtbot.waitUntil(waiting_with_lines, timeout=30_000)
        lit = win.code_view.running()
        source = (tmp_path / "crunch.py").read_text().splitlines()
        assert any("q.get()" in source[line - 1] for line in lit)
        win.grab().save(str(tmp_path / "live.png"))
        pids = [pid for pid, _name in win.driver.run.session.names.values()]
        # Stop ends the whole tree, main included, at once.
        win.stop_run()
        qtbot.waitUntil(lambda: not win.driver.active, timeout=15_000)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and any(psutil.pid_exists(p) for p in pids):
            time.sleep(0.05)
        for pid in pids:
            if psutil.pid_exists(pid):
                assert psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
        assert "done" not in win.console.toPlainText()
    finally:
        win.driver.shutdown()


def test_a_program_that_ends_shows_its_output_and_exit_code(qtbot, tmp_path: Path) -> None:
    win = _window(qtbot, tmp_path, "0")
    try:
        qtbot.waitUntil(lambda: not win.driver.active, timeout=30_000)
        qtbot.waitUntil(lambda: "done" in win.console.toPlainText(), timeout=5_000)
        assert win.exit_code == 0
        m = win.driver.model
        assert m.join_returned_t is not None
        assert m.task_dones == 22
    finally:
        win.driver.shutdown()


def _ended_window(qtbot, program: str, method: str) -> TraceWindow:
    """A window that traced tests/programs/``program`` to its end."""
    win = TraceWindow([str(ROOT / "tests" / "programs" / program), method])
    qtbot.addWidget(win)
    win.load_charts()
    win.show()
    assert win.start_run()
    try:
        qtbot.waitUntil(lambda: not win.driver.active, timeout=60_000)
    except BaseException:
        win.driver.shutdown()  # no program left behind
        raise
    return win


def _states(win: TraceWindow) -> dict[str, str]:
    """The processes table's State column by process name."""
    table = win.trace_panel.table
    return {table.item(r, 0).text(): table.item(r, 2).text() for r in range(table.rowCount())}


def test_processes_the_program_terminated_read_terminated_not_dead(qtbot) -> None:
    """A Pool's with-block and the program's terminate() end processes on purpose: the table
    says so and the lesson finds no problem (each read "exit code -15", a death, before)."""
    win = _ended_window(qtbot, "pool_terminate.py", "forkserver")
    try:
        qtbot.waitUntil(lambda: "waiter exit code" in win.console.toPlainText(), timeout=5_000)
        states = _states(win)
        assert states["waiter"] == "terminated (-15)", states
        assert not any(s.startswith("exit code") for s in states.values()), states
        assert win.driver.model.dead_workers() == []
    finally:
        win.driver.shutdown()


LATE = """
import os, time
if os.fork() == 0:
    time.sleep(1.0)
    print("late line", flush=True)
    os._exit(0)
print("main ends", flush=True)
"""


def test_an_unattended_picture_waits_for_the_programs_last_output(qtbot, tmp_path: Path) -> None:
    """--screenshot: the picture is taken once the program's output is all in the console
    (it comes through a pipe and a thread, after the end is seen; here a child of main prints
    a second after main ended). Taken at once before, it showed an empty console 4 runs in 6."""
    prog = tmp_path / "late.py"
    prog.write_text(LATE)
    shot = tmp_path / "shot.png"
    win = TraceWindow([str(prog)], screenshot=str(shot), quit_when_done=True)
    qtbot.addWidget(win)
    win.load_charts()
    win.show()
    shown: list[str] = []
    win.sig_done.connect(lambda _code: shown.append(win.console.toPlainText()))
    assert win.start_run()
    try:
        qtbot.waitUntil(lambda: bool(shown), timeout=30_000)
        assert "main ends" in shown[0] and "late line" in shown[0]
        assert shot.exists()
    finally:
        win.driver.shutdown()


def test_a_child_that_failed_before_its_target_is_the_lessons_first_finding(qtbot) -> None:
    """Processes started outside ``if __name__ == '__main__':`` under spawn: the child fails
    importing the main module; the lesson names it with its error, the table says so."""
    win = _ended_window(qtbot, "no_main_guard.py", "spawn")
    try:
        sentences = win.lesson_view.diagnosis_view.sentences()
        assert sentences and sentences[0].startswith("worker (pid "), sentences
        assert "failed before it ran its target: RuntimeError" in sentences[0]
        states = _states(win)
        assert states["worker"] == "failed at start", states
    finally:
        win.driver.shutdown()
