"""Issue 12 (14): every state colour stands out from its background (WCAG contrast ratios,
computed from the palette and the style sheets themselves)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from engine.model import Activity
from gui.charts.palette import ACTIVITY_WORDS, DARK, LIGHT, Theme
from gui.charts.timeline_plot import activity_brush

STYLES = Path(__file__).resolve().parents[2] / "resources" / "styles"
GRAPHICS = 3.0  # WCAG 2.1, 1.4.11: graphical objects
TEXT = 4.5  # WCAG 2.1, 1.4.3: normal text (the status pills are 9 pt bold)
# The window backgrounds the style sheets' texts sit on: Fusion's light one, gui.qt_app's dark.
WINDOW = {"light": "#efefef", "dark": "#1f2328"}
LINES = ("queued", "in_flight", "unfinished", "puts", "gets", "dones", "rate", "wait",
         "service", "join_line", "producers_line", "warning", "playhead")


def luminance(colour: str) -> float:
    h = colour.lstrip("#")[:6]
    channels = [int(h[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(a: str, b: str) -> float:
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_contrast_formula_matches_wcag_reference_values() -> None:
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)
    assert contrast("#ffffff", "#ffffff") == pytest.approx(1.0)


@pytest.mark.parametrize("theme", [LIGHT, DARK], ids=lambda t: t.name)
def test_every_state_colour_stands_out_from_the_chart_background(theme: Theme) -> None:
    failing = {}
    for activity in ACTIVITY_WORDS:
        brush = activity_brush(theme, activity)  # what the bars are really filled with
        colour = brush.color().name()
        ratio = contrast(colour, theme.background)
        if ratio < GRAPHICS:
            failing[activity.name] = f"{colour} {ratio:.2f}:1"
    assert not failing, f"{theme.name}: below {GRAPHICS}:1 against {theme.background}: {failing}"


@pytest.mark.parametrize("theme", [LIGHT, DARK], ids=lambda t: t.name)
def test_waiting_and_exited_are_told_apart(theme: Theme) -> None:
    """Two greys of the one-sentinel lesson: waiting in get() for ever vs having exited."""
    a = theme.activities
    assert contrast(a[Activity.WAIT_GET], a[Activity.EXITED]) >= 1.5


@pytest.mark.parametrize("theme", [LIGHT, DARK], ids=lambda t: t.name)
def test_every_line_stands_out_from_the_chart_background(theme: Theme) -> None:
    ratios = {name: contrast(getattr(theme, name)[:7], theme.background) for name in LINES}
    failing = {name: f"{getattr(theme, name)} {r:.2f}:1" for name, r in ratios.items()
               if r < GRAPHICS}
    assert not failing, f"{theme.name}: {failing}"


def _rules(name: str) -> dict[str, dict[str, str]]:
    """selector -> {property: value} of a style sheet."""
    text = re.sub(r"/\*.*?\*/", "", (STYLES / f"{name}.qss").read_text(), flags=re.S)
    out: dict[str, dict[str, str]] = {}
    for selector, body in re.findall(r"([^{}]+)\{([^}]*)\}", text):
        props = dict(
            (k.strip(), v.strip()) for k, v in
            (p.split(":", 1) for p in body.split(";") if ":" in p)
        )
        out[selector.strip()] = props
    return out


@pytest.mark.parametrize("name", ["light", "dark"])
def test_style_sheet_texts_are_readable(name: str) -> None:
    rules = _rules(name)
    base = rules['QLabel[role="state"]']
    failing = {}
    for selector, props in rules.items():
        if selector.startswith('QLabel[role="state"]'):
            bg = props.get("background", base["background"])
            fg = props.get("color", base["color"])
        elif "color" in props and selector.startswith("QLabel[role="):
            fg, bg = props["color"], props.get("background", WINDOW[name])
        else:
            continue
        ratio = contrast(fg, bg)
        if ratio < TEXT:
            failing[selector] = f"{fg} on {bg}: {ratio:.2f}:1"
    assert not failing, failing


def test_the_diagnosis_panel_follows_the_light_theme(qtbot) -> None:
    """Its idle look (a transparent frame) once made every later look the dark theme's."""
    from PySide6.QtGui import QColor, QPalette
    from PySide6.QtWidgets import QWidget

    from gui.diagnosis_view import DiagnosisView

    host = QWidget()
    qtbot.addWidget(host)
    pal = host.palette()
    pal.setColor(QPalette.ColorRole.Window, QColor("#efefef"))
    host.setPalette(pal)
    view = DiagnosisView(host)
    host.show()
    view.show_findings(["something is wrong"])
    assert "#fdecea" in view.styleSheet()  # the light theme's problem background
    view.show_findings([], ended=True)
    assert "#e7f5ee" in view.styleSheet()
