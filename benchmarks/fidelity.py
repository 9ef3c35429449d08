"""Fidelity: QueueLab's throughput against the plain program ``main.py code`` writes, same config.

Goal: every ratio QueueLab ÷ plain within 0.90-1.10, so that a figure QueueLab shows is the
figure the user's own standard-library program would give.

For each cell of consumers (1, 2, 4, 8) x workload (cpu, sleep) x task size (0, 1 ms, 20 ms)
one configuration (1 producer, constant task_duration, put_interval 0, per-consumer sentinels,
a fixed seed, the default start method unless --start-method) is run both ways, alternated
within each repeat so drift on a shared machine hits both sides alike:

  queuelab  ``python main.py run --json --config cell.toml`` (the config written by
            engine.config.save_config); its ``throughput_per_s``: completed tasks ÷ makespan,
            from RUN_START (just before the processes are created) to queue.join()'s return.
  plain     ``python -I program.py`` in a temporary folder, the program being
            ``generate_program(cfg, narrate=False)`` (no per-task prints, since QueueLab's
            workers print none) with exactly two lines injected into its main block: a clock
            read just before the processes are created and, after ``queue.join()`` returns, a
            marked line with completed tasks ÷ that span.

The default config's program calls no set_start_method (it would run on Python's own default, fork
on Linux before 3.14): the benchmark adds one line that puts it on QueueLab's start method, so
both sides start their processes the same way (``--start-method`` chooses it for both).

Unfair before, and why (issue 11's fidelity work):

- cpu tasks are a calibrated number of loop iterations, and each side calibrated its own speed:
  two calibrations on a loaded 2-core machine were seen 28-82 M iterations/s apart, so a cpu
  cell's ratio was partly the ratio of two calibrations, not of two throughputs. The benchmark
  now calibrates once (``cpu_speed`` in the output) and gives the figure to both sides:
  QueueLab through ``QUEUELAB_CPU_SPEED`` (engine/cpuwork.py), the plain program through one
  more line after its own ``speed = calibrate()``. Both still calibrate (before the clock
  starts), so they do the same things; ``--own-calibration`` restores the old behaviour.
- The forkserver's start-up was inside both clocks but not alike: QueueLab's server imports
  the engine (~70 ms of CPU; its first worker started 1.1 s after RUN_START at load 9, the
  plain program's first get came 0.4 s after its clock). QueueLab now starts and waits for its
  server before RUN_START (once per session: later runs of a window never had it in their
  figure either), and the benchmark starts the plain program's before its clock the same way
  (one more line: a no-op child), so neither side counts its server's start-up.

The parent's own cost is not the benchmark's to hide, it is what QueueLab does: measured with
RUSAGE_THREAD per thread during the run (c=2, cpu, 20 ms tasks, load ~10), the headless
parent took ~1.3 ms of CPU per task in its main loop (woken by every batch, feeding the model
unbounded), ~0.5 ms in the join poll (a look every 2 ms) and ~0.3 ms in the collector: on 2
cores all of it comes out of the workers. Now ~0.7, ~0.15 and ~0.25 ms (engine/headless.py,
engine/join_pace.py; the collector is unchanged).

Both must exit 0. Each cell's task count is chosen so that a run lasts about 1-2 s (the cpu
workload is bound by the cores: no faster past their number). Prints the machine, then a table
of median tasks/s per side and their ratio; ``--json`` prints one line with ``worst_ratio_low``,
``worst_ratio_high`` and ``grid`` (consumers, workload, task_s, tasks, queuelab_per_s,
plain_per_s, ratio, and every repeat's figures).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine import cpuwork  # noqa: E402
from engine.codegen import generate_program  # noqa: E402
from engine.config import RunConfig, default_start_method, save_config  # noqa: E402
from engine.distributions import Distribution  # noqa: E402

GOAL = (0.90, 1.10)
CONSUMERS = (1, 2, 4, 8)
WORKLOADS = ("cpu", "sleep")
SIZES_MS = (0.0, 1.0, 20.0)
TARGET_S = 1.5  # the work each run should last (start-up comes on top)
# 0 ms tasks are bound by the transport, not the work: a plain program moves 50,000-100,000
# no-op cpu tasks/s on 2 cores, but only ~12,000/s of sleep(0.0) ones (each sleep(0.0) is a
# real nanosleep of ~80 us: the kernel's 50 us timer slack), so they get different counts.
NOOP_TASKS = {"cpu": 60_000, "sleep": 20_000}
SEED = 1
RUN_TIMEOUT_S = 600.0

MARK = "FIDELITY_THROUGHPUT"
_T0_LINE = "    import time as _fidelity_time; _fidelity_t0 = _fidelity_time.perf_counter()"
# forkserver: the plain program's server is started and waited for before its clock starts, as
# QueueLab's is before its RUN_START (engine/runner.py): a no-op child forks once it is ready.
_WARM_LINE = (
    "    _fidelity_w = __import__('multiprocessing').Process(target=int); "
    "_fidelity_w.start(); _fidelity_w.join()"
)
_END_LINE = (
    "    _fidelity_s = _fidelity_time.perf_counter() - _fidelity_t0; "
    "print(f'" + MARK + " {{{tasks} / _fidelity_s!r}} {{_fidelity_s!r}}', flush=True)"
)
_RESULT = re.compile(rf"{MARK} (\S+) (\S+)")


def cores() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def tasks_for(consumers: int, workload: str, task_s: float, scale: float) -> int:
    """Tasks that keep the consumers busy about TARGET_S: work is conserved on the cores."""
    if task_s <= 0:
        n = NOOP_TASKS[workload]
    else:
        lanes = min(consumers, cores()) if workload == "cpu" else consumers
        n = round(TARGET_S * lanes / task_s)
    return max(2 * consumers, round(n * scale))


def make_config(consumers: int, workload: str, task_s: float, tasks: int,
                start_method: str) -> RunConfig:  # fmt: skip
    return RunConfig(
        producers=1,
        consumers=consumers,
        tasks_per_producer=tasks,
        task_duration=Distribution.constant(task_s),
        put_interval=Distribution.constant(0),
        workload=workload,
        sentinels="per_consumer",
        seed=SEED,
        start_method=start_method,
    )


def instrument(program: str, tasks: int, start_method: str, speed: float | None = None) -> str:
    """The program with the two timing lines in its main block; refuses if it cannot place both.

    ``speed`` (cpu workload): one more line after the program's own ``speed = calibrate()``
    sets the speed QueueLab is given too, so both sides run the same iterations per task.

    A program whose config keeps QueueLab's default start method calls no set_start_method and
    would run on Python's own default (fork on Linux before 3.14): one more line puts it on the
    start method QueueLab used, so both sides start their processes the same way.

    Start: just before the first process is created (the producer). End: right after the main
    block's last ``queue.join()`` (the one that waits for every task, sentinels excluded).
    forkserver: a no-op child before the start, so the server's start-up is outside the clock
    on both sides (QueueLab starts and waits for its own before RUN_START).
    """
    lines = program.splitlines()
    main = lines.index("if __name__ == '__main__':")
    create = re.compile(r"    (producer_process|producer_processes) = .*")
    starts = [i for i in range(main, len(lines)) if create.fullmatch(lines[i])]
    joins = [i for i in range(main, len(lines)) if lines[i] == "    queue.join()"]
    if len(starts) != 1 or len(joins) != 1 or joins[0] < starts[0]:
        raise RuntimeError(f"cannot place the timing lines: creates {starts}, joins {joins}")
    s, j = starts[0], joins[0]
    warm = [_WARM_LINE] if start_method == "forkserver" else []
    out = [*lines[:s], *warm, _T0_LINE, *lines[s : j + 1], _END_LINE.format(tasks=tasks),
           *lines[j + 1 :]]  # fmt: skip
    if speed is not None:
        at = out.index("    speed = calibrate()")
        out.insert(at + 1, f"    speed = {speed!r}  # fidelity.py: QueueLab's speed too")
    if not any("set_start_method(" in line for line in lines[main:]):
        same = f"    __import__('multiprocessing').set_start_method({start_method!r}, force=True)"
        out.insert(main + 1, same)
    text = "\n".join(out) + "\n"
    assert text.count(_T0_LINE) == 1 and text.count(MARK) == 1, "timing lines not injected"
    compile(text, "program.py", "exec")
    return text


def _run(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """Run cmd in its own process group; whatever it left behind is killed afterwards."""
    proc = subprocess.Popen(
        cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True, env=env,
    )  # fmt: skip
    try:
        out, err = proc.communicate(timeout=RUN_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        raise SystemExit(f"timed out after {RUN_TIMEOUT_S:g} s: {' '.join(cmd)}\n{err}") from None
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    return proc.returncode, out, err


def run_queuelab(cfg: RunConfig, folder: Path, speed: float | None = None) -> float:
    path = folder / "cell.toml"
    save_config(cfg, path)
    env = dict(os.environ)
    env.pop(cpuwork.SPEED_ENV, None)
    if speed is not None:
        env[cpuwork.SPEED_ENV] = repr(speed)
    code, out, err = _run(
        [sys.executable, str(ROOT / "main.py"), "run", "--json", "--config", str(path)], ROOT, env
    )
    if code != 0:
        raise SystemExit(f"QueueLab run exited {code}\n{out}\n{err}")
    summary = json.loads(out.strip().splitlines()[-1])
    total = cfg.producers * cfg.tasks_per_producer
    done = round(summary["throughput_per_s"] * summary["makespan_s"])
    if not summary["join_returned"] or done != total:
        raise SystemExit(f"QueueLab run incomplete: {done} of {total} tasks\n{out}")
    return float(summary["throughput_per_s"])


def run_plain(cfg: RunConfig, folder: Path, speed: float | None = None) -> float:
    total = cfg.producers * cfg.tasks_per_producer
    path = folder / "program.py"
    program = generate_program(cfg, narrate=False)
    path.write_text(instrument(program, total, cfg.start_method, speed), encoding="utf-8")
    code, out, err = _run([sys.executable, "-I", str(path)], folder)
    if code != 0:
        raise SystemExit(f"plain program exited {code}\n{out}\n{err}")
    found = [m for line in out.splitlines() if (m := _RESULT.fullmatch(line))]
    if len(found) != 1 or "Main found that all tasks are processed" not in out:
        raise SystemExit(f"plain program printed no single result line\n{out}\n{err}")
    return float(found[0].group(1))


@dataclass
class Cell:
    consumers: int
    workload: str
    task_s: float
    tasks: int
    queuelab: list[float] = field(default_factory=list)
    plain: list[float] = field(default_factory=list)

    @property
    def queuelab_per_s(self) -> float:
        return statistics.median(self.queuelab)

    @property
    def plain_per_s(self) -> float:
        return statistics.median(self.plain)

    @property
    def ratio(self) -> float:
        return self.queuelab_per_s / self.plain_per_s

    def as_json(self) -> dict[str, object]:
        return {
            "consumers": self.consumers,
            "workload": self.workload,
            "task_s": self.task_s,
            "tasks": self.tasks,
            "queuelab_per_s": round(self.queuelab_per_s, 2),
            "plain_per_s": round(self.plain_per_s, 2),
            "ratio": round(self.ratio, 4),
            "queuelab_runs": [round(x, 2) for x in self.queuelab],
            "plain_runs": [round(x, 2) for x in self.plain],
        }


def machine() -> dict[str, object]:
    return {
        "cpus": os.cpu_count(),
        "usable_cpus": cores(),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def load1() -> float:
    return round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else float("nan")


def measure(cell: Cell, repeats: int, start_method: str, speed: float | None, log: object) -> None:
    cfg = make_config(cell.consumers, cell.workload, cell.task_s, cell.tasks, start_method)
    speed = speed if cell.workload == "cpu" else None
    with tempfile.TemporaryDirectory(prefix="queuelab-fidelity-") as tmp:
        folder = Path(tmp)
        for r in range(repeats):
            # Alternated: the side that runs second in one repeat runs first in the next.
            for side in ("queuelab", "plain") if r % 2 == 0 else ("plain", "queuelab"):
                if side == "queuelab":
                    rate = run_queuelab(cfg, folder, speed)
                else:
                    rate = run_plain(cfg, folder, speed)
                getattr(cell, side).append(rate)
                print(
                    f"  c={cell.consumers} {cell.workload:5} {cell.task_s * 1000:4g} ms "
                    f"{cell.tasks:>6} tasks  {side:8} {rate:10.1f} tasks/s",
                    file=log,  # type: ignore[arg-type]
                    flush=True,
                )


def _spread(runs: list[float]) -> str:
    """max ÷ min of one side's repeats: how much the machine moved under this cell."""
    return f"{max(runs) / min(runs):.2f}" if len(runs) > 1 else "-"


