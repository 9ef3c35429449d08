"""Universal Scalability Law: X(N) = λN / (1 + σ(N−1) + κN(N−1)), fitted by least squares.

σ is contention (the serial share, Amdahl's law when κ = 0), κ coherency (the cost of workers
coordinating, which makes throughput fall past a peak at N* = √((1 − σ)/κ)). Gunther, Guerrilla
Capacity Planning (2007), ch. 4-6. Pure numpy.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class Fit:
    """A fitted scalability model; ``peak_n`` is None when throughput never falls (κ = 0)."""

    model: str  # "usl" or "amdahl"
    lam: float  # throughput of one worker, tasks/s
    sigma: float
    kappa: float
    peak_n: float | None
    r2: float

    def predict(self, n: np.ndarray | float) -> np.ndarray:
        n = np.asarray(n, dtype=float)
        return self.lam * n / (1 + self.sigma * (n - 1) + self.kappa * n * (n - 1))

    def to_json(self) -> dict:
        return asdict(self)


def _solve(n: np.ndarray, x: np.ndarray, terms: tuple[bool, bool]) -> np.ndarray | None:
    """Least squares on the linear form N/X = a + b(N−1) + c·N(N−1); returns (a, b, c)."""
    cols = [np.ones_like(n)]
    if terms[0]:
        cols.append(n - 1)
    if terms[1]:
        cols.append(n * (n - 1))
    a = np.column_stack(cols)
    if np.linalg.matrix_rank(a) < a.shape[1]:
        return None
    coef, *_ = np.linalg.lstsq(a, n / x, rcond=None)
    full = [coef[0], 0.0, 0.0]
    i = 1
    for k, used in enumerate(terms):
        if used:
            full[k + 1] = coef[i]
            i += 1
    return np.array(full)


def fit_usl(n: list[float] | np.ndarray, x: list[float] | np.ndarray) -> Fit | None:
    """Fit σ ≥ 0 and κ ≥ 0 to throughputs ``x`` at worker counts ``n``; None with too few points.

    The USL needs three distinct counts, Amdahl two. Negative estimates (noise) drop their term
    and the rest is refitted, so the result is always a physically meaningful curve.
    """
    n = np.asarray(n, dtype=float)
    x = np.asarray(x, dtype=float)
    keep = np.isfinite(x) & (x > 0) & (n >= 1)
    n, x = n[keep], x[keep]
    distinct = len(np.unique(n))
    if distinct < 2:
        return None
    candidates = [(True, True), (True, False), (False, True), (False, False)]
    if distinct < 3:
        candidates = [(True, False), (False, False)]
    for terms in candidates:
        coef = _solve(n, x, terms)
        if coef is None or coef[0] <= 0:
            continue
        lam = 1.0 / coef[0]
        sigma, kappa = coef[1] * lam, coef[2] * lam
        if sigma < 0 or kappa < 0 or sigma > 1:
            continue
        peak = math.sqrt((1 - sigma) / kappa) if kappa > 0 else None
        fit = Fit("usl" if kappa > 0 else "amdahl", lam, float(sigma), float(kappa), peak, 0.0)
        resid = x - fit.predict(n)
        total = float(((x - x.mean()) ** 2).sum())
        r2 = 1.0 - float((resid**2).sum()) / total if total > 0 else 1.0
        return Fit(fit.model, float(lam), fit.sigma, fit.kappa, peak, r2)
    return None
