"""The charts' data layer without Qt: model series -> steps, completions, sliding rates, LOD.

Every chart item draws from these arrays (see test_chart_check.py for what is painted). Here
a RunModel is fed hand-made records with known times, and each array is checked against an
independent computation from the model's own series: no running process, no widget.
"""

from __future__ import annotations

import numpy as np
import pytest

from engine.events import LABEL_NONE, ROLE_CONSUMER, ROLE_PRODUCER, Kind
from engine.model import RunModel
from gui.charts.buffers import GrowBuffer, StepSeries
from gui.charts.lod import StepLOD, bin_width
from gui.charts.series import RATE_STEP_S, RATE_WINDOW_S, ModelSeries, decimate

T0 = 100.0
P = 1 << 32


def _r(*rec: object) -> tuple:
    return (int(rec[0]), *rec[1:])  # type: ignore[call-overload]


def run_records(n: int = 12, gap: float = 0.13, work: float = 0.2) -> tuple[list, list, list]:
    """1 producer puts ``n`` tasks ``gap`` s apart; 2 consumers alternate, each task ``work``
    s (task i waits i * 0.01 s in the queue): known completion times, waits and services."""
    main = [_r(Kind.RUN_START, T0, 1, 2, n)]
    prod = [_r(Kind.WORKER_START, T0, 11, ROLE_PRODUCER, 0)]
    cons: dict[int, list] = {2: [_r(Kind.WORKER_START, T0, 12, ROLE_CONSUMER, 0)],
                             3: [_r(Kind.WORKER_START, T0, 13, ROLE_CONSUMER, 1)]}
    for i in range(n):
        tp = T0 + 0.1 + i * gap
        prod.append(_r(Kind.PUT, tp, tp, P + 1 + i, i, 0.5))
        tg = tp + i * 0.01
        src = 2 + i % 2
        cons[src].append(_r(Kind.GET, tg, tg, P + 1 + i))
        cons[src].append(_r(Kind.TASK_DONE, tg + work, P + 1 + i))
    prod.append(_r(Kind.PUT, T0 + 9, T0 + 9, P + 100, LABEL_NONE, 0.0))
    return main, prod, [cons[2], cons[3]]


def expected_rates(done_t, wait, service, grid):  # type: ignore[no-untyped-def]
    """Completions per second in (g - window, g], and their mean wait/service: by hand."""
    rate, mw, ms = [], [], []
    for g in grid:
        inside = [i for i, t in enumerate(done_t) if g - RATE_WINDOW_S < t <= g]
        rate.append(len(inside) / min(max(g, RATE_STEP_S), RATE_WINDOW_S))
        mw.append(np.mean([wait[i] for i in inside]) if inside else np.nan)
        ms.append(np.mean([service[i] for i in inside]) if inside else np.nan)
    return np.array(rate), np.array(mw), np.array(ms)


def test_counters_are_the_models_steps_with_depth_in_flight_and_unfinished() -> None:
    main, prod, cons = run_records()
    m = RunModel()
    m.feed([(0, 0, main), (1, 0, prod), (2, 0, cons[0]), (3, 0, cons[1])])
    s = ModelSeries()
    assert s.sync_counters(m)
    assert not s.sync_counters(m)  # nothing new
    puts, gets, dones = (np.array(a, dtype=float) for a in (m.s_puts, m.s_gets, m.s_dones))
    want = {"puts": puts, "gets": gets, "dones": dones, "depth": puts - gets,
            "in_flight": gets - dones, "unfinished": puts - dones}
    n = len(m.s_t)
    for name, y in want.items():
        x, ey = s.counters.xy(name)
        assert x.size == ey.size == 2 * n
        np.testing.assert_array_equal(x[0::2], np.array(m.s_t), err_msg=name)
        np.testing.assert_array_equal(ey[0::2], y, err_msg=name)
        np.testing.assert_array_equal(ey[1::2], y, err_msg=name)
    assert s.counters.xy("unfinished")[1][-1] == m.unfinished == 1  # the sentinel, not taken


