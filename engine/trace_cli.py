"""``python main.py trace``: its command line, and the headless run of a traced program."""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from dataclasses import dataclass, field
from typing import TextIO

from engine.explain import findings, hopeless
from engine.explain.hopeless import JoinWatch
from engine.explain.summary import summary_json
from engine.signal_guard import Handler, SignalGuard
from engine.trace_session import TraceSession

EXIT_USAGE = 2
EXIT_ABNORMAL = 3

USAGE = (
    "usage: main.py trace [--headless] [--save FILE] [--json-summary FILE] [--hang-timeout S] "
    "[--] (-m MODULE | PROGRAM.py) [ARGS ...]"
)
HELP = f"""{USAGE}

Run an unmodified Python program with every multiprocessing.JoinableQueue it creates traced:
its processes (main, and every child under spawn, forkserver or fork) report each put, get,
task_done and join with the calling source line. Everything after the program (or after -m
MODULE) is the program's own arguments; -- ends QueueLab's options.

options:
  --headless         no window: the program's stdout and stderr pass through unchanged; after
                     it ends, a summary on stderr (each line starts with 'queuelab:'); the exit
                     code is the program's own (a death by a signal too)
  --save FILE        write the trace file (as run --trace: replay, compare, export read it)
  --json-summary FILE
                     write run --json's summary object to FILE
  --hang-timeout S   end the program (exit 3, with the diagnosis) when it has not ended S s
                     after its main process called queue.join()
  --screenshot PNG   (the window) save a PNG once the program has ended, then close
  -m MODULE          run a module as `python -m MODULE` does
"""


@dataclass
class TraceArgs:
    argv: list[str] = field(default_factory=list)  # [PROGRAM.py, ...] or ["-m", MODULE, ...]
    headless: bool = False
    save: str | None = None
    json_summary: str | None = None
    hang_timeout: float | None = None
    screenshot: str | None = None  # the window: a PNG when the program has ended, then quit
    help: bool = False


class UsageError(ValueError):
    pass


def parse_trace_args(args: list[str]) -> TraceArgs:
    """QueueLab's options up to the program; the program and everything after it are its own."""
    out = TraceArgs()
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--":
            i += 1
            break
        if a in ("-h", "--help"):
            out.help = True
            return out
        if a == "--headless":
            out.headless = True
            i += 1
            continue
        if a in ("--save", "--json-summary", "--hang-timeout", "--screenshot", "-m") or (
            a.startswith(("--save=", "--json-summary=", "--hang-timeout=", "--screenshot="))
        ):
            name, eq, value = a.partition("=")
            if not eq:
                if i + 1 >= len(args):
                    raise UsageError(f"{name} needs a value")
                value = args[i + 1]
                i += 1
            i += 1
            if name == "-m":
                out.argv = ["-m", value, *args[i:]]
                return out
            if name == "--save":
                out.save = value
            elif name == "--json-summary":
                out.json_summary = value
            elif name == "--screenshot":
                out.screenshot = value
            else:
                out.hang_timeout = _seconds(value)
            continue
        if a.startswith("-") and a != "-":
            raise UsageError(f"unknown option {a} (the program comes after QueueLab's options)")
        break
    rest = args[i:]
    if out.argv:
        return out
    if rest and rest[0] == "-m":
        if len(rest) < 2:
            raise UsageError("-m needs a module name")
        out.argv = rest
        return out
    if not rest:
        raise UsageError("no program to trace: give PROGRAM.py or -m MODULE")
    if not os.path.isfile(rest[0]):
        raise UsageError(f"no such program: {rest[0]}")
    out.argv = rest
    return out


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise UsageError(f"--hang-timeout: {text!r} is not a number of seconds") from None
    if not value > 0 or value == float("inf"):
        raise UsageError(f"--hang-timeout: {text!r}: expected a finite number of seconds > 0")
    return value


def program_title(argv: list[str]) -> str:
    return f"python -m {argv[1]}" if argv[0] == "-m" else os.path.basename(argv[0])


def trace_config(argv: list[str]):  # -> RunConfig
    """The trace file's header config: the defaults, titled after the program.

    A traced program has no QueueLab configuration; the header needs one for the format, and
    readers (replay, compare, export) take the title from it. The records are the truth.
    """
    from engine.config import RunConfig

    title = program_title(argv)
    return RunConfig(
        title=f"trace: {title}",
        explanation=f"A trace of {' '.join(argv)}, recorded by python main.py trace.",
    )


class _Signals(SignalGuard):
    """SIGINT is the program's to handle (a terminal sends it to the whole group): counted,
    never acted on. SIGTERM ends the program's whole tree."""

    def __init__(self) -> None:
        self.interrupts = 0
        self.terminate = False

    def handlers(self) -> dict[int, Handler]:
        return {signal.SIGINT: self._on_int, signal.SIGTERM: self._on_term}

    def _on_int(self, signum: int, frame: object) -> None:
        self.interrupts += 1

    def _on_term(self, signum: int, frame: object) -> None:
        self.terminate = True


