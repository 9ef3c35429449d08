"""The flow view's frames reuse what did not change: a moving token is blitted, not redrawn."""

from __future__ import annotations

import itertools

from pytestqt.qtbot import QtBot

from engine.flow_layout import QUEUE, flow_frame
from engine.model import RunModel
from gui.flow import FlowView


def test_a_token_that_only_moves_is_not_drawn_again(
    qtbot: QtBot, short_run_model: RunModel
) -> None:
    m = short_run_model
    view = FlowView()
    qtbot.addWidget(view)
    view.resize(1280, 800)
    view.show()
    qtbot.waitExposed(view)
    view.set_model(m)
    # Two nearby times with a task waiting in the queue at both (it moves up a slot or stays).
    times = sorted({float(t) for t in m.s_t})
    pairs = [(a, b) for a, b in itertools.pairwise(times)
             if {tok.tid for tok in flow_frame(m, a).tokens if tok.place == QUEUE}
             & {tok.tid for tok in flow_frame(m, b).tokens if tok.place == QUEUE}]  # fmt: skip
    assert pairs, "no task waited across two events"
    a, b = pairs[len(pairs) // 2]
    view.set_time(a, snap=True)
    view.viewport().repaint()
    ratio = view.viewport().devicePixelRatioF()
    before = {tid: it.pixmap(ratio).cacheKey() for tid, it in view.items.items()
              if it.tok.place == QUEUE}  # fmt: skip
    view.set_time(b)
    view.advance(0.02)  # mid-glide
    view.viewport().repaint()
    kept = [tid for tid, it in view.items.items() if tid in before and it.tok.place == QUEUE]
    assert kept
    for tid in kept:
        assert view.items[tid].pixmap(ratio).cacheKey() == before[tid], tid
    # What is drawn is still the token: the picture has it where the view says.
    img = view.viewport().grab().toImage()
    x, y = view.token_positions()[kept[0]]
    style = view.items[kept[0]].style
    got = img.pixelColor(round(x), round(y - view.geometry_.token_h * 0.36))  # above the words
    want = style.fill
    assert max(abs(got.red() - want.red()), abs(got.green() - want.green()),
               abs(got.blue() - want.blue())) <= 16, (got.name(), want.name())  # fmt: skip
