"""File ▸ Export video…: what to render (format, view, speed), where, and a progress dialog."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QMessageBox,
    QProgressDialog,
    QWidget,
)

from engine.tracefile import Trace
from gui.flow.video import render_video

SPEEDS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0)


class VideoOptions(QDialog):
    """Format (MP4 or GIF), view (flow or charts) and speed of the video to render."""

    def __init__(self, parent: QWidget | None, speed: float = 1.0) -> None:
        super().__init__(parent)
        self.setObjectName("video_options")
        self.setWindowTitle("Export video")
        form = QFormLayout(self)
        self.format_combo = QComboBox(self)
        self.format_combo.addItem("MP4 video (slides)", "mp4")
        self.format_combo.addItem("Animated GIF (handouts, web pages)", "gif")
        self.view_combo = QComboBox(self)
        self.view_combo.addItem("Flow of tasks", "flow")
        self.view_combo.addItem("Charts", "charts")
        self.speed_combo = QComboBox(self)
        for s in SPEEDS:
            self.speed_combo.addItem(f"{s:g}× (run seconds per video second)", s)
        self.speed_combo.setCurrentIndex(SPEEDS.index(speed) if speed in SPEEDS else 2)
        form.addRow("Format", self.format_combo)
        form.addRow("Shows", self.view_combo)
        form.addRow("Speed", self.speed_combo)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def choice(self) -> tuple[str, str, float]:
        return (self.format_combo.currentData(), self.view_combo.currentData(),
                float(self.speed_combo.currentData()))  # fmt: skip


def export_video_with_progress(parent: QWidget | None, trace: Trace, path: str, fmt: str,
                               view: str, speed: float) -> int:  # fmt: skip
    """Render with a modal progress dialog (Cancel stops and removes the file); frames out."""
    progress = QProgressDialog("Rendering the video…", "Cancel", 0, 100, parent)
    progress.setObjectName("video_progress")
    progress.setWindowTitle("Export video")
    progress.setWindowModality(Qt.WindowModality.WindowModal)
    progress.setMinimumDuration(0)
    progress.setValue(0)

    def step(done: int, total: int) -> bool:
        progress.setMaximum(total)
        progress.setValue(done)
        progress.setLabelText(f"Rendering frame {done} of {total}…")
        QApplication.processEvents()
        return not progress.wasCanceled()

    try:
        return render_video(trace, path, fmt, view=view, speed=speed, progress=step)
    finally:
        progress.close()


def export_replay_video(window: QWidget) -> None:
    """File ▸ Export video… of a replay window: paused, asked, rendered, noted in its log."""
    loaded = getattr(window, "loaded", None)
    if loaded is None:
        return
    window.set_playing(False)  # type: ignore[attr-defined]
    path = export_video_dialog(window, loaded.trace, window.speed)  # type: ignore[attr-defined]
    if path:
        window.log.add_note(f"— video exported to {path} —")  # type: ignore[attr-defined]


def export_video_dialog(parent: QWidget, trace: Trace, speed: float = 1.0) -> str | None:
    """Ask what and where, render it; the path written, or None (cancelled or failed)."""
    options = VideoOptions(parent, speed)
    if options.exec() != QDialog.DialogCode.Accepted:
        return None
    fmt, view, speed = options.choice()
    base = Path(trace.path).with_suffix(f".{fmt}")
    path, _ = QFileDialog.getSaveFileName(parent, "Export video", str(base), f"*.{fmt}")
    if not path:
        return None
    if not path.lower().endswith(f".{fmt}"):
        path += f".{fmt}"
    try:
        n = export_video_with_progress(parent, trace, path, fmt, view, speed)
    except (OSError, ValueError) as exc:
        QMessageBox.critical(parent, "Export failed", str(exc))
        return None
    return path if n else None
