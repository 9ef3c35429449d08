"""A recorded run as a video: the flow view or the charts, drawn offscreen frame by frame.

Every frame is rendered from the replay at its own time (``k × speed / fps`` run seconds) and
handed to the encoder before the next is drawn, so no frame is ever dropped, however slow the
machine: MP4 through imageio-ffmpeg (it ships its ffmpeg), animated GIF through Pillow.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication, QWidget

from engine.model import RunModel
from engine.replay import Replayer, replay_model
from engine.tracefile import Trace

VIDEO_FORMATS = ("mp4", "gif")
VIEWS = ("flow", "charts")
DEFAULT_FPS = {"mp4": 25, "gif": 10}
DEFAULT_SIZE = {"mp4": (1280, 720), "gif": (960, 600)}
HOLD_END_S = 1.0  # the last picture stays this long, so a viewer sees how the run ended


def frame_count(duration_s: float, speed: float, fps: int) -> int:
    """Frames of a video of a run ``duration_s`` long at ``speed`` (run s per video s)."""
    return math.floor(max(0.0, duration_s) / speed * fps + 1e-9) + 1 + round(HOLD_END_S * fps)


def frame_times(duration_s: float, speed: float, fps: int) -> list[float]:
    n = frame_count(duration_s, speed, fps)
    return [min(duration_s, k * speed / fps) for k in range(n)]


def run_duration(model: RunModel, trace: Trace) -> float:
    """The recording's length in the charts' clock (held time, pauses and step choices,
    taken out): a video's frames are run time, as the charts' and the flow view's."""
    return max(model.last_t, model.run_time(trace.t0 + Replayer(trace).duration_s))


class _FlowFrames:
    """The flow view at each frame's time; its tokens glide one frame's time per frame."""

    def __init__(self, trace: Trace, size: tuple[int, int], presenter: bool) -> None:
        from gui.flow.view import FlowView

        self.model = replay_model(trace)
        self.duration = run_duration(self.model, trace)
        self.view = FlowView()
        self.view.auto_glide = False  # the frames drive the glide, not the wall clock
        self.widget: QWidget = self.view
        _offscreen(self.view, size)
        self.view.set_presenter(presenter)
        self.view.set_model(self.model)

    def draw(self, t: float, speed: float, dt: float) -> QImage:
        self.view.set_time(t, speed)
        self.view.advance(dt)
        return self.view.viewport().grab().toImage()


class _ChartFrames:
    """The replay's charts at each frame's time: the whole-run model cut there."""

    def __init__(self, trace: Trace, size: tuple[int, int], presenter: bool) -> None:
        from gui.replay_playback import ReplayCharts

        self.model = replay_model(trace)
        self.duration = run_duration(self.model, trace)
        self.panel = ReplayCharts()
        self.widget = self.panel
        _offscreen(self.panel, size)
        self.panel.set_presenter(presenter)
        self.panel.set_trace_marks(trace)
        self.panel.set_interactive(False)
        self.panel.set_follow(False)
        self.panel.set_model(self.model)
        self.panel.unfinished.plot.setXRange(0.0, max(self.duration, 0.05) * 1.02, padding=0)

    def draw(self, t: float, speed: float, dt: float) -> QImage:
        self.panel.set_until(t)
        self.panel.refresh()
        self.panel.set_playhead(t)
        QApplication.processEvents()
        return self.panel.grab().toImage()


def render_flow_image(trace: Trace, out_path: str | os.PathLike[str], *, at: float | None = None,
                      size: tuple[int, int] = (1600, 1000), presenter: bool = False) -> None:
    """The flow view of ``trace`` at ``at`` run seconds (its end if None) as PNG or SVG."""
    source = _FlowFrames(trace, size, presenter)
    try:
        t = source.duration if at is None else min(max(0.0, at), source.duration)
        source.view.set_time(t, snap=True)
        source.view.export_image(os.fspath(out_path))
    finally:
        source.widget.close()
        source.widget.deleteLater()


def _offscreen(w: QWidget, size: tuple[int, int]) -> None:
    # Laid out and polished like a shown window, but never put on a screen.
    w.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
    w.resize(*size)
    w.show()
    QApplication.processEvents()


