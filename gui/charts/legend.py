"""The legend column beside each chart: a bold title and one sample per colour."""

from __future__ import annotations

import pyqtgraph as pg

from gui.charts.palette import Theme, qcolor
from gui.charts.plotkit import Style


class ChartLegend(pg.GraphicsLayout):
    """Title + pyqtgraph LegendItem, laid out in its own grid cell (never over the data)."""

    def __init__(self, title: str) -> None:
        super().__init__()
        self.title = title
        self.entries: list[tuple[object, str]] = []
        self.setContentsMargins(4, 2, 4, 2)
        self.layout.setVerticalSpacing(0)
        self.label = self.addLabel(title, row=0, col=0, justify="left")
        self.legend = pg.LegendItem(frame=False, verSpacing=-4, horSpacing=6)
        self.addItem(self.legend, row=1, col=0)
        self.layout.setRowStretchFactor(2, 10)
        self.addLabel("", row=2, col=0)

    def set_entries(self, entries: list[tuple[object, str]]) -> None:
        self.entries = entries

    def apply(self, theme: Theme, style: Style) -> None:
        self.label.setText(self.title, color=theme.foreground, size=f"{style.title_pt}pt",
                           bold=True)
        lg = self.legend
        lg.clear()
        lg.setLabelTextColor(qcolor(theme.foreground))
        lg.setLabelTextSize(f"{style.font_pt}pt")
        lg.layout.setVerticalSpacing(-6 if style.presenter else -4)
        for sample, text in self.entries:
            lg.addItem(sample, text)
