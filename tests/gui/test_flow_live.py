"""The live flow view agrees with the status bar and the charts' clock at every frame."""

from __future__ import annotations

import re
from pathlib import Path

from pytestqt.qtbot import QtBot

from engine.config_files import load_preset
from engine.flow_layout import latest_time
from gui.frame_clock import Frame


def _status_counts(text: str) -> tuple[int, int, int]:
    """put, get and task_done as the status bar reads them ("put 13 · get 10 · task_done 8")."""
    found = re.fullmatch(r"put ([\d,]+) · get ([\d,]+) · task_done ([\d,]+)", text)
    assert found is not None, text
    puts, gets, dones = (int(g.replace(",", "")) for g in found.groups())
    return puts, gets, dones


def test_flow_view_and_status_bar_agree_at_every_frame(qtbot: QtBot, tmp_path: Path) -> None:
    """Bounded queue, as in the mid-run screenshot where the flow view ("put 11 of 12", done 6)
    stood behind the status bar (put 13, task_done 8): at every frame both show the same
    counts, and the picture is cut at the frame's time (the charts' right edge), never at an
    older one; a screenshot taken mid-run shows them alike too."""
    from tests.gui.presenter import presenter_window

    cfg = load_preset("bounded-queue").replace(time_scale=1.0)
    w = presenter_window(qtbot, cfg, "bounded-queue")
    wrong: list[str] = []
    frames: list[float] = []
    shots: list[Path] = []

    def check(frame: Frame) -> None:  # after the window's own slot: what the user sees now
        m, f = w.model, w.flow_view.frame
        if m is None or f is None or m.t0 is None:
            return
        frames.append(frame.now)
        puts, gets, dones = _status_counts(w.status_bar.counts_label.text())
        sentinels = m.sentinel_puts  # the flow counts tasks; the status bar every put
        made = sum(s.made for s in f.producers)
        if (puts, gets, dones) != (m.puts, m.gets, m.task_dones):
            wrong.append(f"status bar {puts}/{gets}/{dones} is not the model's at {frame.now:.3f}")
        if made + sentinels != puts or f.unfinished != puts - dones or f.depth != puts - gets:
            wrong.append(f"flow put {made}, unfinished {f.unfinished}, depth {f.depth} "
                         f"at {f.t:.3f} s; status {puts}/{gets}/{dones}")  # fmt: skip
        if f.t < frame.now or f.t < latest_time(m):
            wrong.append(f"flow cut at {f.t:.3f} s, the frame is at {frame.now:.3f} s")
        if not shots and m.task_dones >= 6:
            # Mid-run, as the helper's screenshot: the picture holds what the status bar says.
            shot = tmp_path / "mid.png"
            assert w.save_screenshot(str(shot), quiet=True)
            shots.append(shot)
            f = w.flow_view.frame
            made = sum(s.made for s in f.producers)
            puts, gets, dones = _status_counts(w.status_bar.counts_label.text())
            if (made + m.sentinel_puts, f.unfinished) != (puts, puts - dones):
                wrong.append(f"screenshot: flow put {made}, unfinished {f.unfinished}; "
                             f"status {puts}/{gets}/{dones}")  # fmt: skip

    w.driver.sig_frame.connect(check)
    assert w.start_run()
    qtbot.waitUntil(lambda: not w.driver.active, timeout=60_000)
    m, f = w.model, w.flow_view.frame
    assert f is not None and f.done == 12 and f.unfinished == 0 == m.unfinished
    assert shots and shots[0].stat().st_size > 0
    assert len(frames) >= 5
    assert wrong == [], "\n".join(wrong[:10])
    w.close()
