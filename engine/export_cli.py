"""``main.py export``: the output's name checked against --format, the write, its words."""

from __future__ import annotations

import os
import sys
from typing import IO

from engine.export import FORMATS
from engine.tracefile import PathLike, read_trace

__all__ = ["SUFFIXES", "cannot_write", "check_output", "export_main"]

# The one rule of `export`: --format decides what is written, and OUT's name must say the same.
# (A suffix never silently changes the format, and no format is written under another's name.)
SUFFIXES = {"csv": ".csv", "chrome": ".json", "png": ".png", "svg": ".svg", "mp4": ".mp4",
            "gif": ".gif"}  # fmt: skip
_WHAT = {"csv": "CSV text", "chrome": "Chrome trace-event JSON", "png": "a PNG image",
         "svg": "an SVG image", "mp4": "an MP4 video", "gif": "an animated GIF"}  # fmt: skip


def check_output(fmt: str, out: PathLike) -> None:
    """Refuse (ValueError, one line naming both) an OUT whose suffix is not ``fmt``'s, and (as
    a write error, OSError) one whose folder does not exist: before a long replay, not after."""
    want = SUFFIXES[fmt]
    path = os.fspath(out)
    suffix = os.path.splitext(path)[1]
    if suffix.lower() != want:
        got = f"ends in {suffix}" if suffix else "has no suffix"
        fix = f"name it {os.path.splitext(os.path.basename(path))[0] or 'out'}{want}"
        other = next((f for f, x in SUFFIXES.items() if x == suffix.lower()), None)
        if other is not None:
            fix += f", or use --format {other}"
        raise ValueError(
            f"{path}: --format {fmt} writes {_WHAT[fmt]} ({want}) but the name {got}; {fix}"
        )
    folder = os.path.dirname(path) or "."
    if not os.path.isdir(folder):
        raise FileNotFoundError(2, f"no such folder {folder}")
    if os.path.isdir(path):
        raise IsADirectoryError(21, "it is a folder")
    if not os.access(folder, os.W_OK):
        raise PermissionError(13, f"the folder {folder} is not writable")


def cannot_write(out: PathLike, exc: OSError) -> str:
    """The one wording of a write error, whatever the format: "cannot write OUT: reason"."""
    reason = exc.strerror or ("it could not be saved" if os.fspath(out) in str(exc) else str(exc))
    return f"cannot write {os.fspath(out)}: {reason}"


def export_main(path: PathLike, fmt: str, out: PathLike, *, err: IO[str] | None = None) -> int:
    """``main.py export FILE --format csv|chrome -o OUT``: returns the exit code (0).

    Raises TraceError (a ValueError) for a bad trace and OSError when OUT cannot be written;
    warnings (a cut-off file) go to ``err`` (stderr). PNG and SVG are drawn by the window's
    charts, so they are not handled here.
    """
    err = sys.stderr if err is None else err
    export = FORMATS.get(fmt)
    if export is None:
        raise ValueError(
            f"export format {fmt!r} is not handled by engine.export (it writes "
            f"{', '.join(FORMATS)}); charts as PNG/SVG come from the window"
        )
    trace = read_trace(path, on_warning=lambda w: print(f"queuelab: warning: {w}", file=err))
    n = export(trace, out)
    print(f"queuelab: wrote {n} {'rows' if fmt == 'csv' else 'trace events'} to {out}", file=err)
    return 0
