"""Issue 14, item 4: the user's own task function (workload = "module:function"), real processes."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from engine.codegen import generate_program
from engine.config import RunConfig, load_preset
from engine.events import Kind
from engine.own_function import FULL_TRACEBACKS, REPR_MAX, WorkloadError, resolve, short_repr
from engine.replay import replay_model
from engine.runner import Run, RunStatus
from engine.theory import theory_json
from engine.tracefile import read_trace

ROOT = Path(__file__).resolve().parent.parent
MAIN = str(ROOT / "main.py")
RUN_TIMEOUT_S = 60.0

TASKS = '''\
"""A user's module of task functions."""


def double(value):
    return value * 2


def picky(value):
    if value == 1:
        raise ValueError(f"no {value}")
    return value


def both(value, duration):
    return (value, duration)


def huge(value):
    return [value] * 2_000_000


def huge_text(value):
    return "x" * 5_000_000


def always_fails(value):
    return _check(value)


def _check(value):
    raise RuntimeError(f"bad {value}")


def heavy_modules(value):
    import sys

    return [m for m in ("PySide6", "pyqtgraph", "gui", "numpy", "main") if m in sys.modules]
'''


@pytest.fixture
def tasks_file(tmp_path: Path) -> Path:
    path = tmp_path / "user_tasks.py"
    path.write_text(TASKS)
    return path


def config(workload: str, **changes: object) -> RunConfig:
    base = RunConfig(workload=workload, tasks_per_producer=4, consumers=2, sentinels="per_consumer",
                     seed=3, task_duration="uniform(0.001, 0.01)")  # fmt: skip
    return base.replace(**changes)


def finished(cfg: RunConfig) -> Run:
    with Run(cfg) as run:
        assert run.wait(RUN_TIMEOUT_S), "the run did not end"
        run.drain(0.1)
    assert run.end_reason == "joined"
    return run


def cli(*args: str, cwd: str | Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, MAIN, *args], capture_output=True, text=True,
                          cwd=cwd, timeout=180)  # fmt: skip


# ------------------------------------------------------------------ calling and recording


def test_what_the_function_returns_is_recorded_per_task(tasks_file: Path) -> None:
    run = finished(config(f"{tasks_file}:double"))
    m = run.model
    assert m.task_results == {i: repr(2 * i) for i in range(4)}
    assert m.failures == 0 and m.task_dones == 4 + 2  # four tasks and two sentinels


def test_a_two_argument_function_gets_the_task_duration_in_seconds(tasks_file: Path) -> None:
    run = finished(config(f"{tasks_file}:both", time_scale=0.5))
    m = run.model
    values = {m.tasks[tid].label: m.tasks[tid].value for tid in m.tasks if m.tasks[tid].label >= 0}
    assert m.task_results == {i: short_repr((i, v * 0.5)) for i, v in values.items()}


def test_a_raising_function_fails_its_task_with_the_traceback(tasks_file: Path) -> None:
    run = finished(config(f"{tasks_file}:picky"))
    m = run.model
    assert m.failures == 1
    assert set(m.task_results) == {0, 2, 3}
    ((_t, text),) = m.task_tracebacks[1]
    assert text.startswith("Traceback (most recent call last):")
    assert f'File "{tasks_file}", line 10, in picky' in text
    assert text.endswith("ValueError: no 1")
    assert "workers.py" not in text  # QueueLab's own frame is left out
    assert any(e == "ValueError: no 1" for w in m.workers.values() for e in w.errors)
    # on_failure = task_done: the failed task was marked done, so join() returned.
    assert m.unfinished == 0


def test_on_failure_retry_retries_what_the_function_raised(tasks_file: Path) -> None:
    # One producer: without failure_rate it would put its sentinels right after its tasks,
    # and a retry re-put behind them would never be taken (the run could not end).
    run = finished(config(f"{tasks_file}:picky", on_failure="retry", max_retries=2))
    m = run.model
    assert m.failures == 3 and m.retries == 2
    assert len(m.task_tracebacks[1]) == 3


def test_large_return_values_are_recorded_shortened(tasks_file: Path) -> None:
    for name in ("huge", "huge_text"):
        run = finished(config(f"{tasks_file}:{name}", tasks_per_producer=6))
        results = run.model.task_results
        assert len(results) == 6
        for text in results.values():
            assert len(text) <= REPR_MAX and (text.endswith("…") or text.endswith(", ...]"))
        assert results[0].startswith("[0, 0, 0" if name == "huge" else "'xxxx")


def test_a_worker_calling_it_stays_lean(tasks_file: Path) -> None:
    # Only the engine and the user's module: no Qt, no numpy, no window, no command line.
    run = finished(config(f"{tasks_file}:heavy_modules", tasks_per_producer=2))
    assert run.model.task_results == {0: "[]", 1: "[]"}


def test_theory_uses_the_functions_measured_service_not_task_duration(tasks_file: Path) -> None:
    # task_duration says 5 s a task; double() takes microseconds. The batch bound from
    # task_duration would be 10 s, far above the real makespan.
    cfg = config(f"{tasks_file}:double", task_duration="constant(5)")
    run = finished(cfg)
    batch = theory_json(run.model, cfg, os.cpu_count())["batch"]
    assert 0 < batch["makespan_lower_bound_s"] <= batch["makespan_s"]
    # Open arrivals: the prediction's service is the measured one, and says so.
    cfg = config(f"{tasks_file}:double", task_duration="constant(5)", tasks_per_producer=6,
                 put_interval="constant(0.01)")  # fmt: skip
    run = finished(cfg)
    pred = theory_json(run.model, cfg, os.cpu_count())["prediction"]
    assert "measured" in pred["note"] and pred["utilisation"] < 0.5


def test_a_function_failing_on_every_task_keeps_later_tracebacks_short(tasks_file: Path) -> None:
    cfg = config(f"{tasks_file}:always_fails", consumers=1, sentinels="single",
                 tasks_per_producer=FULL_TRACEBACKS + 20, task_duration="constant(0)")  # fmt: skip
    m = finished(cfg).model
    texts = [m.task_tracebacks[i][0][1] for i in range(FULL_TRACEBACKS + 20)]
    assert all("in always_fails" in t and "in _check" in t for t in texts[:FULL_TRACEBACKS])
    for i, t in enumerate(texts[FULL_TRACEBACKS:], FULL_TRACEBACKS):
        assert "in always_fails" not in t and "in _check" in t and t.endswith(f"bad {i}")


# ------------------------------------------------------------------ refused before starting

BROKEN = {
    "missing module": ("no_such_module_q7:f", "no_such_module_q7"),
    "missing function": ("{tasks}:nope", "has no function 'nope'"),
    "missing file": ("{dir}/absent.py:f", "no such file"),
    "not callable": ("{dir}/consts.py:X", "is not callable"),
    "syntax error": ("{dir}/broken.py:f", "line 2: SyntaxError"),
    "import raises": ("{dir}/raising.py:f", "raised ZeroDivisionError"),
    "no argument": ("{dir}/noarg.py:f", "takes no argument"),
}


@pytest.fixture
def broken_dir(tmp_path: Path, tasks_file: Path) -> Path:
    (tmp_path / "consts.py").write_text("X = 3\n")
    (tmp_path / "broken.py").write_text("def f(x):\n    return x +\n")
    (tmp_path / "raising.py").write_text("1 / 0\ndef f(x):\n    return x\n")
    (tmp_path / "noarg.py").write_text("def f():\n    return 1\n")
    return tmp_path


def _workload(spec: str, tasks: Path, folder: Path) -> str:
    return spec.format(tasks=tasks, dir=folder)


@pytest.mark.parametrize("case", list(BROKEN))
def test_run_refuses_a_workload_that_cannot_be_used_before_any_process(
    case: str, broken_dir: Path, tasks_file: Path
) -> None:
    spec, words = BROKEN[case]
    run = Run(config(_workload(spec, tasks_file, broken_dir)))
    with pytest.raises(WorkloadError, match=re.escape(words)):
        run.start()
    assert run.processes == {} and run.status is RunStatus.IDLE


@pytest.mark.parametrize("command", ["run", "sweep", "code"])
@pytest.mark.parametrize("case", ["missing module", "syntax error", "not callable"])
def test_commands_exit_2_with_one_line_naming_the_module(
    command: str, case: str, broken_dir: Path, tasks_file: Path
) -> None:
    spec, words = BROKEN[case]
    workload = _workload(spec, tasks_file, broken_dir)
    trace = broken_dir / "never.qltrace"
    extra = {"run": ["--trace", str(trace)], "sweep": ["--param", "consumers=1,2"], "code": []}
    done = cli(command, "--set", f"workload={workload}", *extra[command])
    assert done.returncode == 2, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    where = workload.rpartition(":")[0]
    assert lines[0].startswith("queuelab: error: workload = ") and where in lines[0]
    assert words in lines[0]
    assert done.stdout == ""  # no tutorial line, no progress, no program: nothing started
    assert not trace.exists()


# ------------------------------------------------------------------ trace files and replay


def test_the_results_round_trip_through_a_trace_file(tasks_file: Path, tmp_path: Path) -> None:
    path = tmp_path / "own.qltrace"
    done = cli("run", "--set", f"workload={tasks_file}:picky", "--set", "tasks_per_producer=4",
               "--set", "consumers=2", "--set", "sentinels=per_consumer",
               "--set", "task_duration=constant(0.001)", "--trace", str(path))  # fmt: skip
    assert done.returncode == 0, done.stderr
    records = [r for _, _, rs in read_trace(path).batches for r in rs if r[0] == Kind.TASK_RESULT]
    assert sorted((r[3], r[4].splitlines()[-1]) for r in records) == [
        (0, "ValueError: no 1"), (1, "0"), (1, "2"), (1, "3")
    ]  # fmt: skip
    m = replay_model(read_trace(path))
    assert m.task_results == {0: "0", 2: "2", 3: "3"}
    assert m.task_tracebacks[1][0][1].endswith("ValueError: no 1")
    # The run's own lines say what each task returned.
    assert ".consumer-" in done.stdout and "got (2, 0.001), returned 2" in done.stdout


# ------------------------------------------------------------------ main.py code, the preset


def _outcomes(text: str) -> list[str]:
    """What each task returned or raised, as a run's output says it, whichever consumer."""
    keep = [line for line in text.splitlines() if ", returned " in line or " failed on (" in line]
    return sorted(re.sub(r"^([.!])consumer(-\d+)?", r"\1consumer", line) for line in keep)


def test_the_generated_program_calls_the_function_the_same_way(
    tasks_file: Path, tmp_path: Path
) -> None:
    for name in ("picky", "both"):
        cfg = config(f"{tasks_file}:{name}", tasks_per_producer=5, time_scale=0.5)
        program = generate_program(cfg, own=resolve(cfg.workload))
        assert f"from user_tasks import {name}" in program
        path = tmp_path / f"program_{name}.py"
        path.write_text(program)
        # Run plainly, from elsewhere: the program finds the module by itself.
        plain = subprocess.run([sys.executable, "-I", str(path)], capture_output=True,
                               text=True, cwd="/", timeout=120)  # fmt: skip
        assert plain.returncode == 0, plain.stderr
        ours = cli("run", "--set", f"workload={tasks_file}:{name}", "--set", "tasks_per_producer=5",
                   "--set", "time_scale=0.5", "--set", "seed=3", "--set", "consumers=2",
                   "--set", "sentinels=per_consumer",
                   "--set", "task_duration=uniform(0.001, 0.01)")  # fmt: skip
        assert ours.returncode == 0, ours.stderr
        assert _outcomes(plain.stdout) == _outcomes(ours.stdout) != []
        if name == "picky":
            assert "!consumer failed on (1, " in "\n".join(_outcomes(plain.stdout))


def test_a_module_is_found_from_the_current_directory(tasks_file: Path) -> None:
    done = cli("run", "--json", "--set", "workload=user_tasks:double", cwd=tasks_file.parent)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["failures"] == 0


def test_the_own_function_preset_runs_headless_and_its_program_agrees(tmp_path: Path) -> None:
    cfg = load_preset("own-function")
    assert cfg.workload == "resources.examples.own_function:fingerprint"
    done = cli("run", "--preset", "own-function", "--set", "tasks_per_producer=4", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    outcomes = _outcomes(done.stdout)
    assert len(outcomes) == 4 and all(re.search(r"returned '[0-9a-f]{12}'$", x) for x in outcomes)
    code = cli("code", "--preset", "own-function", cwd=tmp_path)
    assert code.returncode == 0, code.stderr
    path = tmp_path / "own.py"
    path.write_text(code.stdout.replace("range(12)", "range(4)"))
    plain = subprocess.run([sys.executable, "-I", str(path)], capture_output=True, text=True,
                           cwd=tmp_path, timeout=120, env={**os.environ})  # fmt: skip
    assert plain.returncode == 0, plain.stderr
    assert _outcomes(plain.stdout) == outcomes
