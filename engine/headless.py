"""The headless run: print the tutorial's lines (or one JSON object) and return an exit code."""

from __future__ import annotations

import json
import signal
import sys
import time
from typing import TextIO

from engine.config import RunConfig
from engine.model import JoinState
from engine.narration import Narrator
from engine.report import diagnosis, summary_json, summary_lines
from engine.runner import Run

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_ABNORMAL = 3


def run_headless(
    cfg: RunConfig,
    *,
    as_json: bool = False,
    trace_path: str | None = None,
    hang_timeout: float | None = None,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
) -> int:
    """Run ``cfg`` to its end. 0: join returned; 3: a worker died or the run hung."""
    run = Run(cfg)
    narrator = Narrator(run.model)
    writer = None
    if trace_path is not None:
        from engine.tracefile import TraceWriter

        writer = TraceWriter(trace_path, cfg)
        writer.attach(run)
    previous = signal.signal(signal.SIGTERM, _raise_exit)
    code = EXIT_OK
    problem: str | None = None
    try:
        for w in run.warnings:
            print(f"queuelab: warning: {w}", file=err)
        run.start()
        join_seen_at: float | None = None
        while not run.ended:
            applied = run.poll(0.05, wait_s=0.05)
            if not as_json:
                for line in narrator.lines(applied):
                    print(line, file=out, flush=True)
            m = run.model
            # The collector sees a death at once; the model only once the backlog ahead of
            # that record is fed, which under a flood can take seconds.
            if m.dead_workers() or any(c != 0 for c in list(run.exit_codes.values())):
                problem = "a worker died"
                run.stop(reason="worker died")
                _feed_rest(run, narrator, None if as_json else out, budget_s=3.0)
                code = EXIT_ABNORMAL
                break
            if m.join_state != JoinState.NOT_CALLED and join_seen_at is None:
                join_seen_at = time.monotonic()
            if (
                hang_timeout is not None
                and join_seen_at is not None
                and time.monotonic() - join_seen_at > hang_timeout
            ):
                problem = f"the run did not end within {hang_timeout:g} s of queue.join()"
                code = EXIT_ABNORMAL
                break
        if code == EXIT_OK and run.end_reason != "joined":
            code = EXIT_ABNORMAL
        found = diagnosis(run.model, run.model.rel(time.perf_counter())) if code else []
        if code == EXIT_ABNORMAL and not run.ended:
            run.stop(reason="hang timeout")
        # Everything that arrived is fed before the summary: under a flood the model (and,
        # through it, the trace) can be seconds behind the processes.
        _feed_rest(run, narrator, None if as_json else out, budget_s=120.0)
    except KeyboardInterrupt:
        run.stop(reason="interrupted")
        print("queuelab: interrupted; every worker was stopped", file=err)
        return 130
    finally:
        run.stop(reason="exit")
        signal.signal(signal.SIGTERM, previous)
        if writer is not None:
            writer.close()
            if writer.error is not None:
                print(f"queuelab: warning: the trace {trace_path} is incomplete: {writer.error}",
                      file=err)
    if as_json:
        obj = summary_json(run.model)
        if found:
            obj["diagnosis"] = found
        print(json.dumps(obj), file=out)
    else:
        for line in summary_lines(run.model):
            print(line, file=out)
    if problem:
        print(f"queuelab: {problem}", file=err)
        for sentence in found:
            print(f"  - {sentence}", file=err)
    return code


def _feed_rest(run: Run, narrator: Narrator, out: TextIO | None, budget_s: float) -> None:
    """Feed what already arrived (the dead worker's last records, its PROC_EXIT) in time."""
    end = time.monotonic() + budget_s
    while run.pending and time.monotonic() < end:
        lines = narrator.lines(run.poll(0.2))
        if out is not None:
            for line in lines:
                print(line, file=out, flush=True)


def _raise_exit(signum: int, frame: object) -> None:
    raise KeyboardInterrupt
