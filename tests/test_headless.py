"""run_headless / run_quiet in this process: exit codes and what is printed, for each ending.

test_cli_text.py reads the same text from the real command in a subprocess; these call the
entry points main.py and the sweep call, with real runs, so the ending rules are exercised
where coverage (and mutation testing) can see them. Endings are triggered by events (a line
printed, a worker's process seen), never by sleeps.
"""

from __future__ import annotations

import io
import json
import os
import signal
from collections.abc import Callable

import pytest

from engine.headless import EXIT_ABNORMAL, EXIT_INTERRUPTED, EXIT_OK, run_headless, run_quiet
from tests.faults import config, const, titled, wait_for

SUMMARY = "--- summary ---"


class Watched(io.StringIO):
    """stdout that calls ``on_line(line)`` once for the first line starting with ``prefix``."""

    def __init__(self, prefix: str, on_line: Callable[[str], None]) -> None:
        super().__init__()
        self._prefix, self._on_line, self._fired = prefix, on_line, False

    def write(self, s: str) -> int:
        n = super().write(s)
        if not self._fired:
            for line in s.splitlines():
                if line.startswith(self._prefix):
                    self._fired = True
                    self._on_line(line)
                    break
        return n


def headless(cfg, out: io.StringIO | None = None, **kw) -> tuple[int, str, str]:  # type: ignore[no-untyped-def]
    out = out if out is not None else io.StringIO()
    err = io.StringIO()
    code = run_headless(cfg, out=out, err=err, **kw)
    return code, out.getvalue(), err.getvalue()


def summary_line(stdout: str, i: int = 0) -> str:
    lines = stdout.splitlines()
    return lines[lines.index(SUMMARY) + 1 + i]


def test_a_joined_run_exits_0_with_tutorial_lines_summary_and_theory() -> None:
    code, out, err = headless(config())
    assert code == EXIT_OK and err == ""
    lines = out.splitlines()
    # The tutorial's lines were printed while it ran, before the summary.
    assert lines.index("Main found that all tasks are processed") < lines.index(SUMMARY)
    assert summary_line(out) == "5 puts, 5 gets, 5 task_done calls, 0 unfinished"
    assert "--- diagnosis ---" not in lines
    assert "queuelab:" not in out


def test_json_prints_one_object_and_no_tutorial_lines() -> None:
    code, out, err = headless(config(), as_json=True)
    assert code == EXIT_OK and err == ""
    doc = json.loads(out)  # the whole of stdout is one JSON object
    assert (doc["puts"], doc["task_dones"], doc["unfinished"]) == (5, 5, 0)
    assert doc["join_returned"] and doc["diagnosis"] == []
    assert "theory" in doc  # a joined run's numbers are compared with the theory


def test_a_joined_run_with_a_finding_prints_it_on_stdout() -> None:
    # join() called before the producer put anything: it returns at once, prematurely.
    cfg = config(join_order="queue_first", put_interval=const(0.2), tasks_per_producer=3)
    code, out, err = headless(cfg)
    assert code == EXIT_OK and err == ""
    lines = out.splitlines()
    found = lines[lines.index("--- diagnosis ---") + 1 :]
    assert found and found[0].startswith("- premature join: "), found


def test_a_hopeless_run_exits_3_and_says_why_on_stderr() -> None:
    code, out, err = headless(config(consumers=3, sentinels="single"))
    assert code == EXIT_ABNORMAL
    why, *found = err.splitlines()
    assert why.startswith("queuelab: the run can never end: "), err
    assert found and found[0].startswith("  - missing sentinels: 3 consumers, 1 sentinel"), err
    assert summary_line(out).endswith(" 0 unfinished")
    assert "--- diagnosis ---" not in out  # said once, on stderr
    assert "theory" not in json.loads(headless(config(consumers=3, sentinels="single"),
                                               as_json=True)[1])


def test_a_hang_timeout_ends_a_live_run_with_the_diagnosis() -> None:
    # The producer's second put is a minute away: alive, not hopeless, only the timeout ends it.
    cfg = config(join_order="queue_first", tasks_per_producer=2, put_interval=const(60.0))
    code, out, err = headless(cfg, hang_timeout=1.0)
    assert code == EXIT_ABNORMAL
    assert err.splitlines()[0] == "queuelab: the run did not end within 1 s of queue.join()"
    assert SUMMARY in out