def _table(cells: list[Cell]) -> list[str]:
    head = (
        f"{'consumers':>9}  {'workload':8}  {'task':>6}  {'tasks':>6}  {'QueueLab/s':>11}  "
        f"{'spread':>6}  {'plain/s':>11}  {'spread':>6}  {'ratio':>6}"
    )
    rows = [head, "-" * len(head)]
    for c in cells:
        flag = "" if GOAL[0] <= c.ratio <= GOAL[1] else "  <- outside 0.90-1.10"
        rows.append(
            f"{c.consumers:>9}  {c.workload:8}  {c.task_s * 1000:4g}ms  {c.tasks:>6}  "
            f"{c.queuelab_per_s:>11.1f}  {_spread(c.queuelab):>6}  {c.plain_per_s:>11.1f}  "
            f"{_spread(c.plain):>6}  {c.ratio:>6.3f}{flag}"
        )
    if any(len(c.queuelab) > 1 for c in cells):
        rows.append("(spread: fastest ÷ slowest repeat of that side; large = a noisy machine)")
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=None, help="runs per side (default 3; 1 quick)")
    ap.add_argument("--quick", action="store_true", help="half the tasks, 1 repeat")
    ap.add_argument("--consumers", type=int, nargs="+", default=list(CONSUMERS))
    ap.add_argument("--workloads", nargs="+", default=list(WORKLOADS), choices=WORKLOADS)
    ap.add_argument("--sizes", type=float, nargs="+", default=list(SIZES_MS), metavar="MS",
                    help="task sizes in milliseconds (default 0 1 20)")  # fmt: skip
    ap.add_argument("--start-method", default=default_start_method(),
                    choices=("forkserver", "spawn", "fork"),
                    help="both sides' start method (default: QueueLab's default)")  # fmt: skip
    ap.add_argument("--own-calibration", action="store_true",
                    help="each side calibrates its own cpu speed (adds noise)")  # fmt: skip
    ap.add_argument("--json", action="store_true", help="print one JSON line")
    args = ap.parse_args()
    repeats = args.repeats if args.repeats is not None else (1 if args.quick else 3)
    scale = 0.5 if args.quick else 1.0
    if repeats < 1 or any(c < 1 for c in args.consumers) or any(s < 0 for s in args.sizes):
        ap.error("repeats and consumers must be >= 1, sizes >= 0")

    info = machine()
    load_before = load1()
    pinned = "cpu" in args.workloads and not args.own_calibration
    speed = cpuwork.calibrate() if pinned else None
    log = sys.stderr if args.json else sys.stdout
    if not args.json:
        print(f"machine: {info['cpus']} cpus ({info['usable_cpus']} usable), Python "
              f"{info['python']}, {info['platform']}")  # fmt: skip
        print(f"load average (1 min) before: {load_before}")
        if speed is not None:
            print(f"cpu tasks: {speed / 1e6:.1f} M loop iterations per second on both sides")
        print(f"start method {args.start_method}; medians of {repeats}; goal: every ratio "
              f"within {GOAL[0]:.2f}-{GOAL[1]:.2f}", flush=True)  # fmt: skip
    cells: list[Cell] = []
    for c in args.consumers:
        for workload in args.workloads:
            for ms in args.sizes:
                task_s = ms / 1000
                cell = Cell(c, workload, task_s, tasks_for(c, workload, task_s, scale))
                measure(cell, repeats, args.start_method, speed, log)
                cells.append(cell)
    load_after = load1()
    ratios = [c.ratio for c in cells]
    low, high = min(ratios), max(ratios)
    if args.json:
        print(json.dumps({
            "worst_ratio_low": round(low, 4),
            "worst_ratio_high": round(high, 4),
            "within_goal": GOAL[0] <= low and high <= GOAL[1],
            "goal": list(GOAL),
            "repeats": repeats,
            "quick": args.quick,
            "start_method": args.start_method,
            "cpu_speed": speed,
            **info,
            "load_1min_before": load_before,
            "load_1min_after": load_after,
            "grid": [c.as_json() for c in cells],
        }))  # fmt: skip
        return 0
    print()
    print("\n".join(_table(cells)))
    inside = sum(GOAL[0] <= r <= GOAL[1] for r in ratios)
    print(f"\nratio QueueLab ÷ plain: lowest {low:.3f}, highest {high:.3f}; "
          f"{inside} of {len(ratios)} cells within {GOAL[0]:.2f}-{GOAL[1]:.2f}")  # fmt: skip
    print(f"load average (1 min) after: {load_after}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