def _rgb(img: QImage, size: tuple[int, int]) -> bytes:
    if (img.width(), img.height()) != size:
        img = img.scaled(*size, Qt.AspectRatioMode.IgnoreAspectRatio,
                         Qt.TransformationMode.SmoothTransformation)  # fmt: skip
    img = img.convertToFormat(QImage.Format.Format_RGB888)
    w, h = size
    stride = img.bytesPerLine()
    raw = bytes(img.constBits())[: stride * h]
    if stride == w * 3:
        return raw
    return b"".join(raw[y * stride : y * stride + w * 3] for y in range(h))


def render_video(
    trace: Trace,
    out_path: str | os.PathLike[str],
    fmt: str,
    *,
    view: str = "flow",
    speed: float = 1.0,
    fps: int | None = None,
    size: tuple[int, int] | None = None,
    presenter: bool = True,
    progress: Callable[[int, int], bool | None] | None = None,
) -> int:
    """Write ``trace`` as a ``fmt`` video of ``view``; returns the frames written.

    ``progress(done, total)`` is called after each frame; returning False cancels (the
    partial file is removed, OSError is not raised: the caller asked for it). Raises
    ValueError for a bad format, view or speed and OSError when the file cannot be written.
    """
    if fmt not in VIDEO_FORMATS:
        raise ValueError(f"video formats are {', '.join(VIDEO_FORMATS)}, not {fmt!r}")
    if view not in VIEWS:
        raise ValueError(f"--view is flow or charts, not {view!r}")
    if not (speed > 0 and math.isfinite(speed)):
        raise ValueError(f"--speed must be a number above 0, not {speed!r}")
    fps = fps or DEFAULT_FPS[fmt]
    size = size or DEFAULT_SIZE[fmt]
    source = (_FlowFrames if view == "flow" else _ChartFrames)(trace, size, presenter)
    times = frame_times(source.duration, speed, fps)
    path = os.fspath(out_path)
    try:
        frames = _frames(source, times, speed, fps, size, progress)
        n = (_write_mp4 if fmt == "mp4" else _write_gif)(path, frames, size, fps)
    except _Cancelled:
        Path(path).unlink(missing_ok=True)
        return 0
    finally:
        source.widget.close()
        source.widget.deleteLater()
    return n


class _Cancelled(Exception):
    pass


def _frames(source: _FlowFrames | _ChartFrames, times: list[float], speed: float, fps: int,
            size: tuple[int, int], progress: Callable[[int, int], bool | None] | None,
            ) -> Iterator[bytes]:  # fmt: skip
    total = len(times)
    for k, t in enumerate(times):
        yield _rgb(source.draw(t, speed, 1.0 / fps), size)
        if progress is not None and progress(k + 1, total) is False:
            raise _Cancelled


def _write_mp4(path: str, frames: Iterator[bytes], size: tuple[int, int], fps: int) -> int:
    import imageio_ffmpeg

    writer = imageio_ffmpeg.write_frames(path, size, fps=fps, codec="libx264", quality=7,
                                         macro_block_size=8)  # fmt: skip
    writer.send(None)  # start ffmpeg
    n = 0
    try:
        for raw in frames:
            writer.send(raw)
            n += 1
    finally:
        writer.close()
    if not Path(path).is_file():
        raise OSError(f"could not write {path}")
    return n


def _write_gif(path: str, frames: Iterator[bytes], size: tuple[int, int], fps: int) -> int:
    from PIL import Image

    # Each frame gets its own palette as it comes, so only small paletted frames are kept.
    images = []
    for k, raw in enumerate(frames):
        img = Image.frombytes("RGB", size, raw).quantize(colors=128)
        # Pillow merges a frame identical to the one before into it (the held end, a paused
        # run): one corner pixel alternates, so every frame rendered is a frame of the file.
        img.putpixel((size[0] - 1, size[1] - 1), k % 2)
        images.append(img)
    if not images:
        raise OSError(f"could not write {path}: no frames")
    images[0].save(path, save_all=True, append_images=images[1:], duration=round(1000 / fps),
                   loop=0, optimize=False, disposal=1)  # fmt: skip
    return len(images)