def test_without_a_hang_timeout_a_slow_run_is_waited_for() -> None:
    # Puts 0.3 s apart with join() called at once: a long wait is not a hang by itself.
    cfg = config(join_order="queue_first", tasks_per_producer=3, put_interval=const(0.3))
    code, _out, err = headless(cfg, hang_timeout=None)
    assert code == EXIT_OK, err


def test_a_killed_worker_exits_3_naming_it() -> None:
    victim: list[int] = []

    def kill_consumer(_line: str) -> None:
        found = wait_for(lambda: titled(os.getpid(), "queuelab consumer-0"), 20.0)
        assert found, "no process titled 'queuelab consumer-0' below this one"
        victim.append(found[0].pid)
        os.kill(found[0].pid, signal.SIGKILL)

    cfg = config(consumers=2, sentinels="per_consumer", tasks_per_producer=40,
                 task_duration=const(0.5))
    out = Watched(".consumer-0 got (", kill_consumer)
    code, text, err = headless(cfg, out=out)
    assert code == EXIT_ABNORMAL and victim
    lines = err.splitlines()
    assert lines[0] == "queuelab: a worker died"
    assert lines[1].startswith(f"  - consumer-0 (pid {victim[0]}) died with exit code -9"), err
    assert SUMMARY in text


def test_ctrl_c_exits_130_with_the_summary() -> None:
    cfg = config(tasks_per_producer=50, task_duration=const(0.5))
    out = Watched(".consumer got (0, ", lambda _l: signal.raise_signal(signal.SIGINT))
    # What the caller had (default_int_handler; SIG_IGN when started with `&` from a script).
    before = signal.getsignal(signal.SIGINT)
    code, text, err = headless(cfg, out=out)
    assert code == EXIT_INTERRUPTED
    assert err.splitlines()[0] == "queuelab: interrupted; every worker was stopped"
    assert summary_line(text).endswith(" unfinished")
    assert "Main stopped the run (interrupted)" in text.splitlines()
    # The handler is given back: Ctrl+C after the run is the caller's again.
    assert signal.getsignal(signal.SIGINT) is before


