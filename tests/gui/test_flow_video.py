"""A recorded run exported as a video (GIF, MP4) offscreen: every frame there, read back."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest
from pytestqt.qtbot import QtBot

from engine.config import RunConfig
from engine.replay import Replayer, replay_model
from engine.tracefile import read_trace
from gui.flow.video import DEFAULT_FPS, frame_count, render_video
from gui.flow.video_dialog import export_video_with_progress
from tests.traces import record_trace

ROOT = Path(__file__).resolve().parent.parent.parent
CFG = RunConfig(tasks_per_producer=8, time_scale=0.05, consumers=2, seed=4)


@pytest.fixture(scope="module")
def trace_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return record_trace(tmp_path_factory.mktemp("video") / "run.qltrace", CFG)


def flow_duration(path: Path) -> float:
    trace = read_trace(path)
    return max(replay_model(trace).last_t, Replayer(trace).duration_s)


def test_gif_from_the_command_line_has_every_frame(trace_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "flow.gif"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "export", str(trace_path), "--format", "gif",
         "-o", str(out), "--speed", "2"],
        capture_output=True, text=True, timeout=600, env=env, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    want = frame_count(flow_duration(trace_path), 2.0, DEFAULT_FPS["gif"])
    assert f"wrote {want} frames" in done.stderr
    assert "rendering" in done.stderr  # the progress lines
    frames = iio.imread(out, index=None)
    assert frames.shape[0] == want
    # The picture changes as the run goes: tokens move (not one still image repeated).
    assert not np.array_equal(frames[0][:-1], frames[want // 2][:-1])


def test_mp4_has_the_expected_frames(qtbot: QtBot, trace_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "flow.mp4"
    seen: list[tuple[int, int]] = []
    n = render_video(read_trace(trace_path), out, "mp4", speed=1.0,
                     progress=lambda d, t: seen.append((d, t)))  # fmt: skip
    want = frame_count(flow_duration(trace_path), 1.0, DEFAULT_FPS["mp4"])
    assert n == want and len(seen) == want and seen[-1] == (want, want)
    import imageio

    with imageio.get_reader(out, "ffmpeg") as reader:
        assert reader.count_frames() == want
        first = reader.get_data(0)
    assert first.shape[:2] == (720, 1280)


def test_charts_video_through_the_progress_dialog(qtbot: QtBot, trace_path: Path,
                                                  tmp_path: Path) -> None:  # fmt: skip
    out = tmp_path / "charts.gif"
    trace = read_trace(trace_path)
    n = export_video_with_progress(None, trace, str(out), "gif", "charts", 4.0)
    assert n == frame_count(Replayer(trace).duration_s, 4.0, DEFAULT_FPS["gif"])
    assert iio.imread(out, index=None).shape[0] == n


def test_flow_picture_from_the_command_line(trace_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "flow.svg"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "export", str(trace_path), "--format", "svg",
         "--view", "flow", "--at", "0.1", "-o", str(out)],
        capture_output=True, text=True, timeout=600, env=env, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "wrote the flow view" in done.stderr
    text = out.read_text(encoding="utf-8")
    assert "Producers" in text and "t = 0.10 s" in text
