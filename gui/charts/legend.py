"""The legend column beside each chart: a bold title and one sample per colour."""

from __future__ import annotations

import math

import pyqtgraph as pg
from PySide6.QtCore import QRectF, QSizeF, Qt
from PySide6.QtGui import QGuiApplication, QPaintEngine, QPainter, QPixmap
from PySide6.QtWidgets import QGraphicsScene

from gui.charts.palette import Theme, qcolor
from gui.charts.plotkit import Style


class _LegendLayout(pg.GraphicsLayout):
    """Title + pyqtgraph LegendItem: what the legend looks like, laid out off screen."""

    def __init__(self, title: str) -> None:
        super().__init__()
        self.title = title
        self.setContentsMargins(4, 2, 4, 2)
        self.layout.setVerticalSpacing(0)
        self.label = self.addLabel(title, row=0, col=0, justify="left")
        self.legend = pg.LegendItem(frame=False, verSpacing=-4, horSpacing=6)
        self.addItem(self.legend, row=1, col=0)

    def apply(self, theme: Theme, style: Style, entries: list[tuple[object, str]]) -> None:
        self.label.setText(self.title, color=theme.foreground, size=f"{style.title_pt}pt",
                           bold=True)
        lg = self.legend
        lg.clear()
        lg.setLabelTextColor(qcolor(theme.foreground))
        lg.setLabelTextSize(f"{style.font_pt}pt")
        lg.layout.setVerticalSpacing(-6 if style.presenter else -4)
        for sample, text in entries:
            lg.addItem(sample, text)


class ChartLegend(pg.GraphicsWidget):
    """One chart's legend, in its own grid cell (never over the data).

    The title and samples are a dozen pyqtgraph items; in the charts' scene each of them costs
    Python calls (bounds, shape, paint) on every frame, while they change only with the theme
    or when the timeline meets a new activity. So they live in a scene of their own and are
    drawn from a pixmap rendered when they change; an SVG export still gets vectors.
    """

    def __init__(self, title: str) -> None:
        super().__init__()
        self.title = title
        self.entries: list[tuple[object, str]] = []
        self._source = _LegendLayout(title)
        self._scene = QGraphicsScene()
        self._scene.addItem(self._source)
        self._pixmap = QPixmap()
        self._size = QSizeF(0, 0)

    @property
    def label(self) -> pg.LabelItem:
        return self._source.label

    @property
    def legend(self) -> pg.LegendItem:
        return self._source.legend

    def set_entries(self, entries: list[tuple[object, str]]) -> None:
        self.entries = entries

    def apply(self, theme: Theme, style: Style) -> None:
        src = self._source
        src.apply(theme, style, self.entries)
        src.layout.activate()
        hint = src.effectiveSizeHint(Qt.SizeHint.PreferredSize)
        src.resize(hint)
        src.layout.activate()
        self._size = QSizeF(math.ceil(hint.width()), math.ceil(hint.height()))
        self._render()
        self.setMinimumSize(self._size)
        self.setPreferredSize(self._size)
        self.updateGeometry()
        self.update()

    def _render(self) -> None:
        app = QGuiApplication.instance()
        dpr = app.devicePixelRatio() if app is not None else 1.0
        w, h = self._size.width(), self._size.height()
        pm = QPixmap(max(1, math.ceil(w * dpr)), max(1, math.ceil(h * dpr)))
        pm.setDevicePixelRatio(dpr)
        pm.fill(Qt.GlobalColor.transparent)
        p = QPainter(pm)
        try:
            p.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
            self._scene.render(p, QRectF(0, 0, w, h), QRectF(0, 0, w, h))
        finally:
            p.end()
        self._pixmap = pm

    def paint(self, p: QPainter, *args: object) -> None:
        engine = p.paintEngine()
        if engine is not None and engine.type() == QPaintEngine.Type.SVG:
            r = QRectF(0, 0, self._size.width(), self._size.height())
            self._scene.render(p, r, r)  # vectors for a vector export
        elif not self._pixmap.isNull():
            p.drawPixmap(0, 0, self._pixmap)
