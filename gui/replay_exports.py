"""The replay window's menus and exports: the run's events (CSV, Chrome trace), its pictures."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QMessageBox

from engine.tracefile import TraceError
from gui.flow.tabs import presenter_menu
from gui.flow.video_dialog import export_replay_video

SUFFIX = {"csv": ".csv", "chrome": ".json", "png": ".png", "svg": ".svg",
          "flow_png": ".png", "flow_svg": ".svg"}  # fmt: skip


def build_menu(win: Any) -> None:
    """The replay window's File menu (open, the exports, video, close) and View menu."""
    file_menu = win.menuBar().addMenu("&File")
    win.open_action = QAction("&Open run…", win)
    win.open_action.setShortcut(QKeySequence.StandardKey.Open)
    win.open_action.triggered.connect(win._on_open_action_triggered)
    file_menu.addAction(win.open_action)
    export = file_menu.addMenu("&Export")
    win.export_actions = {}
    for fmt, text in (
        ("csv", "Events as &CSV…"),
        ("chrome", "Chrome &trace (Perfetto)…"),
        ("png", "Charts as &PNG…"),
        ("svg", "Charts as &SVG…"),
        ("flow_png", "Flow view as P&NG…"),
        ("flow_svg", "Flow view as S&VG…"),
    ):
        act = QAction(text, win)
        act.triggered.connect(lambda _=False, f=fmt: win.export_dialog(f))
        export.addAction(act)
        win.export_actions[fmt] = act
    video = QAction("Export &video…", win)  # issue 16: the replay as MP4 or GIF
    video.triggered.connect(lambda: export_replay_video(win))
    file_menu.addAction(video)
    win.export_actions["video"] = video
    file_menu.addSeparator()
    close = QAction("&Close", win)
    close.setShortcut(QKeySequence.StandardKey.Close)
    close.triggered.connect(win.close)
    file_menu.addAction(close)
    win.presenter_action = presenter_menu(win)  # F5: charts and flow view for a projector


def export_dialog(win: Any, fmt: str) -> None:
    """Ask where to write ``fmt`` (a key of :data:`SUFFIX`), next to the trace by default."""
    if win.loaded is None:
        return
    suffix = SUFFIX[fmt]
    base = Path(win.loaded.trace.path).with_suffix(suffix)
    path, _ = QFileDialog.getSaveFileName(win, "Export", str(base), f"*{suffix}")
    if path:
        export_to(win, fmt, path)


def export_to(win: Any, fmt: str, path: str) -> None:
    """Write the run (csv, chrome), or the charts or the flow view at the playhead, to ``path``.

    ``win`` is a ReplayWindow (not imported: windows sit above this module).
    """
    if win.loaded is None:
        return
    try:
        if fmt in ("flow_png", "flow_svg"):
            win.flow_view.export_image(path)
        elif fmt in ("png", "svg"):
            from gui.charts.image_export import save_charts_image

            save_charts_image(win.charts, path)
        else:
            from engine.export import FORMATS

            FORMATS[fmt](win.loaded.trace, path)
    except (OSError, ValueError, TraceError) as exc:
        QMessageBox.critical(win, "Export failed", str(exc))
        return
    # A status bar message would hide the replay's state; the log keeps it in order.
    win.log.add_note(f"— exported to {path} —")
