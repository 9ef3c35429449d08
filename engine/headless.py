"""The headless run: print the tutorial's lines (or one JSON object) and return an exit code."""

from __future__ import annotations

import json
import signal
import sys
import time
from typing import TYPE_CHECKING, TextIO

from engine.config import RunConfig
from engine.explain import Narrator, findings, hopeless, summary_lines
from engine.explain.hopeless import JoinWatch
from engine.explain.summary import theory_lines, with_theory
from engine.runner import FEED_CHUNK, Run
from engine.signal_guard import Handler, SignalGuard

if TYPE_CHECKING:
    from engine.step_cli import StepSession

# While a run goes on the loop looks at it this often, not at every batch that arrives, and
# feeds the model at most LIVE_FEED_S of each look: a tenth of one core. On a 2-core machine
# whatever the parent takes comes from the workers it measures (benchmarks/fidelity.py).
LIVE_PERIOD_S = 0.05
LIVE_FEED_S = 0.005
# The model takes ~85 µs a record where tasks have work (one record at a time) and ~1 µs in
# a flood's bulk path, so the records fed per look are sized from the last feed's cost:
# a fixed 4096 took 350 ms per look on the first kind and overran the budget 70 times.
FEED_CHUNK_MIN = 16
FEED_CHUNK_START = 256
EXIT_OK = 0
EXIT_USAGE = 2
EXIT_ABNORMAL = 3
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report a program ended by Ctrl+C

# After Ctrl+C the records already received are fed for at most this long, so the summary is
# close to complete and the command still ends at once; a second Ctrl+C skips the rest.
INTERRUPT_FEED_S = 1.5


class _Signals(SignalGuard):
    """SIGINT/SIGTERM set a flag the run loop checks, instead of raising mid-way.

    A KeyboardInterrupt could land inside the model's feed and leave it half-updated; the loop
    looks every LIVE_PERIOD_S (50 ms), so a flag is seen just as fast.
    """

    def __init__(self) -> None:
        self.count = 0

    def handlers(self) -> dict[int, Handler]:
        return {signal.SIGINT: self._on_signal, signal.SIGTERM: self._on_signal}

    def _on_signal(self, signum: int, frame: object) -> None:
        self.count += 1


def run_headless(
    cfg: RunConfig,
    *,
    as_json: bool = False,
    trace_path: str | None = None,
    hang_timeout: float | None = None,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
    step: StepSession | None = None,
) -> int:
    """Run ``cfg`` to its end and print what happened. Exit codes are in README's CLI section.

    0: join returned and every worker exited; 3: a worker died, the run can never end (the
    shared :func:`~engine.explain.hopeless` rule), or it had not ended ``hang_timeout`` s after
    queue.join() was called; 130: interrupted (SIGINT or SIGTERM). Every ending prints the
    summary and the diagnosis.
    """
    with _Signals() as signals:
        run = Run(cfg, step=step is not None)  # step: engine/step_cli.py drives the steps
        narrator = Narrator(run.model)
        tutorial_out = None if as_json else out
        writer = None
        if trace_path is not None:
            from engine.tracefile import TraceWriter

            writer = TraceWriter(trace_path, cfg)
            writer.attach(run)
        try:
            for w in run.warnings:
                print(f"queuelab: warning: {w}", file=err)
            if not signals.count:
                run.start()
                if step is not None:
                    step.attach(run, signals)
            code, problem, found, why = _watch(
                run, narrator, tutorial_out, hang_timeout, signals, step
            )
            if not run.ended:
                run.stop(reason=why)
            # Everything that arrived is fed before the summary: under a flood the model (and,
            # through it, the trace) can be seconds behind the processes.
            budget = INTERRUPT_FEED_S if code == EXIT_INTERRUPTED else 120.0
            _feed_rest(run, narrator, tutorial_out, budget, signals)
        finally:
            run.stop(reason="exit")
            if step is not None:
                step.finish(run)
            if writer is not None:
                writer.close()
                if writer.error is not None:
                    print(f"queuelab: warning: the trace {trace_path} is incomplete: "
                          f"{writer.error}", file=err)  # fmt: skip
        if not found:
            # A joined run's findings (a premature join, an extra task_done()) are judged on the
            # whole run, once every record is in.
            found = findings(run.model)
        _print_result(run, code, problem, found, as_json, out, err)
    return code


class _Later:
    """A signal count that ignores the first Ctrl+C: a sweep finishes the run in progress."""

    def __init__(self, signals: _Signals | _Later) -> None:
        self._signals = signals

    @property
    def count(self) -> int:
        return max(0, self._signals.count - 1)


def run_quiet(
    cfg: RunConfig,
    *,
    hang_timeout: float | None = None,
    trace_path: str | None = None,
    signals: _Signals | _Later | None = None,
) -> tuple[int, str | None, Run]:
    """Run ``cfg`` to its end as ``run`` does, printing nothing; for sweeps.

    Returns (exit code as :func:`run_headless`'s, the line saying why it ended abnormally,
    the ended Run with its fed model). ``signals`` ends the run when its count goes above 0.
    """
    counter = signals if signals is not None else _Signals()  # not entered: never counts
    run = Run(cfg)
    writer = None
    if trace_path is not None:
        from engine.tracefile import TraceWriter

        writer = TraceWriter(trace_path, cfg)
        writer.attach(run)
    try:
        run.start()
        narrator = Narrator(run.model)
        code, problem, _found, why = _watch(run, narrator, None, hang_timeout, counter)  # type: ignore[arg-type]
        if not run.ended:
            run.stop(reason=why)
        budget = INTERRUPT_FEED_S if code == EXIT_INTERRUPTED else 120.0
        _feed_rest(run, narrator, None, budget, counter)  # type: ignore[arg-type]
    finally:
        run.stop(reason="exit")
        if writer is not None:
            writer.close()
    return code, problem, run