def test_a_trace_is_written_that_replays_to_the_same_summary(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from engine.tracefile import read_trace

    path = tmp_path / "run.qltrace"
    code, out, _err = headless(config(), as_json=True, trace_path=str(path))
    assert code == EXIT_OK
    trace = read_trace(str(path))
    # Every record the summary counted is in the trace, fed before the summary was printed.
    assert trace.n_events == json.loads(out)["events"] > 0
    assert trace.config.tasks_per_producer == 4


def test_run_quiet_returns_the_code_and_the_fed_model_printing_nothing(capsys) -> None:  # type: ignore[no-untyped-def]
    code, problem, run = run_quiet(config())
    assert (code, problem) == (EXIT_OK, None)
    m = run.model
    assert (m.puts, m.task_dones, m.unfinished) == (5, 5, 0)
    assert capsys.readouterr() == ("", "")


def test_run_quiet_ends_a_hopeless_run_with_its_reason() -> None:
    code, problem, run = run_quiet(config(consumers=3, sentinels="single"))
    assert code == EXIT_ABNORMAL
    assert problem is not None and problem.startswith("the run can never end: ")
    assert run.ended


def test_run_quiet_gives_up_at_the_hang_timeout() -> None:
    cfg = config(join_order="queue_first", tasks_per_producer=2, put_interval=const(60.0))
    code, problem, _run = run_quiet(cfg, hang_timeout=1.0)
    assert (code, problem) == (EXIT_ABNORMAL, "the run did not end within 1 s of queue.join()")


class Count:
    """What run_quiet's ``signals`` must have: a count of Ctrl+C (a sweep's own counter)."""

    def __init__(self, n: int) -> None:
        self.count = n


@pytest.mark.parametrize("count, code", [(0, EXIT_OK), (1, EXIT_INTERRUPTED)])
def test_run_quiet_ends_the_run_when_its_signal_count_is_above_0(count: int, code: int) -> None:
    got, problem, run = run_quiet(config(), signals=Count(count))
    assert got == code
    if count:
        assert problem == "interrupted; every worker was stopped"
        assert run.ended and run.model.unfinished >= 0


def test_a_run_that_ends_within_its_hang_timeout_is_not_cut_short() -> None:
    # join() is called at once and the last put comes 0.6 s later: the timeout counts from
    # the join and only ends a run still going after it.
    cfg = config(join_order="queue_first", tasks_per_producer=3, put_interval=const(0.3))
    code, _out, err = headless(cfg, hang_timeout=60.0)
    assert code == EXIT_OK, err
    code, problem, _run = run_quiet(cfg, hang_timeout=60.0)
    assert (code, problem) == (EXIT_OK, None)


@pytest.mark.parametrize("ctrl_c, code", [(1, EXIT_OK), (2, EXIT_INTERRUPTED)])
def test_a_sweeps_first_ctrl_c_lets_the_run_in_progress_finish(ctrl_c: int, code: int) -> None:
    """A sweep hands run_quiet ``_Later(signals)``: one Ctrl+C is "stop after this run" (the
    run still joins), a second one ends the run too."""
    from engine.headless import _Later

    got, problem, run = run_quiet(config(), signals=_Later(Count(ctrl_c)))
    assert got == code
    if code == EXIT_OK:
        assert problem is None and run.end_reason == "joined"
        assert run.model.task_dones == 5
    else:
        assert problem == "interrupted; every worker was stopped"


def _stop_reasons(path: str) -> list[str]:
    from engine.events import Kind
    from engine.tracefile import read_trace

    trace = read_trace(path)
    return [r[2] for src, _first, records in trace.batches if src == 0
            for r in records if r[0] == Kind.STOP]  # fmt: skip


def test_run_quiet_records_why_it_stopped_a_run_in_its_trace(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A sweep's saved run says in the file why it was ended (replay and compare show it)."""
    path = str(tmp_path / "hopeless.qltrace")
    code, _problem, _run = run_quiet(config(consumers=3, sentinels="single"), trace_path=path)
    assert code == EXIT_ABNORMAL
    assert _stop_reasons(path)[:1] == ["it can never end"]


def test_a_run_ended_from_outside_is_abnormal_and_says_so(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A run that ends without joining (stopped by something else: the window, a signal
    handler) is not a success: exit 3 and its own reason."""
    import engine.headless
    from engine.runner import Run

    class StoppedFromOutside(Run):
        def poll(self, *args, **kw):  # type: ignore[no-untyped-def]
            if self.model.puts:
                self.stop(reason="stopped by the operator")
            return super().poll(*args, **kw)

    monkeypatch.setattr(engine.headless, "Run", StoppedFromOutside)
    cfg = config(tasks_per_producer=4, put_interval=const(0.2))
    code, problem, run = run_quiet(cfg)
    assert code == EXIT_ABNORMAL
    assert problem == "the run ended: stopped by the operator"
    assert run.end_reason == "stopped by the operator"


def test_the_parent_wakes_by_the_clock_not_for_every_batch_of_records() -> None:
    # On a 2-core machine whatever the parent does comes out of the workers it measures
    # (benchmarks/fidelity.py). Its loop used to wake for every batch that arrived (a worker
    # ships one per task at least): 2-3 wake-ups of the main thread per 20 ms task. Now it
    # looks every LIVE_PERIOD_S and feeds what came meanwhile.
    import resource
    import time

    from engine.headless import LIVE_PERIOD_S

    tasks = 100
    cfg = config(consumers=2, tasks_per_producer=tasks, task_duration=const(0.02),
                 sentinels="per_consumer")  # fmt: skip
    r0 = resource.getrusage(resource.RUSAGE_THREAD)
    t0 = time.perf_counter()
    code, problem, run = run_quiet(cfg)
    wall = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_THREAD)
    assert code == EXIT_OK, problem
    assert run.model.task_dones == tasks + 2
    wakeups = r1.ru_nvcsw - r0.ru_nvcsw
    # Generous: twice the clock's looks, plus the start's and the end's hand-shakes. Bounded
    # by the wall time this run took, so a loaded machine (a longer run) cannot fail it.
    bound = 2 * wall / LIVE_PERIOD_S + 60
    assert wakeups <= bound, f"{wakeups} wake-ups in {wall:.2f} s (bound {bound:.0f})"
