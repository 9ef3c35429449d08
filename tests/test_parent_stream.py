"""The parent's own stream (0) arrives in time order while a join's end settles."""

from __future__ import annotations

import pytest

from engine import runner
from engine.config import load_preset
from engine.events import Kind, effect_time
from engine.runner import Run
from tests.faults import RUN_TIMEOUT_S


@pytest.mark.slow
def test_the_parent_stream_stays_in_time_order_while_the_joins_end_settles(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Main joins the queue first, so its join returns at once (the join race); its JOIN_END
    # then settles (made long here: the whole run fits in it) while the workers run and exit,
    # each exit a PROC_EXIT record of stream 0 (the collector's). JOIN_END was stamped at the
    # return but sent after the settle, behind those later records. (That the settle still
    # brings the task_done records in first: test_cli.py, tests/gui/test_window_run_to_join.py.)
    monkeypatch.setattr(runner, "SETTLE_S", 1.0)
    cfg = load_preset("failure-retry").replace(time_scale=0.02, seed=3, join_order="queue_first")
    heard: list[tuple[int, int, list[tuple]]] = []
    with Run(cfg) as run:
        run.add_listener(heard.append)
        assert run.wait(RUN_TIMEOUT_S), "the run did not finish"
        run.drain(0.3)
    assert run.end_reason == "joined"
    parent = [(first + i, r) for src, first, records in heard if src == 0
              for i, r in enumerate(records)]  # fmt: skip
    assert [seq for seq, _ in parent] == list(range(len(parent)))
    times = [effect_time(r) for _, r in parent]
    kinds = [Kind(r[0]).name for _, r in parent]
    assert "JOIN_END" in kinds and "PROC_EXIT" in kinds
    assert times == sorted(times), list(zip(kinds, times, strict=True))