def test_counters_keep_only_their_polylines_and_read_raw_points_from_them() -> None:
    """A flood writes the charts' counters at 180,000 points a second: each point is kept
    once, in the polylines of puts, gets and dones and their shared x (two slots each); the
    raw points, the queue's depth, in flight and unfinished are read from those."""
    main, prod, cons = run_records()
    m = RunModel()
    m.feed([(0, 0, main), (1, 0, prod), (2, 0, cons[0]), (3, 0, cons[1])])
    s = ModelSeries()
    s.sync_counters(m)
    c = s.counters
    n = len(m.s_t)
    stored = [b for b in (*vars(c).values(), *getattr(c, "ey", {}).values(),
                          *getattr(c, "cols", {}).values()) if isinstance(b, GrowBuffer)]
    assert sum(len(b) for b in stored) == 4 * 2 * n
    puts, gets, dones = (np.array(a, dtype=float) for a in (m.s_puts, m.s_gets, m.s_dones))
    np.testing.assert_array_equal(c.t.view(), np.array(m.s_t))
    np.testing.assert_array_equal(c.cols["depth"].view(), puts - gets)
    np.testing.assert_array_equal(c.cols["in_flight"].view(), gets - dones)
    np.testing.assert_array_equal(c.cols["unfinished"].view(), puts - dones)
    x, ys = c.drawn(("in_flight", "unfinished"))  # what the decimation reads, slice by slice
    np.testing.assert_array_equal(ys["in_flight"][1:7], c.xy("in_flight")[1][1:7])
    assert ys["unfinished"][x.size - 1] == m.unfinished
    for i in (0, n // 2, n - 1):
        assert c.value_at("depth", i) == puts[i] - gets[i]
        assert c.value_at("unfinished", i) == puts[i] - dones[i]
        assert c.value_at("puts", i) == puts[i]
        assert c.index_at(m.s_t[i]) >= i and c.index_at(m.s_t[i] - 1e-9) < i
    assert c.index_at(m.s_t[0] - 1.0) == -1 and c.index_at(1e9) == n - 1


def test_a_limited_sync_takes_part_and_says_it_is_behind() -> None:
    main, prod, cons = run_records()
    m = RunModel()
    m.feed([(0, 0, main), (1, 0, prod), (2, 0, cons[0]), (3, 0, cons[1])])
    s = ModelSeries()
    assert s.sync_counters(m, limit=5) and s.behind
    assert len(s.counters) == 5
    assert s.sync_done(m, limit=3) is not None and len(s.done_t) == 3
    s.sync_counters(m)
    s.sync_done(m)
    assert len(s.counters) == len(m.s_t) and len(s.done_t) == len(m.done_t)
    np.testing.assert_array_equal(s.counters.t.view(), np.array(m.s_t))
    s.clear()
    assert not s.behind and len(s.counters) == 0 and len(s.done_t) == 0


def test_completions_stay_sorted_when_a_later_batch_holds_earlier_ones() -> None:
    main, prod, cons = run_records()
    m = RunModel()
    s = ModelSeries()
    # consumer-1's records arrive a poll late: its completions are earlier than some taken.
    m.feed([(0, 0, main), (1, 0, prod), (2, 0, cons[0])])
    first = s.sync_done(m)
    assert first == pytest.approx(m.done_t[0])
    m.feed([(3, 0, cons[1])])
    earliest = s.sync_done(m)
    assert earliest is not None and earliest < s.done_t.view()[-1]
    order = np.argsort(np.array(m.done_t), kind="stable")
    np.testing.assert_allclose(s.done_t.view(), np.array(m.done_t)[order])
    np.testing.assert_allclose(s.cum_wait.view(), np.cumsum(np.array(m.done_wait)[order]))
    np.testing.assert_allclose(s.cum_service.view(), np.cumsum(np.array(m.done_service)[order]))
    assert s.sync_done(m) is None


@pytest.mark.parametrize("late", [False, True], ids=["in-order", "late-consumer"])
def test_sliding_rates_and_means_match_a_hand_count(late: bool) -> None:
    main, prod, cons = run_records(n=20, gap=0.11, work=0.3)
    m = RunModel()
    s = ModelSeries()
    if late:  # half the completions arrive after the grid was evaluated past them
        m.feed([(0, 0, main), (1, 0, prod), (2, 0, cons[0])])
        s.sync_done(m)
        assert s.update_rates(3.0, None)
        m.feed([(3, 0, cons[1])])
        changed = s.sync_done(m)
        assert s.update_rates(3.0, changed)  # no new grid point, but late completions
    else:
        m.feed([(0, 0, main), (1, 0, prod), (2, 0, cons[0]), (3, 0, cons[1])])
        s.sync_done(m)
        assert s.update_rates(1.5, s.done_t.view()[0])
        assert s.update_rates(3.0, None)
    assert not s.update_rates(3.0, None)  # nothing new, nothing to do
    grid = s.grid.view()
    np.testing.assert_allclose(grid, np.arange(int(3.0 // RATE_STEP_S) + 1) * RATE_STEP_S)
    done_t, wait, service = (np.array(a) for a in (m.done_t, m.done_wait, m.done_service))
    rate, mw, ms = expected_rates(done_t, wait, service, grid)
    np.testing.assert_allclose(s.rate.view(), rate, atol=1e-9)
    np.testing.assert_allclose(s.mean_wait.view(), mw, atol=1e-9)  # NaN where none: a gap
    np.testing.assert_allclose(s.mean_service.view(), ms, atol=1e-9)
    assert np.nanmax(s.mean_wait.view()) > np.nanmin(s.mean_wait.view())  # not a constant
    assert np.isnan(s.mean_wait.view()[0]) and not np.isnan(s.mean_wait.view()[-10])


def test_no_rate_points_before_the_run_starts() -> None:
    s = ModelSeries()
    assert not s.update_rates(0.0, None)
    assert len(s.grid) == 0


def test_step_tail_follows_now_but_never_goes_before_the_last_change() -> None:
    s = StepSeries(("a",))
    assert not s.set_now(0.5)  # nothing to draw yet
    s.append(np.array([1.0, 2.0]), {"a": np.array([3.0, 4.0])})
    x, y = s.xy("a")
    assert x.tolist() == [1.0, 2.0, 2.0, 2.0] and y.tolist() == [3.0, 3.0, 4.0, 4.0]
    assert s.set_now(5.0) and s.xy("a")[0][-1] == 5.0
    assert not s.set_now(5.0)
    assert s.set_now(1.0) and s.xy("a")[0][-1] == 2.0  # clamped to the last change
    s.set_now(6.0)
    s.append(np.array([7.0]), {"a": np.array([1.0])})
    x, y = s.xy("a")
    assert x.tolist() == [1.0, 2.0, 2.0, 7.0, 7.0, 7.0] and y.tolist() == [3, 3, 4, 4, 1, 1]
    s.append(np.array([]), {"a": np.array([])})
    assert len(s) == 3
    assert [s.index_at(t) for t in (0.5, 1.0, 1.5, 2.0, 9.0)] == [-1, 0, 0, 1, 2]
    s.clear()
    assert len(s) == 0 and s.xy("a")[0].size == 0


def test_a_step_appended_while_now_is_ahead_keeps_the_tail_at_now() -> None:
    s = StepSeries(("a",))
    s.set_now(10.0)
    s.append(np.array([1.0]), {"a": np.array([2.0])})
    assert s.xy("a")[0].tolist() == [1.0, 10.0]


def test_grow_buffer_keeps_its_values_as_it_grows() -> None:
    b = GrowBuffer(4)
    assert len(b) == 0 and b.last(-1.0) == -1.0
    values = np.arange(5000, dtype=float)
    for chunk in np.array_split(values, 7):
        b.extend(chunk)
    b.extend([])
    np.testing.assert_array_equal(b.view(), values)
    assert b.last() == 4999.0 and len(b) == 5000
    b.reserve(1 << 20)  # big: plain pages, same values
    np.testing.assert_array_equal(b.view(), values)
    assert b.raw(6000).size == 6000
    b.clear()
    assert len(b) == 0 and b.view().size == 0
    big = GrowBuffer(1 << 20)
    big.extend(values)
    np.testing.assert_array_equal(big.view(), values)


def test_bin_width_is_the_power_of_two_of_one_pixel() -> None:
    assert bin_width(10.0, 1000) == 2.0 ** -6  # 10 ms a pixel -> 15.6 ms bins
    assert bin_width(15.625, 1000) == 2.0 ** -6  # exactly one pixel a bin
    assert bin_width(16.0, 1000) == 2.0 ** -5  # a bit more: the next power
    assert bin_width(62.5, 1000) == 2.0 ** -4
    assert bin_width(10.0, 4) == bin_width(10.0, 16)  # at least 16 columns
    assert bin_width(0.0, 1000) == 0.0


def test_decimate_returns_few_points_unchanged_and_clips_to_the_view() -> None:
    x = np.arange(100, dtype=float)
    y = {"a": x * 2}
    xd, yd = decimate(x, y, 0.0, 99.0, 1000)
    assert xd.tolist() == x.tolist() and yd["a"].tolist() == (x * 2).tolist()
    xd, yd = decimate(x, y, 40.0, 50.0, 1000)
    assert xd[0] == 38.0 and xd[-1] == 52.0  # two points of margin each side
    xd, yd = decimate(np.array([]), {"a": np.array([])}, 0.0, 1.0, 100)
    assert xd.size == 0
    xd, yd = decimate(x, y, 500.0, 600.0, 100)  # nothing visible: the last two points
    assert xd.tolist() == [98.0, 99.0]


def test_decimate_keeps_each_columns_max_and_min_and_the_last_point() -> None:
    rng = np.random.default_rng(3)
    x = np.arange(100_003, dtype=float)
    noise = rng.normal(size=x.size)
    xd, yd = decimate(x, {"n": noise}, 0.0, x[-1], 100)
    assert xd.size < 4 * 100 + 8
    assert yd["n"].max() == noise.max() and yd["n"].min() == noise.min()
    assert xd[-1] == x[-1] and yd["n"][-1] == noise[-1]
    assert np.all(np.diff(xd) >= 0)


def test_step_lod_equals_a_fresh_decimation_after_a_coarser_bin() -> None:
    names = ("up", "w")
    s = StepSeries(names)
    rng = np.random.default_rng(1)
    t = np.cumsum(rng.exponential(1e-3, 20_000))
    s.append(t, {"up": np.arange(t.size, dtype=float), "w": rng.integers(0, 9, t.size) * 1.0})
    s.set_now(t[-1] + 0.01)
    x, ys = s.ex.view(), {k: s.ey[k].view() for k in names}
    lod = StepLOD(names, frozenset(("up",)))
    lod.update(x, ys, 2.0 ** -7)
    lod.update(x, ys, 2.0 ** -5)  # the view grew: bins merged, not recomputed
    fresh = StepLOD(names, frozenset(("up",)))
    fresh.update(x, ys, 2.0 ** -5)
    for a, b in zip(lod.decimated(x, ys, 0.0, x[-1]), fresh.decimated(x, ys, 0.0, x[-1]),
                    strict=True):
        if isinstance(a, dict):
            for k in names:
                np.testing.assert_array_equal(a[k], b[k])
        else:
            np.testing.assert_array_equal(a, b)
    _xd, yd = lod.decimated(x, ys, 0.0, x[-1])
    assert yd["w"].max() == ys["w"].max() and yd["up"][-1] == ys["up"][-1]
    lod.update(x, ys, 0.0)  # no width: nothing binned
    assert len(lod.xa) == 0
