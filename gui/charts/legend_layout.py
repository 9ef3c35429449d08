"""Where the legends go and how the panel's height is shared: pure arithmetic, no widgets."""

from __future__ import annotations

from collections.abc import Sequence

from gui.charts.plotkit import Style

# Below this plot width, a legend column beside the charts costs them too much: the legends
# become strips over each chart (presenter mode always uses strips: its text is big).
SIDE_LEGEND_MIN_PLOT_PX = 480


def legends_as_strips(panel_w: float, column_w: float, style: Style) -> bool:
    """Strips above the charts (not a column beside them) when the plots would get too narrow,
    and always in presenter mode."""
    plot_w = panel_w - column_w - style.left_axis_px - style.right_axis_px - 24
    return style.presenter or plot_w < SIDE_LEGEND_MIN_PLOT_PX


def row_stretch(
    timeline_rows: int, strips: Sequence[float], view_h: float, readout_h: float, style: Style
) -> tuple[int, ...]:
    """The four chart rows' stretch factors: the heights wanted, in pixels.

    The timeline gets room for its rows (a fifth to about a third of the panel), the other
    charts share the rest 6:4:4 (the join() counter first), each with its legend strip
    (``strips``, the four strips' heights) on top. QGraphicsGridLayout gives rows heights in
    proportion to their stretch factors (the plots ask for little).
    """
    total = max(300.0, view_h - readout_h - 24)
    time_axis = 3.0 * style.font_pt + 12  # ticks and title under the last chart
    row_px = 30 if style.presenter else 24
    timeline = min(max(max(1, timeline_rows) * row_px + 16 + strips[1], 0.2 * total), 0.36 * total)
    rest = max(60.0, total - timeline - strips[0] - strips[2] - strips[3] - time_axis)
    heights = (rest * 6 / 14 + strips[0], timeline, rest * 4 / 14 + strips[2],
               rest * 4 / 14 + strips[3] + time_axis)
    return tuple(max(1, round(h)) for h in heights)
