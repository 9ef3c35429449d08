"""Charts of a recorded run exported offscreen as PNG and SVG, from Python and from the CLI."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before Qt loads

import subprocess
import sys
from pathlib import Path

import pytest

from engine.config import RunConfig
from engine.tracefile import TraceError
from gui.launch import IMAGE_SIZE, export_trace_image
from tests.traces import record_trace

ROOT = Path(__file__).resolve().parent.parent
CFG = RunConfig(tasks_per_producer=12, time_scale=0.02, consumers=2, seed=5)


@pytest.fixture(scope="module")
def trace_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return record_trace(tmp_path_factory.mktemp("img") / "run.qltrace", CFG)


def distinct_colours(path: Path) -> int:
    from PySide6.QtGui import QImage

    img = QImage(str(path))
    assert not img.isNull(), "not a readable PNG"
    seen = set()
    for y in range(0, img.height(), 7):
        for x in range(0, img.width(), 7):
            seen.add(img.pixel(x, y))
    return len(seen)


def test_png_is_the_charts_at_full_size(trace_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "charts.png"
    export_trace_image(trace_path, out)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    from PySide6.QtGui import QImage

    img = QImage(str(out))
    assert (img.width(), img.height()) == IMAGE_SIZE
    # A blank or single-colour picture has 1-2 colours; curves, bands and text give many.
    assert distinct_colours(out) > 20


def test_svg_holds_vector_charts(trace_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "charts.svg"
    export_trace_image(trace_path, out)
    text = out.read_text(encoding="utf-8")
    assert "<svg" in text and text.rstrip().endswith("</svg>")
    assert text.count("<path") + text.count("<polyline") > 20
    assert "time since start" in text  # the axis label is text, not pixels
    from PySide6.QtSvg import QSvgRenderer

    r = QSvgRenderer(str(out))
    assert r.isValid()
    box = r.viewBoxF()
    assert (box.width(), box.height()) == IMAGE_SIZE  # the visible charts, not the whole scene


def test_other_suffix_and_bad_trace_are_refused(trace_path: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"\.png or \.svg"):
        export_trace_image(trace_path, tmp_path / "charts.jpg")
    bad = tmp_path / "bad.qltrace"
    bad.write_text("not a trace\n")
    with pytest.raises(TraceError, match="line 1"):
        export_trace_image(bad, tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()


@pytest.mark.slow
def test_cli_export_png(trace_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "cli.png"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    p = subprocess.run(
        [
            sys.executable,
            str(ROOT / "main.py"),
            "export",
            str(trace_path),
            "--format",
            "png",
            "-o",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=ROOT,
    )
    assert p.returncode == 0, p.stderr
    assert "Traceback" not in p.stderr
    assert distinct_colours(out) > 20
