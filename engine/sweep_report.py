"""A sweep's results for people and scripts: per-point statistics, the fit, the recommendation."""

from __future__ import annotations

import csv
import os
import platform
import statistics
import sys
from typing import TextIO

from engine.distributions import format_number as _fmt
from engine.sweep import Param, Point
from engine.usl import Fit, fit_usl

# Student's t, two-sided 95 %, for 1 … 30 degrees of freedom; beyond, the normal 1.96.
_T95 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179,
        2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064,
        2.060, 2.056, 2.052, 2.048, 2.045, 2.042)  # fmt: skip
GAIN = 0.05  # "throughput grows by less than 5 %": the step not worth another worker
WORKER_KEYS = ("consumers", "producers")


def interval95(xs: list[float]) -> list[float] | None:
    """95 % interval of the mean (Student t); None with fewer than two values."""
    if len(xs) < 2:
        return None
    mean = statistics.fmean(xs)
    t = _T95[len(xs) - 2] if len(xs) - 1 <= len(_T95) else 1.96
    half = t * statistics.stdev(xs) / len(xs) ** 0.5
    return [max(0.0, mean - half), mean + half]


def _median(xs: list[float]) -> float | None:
    return statistics.median(xs) if xs else None


def point_stats(points: list[Point], params: list[Param]) -> list[dict]:
    """One dict per point; speed-up and efficiency against the first point of its slice.

    In a grid a slice is one value of the second parameter: speed-up compares like with like.
    """
    rows: list[dict] = []
    firsts: dict[tuple, tuple[float, float]] = {}
    key = params[0].key
    for p in points:
        ok = [r for r in p.runs if r.code == 0]
        x = _median([r.throughput for r in ok])
        value = p.values[key]
        slice_key = tuple(p.values[q.key] for q in params[1:])
        if slice_key not in firsts and x:
            firsts[slice_key] = (x, value)
        first_x, first_v = firsts.get(slice_key, (None, None))
        speedup = x / first_x if x and first_x else None
        efficiency = None
        if speedup is not None and key in WORKER_KEYS and first_v:
            efficiency = speedup / (value / first_v)
        little = [r.little_ratio for r in ok if r.little_ratio is not None]
        rows.append({
            "value": _plain(value),
            "values": {k: _plain(v) for k, v in p.values.items()},
            "runs": len(ok),
            "failed_runs": len(p.failed),
            "problems": sorted({r.problem for r in p.failed if r.problem}),
            "throughput_median": x,
            "throughput_ci": interval95([r.throughput for r in ok]),
            "makespan_median": _median([r.makespan for r in ok]),
            "makespan_ci": interval95([r.makespan for r in ok]),
            "mean_wait_s": _median([r.mean_wait for r in ok]),
            "mean_service_s": _median([r.mean_service for r in ok]),
            "utilisation": _median([r.utilisation for r in ok]),
            "speedup": speedup,
            "efficiency": efficiency,
            "little_ratio": _median(little),
            "traces": [r.trace for r in p.runs if r.trace],
        })  # fmt: skip
    return rows


def _num(v: float) -> str:
    return _fmt(float(v))


def _plain(v: float) -> float | int:
    return int(v) if float(v).is_integer() else v


def fits(rows: list[dict], params: list[Param]) -> list[tuple[dict, Fit | None]]:
    """The USL fit over the consumers axis, one per value of the other parameter (if any)."""
    if "consumers" not in [p.key for p in params]:
        return []
    other = [p.key for p in params if p.key != "consumers"]
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault(tuple(r["values"][k] for k in other), []).append(r)
    out = []
    for combo, group in groups.items():
        good = [r for r in group if r["throughput_median"]]
        fit = fit_usl([r["values"]["consumers"] for r in good],
                      [r["throughput_median"] for r in good])  # fmt: skip
        out.append((dict(zip(other, combo, strict=True)), fit))
    return out


def _load() -> float | None:
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return None


