"""gui --step --screenshot --quit-when-done: nobody will choose, so the picture is taken."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from engine.config_files import load_preset
from engine.step import State


def test_unattended_step_mode_takes_its_picture_at_the_first_choice(
    qtbot: QtBot, tmp_path: Path
) -> None:
    from gui.main_window import MainWindow

    shot = tmp_path / "step.png"
    w = MainWindow(load_preset("join-race"), "join-race", screenshot=str(shot),
                   quit_when_done=True)  # fmt: skip
    qtbot.addWidget(w)
    w.resize(1280, 800)
    w.show()
    qtbot.waitExposed(w)
    w.step_mode.action.trigger()
    codes: list[int] = []
    w.sig_done.connect(codes.append)
    assert w.start_run()
    qtbot.waitUntil(lambda: bool(codes), timeout=60_000)  # was: waited for ever
    assert shot.stat().st_size > 0
    assert codes == [3]  # join() never returned: the run was ended, not finished
    st = w.driver.run.stepper
    # The picture is of step mode waiting at a choice: nothing was let go.
    assert st.schedule == []
    assert any(p.state is State.PENDING for p in st.procs.values())
