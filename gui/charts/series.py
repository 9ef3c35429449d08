"""The model's growing lists as numpy arrays, converted one new tail per refresh."""

from __future__ import annotations

import numpy as np

from engine.model import RunModel
from gui.charts.buffers import GrowBuffer, StepSeries

COUNTERS = ("puts", "gets", "dones", "depth", "in_flight", "unfinished")
# The counters kept as polylines; the others are differences of two of them, computed when
# read (the part drawn, the value asked for): depth = puts - gets, in flight = gets - dones,
# unfinished = puts - dones.
STORED = ("puts", "gets", "dones")
DERIVED = {"depth": ("puts", "gets"), "in_flight": ("gets", "dones"),
           "unfinished": ("puts", "dones")}
RATE_WINDOW_S = 1.0  # sliding window of the rates chart
RATE_STEP_S = 0.05  # rates are evaluated on this grid
# Room reserved up front for what a run announces (three counter changes per task), up to
# this many points; longer runs grow by doubling from there.
RESERVE_MAX_POINTS = 1 << 22


class ModelSeries:
    """Numpy mirrors of ``RunModel`` series (counters as steps, completions, sliding rates)."""

    def __init__(self) -> None:
        self._reserved_for: tuple[int, int, int] | None = None
        self.behind = False  # the last sync stopped at its limit: the model has more
        self.counters = StepSeries(STORED, derived=DERIVED)
        self.done_t = GrowBuffer()
        self.cum_wait = GrowBuffer()  # running sums, so a window's mean is two lookups
        self.cum_service = GrowBuffer()
        self.grid = GrowBuffer()
        self.rate = GrowBuffer()
        self.mean_wait = GrowBuffer()
        self.mean_service = GrowBuffer()

    def clear(self) -> None:
        self._reserved_for = None
        self.behind = False
        self.counters.clear()
        for b in (self.done_t, self.cum_wait, self.cum_service, self.grid, self.rate,
                  self.mean_wait, self.mean_service):
            b.clear()

    # ------------------------------------------------------------------ sync
    def _reserve_for(self, m: RunModel) -> None:
        key = (m.tasks_total, m.producers, m.consumers)
        if key == self._reserved_for:
            return
        self._reserved_for = key
        tasks = m.tasks_total + m.producers + m.consumers  # sentinels included
        self.counters.reserve(min(RESERVE_MAX_POINTS, 3 * tasks + 64))
        for b in (self.done_t, self.cum_wait, self.cum_service):
            b.reserve(min(RESERVE_MAX_POINTS, tasks + 64))

    def sync_counters(self, m: RunModel, limit: int | None = None) -> bool:
        """Take the counter changes the model added (at most ``limit``); True if any."""
        self._reserve_for(m)
        n0, n1 = len(self.counters), len(m.s_t)
        if limit is not None and n1 - n0 > limit:
            n1 = n0 + limit
            self.behind = True
        if n1 == n0:
            return False
        t = np.asarray(m.s_t[n0:n1], dtype=np.float64)
        p = np.asarray(m.s_puts[n0:n1], dtype=np.float64)
        g = np.asarray(m.s_gets[n0:n1], dtype=np.float64)
        d = np.asarray(m.s_dones[n0:n1], dtype=np.float64)
        self.counters.append(t, {"puts": p, "gets": g, "dones": d})
        return True

    def sync_done(self, m: RunModel, limit: int | None = None) -> float | None:
        """Take new completions (at most ``limit``); return the earliest completion time among
        them (None: none).

        Completions arrive through per-worker pipes, so a batch may hold times earlier than
        ones already taken. The arrays stay sorted by merging the new ones into the short
        suffix they overlap (never a full re-sort), and the running sums are redone from there.
        """
        n0, n1 = len(self.done_t), len(m.done_t)
        if limit is not None and n1 - n0 > limit:
            n1 = n0 + limit
            self.behind = True
        if n1 == n0:
            return None
        t = np.asarray(m.done_t[n0:n1], dtype=np.float64)
        w = np.asarray(m.done_wait[n0:n1], dtype=np.float64)
        sv = np.asarray(m.done_service[n0:n1], dtype=np.float64)
        first = float(t.min())
        old_t = self.done_t.view()
        pos = int(np.searchsorted(old_t, first, side="right"))
        if pos < n0 or (t.size > 1 and np.any(np.diff(t) < 0)):
            cw, cs = self.cum_wait.view(), self.cum_service.view()
            before_w = cw[pos - 1] if pos else 0.0
            before_s = cs[pos - 1] if pos else 0.0
            # Per-task values of the overlapped suffix, recovered from the running sums.
            sw = np.diff(np.concatenate(([before_w], cw[pos:n0])))
            ss = np.diff(np.concatenate(([before_s], cs[pos:n0])))
            tt = np.concatenate((old_t[pos:n0], t))
            order = np.argsort(tt, kind="stable")
            tt = tt[order]
            ww = np.concatenate((sw, w))[order]
            vv = np.concatenate((ss, sv))[order]
            for b in (self.done_t, self.cum_wait, self.cum_service):
                b.n = pos
            self.done_t.extend(tt)
            self.cum_wait.extend(before_w + np.cumsum(ww))
            self.cum_service.extend(before_s + np.cumsum(vv))
        else:
            self.done_t.extend(t)
            self.cum_wait.extend(self.cum_wait.last() + np.cumsum(w))
            self.cum_service.extend(self.cum_service.last() + np.cumsum(sv))
        return first

    def counts_at(self, t: float) -> tuple[int, int, int]:
        """(puts, gets, task_dones) in force at time ``t`` (zeros before the first change)."""
        c = self.counters
        i = c.index_at(t) if len(c) else -1
        if i < 0:
            return 0, 0, 0
        return tuple(int(c.value_at(k, i)) for k in ("puts", "gets", "dones"))  # type: ignore[return-value]

    def rates_until(
        self, until: float | None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(grid, rate, mean wait, mean service) up to ``until`` (None: all): views.

        A grid point's figures only count completions up to it, so the grid of the whole
        run cut at ``until`` is what a model fed up to ``until`` would give.
        """
        g = self.grid.view()
        j = g.size if until is None else int(np.searchsorted(g, until, side="right"))
        return g[:j], self.rate.view()[:j], self.mean_wait.view()[:j], \
            self.mean_service.view()[:j]

    def update_rates(self, now: float, changed_from: float | None) -> bool:
        """Extend the rate grid to ``now``; re-evaluate points a late completion may change.

        ``changed_from`` is the earliest completion time added since the last call (None:
        none): grid points up to one window after it are re-evaluated.
        """
        g = self.grid
        n_old = g.n
        n_new = int(now // RATE_STEP_S) + 1 if now > 0 else 0
        if n_new <= n_old and changed_from is None:
            return False
        first = n_old
        if changed_from is not None:
            first = min(first, max(0, int(changed_from // RATE_STEP_S)))
        if n_new > n_old:
            g.extend(np.arange(n_old, n_new) * RATE_STEP_S)
            for b in (self.rate, self.mean_wait, self.mean_service):
                b.raw(n_new)
                b.n = n_new
        if first >= n_new:
            return n_new > n_old
        gt = g.view()[first:n_new]
        rate, wait, service = sliding_rates(
            self.done_t.view(), self.cum_wait.view(), self.cum_service.view(), gt
        )
        self.rate.view()[first:n_new] = rate
        self.mean_wait.view()[first:n_new] = wait
        self.mean_service.view()[first:n_new] = service
        return True


def sliding_rates(
    done_t: np.ndarray, cum_wait: np.ndarray, cum_service: np.ndarray, grid: np.ndarray,
    window: float = RATE_WINDOW_S,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Completions per second over ``(g - window, g]`` and the mean wait/service of those tasks.

    Before a full window has passed, the rate is over the time elapsed so far. Means are NaN
    where no task completed in the window (drawn as a gap, not as a stale value).
    """
    hi = np.searchsorted(done_t, grid, side="right")
    lo = np.searchsorted(done_t, grid - window, side="right")
    count = (hi - lo).astype(np.float64)
    span = np.clip(grid, RATE_STEP_S, window)
    rate = count / span
    with np.errstate(invalid="ignore", divide="ignore"):
        wait = (_sum_before(cum_wait, hi) - _sum_before(cum_wait, lo)) / count
        service = (_sum_before(cum_service, hi) - _sum_before(cum_service, lo)) / count
    return rate, wait, service


def _sum_before(cum: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """The running sum ``cum`` before each index of ``idx`` (0 before the first): a lookup
    per grid point, where a zero-prefixed copy of ``cum`` cost a pass over every completion."""
    out = np.zeros(idx.size)
    some = idx > 0
    out[some] = cum[idx[some] - 1]
    return out


def bin_peaks(
    a: np.ndarray, b: np.ndarray, starts: np.ndarray, ends: np.ndarray, rising: bool
) -> tuple[np.ndarray, np.ndarray]:
    """The two points each bin keeps, the one peak rule of every decimation here.

    Bins are ``[starts[i], ends[i]]`` (inclusive, contiguous, in order). A rising series
    (a cumulative count) keeps ``a``'s first and ``b``'s last point of each bin, picked without
    scanning; any other keeps ``a``'s maximum then ``b``'s minimum, so no spike is lost and a
    bin where the value rose and fell reads as a spike. ``a`` and ``b`` are the same array
    when decimating points, the bins' own maxima and minima when merging bins.
    """
    if rising:
        return a[starts], b[ends]
    if not starts.size:
        return a[:0], b[:0]
    return np.maximum.reduceat(a, starts), np.minimum.reduceat(b, starts)


def decimate(
    x: np.ndarray, ys: dict[str, np.ndarray], xmin: float, xmax: float, width_px: float,
    rising: frozenset[str] = frozenset(),
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Clip to ``[xmin, xmax]`` and peak-decimate several series that share ``x``, in one pass.

    Every pixel column keeps the max and the min of each series (so no spike is lost), and
    all series keep the same x, so curves stacked on each other stay stacked. Columns are
    cut in x, not in point counts: a sparse stretch keeps its points where they are instead
    of merging far-apart points into one slanted segment. When the visible part has fewer
    than two points per pixel it is returned as is (views, no copy). The last point (the
    "now" tail) is always kept. Series named in ``rising`` never decrease (cumulative
    counts): their extremes are a column's first and last points, picked without scanning.
    """
    n = x.size
    if n == 0:
        return x, {k: y[:0] for k, y in ys.items()}
    lo = max(0, int(np.searchsorted(x, xmin, side="left")) - 2)
    hi = min(n, int(np.searchsorted(x, xmax, side="right")) + 2)
    if hi <= lo:
        lo, hi = max(0, n - 2), n
    cols = max(16, int(width_px))
    count = hi - lo
    if count <= 2 * cols or not xmax > xmin:
        return x[lo:hi], {k: y[lo:hi] for k, y in ys.items()}
    # Column edges found by bisection (O(columns · log points)); the points left and right of
    # the view form columns of their own, and the last point is a column alone.
    xs = x[lo:hi]
    edges = np.searchsorted(xs, np.linspace(xmin, xmax, cols + 1), side="left")
    cuts = np.unique(np.concatenate(([0], edges, [count - 1, count])))
    starts = cuts[:-1]
    ends = cuts[1:] - 1
    xd = np.empty(2 * starts.size)
    xd[0::2], xd[1::2] = xs[starts], xs[ends]
    out: dict[str, np.ndarray] = {}
    for name, y in ys.items():
        yd = np.empty(xd.size)
        part = y[lo:hi]
        yd[0::2], yd[1::2] = bin_peaks(part, part, starts, ends, name in rising)
        out[name] = yd
    return xd, out
