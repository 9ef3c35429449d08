"""The charts and the flow view know step mode's gates: "waiting for a step", with its key."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF
from PySide6.QtGui import QImage
from pytestqt.qtbot import QtBot

from engine.flow_layout import flow_frame
from engine.states import Activity
from gui.charts.palette import ACTIVITY_WORDS, qcolor
from tests.gui.test_charts_layout import make_panel
from tests.test_step_time import stepped_run


def test_gated_workers_are_drawn_and_keyed_as_waiting_for_a_step(qtbot: QtBot,
                                                                  tmp_path) -> None:  # fmt: skip
    run, _records, _seen = stepped_run()
    m = run.model
    p = make_panel(qtbot, (1100, 760), True, m)
    theme = p.theme
    # The key of the timeline names it, in its own colour.
    words = ACTIVITY_WORDS[Activity.STEP_WAIT]
    entries = p.timeline.legend_entries(theme)
    assert any(e[1] == words for e in entries), [e[1] for e in entries]
    colour = theme.activities[Activity.STEP_WAIT]
    others = {c for a, c in theme.activities.items() if a != Activity.STEP_WAIT}
    assert colour not in others
    # The producer's bar while it waited at its gate is painted in that colour.
    w = m.workers[1]
    t0s, t1s, acts, _ = w.intervals.columns(0, len(w.intervals))
    k = int(np.flatnonzero(acts == int(Activity.STEP_WAIT))[0])
    mid = (float(t0s[k]) + float(t1s[k])) / 2
    vb = p.timeline.plot.getViewBox()
    vb.setXRange(float(t0s[k]) - 0.05, float(t1s[k]) + 0.05, padding=0)
    qtbot.wait(50)
    out = tmp_path / "charts.png"
    p.grab().save(str(out))
    img = QImage(str(out))
    row = p.timeline_rows().index(w.name)
    pt = p._glw.mapTo(p, p._glw.mapFromScene(vb.mapViewToScene(QPointF(mid, row))))
    got = img.pixelColor(pt.x(), pt.y())
    want = qcolor(colour)
    assert max(abs(got.red() - want.red()), abs(got.green() - want.green()),
               abs(got.blue() - want.blue())) <= 12, (got.name(), want.name())  # fmt: skip
    # The flow view's box for the producer says the same at that time.
    assert flow_frame(m, mid).producers[0].activity == int(Activity.STEP_WAIT)