def _watch(
    run: Run,
    narrator: Narrator,
    out: TextIO | None,
    hang_timeout: float | None,
    signals: _Signals,
    step: StepSession | None = None,
) -> tuple[int, str | None, list[str], str]:
    """Feed and narrate until the run ends or must be ended.

    Returns (exit code, the line saying why it ended abnormally, the diagnosis as of that
    moment, the stop reason recorded in the trace).
    """
    join_watch = JoinWatch(hang_timeout)
    run.inbox.chunk = FEED_CHUNK_START
    while not run.ended:
        if step is None:
            # Woken by the run's end or the period, not by each batch (one per task or more):
            # a wake-up per batch cost the parent up to 16 wake-ups and 1.8 ms of CPU a task.
            # A backlog (the run outpaces the model) is fed once the run has ended.
            run.wait_ended(LIVE_PERIOD_S)
            applied = _feed_within(run, LIVE_FEED_S)
        else:  # step mode: a trickle, and each step waits for the poll that judges it
            applied = run.poll(LIVE_FEED_S, wait_s=0.05)
        if out is not None:
            _print_lines(narrator.lines(applied), out)
        if run.ended and run.end_reason != "joined":
            break  # stopped by someone else: its SIGTERMed workers did not die of themselves
        m = run.model
        now = m.rel(time.perf_counter())
        refused = step.on_poll(run) if step is not None else None
        if refused is not None:
            return EXIT_ABNORMAL, refused, findings(m, now), "schedule refused"
        if signals.count:
            found = findings(m, now)
            return EXIT_INTERRUPTED, "interrupted; every worker was stopped", found, "interrupted"
        # The collector sees a death at once; the model only once the backlog ahead of
        # that record is fed, which under a flood can take seconds.
        if m.dead_workers() or any(c != 0 for c in list(run.exit_codes.values())):
            run.stop(reason="worker died")
            _feed_rest(run, narrator, out, 3.0, signals)
            m = run.model
            found = findings(m, m.rel(time.perf_counter()))
            return EXIT_ABNORMAL, "a worker died", found, "worker died"
        # Judged only with nothing left to feed: a model behind a flood looks idle.
        reason = None if run.pending else hopeless(m, now)
        if reason is not None:
            problem = f"the run can never end: {reason}"
            return EXIT_ABNORMAL, problem, findings(m, now), "it can never end"
        if join_watch.overdue(m):
            problem = f"the run did not end within {hang_timeout:g} s of queue.join()"
            return EXIT_ABNORMAL, problem, findings(m, now), "hang timeout"
    if run.end_reason != "joined":
        reason = run.end_reason or "stopped"
        return EXIT_ABNORMAL, f"the run ended: {reason}", [], reason
    return EXIT_OK, None, [], "joined"


def _print_result(
    run: Run,
    code: int,
    problem: str | None,
    found: list[str],
    as_json: bool,
    out: TextIO,
    err: TextIO,
) -> None:
    """The summary on stdout; the diagnosis after it, or on stderr under the line saying why.

    A run that ended as it should prints its findings (a premature join, ...) on stdout with
    the summary; one that did not says why on stderr, followed by the findings, so a script
    that checks stderr for errors and a person reading the terminal both get them, once.
    """
    theory_ok = code == EXIT_OK  # a stopped run's numbers say nothing about steady state
    if as_json:
        doc = run.model.summary(tuple(found)).to_json()
        if theory_ok:
            with_theory(doc, run.model, run.cfg)
        print(json.dumps(doc), file=out)
    else:
        for line in summary_lines(run.model):
            print(line, file=out)
        if theory_ok:
            for line in theory_lines(with_theory({}, run.model, run.cfg)["theory"]):
                print(line, file=out)
        if found and not problem:
            print("--- diagnosis ---", file=out)
            for sentence in found:
                print(f"- {sentence}", file=out)
    out.flush()
    if problem:
        print(f"queuelab: {problem}", file=err)
        for sentence in found:
            print(f"  - {sentence}", file=err)


def _print_lines(lines: list[str], out: TextIO) -> None:
    """One write per poll: a flush per line cost a system call per record under a flood."""
    if lines:
        out.write("\n".join(lines) + "\n")
        out.flush()


def _feed_within(run: Run, budget_s: float) -> list[tuple[int, tuple]]:
    """Feed for about ``budget_s`` of this thread's CPU, in chunks sized from the last cost.

    The inbox checks its budget between chunks; a chunk of half the budget's worth of records
    (at the cost per record just seen) keeps one look within about the budget.
    """
    c0 = time.thread_time()
    applied = run.poll(budget_s)
    spent = time.thread_time() - c0
    if len(applied) >= FEED_CHUNK_MIN and spent > 0:
        per_record = spent / len(applied)
        fit = int(budget_s / 2 / per_record)
        run.inbox.chunk = max(FEED_CHUNK_MIN, min(FEED_CHUNK, fit))
    return applied


def _feed_rest(
    run: Run, narrator: Narrator, out: TextIO | None, budget_s: float, signals: _Signals
) -> None:
    """Feed what already arrived (the dead worker's last records, its PROC_EXIT) in time.

    A further Ctrl+C (beyond the one that ended the run, if any) stops feeding at once.
    """
    run.inbox.chunk = FEED_CHUNK  # nothing to share the CPU with now: the fastest way
    end = time.monotonic() + budget_s
    seen = signals.count
    while run.pending and time.monotonic() < end and signals.count <= max(seen, 0):
        lines = narrator.lines(run.poll(0.2))
        if out is not None:
            _print_lines(lines, out)
