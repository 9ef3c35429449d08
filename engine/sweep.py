"""Parameter sweeps over real runs: parse ``--param KEY=SPEC``, run each point N times, summarise.

Each run goes through :func:`engine.headless.run_quiet`, the same Run and the same end rules
(hopeless, hang timeout) as ``main.py run``. Statistics and the scalability fit are pure and
live in :mod:`engine.sweep_report` and :mod:`engine.usl`.
"""

from __future__ import annotations

import itertools
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from engine.config import FIELDS, RunConfig
from engine.distributions import PARAM_NAMES, Distribution, format_number
from engine.workers import sentinel_count

# `cores` sweeps 1 … cpu_count() and this many beyond, to show what oversubscription does.
CORES_BEYOND = 2
MAX_POINTS = 200  # a typo like 1..100000 should be refused, not started

_SPECS = {spec.name: spec for spec in FIELDS}


class SweepError(ValueError):
    """A bad --param: the message is one line naming the problem (exit 2)."""


@dataclass(frozen=True)
class Param:
    key: str  # a config field ("consumers") or a distribution's parameter ("task_duration.mean")
    values: tuple[float, ...]

    @property
    def integral(self) -> bool:
        return all(float(v).is_integer() for v in self.values)


def _number(text: str, where: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise SweepError(f"{where}: {text.strip()!r} is not a number") from None
    if not math.isfinite(value):
        raise SweepError(f"{where}: {text.strip()!r} is not a finite number")
    return value


def _values(spec: str, where: str, cpus: int) -> tuple[float, ...]:
    """A list (1,2,4), a range (1..8, 1..16:2, 0.5..2:0.5) or `cores`."""
    text = spec.strip()
    if text == "cores":
        return tuple(float(n) for n in range(1, cpus + CORES_BEYOND + 1))
    if ".." in text:
        lo_text, _, rest = text.partition("..")
        hi_text, colon, step_text = rest.partition(":")
        lo, hi = _number(lo_text, where), _number(hi_text, where)
        step = _number(step_text, where) if colon else 1.0
        if step <= 0:
            raise SweepError(f"{where}: the step of a range must be above 0 (got {step_text})")
        if hi < lo:
            raise SweepError(f"{where}: a range goes from low to high (got {text})")
        count = math.floor((hi - lo) / step + 1e-9) + 1
        if count > MAX_POINTS:
            raise SweepError(f"{where}: {count} values; at most {MAX_POINTS} per parameter")
        return tuple(round(lo + i * step, 12) for i in range(count))
    if not text:
        raise SweepError(f"{where}: no values (expected a list such as 1,2,4, a range such as "
                         "1..8 or 1..16:2, or cores)")  # fmt: skip
    parts = [p for p in text.split(",")]
    if any(not p.strip() for p in parts):
        raise SweepError(f"{where}: an empty item in the list {text!r}")
    values = tuple(_number(p, where) for p in parts)
    if len(values) > MAX_POINTS:
        raise SweepError(f"{where}: {len(values)} values; at most {MAX_POINTS} per parameter")
    return values


def numeric_keys() -> list[str]:
    """Every key a sweep can vary: numeric fields and each distribution's mean."""
    keys = [s.name for s in FIELDS if s.type in ("int", "float", "optional_int")]
    keys += [f"{s.name}.mean" for s in FIELDS if s.type == "distribution"]
    return keys


def apply_value(cfg: RunConfig, key: str, value: float) -> RunConfig:
    """``cfg`` with ``key`` set to ``value``; raises SweepError or ConfigError when it cannot be.

    ``DIST.mean`` scales the whole distribution so its mean becomes ``value`` (its shape and
    coefficient of variation stay); ``DIST.low`` and the like set that one parameter.
    """
    name, _, part = key.partition(".")
    spec = _SPECS.get(name)
    if spec is None:
        raise SweepError(f"--param {key}: unknown key; numeric keys: {', '.join(numeric_keys())}")
    if spec.type == "distribution":
        dist: Distribution = getattr(cfg, name)
        if not part:
            raise SweepError(f"--param {key}: a distribution is swept by one of its numbers, "
                             f"e.g. {name}.mean")  # fmt: skip
        if part == "mean":
            old = dist.mean
            if dist.kind == "constant" or old <= 0:
                new = Distribution.constant(value) if old <= 0 else Distribution(
                    dist.kind, tuple(p * value / old for p in dist.params))
            else:
                new = Distribution(dist.kind, tuple(p * value / old for p in dist.params))
        elif part in PARAM_NAMES[dist.kind]:
            params = list(dist.params)
            params[PARAM_NAMES[dist.kind].index(part)] = value
            new = Distribution(dist.kind, tuple(params))
        else:
            names = ", ".join(f"{name}.{p}" for p in ("mean", *PARAM_NAMES[dist.kind]))
            raise SweepError(f"--param {key}: {name} is {dist}; it can be swept by {names}")
        return cfg.replace(**{name: new})
    if part:
        raise SweepError(f"--param {key}: {name} has no parts to sweep")
    if spec.type in ("int", "optional_int"):
        if not float(value).is_integer():
            raise SweepError(f"--param {key}={format_number(value)}: {name} takes whole numbers")
        return cfg.replace(**{name: int(value)})
    if spec.type == "float":
        return cfg.replace(**{name: float(value)})
    raise SweepError(f"--param {key}: {name} is not numeric; numeric keys: "
                     f"{', '.join(numeric_keys())}")  # fmt: skip


def parse_param(text: str, base: RunConfig, cpus: int | None = None) -> Param:
    """``KEY=SPEC`` into a Param whose every value was checked against ``base``."""
    key, sep, spec = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise SweepError(f"--param {text!r}: expected KEY=SPEC, e.g. consumers=1,2,4")
    values = _values(spec, f"--param {key}", cpus or os.cpu_count() or 1)
    if len(set(values)) != len(values):
        raise SweepError(f"--param {key}: a value is listed twice in {spec.strip()!r}")
    from engine.config import ConfigError

    for v in values:
        try:
            apply_value(base, key, v)
        except ConfigError as exc:
            raise SweepError(f"--param {key}={format_number(v)}: {exc}") from None
    return Param(key, values)


def parse_params(texts: list[str], base: RunConfig, cpus: int | None = None) -> list[Param]:
    """One or two ``KEY=SPEC`` (a grid) into Params; SweepError names what is wrong."""
    params = [parse_param(t, base, cpus) for t in texts]
    keys = [p.key for p in params]
    if not params:
        raise SweepError("nothing to sweep: give a parameter, e.g. consumers=1,2,4")
    if len(set(keys)) != len(keys):
        raise SweepError(f"--param {keys[0]}: the same key is swept twice")
    if len(params) > 2:
        raise SweepError("at most two --param (a grid); got " + str(len(params)))
    for point in grid(base, params):
        problem = _never_ends(point.cfg)
        if problem:
            at = ", ".join(f"{k}={format_number(v)}" for k, v in point.values.items())
            raise SweepError(f"--param {at}: {problem}")
    return params


def _never_ends(cfg: RunConfig) -> str | None:
    """Why no run of ``cfg`` could ever end by its own making, or None.

    Too few sentinels is the tutorial's lesson (preset one-sentinel-many-consumers): a run
    shows it, but a sweep would only repeat the same hang at every point it measures.
    """
    given = sentinel_count(cfg)
    if given >= cfg.consumers:
        return None
    return (
        f'sentinels = "{cfg.sentinels}" puts {given or "no"} None for {cfg.consumers} '
        f"consumers: {cfg.consumers - given} would wait in get() forever, so no run could "
        'end; sweep with sentinels = "per_consumer" (--set sentinels=per_consumer, or '
        "Sentinels: per_consumer in the window)"
    )


# ---------------------------------------------------------------------------- running


@dataclass
class RunResult:
    """What one run of one point measured (times in seconds)."""

    code: int
    problem: str | None
    throughput: float  # tasks done ÷ the work's window (first put → last task_done)
    makespan: float  # as `run --json` reports it: from the start, process start-up included
    mean_wait: float
    mean_service: float
    utilisation: float  # the consumers' busy share of the work window
    little_ratio: float | None = None
    trace: str | None = None


@dataclass
class Point:
    values: dict[str, float]
    cfg: RunConfig
    runs: list[RunResult] = field(default_factory=list)

    @property
    def failed(self) -> list[RunResult]:
        return [r for r in self.runs if r.code != 0]


def measure(run: object, code: int, problem: str | None, trace: str | None) -> RunResult:
    """A RunResult from an ended :class:`engine.runner.Run`."""
    from engine.theory import littles_law

    m = run.model  # type: ignore[attr-defined]
    s = m.summary()
    done = len(m.done_t)
    starts = [r.t_put[: r.n] for r in m.tasks.streams.values() if r.n]
    first = float(np.nanmin(np.concatenate(starts))) if starts and done else 0.0
    last = float(m.done_t.view().max()) if done else 0.0
    window = last - first
    busy = float(np.sum(m.done_service.view()))
    consumers = max(1, run.cfg.consumers)  # type: ignore[attr-defined]
    little = littles_law(m)
    return RunResult(
        code, problem,
        throughput=done / window if window > 0 else 0.0,
        makespan=s.makespan_s,
        mean_wait=s.mean_wait_s,
        mean_service=s.mean_service_s,
        utilisation=busy / (consumers * window) if window > 0 else 0.0,
        little_ratio=little.ratio if little else None,
        trace=trace,
    )  # fmt: skip


def grid(base: RunConfig, params: list[Param]) -> list[Point]:
    """Every combination of the params' values, first param outermost."""
    points = []
    for combo in itertools.product(*(p.values for p in params)):
        cfg = base
        for p, v in zip(params, combo, strict=True):
            cfg = apply_value(cfg, p.key, v)
        points.append(Point({p.key: v for p, v in zip(params, combo, strict=True)}, cfg))
    return points


# (points done, points, runs done, runs, elapsed s, estimated s left, warm-up runs left)
Progress = Callable[[int, int, int, int, float, float | None, int], None]


@dataclass(frozen=True)
class Job:
    """One run a sweep asks for: a warm-up (``point`` None) or repeat ``repeat`` of a point."""

    point: int | None
    repeat: int
    cfg: RunConfig
    trace: str | None  # where to record it (save_runs), None: not recorded


class SweepPlan:
    """The order of a sweep's runs and its progress, without running anything.

    The seam between the sweep and whatever runs its jobs: :func:`sweep` runs them headless
    one after the other, the window's sweep view through its live run machinery. Ask
    :meth:`next_job`, run it, hand the result to :meth:`record`; :meth:`progress` says where
    the sweep stands (with an estimate of the time left from the runs measured so far).
    """

    def __init__(self, points: list[Point], *, repeats: int, warmup: int = 0,
                 save_runs: str | None = None, clock: Callable[[], float] = time.monotonic,
                 ) -> None:  # fmt: skip
        self.points = points
        self.repeats = repeats
        self.warmup = warmup if points else 0
        self.save_runs = save_runs
        self.total = len(points) * repeats
        self.done = 0  # measured runs recorded
        self.warm_done = 0
        self.measured_s = 0.0
        self._clock = clock
        self.t0 = clock()

    def next_job(self) -> Job | None:
        """The next run to do, or None when the sweep is complete."""
        if self.warm_done < self.warmup:
            return Job(None, self.warm_done, self.points[0].cfg, None)
        if self.done >= self.total:
            return None
        i, k = divmod(self.done, self.repeats)
        point = self.points[i]
        trace = None
        if self.save_runs:
            label = "_".join(f"{key}-{format_number(v)}" for key, v in point.values.items())
            trace = os.path.join(self.save_runs, f"{label}_run{k + 1}.qltrace")
        return Job(i, k, point.cfg, trace)

    def record(self, job: Job, result: RunResult | None, seconds: float) -> None:
        """``job`` ran for ``seconds``; ``result`` is what it measured (None for a warm-up)."""
        if job.point is None:
            self.warm_done += 1
            return
        assert result is not None, "a measured run needs its result"
        self.points[job.point].runs.append(result)
        self.measured_s += seconds
        self.done += 1

    @property
    def complete(self) -> bool:
        return self.done >= self.total and self.warm_done >= self.warmup

    def elapsed(self) -> float:
        return self._clock() - self.t0

    def eta(self) -> float | None:
        """Seconds left, from the mean time of the measured runs so far; None before one."""
        if self.complete:
            return 0.0
        return self.measured_s / self.done * (self.total - self.done) if self.done else None

    def progress(self) -> tuple[int, int, int, int, float, float | None, int]:
        """(points done, points, runs done, runs, elapsed s, s left, warm-up runs left)."""
        points_done = len(self.points) if self.complete else self.done // self.repeats
        return (points_done, len(self.points), self.done, self.total, self.elapsed(),
                self.eta(), self.warmup - self.warm_done)  # fmt: skip


def sweep(
    points: list[Point],
    *,
    repeats: int,
    warmup: int = 0,
    hang_timeout: float | None = None,
    save_runs: str | None = None,
    stop: Callable[[], bool] = lambda: False,
    signals: object | None = None,
    progress: Progress | None = None,
    warn: Callable[[str], None] | None = None,
) -> bool:
    """Run ``warmup`` discarded runs of the first point, then ``repeats`` runs of each point.

    Fills each point's ``runs``; returns False when ``stop()`` ended it early (after the run in
    progress). ``progress(points_done, points, runs_done, runs, elapsed_s, eta_s, warm_left)``.
    """
    from engine.headless import run_quiet

    plan = SweepPlan(points, repeats=repeats, warmup=warmup, save_runs=save_runs)
    warned: set[str] = set()
    while (job := plan.next_job()) is not None:
        if stop():
            return False
        if progress is not None:
            progress(*plan.progress())
        r0 = time.monotonic()
        code, problem, run = run_quiet(job.cfg, hang_timeout=hang_timeout, trace_path=job.trace,
                                       signals=signals)  # type: ignore[arg-type]  # fmt: skip
        if job.point is None:
            plan.record(job, None, 0.0)
            continue
        for w in run.warnings:  # once per sweep: every point would repeat it
            if warn is not None and w not in warned:
                warned.add(w)
                warn(w)
        plan.record(job, measure(run, code, problem, job.trace), time.monotonic() - r0)
    if progress is not None:
        progress(*plan.progress())
    return True
