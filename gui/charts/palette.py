"""Colours and words of the charts: one light and one dark theme, shared by every plot."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from engine.model import Activity

# What each timeline colour means, in legend order (activities a viewer meets most come first).
ACTIVITY_WORDS: dict[Activity, str] = {
    Activity.PROCESS: "processing task N",
    Activity.WAIT_GET: "waiting in get()",
    Activity.RUNNING: "producing (between puts)",
    Activity.BLOCK_PUT: "blocked in put() (queue full)",
    Activity.FAILED: "task failed",
    Activity.PAUSED: "paused",
    Activity.STEP_WAIT: "waiting for a step (step mode)",
    Activity.STARTING: "starting",
    Activity.EXITED: "exited",
    Activity.DIED: "died (exit code)",
}
# The same, where a legend strip over the timeline is short of width.
ACTIVITY_SHORT: dict[Activity, str] = {
    **ACTIVITY_WORDS,
    Activity.RUNNING: "producing",
    Activity.BLOCK_PUT: "blocked in put()",
    Activity.STEP_WAIT: "waiting for a step",
    Activity.DIED: "died",
}


@dataclass(frozen=True)
class Theme:
    """Every colour the charts use; ``dark`` picks text and band contrasts."""

    name: str
    dark: bool
    background: str
    foreground: str
    grid_major: str
    grid_minor: str
    # Counters. The stacked areas, the flow chart's gaps and the legend use the same two colours.
    queued: str  # depth: put, not yet taken
    queued_fill: str
    in_flight: str  # taken, not yet task_done
    in_flight_fill: str
    unfinished: str  # their sum: what join() waits on
    puts: str
    gets: str
    dones: str
    done_fill: str
    rate: str
    wait: str
    service: str
    join_band: str  # translucent
    join_line: str
    producers_line: str
    warning: str
    playhead: str
    crosshair: str
    activities: dict[int, str]
    label_text: str  # text drawn on top of timeline bars


# Okabe–Ito hues (safe for the common colour-vision deficiencies), tinted per theme. Every
# state colour and line stands out from its theme's background by at least WCAG's 3:1 for
# graphics (tests/gui/test_palette_contrast.py); "starting" is a hatch of the waiting colour.
LIGHT = Theme(
    name="light",
    dark=False,
    background="#ffffff",
    foreground="#202428",
    grid_major="#dfe2e6",
    grid_minor="#f0f2f4",
    queued="#c77c00",
    queued_fill="#f7d08a",
    in_flight="#1f77b4",
    in_flight_fill="#a9cfee",
    unfinished="#202428",
    puts="#c77c00",
    gets="#1f77b4",
    dones="#00845f",
    done_fill="#cfe9dd",
    rate="#00845f",
    wait="#c77c00",
    service="#7b3fa0",
    join_band="#7b3fa033",
    join_line="#7b3fa0",
    producers_line="#555b61",
    warning="#d62728",
    playhead="#e6007e",
    crosshair="#80808099",
    activities={
        Activity.STARTING: "#8794a2",
        Activity.RUNNING: "#5f9640",
        Activity.WAIT_GET: "#8794a2",
        Activity.PROCESS: "#2f7fc1",
        Activity.BLOCK_PUT: "#c27a00",
        Activity.FAILED: "#d62728",
        Activity.PAUSED: "#a38600",
        Activity.EXITED: "#62676d",
        Activity.DIED: "#4b1d5c",
        Activity.STEP_WAIT: "#b8579a",  # Okabe–Ito's reddish purple, darkened for white
    },
    label_text="#ffffff",
)

DARK = Theme(
    name="dark",
    dark=True,
    background="#15181c",
    foreground="#d8dde3",
    grid_major="#2e343b",
    grid_minor="#1f2428",
    queued="#ffb84d",
    queued_fill="#7a5418",
    in_flight="#6db6ff",
    in_flight_fill="#21476b",
    unfinished="#f2f4f7",
    puts="#ffb84d",
    gets="#6db6ff",
    dones="#4fd1a1",
    done_fill="#1d4a3b",
    rate="#4fd1a1",
    wait="#ffb84d",
    service="#c9a0ff",
    join_band="#c9a0ff30",
    join_line="#c9a0ff",
    producers_line="#a0a7b0",
    warning="#ff5c5c",
    playhead="#ff4fb0",
    crosshair="#c0c0c099",
    activities={
        Activity.STARTING: "#5a6e8e",
        Activity.RUNNING: "#5f8f4e",
        Activity.WAIT_GET: "#5a6e8e",
        Activity.PROCESS: "#4a9fe8",
        Activity.BLOCK_PUT: "#e39a2e",
        Activity.FAILED: "#ff4d4d",
        Activity.PAUSED: "#c9b53a",
        Activity.EXITED: "#9aa1a8",
        Activity.DIED: "#c77ae6",
        Activity.STEP_WAIT: "#e08cc4",
    },
    label_text="#0b0d10",
)


def theme_for_palette(palette: QPalette | None = None) -> Theme:
    """The dark theme when the window background is dark, else the light one."""
    if palette is None:
        app = QApplication.instance()
        palette = app.palette() if isinstance(app, QApplication) else QPalette()
    window = palette.color(QPalette.ColorRole.Window)
    return DARK if window.lightnessF() < 0.45 else LIGHT


def qcolor(spec: str) -> QColor:
    """``#rrggbb`` or ``#rrggbbaa`` (alpha last, as the themes write it)."""
    if len(spec) == 9:
        c = QColor(spec[:7])
        c.setAlpha(int(spec[7:], 16))
        return c
    return QColor(spec)