def recommend(rows: list[dict], params: list[Param], cfg_workload: str, open_lam: float | None,
              cpus: int | None) -> tuple[str, str | None]:  # fmt: skip
    """One sentence a person can act on, and the bottleneck ("cpus", "producer", "queue", …)."""
    key = params[0].key
    good = [r for r in rows if r["throughput_median"]]
    if len(params) > 1:
        other = params[1].key
        good = [r for r in good if r["values"][other] == rows[0]["values"][other]]
    if len(good) < 2:
        return ("No recommendation: fewer than two points have a run that ended normally "
                "(see the failed runs above)."), None
    good.sort(key=lambda r: r["value"])
    xs = [r["throughput_median"] for r in good]
    where = ("" if len(params) == 1
             else f" (with {params[1].key} = {_num(good[0]['values'][params[1].key])})")
    if key not in WORKER_KEYS:
        best = max(good, key=lambda r: r["throughput_median"])
        return (f"Throughput is highest at {key} = {_num(best['value'])}{where}: "
                f"{best['throughput_median']:.1f} tasks/s "
                f"({best['throughput_median'] / xs[0]:.2f}× the first point)."), None
    noun = key
    # CPU-bound work cannot go faster with more consumers than CPUs: each CPU already runs one.
    # A gain measured beyond them is CPU time taken from other programs on a shared machine
    # (the scheduler shares per process), not capacity the user's program would have.
    capped = key == "consumers" and cfg_workload == "cpu" and bool(cpus)
    limit = next((i for i, r in enumerate(good) if r["value"] >= (cpus or 0)), len(xs) - 1)
    span = xs[: limit + 1] if capped else xs
    pick = next(i for i in range(len(span)) if all(x < span[i] * (1 + GAIN) for x in span[i + 1:]))
    load = _load()
    crowded = ""
    if capped and pick < limit and load is not None and load > (cpus or 0):
        # Other programs held the CPUs: one consumer per CPU is still right for CPU-bound
        # work, but this measurement could not show it.
        crowded = (f"; on this machine, busy with other work (load average {load:.1f} on "
                   f"{cpus} CPUs), {_num(good[limit]['value'])} measured no faster than "
                   f"{_num(good[pick]['value'])}: sweep again when it is quieter")  # fmt: skip
        pick = limit
    n = good[pick]["value"]
    one = noun[:-1] if n == 1 else noun
    stolen = ""
    if capped and pick < len(xs) - 1 and max(xs[pick + 1:]) >= xs[pick] * (1 + GAIN):
        best = max(range(pick + 1, len(xs)), key=lambda i: xs[i])
        said = load is None or crowded  # the load average once per sentence
        busy = "" if said else f", load average {load:.1f} on {cpus} CPUs"
        gain = xs[best] / xs[pick] - 1
        stolen = (f"; the {gain:.0%} more measured at {_num(good[best]['value'])} was CPU time "
                  f"taken from other programs{busy}, not more capacity")  # fmt: skip
    if pick == len(xs) - 1 and not crowded:  # crowded: the pick is the CPUs, not growth
        grow = xs[-1] / xs[-2] - 1
        why = ""
        if cfg_workload == "sleep" and cpus and n > cpus:
            why = (f"; the tasks wait rather than compute, so {noun} beyond the machine's "
                   f"{cpus} CPUs still help")
        return (f"Use at least {_num(n)} {one}{where}: throughput still grew by "
                f"{grow:.0%} from {_num(good[-2]['value'])} to {_num(n)}"
                f"{why}; sweep further (e.g. --param {key}={_num(n)}.."
                f"{_num(2 * n)}) to find where it stops."), key
    reason, bottleneck = _bottleneck(good[pick], key, cfg_workload, open_lam, cpus)
    fall = pick < len(xs) - 1 and min(xs[pick + 1:]) < xs[pick] * 0.9
    tail = crowded + (stolen or (f"; more {noun} make it slower" if fall else ""))
    if stolen:
        return f"Use {_num(n)} {one}{where}: more add no capacity ({reason}){tail}.", bottleneck
    return (f"Use {_num(n)} {one}{where}: beyond that throughput grows by less than "
            f"{GAIN:.0%} ({reason}){tail}."), bottleneck


def _bottleneck(row: dict, key: str, workload: str, open_lam: float | None,
                cpus: int | None) -> tuple[str, str | None]:  # fmt: skip
    n, x, util = row["value"], row["throughput_median"], row["utilisation"] or 0.0
    if key == "consumers" and open_lam and x >= 0.85 * open_lam:
        return (f"the producers put only {open_lam:.3g} tasks/s and the {_num(n)} "
                "consumers already keep up: the producer is the bottleneck"), "producer"
    if key == "consumers" and workload == "cpu" and cpus:
        if n >= cpus:
            return (f"the machine has {cpus} CPUs and the tasks are CPU-bound"), "cpus"
        load = _load()
        busy = f", load average {load:.1f}" if load is not None else ""
        return (f"the tasks are CPU-bound and the machine's {cpus} CPUs are shared with other "
                f"work{busy}"), "cpus"
    if util < 0.5:
        service = (row["mean_service_s"] or 0.0) * 1000
        return (f"the queue itself is the bottleneck: every task passes through a pipe and a "
                f"lock, and at {service:.3g} ms of work per task the {key} are busy only "
                f"{util:.0%} of the time"), "queue"
    if key == "producers":
        return "the consumers cannot take more", "consumers"
    return "contention between the workers", "contention"


