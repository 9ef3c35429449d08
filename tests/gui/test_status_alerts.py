"""The status bar says a stall plainly: real workers SIGKILLed under a real window, and losses."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import signal
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from PySide6.QtWidgets import QApplication, QLabel

from engine.config import RunConfig
from engine.distributions import Distribution
from engine.events import ROLE_CONSUMER
from engine.model import Activity, RunModel
from engine.replay import replay_model
from engine.runner import RunStatus
from engine.tracefile import read_trace
from gui.main_window import MainWindow
from gui.status_bar import AlertLevel, RunStatusBar
from tests.faults import read_lock_holder

END_TIMEOUT_MS = 60_000
# The chip follows the window's diagnosis, which runs at every new death and twice a second.
CHIP_TIMEOUT_MS = 5_000
STALL_TIMEOUT_MS = 10_000  # detect_stall waits a second of silence first

# Two consumers, 1 s a task: a kill lands mid-task, and join() can never return after it. The
# victim is chosen from the window's model, which may be a few tenths of a second behind the
# worker under load (0.3 s tasks let the victim reach its next task first: 'holding task 2').
MID_TASK = RunConfig(
    producers=1,
    consumers=2,
    tasks_per_producer=30,
    task_duration=Distribution.constant(1.0),
    sentinels="per_consumer",
    seed=7,
    title="kill mid-task",
)
# Puts 1.5 s apart: the consumers start in an empty get(), one of them inside the pipe read.
IN_GET = MID_TASK.replace(
    consumers=3, tasks_per_producer=4, put_interval=Distribution.constant(1.5),
    task_duration=Distribution.constant(0.0), title="kill in get()",
)  # fmt: skip


@pytest.fixture
def window(qtbot) -> Iterator[MainWindow]:
    w = MainWindow(MID_TASK)
    qtbot.addWidget(w)
    w.show()
    w.resize(1280, 800)
    qtbot.waitExposed(w)
    yield w
    w.close()  # stops whatever run a failed test left behind


def gone(pids: list[int]) -> bool:
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                return False
        except psutil.NoSuchProcess:
            pass
    return True


LAYOUT_TIMEOUT_MS = 2000


def shown_whole(label: QLabel) -> bool:
    """Visible in the window and given at least the width its text needs."""
    return label.isVisibleTo(label.window()) and label.width() >= label.sizeHint().width()


def chip(w: MainWindow) -> str:
    sb = w.status_bar
    return sb.alert_label.text() if sb.alert is not None and sb.alert_label.isVisible() else ""


@pytest.mark.slow
def test_a_consumer_killed_mid_task_turns_the_status_bar_red_until_the_next_start(
    qtbot, window: MainWindow
) -> None:
    w = window
    assert w.start_run()
    qtbot.waitUntil(lambda: not w.run_start.pending, timeout=END_TIMEOUT_MS)  # launched turns later
    run = w.driver.run
    assert run is not None
    pids = [p.pid for p in run.processes.values()]

    def victim_early_in_task() -> bool:
        m = w.model
        return m is not None and any(
            x.role == ROLE_CONSUMER and x.activity == Activity.PROCESS and x.task != -1
            for x in m.workers.values()
        )

    qtbot.waitUntil(victim_early_in_task, timeout=END_TIMEOUT_MS)
    m = w.model
    assert m is not None
    victim = next(
        x for x in m.workers.values() if x.role == ROLE_CONSUMER and x.activity == Activity.PROCESS
    )
    label = m.tasks[victim.task][0]
    assert chip(w) == ""
    os.kill(victim.pid, signal.SIGKILL)
    t_kill = time.monotonic()
    qtbot.waitUntil(lambda: chip(w).startswith("STALLED"), timeout=CHIP_TIMEOUT_MS)
    print(f"\nFIGURE stall chip {1000 * (time.monotonic() - t_kill):.0f} ms after the SIGKILL")

    sb = w.status_bar
    assert sb.alert is not None and sb.alert.level is AlertLevel.STALLED
    text = chip(w)
    assert f"{victim.name} killed (SIGKILL) holding task {label}" in text, text
    assert "join() can never return" in text and text.endswith("press Stop"), text
    # The chip's text is set at once; the bar lays itself out on the next turn of the loop.
    qtbot.waitUntil(lambda: shown_whole(sb.alert_label) and shown_whole(sb.state_label),
                    timeout=LAYOUT_TIMEOUT_MS)
    assert victim.name in sb.alert_label.toolTip()  # the diagnosis, sentence by sentence
    assert any(victim.name in s for s in w.lesson_view.diagnosis_view.sentences())

    w.stop_run()
    qtbot.waitUntil(lambda: not w.driver.active, timeout=END_TIMEOUT_MS)
    assert qtbot.waitUntil(lambda: gone(pids), timeout=3000) is None
    # Still said after the stop (it is why the run was stopped), without the advice.
    text = chip(w)
    assert text.startswith("STALLED") and f"holding task {label}" in text, text
    assert "press Stop" not in text

    # The next start clears it at once; so does Reset.
    assert w.start_run()
    assert chip(w) == "" and w.status_bar.alert is None
    w.stop_run()
    qtbot.waitUntil(lambda: not w.driver.active, timeout=END_TIMEOUT_MS)
    assert chip(w) == ""
    w.reset_run()
    assert chip(w) == "" and not w.status_bar.alert_label.isVisible()


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/wchan").exists(), reason="needs Linux /proc wchan")
def test_a_consumer_killed_in_get_shows_the_stall_and_the_next_start_works(
    qtbot, window: MainWindow
) -> None:
    w = window
    w.config_panel.set_config(IN_GET, preset=None)
    assert w.start_run()
    qtbot.waitUntil(lambda: not w.run_start.pending, timeout=END_TIMEOUT_MS)  # launched turns later
    run = w.driver.run
    assert run is not None
    holder: list[int] = []
    # Gated on records, not on the put interval: Pause holds the producer at its gate (its
    # PAUSED record has arrived, so has every put before it), and once every item put so
    # far was taken, the consumer in the pipe read waits in an empty get() that nothing can
    # fill until Resume. (The old check, "no put happened yet", failed after a slow start.)
    # A consumer that finished a task just as the pause came stops at its own gate, and
    # after Resume waits in get() with no record saying so: the model keeps it "paused" and
    # no stall is ever seen. Then the run starts again.
    for _attempt in range(5):
        run = w.driver.run
        assert run is not None
        consumers = [s for s in run.processes if s >= 2]
        m = w.model
        assert m is not None
        qtbot.waitUntil(lambda m=m: bool(m.workers) and all(x.pid for x in m.workers.values()),
                        timeout=END_TIMEOUT_MS)
        w.pause_run()
        producer = m.workers[1]

        def settled(m: RunModel = m, producer: object = producer,
                    consumers: list[int] = consumers) -> bool:
            return (producer.activity in (Activity.PAUSED, Activity.EXITED) and m.depth == 0
                    and all(m.workers[c].activity in (Activity.WAIT_GET, Activity.PAUSED)
                            for c in consumers))

        qtbot.waitUntil(settled, timeout=END_TIMEOUT_MS)
        assert producer.activity == Activity.PAUSED, "the producer put everything before the pause"

        def one_holder(consumers: list[int] = consumers) -> bool:
            found = read_lock_holder(w.driver.run, consumers)
            if found is not None:
                holder.append(found)
            return found is not None

        if not any(m.workers[c].activity == Activity.PAUSED for c in consumers):
            qtbot.waitUntil(one_holder, timeout=END_TIMEOUT_MS)
            # The kernel's word on the others: none sleeps at the pause gate (its PAUSED
            # record may still be on its way), so each is blocked in get() behind the holder.
            if not any("sleep" in Path(f"/proc/{run.processes[c].pid}/wchan").read_text()
                       for c in consumers if c != holder[-1]):
                break
        w.stop_run()
        qtbot.waitUntil(lambda: not w.driver.active, timeout=END_TIMEOUT_MS)
        assert w.start_run()
    else:
        pytest.fail("five runs in a row had a consumer stopped at the pause gate")
    assert m.depth == 0 and producer.activity == Activity.PAUSED
    os.kill(run.processes[holder[-1]].pid, signal.SIGKILL)
    w.resume_run()  # the producer puts the rest: nobody can take it
    t_kill = time.monotonic()
    qtbot.waitUntil(lambda: chip(w).startswith("STALLED"), timeout=STALL_TIMEOUT_MS)
    print(f"\nFIGURE stall chip {time.monotonic() - t_kill:.2f} s after the SIGKILL in get()")
    name = m.workers[holder[-1]].name
    text = chip(w)
    assert f"{name} killed (SIGKILL) in get() — the queue is unusable; press Stop" in text, text
    qtbot.waitUntil(lambda: shown_whole(w.status_bar.alert_label), timeout=LAYOUT_TIMEOUT_MS)

    pids = [p.pid for p in run.processes.values()]
    w.stop_run()
    qtbot.waitUntil(lambda: not w.driver.active, timeout=END_TIMEOUT_MS)
    qtbot.waitUntil(lambda: gone(pids), timeout=3000)
    # A fresh queue: the same options run to the end, and nothing is alerted.
    assert w.start_run()
    assert chip(w) == ""
    qtbot.waitUntil(lambda: not w.driver.active, timeout=END_TIMEOUT_MS)
    assert w.model is not None and w.model.join_returned_t is not None
    assert chip(w) == "" and w.status_bar.alert is None


@pytest.mark.slow
def test_events_lost_are_shown_in_the_status_bar(qtbot, window: MainWindow) -> None:
    w = window
    w.config_panel.set_config(
        MID_TASK.replace(tasks_per_producer=12, task_duration=Distribution.constant(0.02)),
        preset=None,
    )
    assert w.start_run()
    qtbot.waitUntil(lambda: not w.driver.active, timeout=END_TIMEOUT_MS)
    sb = w.status_bar
    assert sb.lost_label.text() == "0 lost" and sb.lost_label.property("role") == ""

    # The run's own batches with one worker batch left out, as a pipe that dropped it would.
    path = w.driver.trace_path
    assert path is not None
    batches = read_trace(path).batches
    drop = next(
        i for i, (src, _seq, records) in enumerate(batches)
        if src != 0 and records and any(b[0] == src for b in batches[i + 1:])
    )  # fmt: skip
    model: RunModel = replay_model(batches[:drop] + batches[drop + 1 :])
    lost = len(batches[drop][2])
    assert model.events_lost == lost

    # On a projector at 1280 px, in presenter mode, beside an alert: still there, whole.
    w.set_presenter(True)
    sb.show_run(model, RunStatus.FINISHED, model.last_t, 0.0, force=True)
    QApplication.processEvents()
    assert sb.lost_label.text() == f"⚠ {lost:,} events lost"
    assert sb.lost_label.property("role") == "problem"
    assert shown_whole(sb.lost_label)
    w.set_presenter(False)


def test_a_long_alert_keeps_every_shown_label_whole(qtbot) -> None:
    """A narrow bar drops the least needed facts rather than cutting any text."""
    bar = RunStatusBar()
    qtbot.addWidget(bar)
    bar.resize(1280, 30)
    bar.show()
    qtbot.waitExposed(bar)
    model = RunModel()
    bar.show_run(model, RunStatus.RUNNING, 12.3, 4567.0, force=True)
    QApplication.processEvents()
    labels = [bar.state_label, bar.elapsed_label, bar.join_label, bar.counts_label,
              bar.rate_label, bar.lost_label]  # fmt: skip
    assert all(shown_whole(x) for x in labels), [(x.width(), x.sizeHint().width()) for x in labels]
    assert not bar.hidden_for_room()

    from gui.status_bar import Alert

    # As long as run_alert() makes them: two workers named, three tasks at most.
    long = Alert(
        AlertLevel.STALLED,
        "STALLED: consumer-12 killed (SIGKILL) holding tasks 101, 102 and 3 more (+2 more dead)"
        " — join() can never return; press Stop",
        "",
    )
    for width in (1280, 1024):
        bar.resize(width, 30)
        bar.show_alert(long)
        QApplication.processEvents()
        shown = [x for x in [*labels, bar.alert_label] if x.isVisible()]
        assert bar.alert_label in shown and bar.lost_label in shown and bar.state_label in shown
        assert all(x.width() >= x.sizeHint().width() for x in shown), (width, shown)
    assert bar.rate_label in bar.hidden_for_room()
    bar.show_alert(None)
    bar.resize(1280, 30)
    QApplication.processEvents()
    assert not bar.alert_label.isVisible() and not bar.hidden_for_room()
