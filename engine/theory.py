"""Queueing theory beside the measurement: Erlang C, Allen–Cunneen, M/M/c/K, Little's law, batches.

Pure functions (numpy only, no Qt, no clocks): a RunConfig and a finished RunModel in, numbers
and plain sentences out. ``run --json`` prints :func:`theory_json` under ``theory``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from engine.config import RunConfig
from engine.distributions import Distribution
from engine.events import LABEL_NONE
from engine.model import RunModel

# Above this relative error a prediction and a measurement "disagree" and a sentence says why.
DISAGREE_REL = 0.25
LITTLE_REL = 0.10  # Little's law is exact in the long run: 10 % off means a short or odd run
# Waits this much shorter than a task are noise (scheduling, pipes), whatever the relative error.
WAIT_NOISE_FRACTION = 0.1
FEW_TASKS = 200  # fewer tasks than this rarely reach steady state


def cv2(d: Distribution) -> float:
    """Squared coefficient of variation (variance / mean²) of a distribution; 0 for mean 0."""
    m = d.mean
    if m <= 0:
        return 0.0
    if d.kind == "exponential":
        return 1.0
    if d.kind == "uniform":
        lo, hi = d.params
        return ((hi - lo) ** 2 / 12.0) / m**2
    if d.kind == "normal":
        return (d.params[1] / m) ** 2  # the clipping at 0 is ignored, as in Distribution.mean
    return 0.0  # constant


def erlang_c(c: int, a: float) -> float:
    """Probability that an arrival waits in M/M/c with offered load a = λ/μ (requires a < c)."""
    if c < 1 or a < 0:
        raise ValueError("expected c >= 1 and a >= 0")
    if a >= c:
        return 1.0
    # Erlang B by its stable recurrence, then C from B: no factorials, no overflow for large c.
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    rho = a / c
    return b / (1.0 - rho + rho * b)


@dataclass(frozen=True)
class Prediction:
    """What a queueing model predicts for an open system (times in seconds)."""

    model: str
    arrival_rate: float  # λ, tasks/s
    service_rate: float  # μ per server, tasks/s
    servers: int  # c (for cpu work: the consumers the CPUs can really serve at once)
    utilisation: float  # ρ = λ / (cμ)
    stable: bool
    p_wait: float | None = None  # probability a task waits
    mean_wait_s: float | None = None  # Wq
    mean_queue: float | None = None  # Lq
    mean_in_system: float | None = None  # L
    growth_per_s: float | None = None  # unstable: how fast the queue grows, λ − cμ
    p_blocked: float | None = None  # bounded queue: share of puts that find it full
    note: str = ""

    def to_json(self) -> dict:
        return asdict(self)


def _unstable(model: str, lam: float, mu: float, c: int) -> Prediction:
    growth = lam - c * mu
    note = (
        f"unstable: tasks arrive at {lam:.3g}/s but {c} consumer(s) finish at most "
        f"{c * mu:.3g}/s (ρ = {lam / (c * mu):.2f} ≥ 1), so the queue grows without bound, "
        f"by about {growth:.3g} tasks per second, until the producers stop"
    )
    return Prediction(model, lam, mu, c, lam / (c * mu), False, 1.0, math.inf, math.inf,
                      math.inf, growth, note=note)  # fmt: skip


def mmc(lam: float, mu: float, c: int) -> Prediction:
    """M/M/c (Erlang C): Poisson arrivals, exponential service, c servers, unbounded queue."""
    rho = lam / (c * mu)
    if rho >= 1:
        return _unstable("M/M/c", lam, mu, c)
    pw = erlang_c(c, lam / mu)
    wq = pw / (c * mu - lam)
    return Prediction("M/M/c", lam, mu, c, rho, True, pw, wq, lam * wq, lam * wq + lam / mu)


def allen_cunneen(lam: float, mu: float, c: int, ca2: float, cs2: float) -> Prediction:
    """G/G/c by Allen–Cunneen: Wq ≈ Wq(M/M/c) · (ca² + cs²) / 2.

    Exact for M/M/c (ca² = cs² = 1) and, with c = 1, the Pollaczek–Khinchine mean for M/G/1.
    """
    base = mmc(lam, mu, c)
    if not base.stable:
        return _unstable("G/G/c (Allen–Cunneen)", lam, mu, c)
    factor = (ca2 + cs2) / 2.0
    wq = (base.mean_wait_s or 0.0) * factor
    note = f"approximation with ca² = {ca2:.2f}, cs² = {cs2:.2f}"
    return Prediction("G/G/c (Allen–Cunneen)", lam, mu, c, base.utilisation, True, base.p_wait,
                      wq, lam * wq, lam * wq + lam / mu, note=note)  # fmt: skip


def mmck(lam: float, mu: float, c: int, k: int) -> Prediction:
    """M/M/c/K: at most K tasks in the system (c in service, K − c queued).

    Textbook M/M/c/K loses arrivals that find it full; QueueLab's producers block instead, so
    p_blocked is read as the share of puts that must wait for room, and the served rate
    λ(1 − p_blocked) as the throughput: an approximation (a blocked producer delays its own
    later puts, it does not lose one).
    """
    if k < c:
        raise ValueError("expected K >= c")
    a = lam / mu
    # Unnormalised state probabilities p_n, built as ratios to stay finite for large K.
    p = np.empty(k + 1)
    p[0] = 1.0
    for n in range(1, k + 1):
        p[n] = p[n - 1] * a / min(n, c)
    p /= p.sum()
    n = np.arange(k + 1)
    big_l = float((n * p).sum())
    lq = float((np.maximum(n - c, 0) * p).sum())
    pk = float(p[k])
    lam_eff = lam * (1.0 - pk)
    wq = lq / lam_eff if lam_eff > 0 else math.inf
    pw = float(p[c:k].sum() / (1.0 - pk)) if pk < 1 else 1.0  # an admitted task waits
    note = (
        f"bounded queue: at most {k - c} queued; {pk:.1%} of puts find it full and block "
        "(M/M/c/K read with blocking instead of loss: an approximation)"
    )
    return Prediction("M/M/c/K", lam, mu, c, lam_eff / (c * mu), True, pw, wq, lq, big_l,
                      p_blocked=pk, note=note)  # fmt: skip


def qna_arrival_cv2(ca2_one: float, producers: int, rho: float) -> float:
    """ca² of several merged identical renewal streams (Whitt 1983, QNA's superposition rule).

    One stream keeps its own ca²; many merge towards Poisson (1), the more so at low load.
    """
    if producers <= 1:
        return ca2_one
    w = 1.0 / (1.0 + 4.0 * (1.0 - min(rho, 1.0)) ** 2 * (producers - 1))
    return w * ca2_one + (1.0 - w)


def servers(cfg: RunConfig, cpus: int | None) -> int:
    """Consumers that can work at once: for cpu work, no more than the CPUs."""
    if cfg.workload == "cpu" and cpus:
        return max(1, min(cfg.consumers, cpus))
    return cfg.consumers


def is_open(cfg: RunConfig) -> bool:
    """Producers pause between puts (an open system), rather than putting everything at once."""
    return cfg.put_interval.mean > 0 and cfg.task_duration.mean > 0


def predict(cfg: RunConfig, cpus: int | None) -> Prediction | None:
    """The model that fits ``cfg``'s open arrivals, or None for a batch (everything at once)."""
    if not is_open(cfg):
        return None
    lam = cfg.producers / (cfg.put_interval.mean * cfg.time_scale)
    mu = 1.0 / (cfg.task_duration.mean * cfg.time_scale)
    c = servers(cfg, cpus)
    ca2_one, cs2 = cv2(cfg.put_interval), cv2(cfg.task_duration)
    rho = lam / (c * mu)
    ca2 = qna_arrival_cv2(ca2_one, cfg.producers, rho)
    markov = math.isclose(ca2, 1.0) and math.isclose(cs2, 1.0)
    if cfg.maxsize > 0 and rho < 50:  # beyond that every put blocks: the unbounded verdict says it
        pred = mmck(lam, mu, c, c + cfg.maxsize)
        if not markov:
            pred = _with_note(pred, pred.note + "; arrivals or service are not exponential")
        return pred
    return mmc(lam, mu, c) if markov else allen_cunneen(lam, mu, c, ca2, cs2)


def _measured_service(cfg: RunConfig, service: np.ndarray) -> RunConfig:
    """``cfg`` with task_duration standing for measured service times (mean and spread)."""
    mean, sd = float(np.mean(service)), float(np.std(service))
    scale = cfg.time_scale
    dist = Distribution.normal(mean / scale, sd / scale) if sd > 0 else Distribution.constant(
        mean / scale)
    return cfg.replace(task_duration=dist)


def _with_note(p: Prediction, note: str) -> Prediction:
    d = asdict(p)
    d["note"] = note
    return Prediction(**d)


# ------------------------------------------------------------------------- from a run


@dataclass(frozen=True)
class LittleCheck:
    """Little's law L = λW, with L from the model's counters and λ, W from the tasks."""

    mean_in_system: float  # L: time average of puts − task_dones over the makespan
    throughput_per_s: float  # λ
    mean_time_in_system_s: float  # W: mean wait + mean service of done tasks
    ratio: float | None  # L / (λW); 1 when the law holds

    def to_json(self) -> dict:
        return asdict(self)


def littles_law(model: RunModel) -> LittleCheck | None:
    """Little's law over the whole run; None when no task was done."""
    span = model.makespan()
    done = len(model.done_t)
    if span <= 0 or done == 0 or len(model.s_t) == 0:
        return None
    # N(t) = puts - dones is a step function: each point's value holds until the next point
    # (or the end); its area comes from the model's running sums (no pass over every point).
    # The counters count the None sentinels too; they are not tasks (λ and W leave them out),
    # and one put at the end and taken last would otherwise sit in L for the whole wait.
    big_l = float((model.points.area_until(span) - _sentinel_time(model, span)) / span)
    lam = done / span
    w = float(np.mean(model.done_wait.view()) + np.mean(model.done_service.view()))
    ratio = big_l / (lam * w) if lam * w > 0 else None
    return LittleCheck(big_l, lam, w, ratio)


def _sentinel_time(model: RunModel, span: float) -> float:
    """Seconds the sentinels spent in the system (put → task_done, or the end) within the span."""
    total = 0.0
    for r in model.tasks.streams.values():
        k = r.n
        sent = (r.label[:k] == LABEL_NONE) & ~np.isnan(r.t_put[:k])
        if sent.any():
            end = np.where(np.isnan(r.t_done[:k][sent]), span, r.t_done[:k][sent])
            start = np.clip(r.t_put[:k][sent], 0, span)
            total += float(np.clip(np.minimum(end, span) - start, 0, None).sum())
    return total


def task_durations(model: RunModel) -> np.ndarray:
    """Every put task's value (its nominal duration before time_scale)."""
    parts = [r.value[: r.n][~np.isnan(r.t_put[: r.n]) & (r.label[: r.n] != LABEL_NONE)]
             for r in model.tasks.streams.values()]  # fmt: skip
    return np.concatenate(parts) if parts else np.empty(0)


def batch_bound(durations: np.ndarray, consumers: int, cpus: int | None, cpu_work: bool) -> float:
    """Lower bound on a batch's makespan: max(total work ÷ servers, the longest task)."""
    if durations.size == 0:
        return 0.0
    c = max(1, min(consumers, cpus)) if cpu_work and cpus else consumers
    return max(float(durations.sum()) / c, float(durations.max()))


def _rel(predicted: float, measured: float) -> float | None:
    if not math.isfinite(predicted) or predicted == 0:
        return None
    return (measured - predicted) / predicted


def _cause(model: RunModel, cfg: RunConfig, cpus: int | None, done: int, rho: float) -> str:
    """The likely reason a measurement strays from the theory, in words."""
    nominal = cfg.task_duration.mean * cfg.time_scale
    service = float(np.mean(model.done_service.view())) if done else 0.0
    if cfg.workload == "cpu" and nominal > 0 and service > 1.2 * nominal:
        return (f"CPU contention: tasks took {service / nominal - 1:.0%} longer than their "
                f"nominal {nominal * 1000:.3g} ms (the machine has {cpus} CPUs)")  # fmt: skip
    # Near saturation a queue forgets its start ever more slowly (relaxation ~ 1/(1 − ρ)²):
    # the tasks a mean needs to settle grow the same way.
    needed = FEW_TASKS / max(1e-3, 1.0 - min(rho, 0.999)) ** 2 if rho > 0 else FEW_TASKS
    if done < needed:
        return (f"too few tasks ({done}; about {needed:.0f} would reach steady state"
                f"{f' at ρ = {rho:.2f}' if rho > 0 else ''})")  # fmt: skip
    start = _put_window(model)[0]
    span = model.makespan()
    if span > 0 and start / span > 0.1:
        return f"process start-up: the first put came {start:.2f} s into a {span:.2f} s run"
    return "random variation or overhead of the queue itself (pipes, pickling, scheduling)"


def _put_window(model: RunModel) -> tuple[float, float]:
    """Times of the first and the last put of a task (0, 0 when none was put)."""
    rows = [r.t_put[: r.n] for r in model.tasks.streams.values() if r.n]
    if not rows:
        return 0.0, 0.0
    t = np.concatenate(rows)
    t = t[~np.isnan(t)]
    return (float(t.min()), float(t.max())) if t.size else (0.0, 0.0)


def theory_json(model: RunModel, cfg: RunConfig, cpus: int | None) -> dict:
    """The ``theory`` object of ``run --json``: Little's law, and the prediction or batch bound."""
    out: dict = {"cpus": cpus}
    little = littles_law(model)
    out["little"] = little.to_json() if little else None
    done = len(model.done_t)
    measured_wait = float(np.mean(model.done_wait.view())) if done else 0.0
    span = model.makespan()
    # Utilisation and arrival rate over the work's own window, from the first put: the
    # processes' start-up before it is neither arrivals nor service.
    first, last = _put_window(model)
    window = span - first
    busy = float(np.sum(model.done_service.view()))
    if cfg.workload == "cpu":
        # CPUs shared by more consumers stretch every task's wall time; the CPUs' own busy
        # time is the work itself.
        busy = min(busy, float(task_durations(model).sum()) * cfg.time_scale)
    c = servers(cfg, cpus)
    measured_util = busy / (c * window) if window > 0 else 0.0
    measured_lam = (done - 1) / (last - first) if last > first and done > 1 else 0.0
    disagree: list[str] = []
    own = cfg.workload not in ("sleep", "cpu")  # the user's function: its own service times
    if own and is_open(cfg) and done >= 2:
        cfg = _measured_service(cfg, model.done_service.view())
    pred = predict(cfg, cpus)
    if pred is not None and own:
        pred = _with_note(pred, pred.note + "; service: your function's measured times")
    rho = pred.utilisation if pred is not None else 0.0
    if pred is not None:
        out["kind"] = "open"
        out["prediction"] = pred.to_json()
        noise = WAIT_NOISE_FRACTION * cfg.task_duration.mean * cfg.time_scale
        rows = {}
        if pred.stable:
            for name, p, m in (("arrival_rate", pred.arrival_rate, measured_lam),
                               ("mean_wait_s", pred.mean_wait_s or 0.0, measured_wait),
                               ("utilisation", pred.utilisation, measured_util)):  # fmt: skip
                rel = _rel(p, m)
                rows[name] = {"predicted": p, "measured": m, "relative_error": rel}
                small = name == "mean_wait_s" and abs(m - p) < noise
                if rel is not None and abs(rel) > DISAGREE_REL and not small:
                    disagree.append(f"{name.removesuffix('_s').replace('_', ' ')} ({rel:+.0%})")
        else:
            rows["mean_wait_s"] = {"predicted": None, "measured": measured_wait,
                                   "relative_error": None}  # fmt: skip
        out["compare"] = rows
    else:
        out["kind"] = "batch"
        # The user's own function (workload = "module:function") works as long as it takes,
        # not task_duration: its measured service times are its work.
        work = model.done_service.view() if own else task_durations(model) * cfg.time_scale
        bound = batch_bound(work, cfg.consumers, cpus, cfg.workload == "cpu")
        out["batch"] = {
            "makespan_lower_bound_s": bound,
            "makespan_s": span,
            "efficiency": bound / span if span > 0 and bound > 0 else None,
        }
        if span > 0 and bound > 0 and bound / span < 1 - DISAGREE_REL:
            disagree.append(f"makespan ({span / bound - 1:+.0%} over its lower bound)")
    if little and little.ratio is not None and abs(little.ratio - 1) > LITTLE_REL:
        disagree.append(f"Little's law (L ÷ λW = {little.ratio:.2f})")
    out["disagreement"] = None
    if disagree:
        out["disagreement"] = (f"Theory and measurement disagree on {' and '.join(disagree)}; "
                               f"likely cause: {_cause(model, cfg, cpus, done, rho)}.")  # fmt: skip
    return out
