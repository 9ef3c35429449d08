"""The replay window's exports: the run's events (CSV, Chrome trace) and its pictures."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QFileDialog, QMessageBox

from engine.tracefile import TraceError

SUFFIX = {"csv": ".csv", "chrome": ".json", "png": ".png", "svg": ".svg",
          "flow_png": ".png", "flow_svg": ".svg"}  # fmt: skip


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
