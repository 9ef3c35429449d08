"""QueueLab: watch multiprocessing.JoinableQueue at work — composition root and command line.

Kept light at import time: with spawn/forkserver every worker re-imports this module as
``__mp_main__``, so Qt is imported only inside the commands that open a window.
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


# Qt platforms that draw without a display server (QT_QPA_PLATFORM may list several, ";"-separated).
_NO_DISPLAY_PLATFORMS = ("offscreen", "minimal", "eglfs", "linuxfb", "vnc", "vkkhrdisplay")
EXIT_NO_DISPLAY = 2  # like a bad command line: nothing was started
EXIT_BROKEN_PIPE = 141  # what a shell reports for `cat` killed by SIGPIPE (128 + 13)


def no_display_message() -> str | None:
    """One line saying how to go on, when a window cannot open for want of a display; else None.

    Checked before Qt loads: without a display Qt's xcb plugin aborts the process (exit 134)
    with advice to reinstall the application, which is wrong and says nothing of the way out.
    Only X11/Wayland systems need one; macOS and Windows always have their own.
    """
    import os

    if sys.platform in ("darwin", "win32", "cygwin"):
        return None
    platforms = [p.strip() for p in os.environ.get("QT_QPA_PLATFORM", "").split(";") if p.strip()]
    if any(p.split(":")[0] in _NO_DISPLAY_PLATFORMS for p in platforms):
        return None
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        return None
    return (
        "queuelab: error: no display (neither DISPLAY nor WAYLAND_DISPLAY is set), so the window "
        "cannot open; run headless with 'python main.py run', or open the window under Xvfb "
        "with 'xvfb-run -a python main.py'"
    )


class _NoDisplay(Exception):
    """Raised by :func:`_require_display` after its inputs were checked, before Qt loads."""


def _require_display() -> None:
    message = no_display_message()
    if message is not None:
        raise _NoDisplay(message)


def load_run_config(args: argparse.Namespace):  # -> RunConfig
    from engine.config import apply_overrides, load_config, load_preset

    if getattr(args, "config", None):
        cfg = load_config(args.config)
    else:
        cfg = load_preset(getattr(args, "preset", None) or "tutorial")
    return apply_overrides(cfg, args.overrides)


def _check_workload(cfg):  # (RunConfig) -> OwnFunction | None
    """The user's own function (workload = "module:function") is imported and checked now,
    before anything starts: a problem is a WorkloadError (a ValueError), one line, exit 2."""
    from engine.own_function import check

    return check(cfg.workload)


def _trace(args: list[str]) -> int:
    """``trace``: parsed by hand, since everything after the program belongs to the program."""
    from engine.trace_cli import HELP, UsageError, exit_like, parse_trace_args

    try:
        opts = parse_trace_args(args)
    except UsageError as exc:
        print(f"queuelab: error: {exc} (see '{_prog_name()} trace --help')", file=sys.stderr)
        return 2
    if opts.help:
        print(HELP.replace("main.py", _prog_name()), end="")
        return 0
    if opts.headless:
        from engine.trace_cli import run_trace_headless

        return exit_like(run_trace_headless(opts))
    message = no_display_message()
    if message is not None:
        print(message.replace("'python main.py run'", "'python main.py trace --headless'"),
              file=sys.stderr)  # fmt: skip
        return EXIT_NO_DISPLAY
    from gui.launch import run_trace_gui

    return exit_like(run_trace_gui(opts, screenshot=opts.screenshot))


def main(argv: list[str] | None = None) -> int:
    """The `queuelab` command: `main.py` and the installed script both start here."""
    try:
        code = _main(argv)
        sys.stdout.flush()  # a closed pipe shows up here rather than at interpreter exit
        return code
    except BrokenPipeError:
        # `queuelab presets | head -2`: the reader has all it wanted. Say nothing, as `cat`
        # would; stdout goes to devnull so the interpreter's own flush at exit stays quiet too.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE


def _main(argv: list[str] | None) -> int:
    if argv is None:
        argv = sys.argv[1:]
    if argv and argv[0] == "trace":
        return _trace(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.app_flag:
        return _run_app_flag(parser, args)
    command = args.command or "gui"
    if args.command is None:
        args = parser.parse_args(["gui", *(argv or [])])

    try:
        if command == "presets":
            from engine.config import list_presets

            for name, title in list_presets():
                print(f"{name:28} {title}")
            return 0
        if command in ("run", "gui", "code"):
            cfg = load_run_config(args)
        if command in ("run", "code"):
            own = _check_workload(cfg)
        if command == "run":
            from engine.headless import run_headless

            return run_headless(
                cfg, as_json=args.json, trace_path=args.trace, hang_timeout=args.hang_timeout,
                step=_step_session(args, cfg),
            )  # fmt: skip
        if command == "code":
            from engine.codegen import generate_program

            sys.stdout.write(generate_program(cfg, own=own))
            return 0
        if command == "gui":
            sweep = None
            if args.sweep:
                from engine.sweep import SweepError, parse_params

                sweep = parse_params(args.sweep, cfg)  # a bad one: one line, exit 2
                if args.repeats < 1 or args.warmup < 0:
                    raise SweepError("--repeats must be at least 1 and --warmup at least 0")
            _require_display()
            from gui.launch import run_gui

            if sweep is not None:
                from gui.launch import run_gui_sweep

                return run_gui_sweep(cfg, args.preset, sweep, args.repeats, args.warmup,
                                     screenshot=args.screenshot,
                                     quit_when_done=args.quit_when_done)
            return run_gui(
                cfg,
                preset=args.preset or (None if args.config else "tutorial"),
                start=args.start,
                screenshot=args.screenshot,
                quit_when_done=args.quit_when_done,
                presenter=args.presenter,
                step=args.step,
                view=args.view,
            )
        if command == "sweep":
            return _sweep(args)
        if command == "replay":
            return _replay(args)
        if command == "export":
            return _export(args)
        if command == "compare":
            from engine.tracefile import read_trace

            read_trace(args.first)
            read_trace(args.second)
            _require_display()
            from gui.launch import run_compare

            return run_compare(args.first, args.second)
    except BrokenPipeError:
        raise  # an OSError, but not an error of the user's: main() ends quietly
    except _NoDisplay as exc:
        print(exc, file=sys.stderr)
        return EXIT_NO_DISPLAY
    except (ValueError, OSError) as exc:
        # ConfigError and TraceError are ValueErrors (bad settings, bad input files); an
        # OSError is a file that cannot be read or written. One line each, exit code 2.
        print(f"queuelab: error: {exc}", file=sys.stderr)
        return 2
    parser.error(f"unknown command {command!r}")
    return 2


def _export(args: argparse.Namespace) -> int:
    """--format decides what is written; OUT must be named for it; write errors in one wording."""
    from engine.export_cli import cannot_write, check_output, export_main

    out = args.output
    try:
        check_output(args.format, out)  # a mismatched name: ValueError, exit 2
        if args.format in ("png", "svg"):
            from engine.tracefile import read_trace

            read_trace(args.file)  # a bad file is refused (exit 2) before Qt starts
            from gui.launch import export_trace_image

            view = args.view or "charts"
            export_trace_image(args.file, out, view=view, at=args.at)
            what = "the flow view" if view == "flow" else "the charts"
            print(f"queuelab: wrote {what} to {out}", file=sys.stderr)
            return 0
        if args.format in ("mp4", "gif"):
            from engine.tracefile import read_trace

            read_trace(args.file)  # a bad file is refused (exit 2) before Qt starts
            from gui.launch import export_trace_video

            n = export_trace_video(args.file, out, args.format, view=args.view or "flow",
                                   speed=args.speed, fps=args.fps)  # fmt: skip
            print(f"queuelab: wrote {n} frames to {out}", file=sys.stderr)
            return 0
        return export_main(args.file, args.format, out)
    except OSError as exc:  # reading problems are TraceErrors (ValueError): this is the write
        print(f"queuelab: error: {cannot_write(out, exc)}", file=sys.stderr)
        return 2


def _replay(args: argparse.Namespace) -> int:
    if args.json:
        import json

        from engine.replay import replay_summary

        print(json.dumps(replay_summary(args.file)))
        return 0
    from engine.tracefile import read_trace

    read_trace(args.file)  # a bad file is refused (exit 2, one line) before any window opens
    _require_display()
    from gui.launch import run_replay

    return run_replay(args.file)


# ------------------------------------------------------------------ step mode (issue 16)


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


def _step_session(args: argparse.Namespace, cfg):  # -> StepSession | None
    if not (args.step or args.schedule or args.save_schedule):
        return None
    from engine.step_cli import StepSession

    out = sys.stderr if args.json else sys.stdout  # --json keeps stdout for the one object
    return StepSession(cfg, interactive=args.step, schedule=args.schedule,
                       save_path=args.save_schedule, out=out)  # fmt: skip


# ----------------------------------------------------------------------- sweep (issue 14)


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


def _sweep(args: argparse.Namespace) -> int:
    from engine.sweep_cli import run_sweep

    def png(svg: str, path: str) -> None:  # Qt is loaded only when a PNG is asked for
        from gui.svg_png import svg_to_png

        svg_to_png(svg, path)

    cfg = load_run_config(args)
    _check_workload(cfg)
    return run_sweep(
        cfg, args.params, repeats=args.repeats, warmup=args.warmup,
        as_json=args.json, csv_path=args.csv, plot_path=args.plot, save_runs=args.save_runs,
        hang_timeout=args.hang_timeout, png_writer=png,
    )  # fmt: skip


# ----------------------------------------------- --version and the desktop entry (issue 17)


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


def _run_app_flag(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    if args.command is not None:
        parser.error(f"{args.app_flag} takes no command")
    if args.app_flag == "--version":
        from engine.about import versions

        found = versions()
        shown = {"QueueLab": found.pop("QueueLab"), "Python": found.pop("Python")}
        try:  # imported only here: nothing else about these flags needs Qt
            from PySide6.QtCore import qVersion

            shown["Qt"] = qVersion()
        except ImportError as exc:  # --version is what one asks a broken install first
            shown["Qt"] = f"unavailable ({exc})"
        shown.update(found)
        for name, version in shown.items():
            print(f"{name} {version}")
        return 0
    from engine import desktop_entry

    try:
        if args.app_flag == "--install-desktop-entry":
            files = desktop_entry.install(desktop_entry.launch_command(sys.argv[0], sys.executable))
            print(f"installed {files.desktop_file}\ninstalled {files.icon_file}")
        else:
            removed = desktop_entry.uninstall()
            for path in removed:
                print(f"removed {path}")
            if not removed:
                print("no QueueLab desktop entry was installed")
    except desktop_entry.DesktopEntryError as exc:
        print(f"queuelab: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
