"""What main.py starts: the main window, a replay, a comparison, a trace's charts as an image."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer

from engine.config import RunConfig
from gui.qt_app import exec_until_closed, make_app

if TYPE_CHECKING:
    from PySide6.QtCore import QMessageLogContext, QtMsgType

    from engine.tracefile import PathLike, Trace

IMAGE_SIZE = (1600, 1000)  # pixels of the drawn charts (PNG size; SVG view box)


def check_screenshot_path(path: str) -> None:
    """Raise OSError (one line) when a PNG cannot be written at ``path``.

    Checked before Qt starts: an unattended ``--screenshot --quit-when-done`` would otherwise
    run the whole lesson and end with nothing written.
    """
    target = Path(path)
    folder = target.parent
    if target.is_dir():
        raise OSError(f"cannot save the screenshot to {path}: it is a folder")
    if not folder.is_dir():
        raise OSError(f"cannot save the screenshot to {path}: the folder {folder} does not exist")
    if not os.access(folder, os.W_OK) or (target.exists() and not os.access(target, os.W_OK)):
        raise OSError(f"cannot save the screenshot to {path}: permission denied")


def run_gui(
    cfg: RunConfig,
    preset: str | None = None,
    start: bool = False,
    screenshot: str | None = None,
    quit_when_done: bool = False,
    presenter: bool = False,
    step: bool = False,
    view: str = "charts",
) -> int:
    """Show the main window on ``cfg`` and run the event loop (``step``: Step mode on).

    ``presenter`` opens it in presenter mode (what F5 toggles), for handouts taken with
    ``screenshot`` and for a projector.

    With ``quit_when_done`` the window closes once the run is over and the result is 0 when
    queue.join() returned, 3 otherwise; without it, closing the window returns 0.

    ``screenshot`` and ``quit_when_done`` start the run at once (as ``start`` does): both
    wait for the run's end, which would never come otherwise. A screenshot path that cannot
    be written raises OSError before anything starts (main.py: one line, exit code 2); one
    that fails at the end prints one line and returns 1.
    """
    if screenshot:
        check_screenshot_path(screenshot)
    start = start or bool(screenshot) or quit_when_done
    make_app()
    # Imported here: `replay`, `compare` and `export` never load the main window's modules.
    from gui.main_window import MainWindow

    window = MainWindow(
        cfg, preset, screenshot=screenshot, quit_when_done=quit_when_done, defer_charts=True
    )
    if presenter:
        # Before the first paint, so the window never shows at the normal size first.
        window.set_presenter(True)
    if step:
        window.step_mode.action.trigger()
    window.show()
    window.showMaximized()
    # Zero-delay timers run after the pending paint of the window: it is visible by then.
    QTimer.singleShot(0, window.load_charts)
    if view == "flow":  # after the charts (and their tabs) are in place
        QTimer.singleShot(0, window.show_flow)
    if start:
        # After the first paint: the window is visible before the worker processes start.
        QTimer.singleShot(50, window.start_run)
    try:
        exec_until_closed(window)
    finally:
        window.driver.shutdown()
    code = window.exit_code if quit_when_done else 0
    if window.screenshot_error is not None:
        print(f"queuelab: error: {window.screenshot_error}", file=sys.stderr)
        code = 1
    window.deleteLater()
    return code


def run_gui_sweep(cfg: RunConfig, preset: str | None, params: list, repeats: int, warmup: int,
                  *, screenshot: str | None = None, quit_when_done: bool = False) -> int:
    """``gui --sweep``: the main window with a sweep started at once in its sweep window.

    ``screenshot`` saves the sweep window when the sweep ends; ``quit_when_done`` then closes
    everything: 0 when every run ended normally, 3 otherwise.
    """
    if screenshot:
        check_screenshot_path(screenshot)
    make_app()
    from gui.main_window import MainWindow
    from gui.sweep_window import start_sweep

    window = MainWindow(cfg, preset, defer_charts=True)
    window.show()
    window.showMaximized()
    QTimer.singleShot(0, window.load_charts)
    result = {"code": 0}

    def finished(complete: bool) -> None:
        sw = window.sweep_window
        result["code"] = 0 if complete and sw is not None and not sw.failed_runs else 3
        if quit_when_done:
            QTimer.singleShot(0, window.close)

    def begin() -> None:
        sw = start_sweep(window, cfg, params, repeats, warmup)
        sw.screenshot = screenshot
        sw.sig_finished.connect(finished)

    QTimer.singleShot(50, begin)
    try:
        exec_until_closed(window)
    finally:
        window.driver.shutdown()
    code = result["code"] if quit_when_done else 0
    sw = window.sweep_window
    if sw is not None and sw.screenshot_error is not None:
        print(f"queuelab: error: {sw.screenshot_error}", file=sys.stderr)
        code = 1
    window.deleteLater()
    return code


def run_replay(path: str) -> int:
    """Show a ReplayWindow on the trace ``path`` and run the event loop.

    Returns 0 when the window closes, 2 when the file could not be loaded (the window has
    shown the dialog by then; main.py refuses bad files before Qt starts anyway).
    """
    make_app()
    from gui.replay_window import ReplayWindow

    window = ReplayWindow()
    window.show()
    window.open_path(path, exit_code_on_failure=2)
    try:
        exec_until_closed(window)
    finally:
        window.loader.cancel()
        window.loader.wait(5.0)
    code = window.exit_code
    window.deleteLater()
    return code


def run_compare(path_a: str, path_b: str) -> int:
    """``main.py compare A B``: show the CompareWindow until it closes. Raises TraceError."""
    from engine.tracefile import read_trace
    from gui.trace_loader import warn_to_stderr

    trace_a = read_trace(path_a, on_warning=warn_to_stderr)
    trace_b = read_trace(path_b, on_warning=warn_to_stderr)
    make_app()
    from gui.compare_window import CompareWindow

    window = CompareWindow(trace_a, trace_b)
    window.show()
    exec_until_closed(window)
    window.deleteLater()
    return 0


def _ensure_platform() -> None:
    # Before Qt loads: without a display (CI, ssh, cron) draw offscreen rather than abort.
    if os.environ.get("QT_QPA_PLATFORM"):
        return
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"


def export_trace_image(
    trace_path: PathLike, out_path: PathLike, *, size: tuple[int, int] = IMAGE_SIZE,
    view: str = "charts", at: float | None = None,
) -> None:  # fmt: skip
    """Replay ``trace_path`` to its end and save its charts to ``out_path`` (.png or .svg).

    Raises TraceError for a bad trace (warnings about a cut-off file go to stderr), ValueError
    for another suffix and OSError when the file cannot be written. No window is shown.
    ``view="flow"``: the flow view instead, at ``at`` run seconds (None: the run's end).
    """
    from gui.charts.image_export import IMAGE_FORMATS

    suffix = Path(out_path).suffix.lower()
    if suffix not in IMAGE_FORMATS:
        raise ValueError(f"{out_path}: charts are exported as .png or .svg, not {suffix or '?'}")
    from engine.tracefile import read_trace
    from gui.trace_loader import warn_to_stderr

    trace = read_trace(trace_path, on_warning=warn_to_stderr)
    _ensure_platform()
    from PySide6.QtCore import qInstallMessageHandler

    app = make_app()
    previous = qInstallMessageHandler(_quiet_platform)
    try:
        if view == "flow":
            from gui.flow.video import render_flow_image

            render_flow_image(trace, out_path, at=at, size=size)
        else:
            _draw(trace, out_path, size)
    finally:
        qInstallMessageHandler(previous)
        app.processEvents()


def export_trace_video(
    trace_path: PathLike, out_path: PathLike, fmt: str, *, view: str = "flow",
    speed: float = 1.0, fps: int | None = None,
) -> int:  # fmt: skip
    """Render ``trace_path`` as an MP4 or GIF of the flow view (or the charts), offscreen,
    with a progress line on stderr; returns the frames written. Raises as export_trace_image.
    """
    from engine.tracefile import read_trace
    from gui.trace_loader import warn_to_stderr

    trace = read_trace(trace_path, on_warning=warn_to_stderr)
    _ensure_platform()
    from PySide6.QtCore import qInstallMessageHandler

    from gui.flow.video import render_video

    app = make_app()
    previous = qInstallMessageHandler(_quiet_platform)
    tty = sys.stderr.isatty()
    shown = [-1]

    def progress(done: int, total: int) -> None:
        pct = done * 100 // total
        # A terminal gets one line redrawn; a log file a line per tenth.
        if tty:
            bar = "#" * (pct // 4)
            print(f"\rqueuelab: rendering [{bar:<25}] {done}/{total} frames", end="",
                  file=sys.stderr, flush=True)  # fmt: skip
            if done == total:
                print(file=sys.stderr)
        elif pct // 10 != shown[0]:
            shown[0] = pct // 10
            print(f"queuelab: rendering {done}/{total} frames ({pct}%)", file=sys.stderr)

    try:
        return render_video(trace, out_path, fmt, view=view, speed=speed, fps=fps,
                            progress=progress)  # fmt: skip
    finally:
        qInstallMessageHandler(previous)
        app.processEvents()


def _quiet_platform(mode: QtMsgType, context: QMessageLogContext, message: str) -> None:
    # The offscreen platform notes that it cannot resize windows; a command-line export
    # should print only its own result.
    if "propagateSizeHints" in message:
        return
    print(message, file=sys.stderr)


def _draw(trace: Trace, out_path: PathLike, size: tuple[int, int]) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    from engine.replay import replay_model
    from gui.charts.image_export import save_charts_image
    from gui.replay_playback import ReplayCharts

    model = replay_model(trace)
    panel = ReplayCharts()
    # Laid out and polished like a shown window, but never put on a screen.
    panel.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
    panel.resize(*size)
    panel.show()
    try:
        panel.set_trace_marks(trace)
        panel.set_interactive(False)  # a picture: nothing to hover
        panel.set_model(model)
        panel.set_follow(False)
        QApplication.processEvents()
        end = max(model.last_t, 0.05)
        panel.unfinished.plot.setXRange(0.0, end * 1.02, padding=0)
        panel.refresh()
        QApplication.processEvents()
        save_charts_image(panel, out_path)
    finally:
        panel.close()
        panel.deleteLater()


def run_trace_gui(opts: object, screenshot: str | None = None) -> int:
    """``trace`` with its window: the program started at once; returns the program's code."""
    from gui.trace_window import run_trace_gui as run

    return run(opts, screenshot=screenshot)  # type: ignore[arg-type]
