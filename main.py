"""QueueLab: watch multiprocessing.JoinableQueue at work — composition root and command line.

Kept light at import time: with spawn/forkserver every worker re-imports this module as
``__mp_main__``, so Qt is imported only inside the commands that open a window.
"""

from __future__ import annotations

import argparse
import os
import sys

from engine.cli_parser import _prog_name, build_parser

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


def _step_session(args: argparse.Namespace, cfg):  # -> StepSession | None
    if not (args.step or args.schedule or args.save_schedule):
        return None
    from engine.step_cli import StepSession

    out = sys.stderr if args.json else sys.stdout  # --json keeps stdout for the one object
    return StepSession(cfg, interactive=args.step, schedule=args.schedule,
                       save_path=args.save_schedule, out=out)  # fmt: skip


# ----------------------------------------------------------------------- sweep (issue 14)


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
