"""The model's series for the chart checks, computed from RunModel's public lists only.

Nothing here imports gui/charts: a chart that computes or draws its series wrongly cannot
agree with these by sharing its code. Also the comparison of a drawn polyline with them.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from engine.model import RunModel

RATE_WINDOW_S = 1.0  # the Rates chart's documented window ("1 s window" in its legend)
RATE_STEP_S = 0.05  # its documented grid step


def steps(model: RunModel, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Change times and values of a counter, straight from the model's lists."""
    t = np.asarray(model.s_t, dtype=float)
    p = np.asarray(model.s_puts, dtype=float)
    g = np.asarray(model.s_gets, dtype=float)
    d = np.asarray(model.s_dones, dtype=float)
    values = {"puts": p, "gets": g, "dones": d, "in_flight": g - d, "unfinished": p - d,
              "depth": p - g}
    return t, values[name]


def step_at(model: RunModel, name: str, ts: np.ndarray) -> np.ndarray:
    """A counter's value at each of ``ts`` (0 before the first change)."""
    t, v = steps(model, name)
    i = np.searchsorted(t, ts, side="right") - 1
    return np.where(i >= 0, v[np.maximum(i, 0)], 0.0) if t.size else np.zeros(ts.size)


def rates_on_grid(model: RunModel, until: float) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Completions per second and mean wait/service over each grid point's trailing window,
    task by task (a plain loop: slow and plainly right, unlike the chart's running sums)."""
    n = int(until // RATE_STEP_S) + 1 if until > 0 else 0
    grid = np.arange(n) * RATE_STEP_S
    done = list(zip(model.done_t, model.done_wait, model.done_service, strict=True))
    rate, wait, service = np.zeros(n), np.full(n, np.nan), np.full(n, np.nan)
    for i, g in enumerate(grid):
        inside = [(w, s) for t, w, s in done if g - RATE_WINDOW_S < t <= g]
        rate[i] = len(inside) / min(max(g, RATE_STEP_S), RATE_WINDOW_S)
        if inside:
            wait[i] = sum(w for w, _ in inside) / len(inside)
            service[i] = sum(s for _, s in inside) / len(inside)
    return {"rate": (grid, rate), "wait": (grid, wait), "service": (grid, service)}


def on_segments(grid: np.ndarray, v: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """The series drawn as straight segments between grid points (NaN next to a gap)."""

    def at(ts: np.ndarray) -> np.ndarray:
        if grid.size < 2:
            return np.full(ts.size, np.nan)
        i = np.clip(np.searchsorted(grid, ts, side="right") - 1, 0, grid.size - 2)
        f = (ts - grid[i]) / (grid[i + 1] - grid[i])
        with np.errstate(invalid="ignore"):
            return np.where(f <= 1e-9, v[i], v[i] + (v[i + 1] - v[i]) * f)

    return at


def activity_at(model: RunModel, src: int, t: float, until: float) -> int | None:
    """What worker ``src`` did at ``t`` by the model's intervals (None: nothing recorded)."""
    w = model.workers[src]
    for t0, t1, act, _label in w.intervals:
        if t0 <= t < t1:
            return int(act)
    if w.since <= t <= until:
        return int(w.activity)
    return None


def envelope(x: np.ndarray, y: np.ndarray, t: float, tol: float,
             columns: bool = False) -> tuple[float, float] | None:
    """Min and max of a polyline (NaN: a gap) over [t - tol, t + tol]; None where it has no
    point there. ``columns``: a peak-decimated line, whose columns (a maximum and a minimum,
    joined by a slanted segment) may be wider than ``tol`` where the data is sparse: the
    window reaches out to the drawn points on either side."""
    if columns and x.size:
        lo = max(0, int(np.searchsorted(x, t - tol, side="left")) - 1)
        hi = int(np.searchsorted(x, t + tol, side="right")) + 1
        ok = np.isfinite(y[lo:hi])
        return (float(y[lo:hi][ok].min()), float(y[lo:hi][ok].max())) if ok.any() else None
    vals = list(y[(x >= t - tol) & (x <= t + tol) & np.isfinite(y)])
    for i in np.flatnonzero((x[:-1] < t) & (x[1:] > t)):
        if np.isfinite(y[i]) and np.isfinite(y[i + 1]):
            vals.append(y[i] + (y[i + 1] - y[i]) * (t - x[i]) / (x[i + 1] - x[i]))
    return (float(min(vals)), float(max(vals))) if vals else None


def compare_line(name: str, x: np.ndarray, y: np.ndarray, ts: np.ndarray,
                 model_at: Callable[[np.ndarray], np.ndarray], tol: float,
                 exact: bool, breaks: np.ndarray) -> list[str]:
    """A drawn polyline (x, y) against the model's values at ``ts``.

    The model's value must lie in what the line shows within ``tol`` of each time (a
    decimated line keeps each pixel column's extremes); where nothing was decimated away
    (``exact``), the line must also show nothing the model does not have there (its
    extremes over the window are at the window's ends and at the ``breaks`` inside it).
    """
    bad: list[str] = []
    for t in ts:
        want = float(model_at(np.array([t]))[0])
        env = envelope(x, y, t, tol, columns=not exact)
        if np.isnan(want):
            if envelope(x, y, t, 0.0) is not None:
                bad.append(f"{name}: drawn at t={t:.3f} where the model has no value")
            continue
        if env is None:
            bad.append(f"{name}: nothing drawn at t={t:.3f} (the model has {want:g})")
            continue
        eps = 1e-9 * max(1.0, abs(want))
        if not env[0] - eps <= want <= env[1] + eps:
            bad.append(f"{name}: at t={t:.3f} the model has {want:g}, the item {env}")
        elif exact:
            inner = breaks[(breaks >= t - tol) & (breaks <= t + tol)]
            around = model_at(np.concatenate(([t - tol, t, t + tol], inner, inner - 1e-12)))
            around = around[np.isfinite(around)]
            if env[0] < around.min() - eps or env[1] > around.max() + eps:
                bad.append(f"{name}: at t={t:.3f} the item shows {env}, the model "
                           f"{(float(around.min()), float(around.max()))}")
    return bad[:5]
