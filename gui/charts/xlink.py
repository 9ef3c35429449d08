"""XLink: one time axis for every chart, without pyqtgraph's geometry-based x links."""

from __future__ import annotations

from collections.abc import Callable

import pyqtgraph as pg

FOLLOW_WINDOW_S = 30.0  # while following, the x axis shows at most the last this many seconds


def follow_range(now: float) -> tuple[float, float]:
    """The x range that follows a run at ``now``: from 0 at first, then the last 30 s."""
    if now <= FOLLOW_WINDOW_S:
        return 0.0, max(now, 0.05) * 1.02
    return now - FOLLOW_WINDOW_S, now + FOLLOW_WINDOW_S * 0.02


class XLink:
    """Gives every view box the same x range, whichever one changed it.

    pyqtgraph's own x links do the same through screen geometry, twice per view and scroll.
    ``on_user_range`` is called after a change the panel did not make itself (a zoom or a
    pan), for it to redraw for the new range.
    """

    def __init__(self, views: list[pg.ViewBox], on_user_range: Callable[[], None]) -> None:
        self.views = views
        self._on_user_range = on_user_range
        self._linking = False
        self._applying = False
        for vb in views:
            vb.setLimits(xMin=-1.0)
            vb.sigXRangeChanged.connect(self._on_view_sig_x_range_changed)

    def set_range(self, lo: float, hi: float) -> None:
        """Move every view to ``[lo, hi]`` (following the run); no redraw call-back."""
        a, b = self.views[0].viewRange()[0]
        if (a, b) == (lo, hi):
            return
        self._applying = self._linking = True
        try:
            for vb in self.views:
                vb.setXRange(lo, hi, padding=0)
        finally:
            self._applying = self._linking = False

    def _on_view_sig_x_range_changed(self, vb: pg.ViewBox, *_: object) -> None:
        if self._linking:
            return
        self._linking = True
        try:
            lo, hi = vb.viewRange()[0]
            for other in self.views:
                if other is not vb:
                    other.setXRange(lo, hi, padding=0)
        finally:
            self._linking = False
        if not self._applying:  # the user zoomed or panned: redraw for the new range
            self._on_user_range()