def run_trace_headless(opts: TraceArgs, err: TextIO = sys.stderr) -> int:
    """Run the program to its end; returns its exit code (negative: the signal it died of)."""
    session = TraceSession(opts.argv)
    writer = None
    if opts.save is not None:
        from engine.tracefile import TraceWriter

        writer = TraceWriter(opts.save, trace_config(opts.argv))
        session.add_listener(_writer_listener(writer))
    problem: str | None = None
    with _Signals() as signals:
        session.start()
        try:
            problem = _watch(session, opts.hang_timeout, signals)
            if problem is not None:
                session.stop(reason=problem)
            session.wait()
            while session.pending or not session.ended:
                session.poll(0.5, wait_s=0.05)
        finally:
            session.close()
            if writer is not None:
                writer.close()
    m = session.model
    found = [
        f"{_lane_prefix(session, lane)}{sentence}"
        for lane in session.lanes
        for sentence in findings(lane.model)
    ]
    if opts.json_summary is not None:
        data = summary_json(m)
        data["queues"] = [_lane_json(lane) for lane in session.lanes]
        data["program"] = opts.argv
        data["exit_code"] = session.exit_code
        data["not_traced"] = list(session.notes)
        data["processes"] = [
            {"src": src, "pid": pid, "name": name}
            for src, (pid, name) in sorted(session.names.items())
        ]
        with open(opts.json_summary, "w", encoding="utf-8") as f:
            json.dump(data, f)
            f.write("\n")
    _print_summary(session, problem, found, opts, writer, err)
    if problem is not None:
        return EXIT_ABNORMAL
    code = session.exit_code if session.exit_code is not None else EXIT_ABNORMAL
    return code


def _writer_listener(writer):  # TraceWriter -> a listener
    def listener(batch: tuple) -> None:
        if writer.error is None:
            try:
                writer.write((batch,))
            except (OSError, ValueError, TypeError) as exc:
                writer.error = exc

    return listener


def _watch(session: TraceSession, hang_timeout: float | None, signals: _Signals) -> str | None:
    """Feed until the program ends; the reason to end it ourselves, if one comes up."""
    join_watch = JoinWatch(hang_timeout)
    while not session.ended:
        session.poll(0.05, wait_s=0.05)
        if signals.terminate:
            return "terminated"
        # The main process may put at any moment of its own choosing; only while it waits in
        # queue.join() or Process.join() is it known not to, and then the run's own hopeless
        # rule applies, to each queue.
        if session.demux.main_blocked and not session.pending:
            for lane in session.lanes:
                m = lane.model
                reason = None if m.t0 is None else hopeless(m, m.rel(time.perf_counter()))
                if reason is not None:
                    return f"the program can never end: {_lane_prefix(session, lane)}{reason}"
        # One clock for all queues: it starts at the first join() seen on any of them.
        if any([join_watch.overdue(lane.model) for lane in session.lanes]):
            return f"the program did not end within {hang_timeout:g} s of queue.join()"
    return None


def _print_summary(
    session: TraceSession,
    problem: str | None,
    found: list[str],
    opts: TraceArgs,
    writer: object,
    err: TextIO,
) -> None:
    procs = ", ".join(f"{name} (pid {pid})" for _src, (pid, name) in sorted(session.names.items()))
    lines = [
        f"traced {len(session.names)} process{'es' if len(session.names) != 1 else ''}: {procs}",
    ]
    lanes = session.lanes
    for lane in lanes:
        s = lane.model.summary()
        where = f"queue {lane.name} ({lane.kind_words}): " if len(lanes) > 1 else ""
        if lane.joinable:
            lines.append(
                f"{where}{s.puts} puts, {s.gets} gets, {s.task_dones} task_done calls, "
                f"{s.unfinished} unfinished; {lane.model.join_words()}"
            )
        else:
            lines.append(
                f"{where}{s.puts} puts, {s.gets} gets, {s.depth} left in the queue "
                "(a multiprocessing.Queue: no task_done, no unfinished counter)"
            )
    if not lanes:
        lines.append(
            "no JoinableQueue or Queue was traced: the program made none that trace follows"
            + (" (see the notes below)" if session.notes else "")
        )
    lines += [f"note: {note}" for note in session.notes]
    if problem is not None:
        lines.append(f"{problem}; the program's processes were ended")
    lines += [f"  - {sentence}" for sentence in found]
    if writer is not None:
        error = getattr(writer, "error", None)
        lines.append(
            f"trace saved to {opts.save}" if error is None
            else f"warning: the trace {opts.save} is incomplete: {error}"
        )  # fmt: skip
    err.write("".join(f"queuelab: {line}\n" for line in lines))
    err.flush()


def _lane_prefix(session: TraceSession, lane) -> str:  # lane: engine.trace_lanes.Lane
    """ "queue results: " before a finding when the program has several queues."""
    return f"queue {lane.name}: " if len(session.demux.lanes) > 1 else ""


def _lane_json(lane) -> dict:  # lane: engine.trace_lanes.Lane
    data = summary_json(lane.model)
    data["name"] = lane.name
    data["kind"] = lane.kind_words
    data["maxsize"] = lane.maxsize
    data["created_at"] = f"{lane.file}:{lane.line}"
    return data


def exit_like(code: int) -> int:
    """Exit as the program did: a death by signal N is re-raised on ourselves."""
    if code < 0:
        sig = -code
        sys.stdout.flush()
        sys.stderr.flush()
        try:
            signal.signal(sig, signal.SIG_DFL)
            os.kill(os.getpid(), sig)
        except (OSError, ValueError):
            pass
        return 128 + sig
    return code
