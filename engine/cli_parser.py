"""The `queuelab` command line's grammar: every command, option and check of its arguments.

main.py (the composition root) parses with :func:`build_parser` and runs what was asked;
nothing here imports Qt or starts anything.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import NoReturn


def _config_args(p: argparse.ArgumentParser) -> None:
    src = p.add_mutually_exclusive_group()
    src.add_argument("--preset", metavar="NAME", help="a preset from resources/presets")
    src.add_argument("--config", metavar="FILE", help="a run configuration in TOML")
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override one configuration key (repeatable), e.g. --set consumers=4",
    )


class _Parser(argparse.ArgumentParser):
    """Bad command lines get one line on stderr and exit code 2, like bad config values."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"queuelab: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=_prog_name(),
        description="QueueLab: real producer/consumer processes on a multiprocessing "
        "JoinableQueue, traced and charted. Without a command, opens the window.",
    )
    _app_flags(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser("gui", help="open the window (the default)")
    _config_args(p)
    p.add_argument("--start", action="store_true", help="start the run at once")
    p.add_argument(
        "--screenshot", metavar="PNG",
        help="save a PNG of the window when the run ends (starts the run, as --start does)",
    )
    p.add_argument(
        "--quit-when-done", action="store_true",
        help="exit when the run has ended (starts the run, as --start does)",
    )
    p.add_argument(
        "--presenter",
        action="store_true",
        help="open in presenter mode (larger text and lines for a projector; F5 toggles it)",
    )
    p.add_argument(
        "--step", action="store_true",
        help="open with Run ▸ Step mode on (every queue operation waits for you)",
    )  # fmt: skip
    p.add_argument(
        "--sweep", action="append", default=[], metavar="KEY=SPEC",
        help="open the sweep view and sweep KEY over SPEC at once (as Experiment > Sweep...; "
        "repeatable for a grid); --screenshot then saves the sweep's window when it ends",
    )
    p.add_argument("--repeats", type=int, default=3, metavar="N",
                   help="with --sweep: runs per value (3)")
    p.add_argument("--warmup", type=int, default=1, metavar="N",
                   help="with --sweep: discarded runs first (1)")
    p.add_argument(
        "--view", choices=("charts", "flow"), default="charts",
        help="the tab shown first: the charts, or the flow of tasks (Ctrl+1 / Ctrl+2)",
    )

    p = sub.add_parser(
        "run",
        help="run headless, printing the tutorial's lines, a summary and the diagnosis",
        description="Run headless. Exit codes: 0 queue.join() returned and every worker exited; "
        "2 bad configuration or arguments; 3 a worker died, the run can never end (it stops "
        "by itself, saying why), or --hang-timeout ran out; 130 interrupted (Ctrl+C).",
    )
    _config_args(p)
    p.add_argument("--trace", metavar="FILE", help="record the config and every event to FILE")
    p.add_argument("--json", action="store_true", help="print one JSON summary object")
    p.add_argument(
        "--hang-timeout",
        type=_positive_float,
        metavar="S",
        help="give up (exit 3, with a diagnosis) when the run has not ended S seconds "
        "after queue.join() was called: for a run that is slow but alive (one that can never "
        "end stops by itself without it)",
    )
    _step_args(p)

    _sweep_parser(sub)

    sub.add_parser("presets", help="list the presets")

    p = sub.add_parser("code", help="print a standalone program equivalent to a configuration")
    _config_args(p)

    p = sub.add_parser("replay", help="replay a recorded run (window, or --json summary)")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--json", action="store_true", help="print the run's JSON summary")

    p = sub.add_parser("compare", help="two recorded runs side by side")
    p.add_argument("first", metavar="FILE_A")
    p.add_argument("second", metavar="FILE_B")

    sub.add_parser(
        "trace", add_help=False,
        help="run your own program with its JoinableQueues traced (trace --help for more)",
    )

    p = sub.add_parser("export", help="export a recorded run")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--format", required=True, choices=("csv", "chrome", "png", "svg", "mp4", "gif"))
    p.add_argument("-o", "--output", required=True, metavar="OUT")
    p.add_argument("--view", choices=("flow", "charts"), default=None,
                   help="what is drawn: the flow of tasks (default for mp4/gif) or the charts "
                        "(default for png/svg)")
    p.add_argument("--at", type=float, default=None, metavar="S",
                   help="png/svg of the flow view: the run's state at S seconds (default: end)")
    p.add_argument("--speed", type=_positive_float, default=1.0, metavar="X",
                   help="mp4/gif: run seconds per video second (default 1)")
    p.add_argument("--fps", type=int, choices=range(1, 61), default=None, metavar="N",
                   help="mp4/gif: frames per second (default 25 for mp4, 10 for gif)")
    return parser


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r}: expected a finite number of seconds > 0")
    return value


