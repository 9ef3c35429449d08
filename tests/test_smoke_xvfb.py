"""Smoke test under a real X server: `main.py gui --start --screenshot --quit-when-done`."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCREEN = (1280, 800)

pytestmark = [pytest.mark.slow, pytest.mark.xvfb]


@pytest.fixture
def xvfb_display() -> Iterator[str]:
    """A private Xvfb on a display number it picks itself (-displayfd), stopped afterwards."""
    binary = shutil.which("Xvfb")
    if binary is None:
        pytest.skip("Xvfb is not installed (CI installs the xvfb package)")
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen(
        [
            binary,
            "-displayfd",
            str(write_fd),
            "-screen",
            "0",
            f"{SCREEN[0]}x{SCREEN[1]}x24",
            "-nolisten",
            "tcp",
            "-noreset",
        ],
        pass_fds=(write_fd,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    try:
        with os.fdopen(read_fd, "rb") as r:
            number = r.readline().strip().decode()
        if not number.isdigit():
            raise RuntimeError(f"Xvfb did not report a display (exit code {proc.poll()})")
        yield f":{number}"
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_gui_start_screenshot_quit_when_done(xvfb_display: str, tmp_path: Path) -> None:
    from PySide6.QtGui import QImage

    out = tmp_path / "tutorial.png"
    env = dict(os.environ, DISPLAY=xvfb_display, QT_QPA_PLATFORM="xcb")
    env.pop("WAYLAND_DISPLAY", None)
    cmd = [
        sys.executable,
        "main.py",
        "gui",
        "--preset",
        "tutorial",
        "--start",
        "--screenshot",
        str(out),
        "--quit-when-done",
        "--set",
        "time_scale=0.1",
    ]
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    assert out.is_file() and out.stat().st_size > 10_000

    image = QImage(str(out))
    assert not image.isNull()
    # The window fills the screen (no window manager under Xvfb): the PNG is the whole window.
    assert (image.width(), image.height()) == SCREEN
    colours = {
        image.pixel(x, y) for y in range(0, image.height(), 5) for x in range(0, image.width(), 5)
    }
    assert len(colours) > 200, f"only {len(colours)} distinct colours: blank window?"
    # The charts (right of the left column) are drawn, not an empty background.
    chart_colours = {
        image.pixel(x, y)
        for y in range(100, image.height() - 60, 4)
        for x in range(500, image.width() - 300, 4)
    }
    assert len(chart_colours) > 20


def _gui(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "main.py", "gui", *args]
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)


def test_a_screenshot_path_that_cannot_be_written_is_refused_at_once(tmp_path: Path) -> None:
    """One line on stderr, exit 2, nothing started (no display needed: Qt never starts)."""
    out = tmp_path / "missing" / "x.png"
    env = dict(os.environ)
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    done = _gui(["--screenshot", str(out), "--quit-when-done"], env)
    assert done.returncode == 2, (done.returncode, done.stderr[-2000:])
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("queuelab: error:"), done.stderr
    assert str(out.parent) in lines[0] and "does not exist" in lines[0]
    assert not out.exists()


def test_screenshot_without_start_starts_the_run(xvfb_display: str, tmp_path: Path) -> None:
    """--screenshot waits for the run's end, so it starts the run (no --start given)."""
    out = tmp_path / "shot.png"
    env = dict(os.environ, DISPLAY=xvfb_display, QT_QPA_PLATFORM="xcb")
    env.pop("WAYLAND_DISPLAY", None)
    done = _gui(["--preset", "tutorial", "--set", "time_scale=0.05", "--screenshot", str(out),
                 "--quit-when-done"], env)
    assert done.returncode == 0, done.stderr[-3000:]
    assert out.is_file() and out.stat().st_size > 10_000
