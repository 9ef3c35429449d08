"""Start/stop cycles leave open fds, threads, children and memory where they were."""

from __future__ import annotations

import pytest

from benchmarks.soak import soak

CYCLES = 30
RSS_SLACK_MB = 10.0  # the bound for 200 cycles; 30 cycles must stay well inside it


@pytest.mark.slow
def test_start_stop_cycles_return_to_baseline() -> None:
    r = soak(CYCLES)
    d = r.deltas()
    print(f"\nFIGURE {CYCLES} cycles in {r.seconds:.1f} s; deltas {d}; "
          f"max fds {r.max_fds}, threads {r.max_threads}, children {r.max_children}")  # fmt: skip
    print(f"threads alive right after a cycle: {r.incidents}")
    assert d["threads"] <= 0, f"threads leaked: {r.leftover_threads}; {r.incidents}"
    assert d["fds"] <= 0, f"file descriptors leaked: {d}"
    assert d["children"] <= 0, f"child processes left: {d}"
    assert d["rss_mb"] < RSS_SLACK_MB, f"memory grew: {d}"
    # No growth during the cycles either (a leak that the last cycle happened to release).
    assert r.max_fds <= r.baseline.fds + 16