def machine() -> dict:
    # The load average says how much the measurement shared the machine with other work.
    return {"cpus": os.cpu_count(), "python": platform.python_version(),
            "platform": platform.platform(), "load_average": _load()}  # fmt: skip


def to_json(params: list[Param], rows: list[dict], fit_list: list[tuple[dict, Fit | None]],
            recommendation: str, bottleneck: str | None, complete: bool,
            extra: dict | None = None) -> dict:  # fmt: skip
    first_fit = fit_list[0][1] if fit_list else None
    return {
        "param": params[0].key if len(params) == 1 else [p.key for p in params],
        "points": rows,
        "fit": first_fit.to_json() if first_fit else None,
        "fits": [{"for": where, **(f.to_json() if f else {"model": None})}
                 for where, f in fit_list],
        "recommendation": recommendation,
        "bottleneck": bottleneck,
        "complete": complete,
        "machine": machine(),
        **(extra or {}),
    }


CSV_COLUMNS = ("runs", "failed_runs", "throughput_median", "throughput_ci_low",
               "throughput_ci_high", "makespan_median", "mean_wait_s", "mean_service_s",
               "utilisation", "speedup", "efficiency", "little_ratio")  # fmt: skip


def write_csv(path: str, params: list[Param], rows: list[dict]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow([p.key for p in params] + list(CSV_COLUMNS))
        for r in rows:
            ci = r["throughput_ci"] or [None, None]
            cells = {**r, "throughput_ci_low": ci[0], "throughput_ci_high": ci[1]}
            w.writerow([r["values"][p.key] for p in params]
                       + ["" if cells[c] is None else cells[c] for c in CSV_COLUMNS])  # fmt: skip


def _f(x: float | None, spec: str, width: int) -> str:
    return f"{'—' if x is None else format(x, spec):>{width}}"


def print_text(doc: dict, params: list[Param], out: TextIO = sys.stdout) -> None:
    """The table, the fit and the recommendation, for a terminal."""
    keys = [p.key for p in params]
    head = "".join(f"{k:>14}" for k in keys)
    print(f"{head}  runs  throughput/s (95 % interval)  makespan s  wait ms  service ms  "
          f"busy  speed-up  effic.", file=out)  # fmt: skip
    for r in doc["points"]:
        vals = "".join(f"{_num(r['values'][k]):>14}" for k in keys)
        ci = r["throughput_ci"]
        ci_text = f"({ci[0]:.1f}–{ci[1]:.1f})" if ci else ""
        wait = None if r["mean_wait_s"] is None else r["mean_wait_s"] * 1000
        service = None if r["mean_service_s"] is None else r["mean_service_s"] * 1000
        print(f"{vals}  {r['runs']:>4}  {_f(r['throughput_median'], '.1f', 12)} {ci_text:<17}"
              f"{_f(r['makespan_median'], '.2f', 10)}  {_f(wait, '.1f', 7)}  "
              f"{_f(service, '.1f', 10)}  {_f(r['utilisation'], '.0%', 4)}  "
              f"{_f(r['speedup'], '.2f', 8)}  {_f(r['efficiency'], '.2f', 6)}", file=out)
        for problem in r["problems"]:
            print(f"{'':>14}  {r['failed_runs']} run(s) failed: {problem}", file=out)
    for fit in doc["fits"]:
        if fit["model"] is None:
            continue
        where = ", ".join(f"{k} = {_num(v)}" for k, v in fit["for"].items())
        peak = "none (no coherency cost)" if fit["peak_n"] is None else f"{fit['peak_n']:.1f}"
        print(f"fit ({fit['model']}{', ' + where if where else ''}): σ = {fit['sigma']:.3f}, "
              f"κ = {fit['kappa']:.4f}, peak at N* = {peak}, r² = {fit['r2']:.3f}", file=out)
    print(doc["recommendation"], file=out)
    out.flush()