def _step_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--step", action="store_true",
        help="step mode: before each queue operation, print what every process will do next "
        "and read who goes from stdin (a number or name; Enter: the earliest; end of input: "
        "run freely)",
    )
    p.add_argument(
        "--schedule", metavar="FILE",
        help="follow a schedule (one process:operation per line, or a name from "
        "resources/schedules such as join-race) exactly, then run freely (with --step: then "
        "go on stepping)",
    )
    p.add_argument("--save-schedule", metavar="FILE",
                   help="save the schedule followed to FILE (--step saves one anyway)")  # fmt: skip


def _sweep_parser(sub) -> None:  # sub: argparse's subparsers action
    p = sub.add_parser(
        "sweep",
        help="run a configuration over a range of values (e.g. consumers) and recommend one",
        description="Run each value of --param KEY=SPEC (a list 1,2,4, a range 1..8 or "
        "1..16:2, or cores) REPEATS times, headless, after WARMUP discarded runs; print each "
        "point's median and 95 % interval, a Universal Scalability Law fit over consumers and "
        "a recommendation. Two --param make a grid. Ctrl+C stops after the run in progress "
        "and prints what was measured (a second one stops that run too). Exit codes: 0 every "
        "run ended normally; 2 bad arguments; 3 some run hung or failed (reported; the sweep "
        "goes on); 130 interrupted.",
    )
    _config_args(p)
    p.add_argument(
        "--param", dest="params", action="append", required=True, metavar="KEY=SPEC",
        help="a numeric key and its values: consumers=1,2,4,8, producers=1..4, maxsize=1..16:4, "
        "time_scale=0.5,1,2, task_duration.mean=0.01,0.02, consumers=cores",
    )
    p.add_argument("--repeats", type=_count, default=3, metavar="N", help="runs per point (3)")
    p.add_argument("--warmup", type=_count0, default=1, metavar="N",
                   help="discarded runs before the first point (1)")  # fmt: skip
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--csv", metavar="FILE", help="write one row per point to FILE")
    p.add_argument("--plot", metavar="FILE", help="draw throughput per point to FILE.png or .svg")
    p.add_argument("--save-runs", metavar="DIR", help="record every run's trace into DIR")
    p.add_argument("--hang-timeout", type=_positive_float, default=60.0, metavar="S",
                   help="a run not ended S s after queue.join() counts as hung (60)")  # fmt: skip


def _count(text: str) -> int:
    if not text.strip().isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a whole number of at least 1")
    return int(text)


def _count0(text: str) -> int:
    if not text.strip().isdigit():
        raise argparse.ArgumentTypeError(f"{text!r}: expected a whole number of at least 0")
    return int(text)


def _prog_name() -> str:
    """The name usage and errors give: the installed ``queuelab`` command, or main.py."""
    name = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    return "queuelab" if name.startswith("queuelab") else "main.py"


def _app_flags(parser: argparse.ArgumentParser) -> None:
    flags = parser.add_mutually_exclusive_group()
    for flag, text in (
        ("--version", "print QueueLab's version and those of Python, Qt, PySide6, pyqtgraph"),
        (
            "--install-desktop-entry",
            "add QueueLab to the desktop's application menu (Linux: writes a .desktop file "
            "and the icon under your own data directory, ~/.local/share by default)",
        ),
        ("--uninstall-desktop-entry", "remove what --install-desktop-entry wrote"),
    ):
        flags.add_argument(flag, dest="app_flag", action="store_const", const=flag, help=text)
