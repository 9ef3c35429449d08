"""Chart legends: a column beside each chart, or a wrapped strip above it when width is short."""

from __future__ import annotations

import math
from dataclasses import dataclass

import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, QSizeF, Qt, Signal
from PySide6.QtGui import (
    QBrush,
    QFont,
    QFontMetricsF,
    QGuiApplication,
    QPaintEngine,
    QPainter,
    QPen,
    QPixmap,
)
from PySide6.QtWidgets import QGraphicsItem, QGraphicsSceneResizeEvent

from gui.charts.palette import Theme, qcolor
from gui.charts.plotkit import Style

# A legend entry: the sample's pyqtgraph item (BarGraphItem or PlotDataItem), its words, then
# optionally shorter and shorter words for a strip that would need more lines with the full ones.
Entry = tuple[object, ...]
PAD = 4.0
UNLIMITED = 16_777_215.0  # QWIDGETSIZE_MAX: "no maximum" for a layout item


@dataclass(frozen=True)
class _Text:
    rect: QRectF
    font: QFont
    text: str


@dataclass(frozen=True)
class _Sample:
    rect: QRectF
    brush: QBrush | None  # a filled square (with ``pen`` as its border, if any)
    pen: QPen | None  # alone: a line across the middle
    cross: bool = False  # an X in the brush's colour (a mark drawn on a chart)


class _Look:
    """Fonts and sizes of one theme and style, shared by both layouts."""

    def __init__(self, style: Style) -> None:
        self.style = style
        self.title_font = style.font(bold=True)
        self.title_font.setPointSize(style.title_pt)
        self.text_font = style.font()
        self.tfm = QFontMetricsF(self.title_font)
        self.fm = QFontMetricsF(self.text_font)
        self.row_h = math.ceil(self.fm.height()) + (3 if style.presenter else 2)
        self.sample_w = math.ceil(self.fm.height() * 1.25)
        self.sample_h = math.ceil(self.fm.ascent() * 0.85)
        self.gap = math.ceil(self.fm.horizontalAdvance(" ") * 1.5)  # sample to its words
        self.entry_gap = math.ceil(self.fm.horizontalAdvance("M") * 1.5)  # between entries

    def entry_w(self, text: str) -> float:
        return self.sample_w + self.gap + math.ceil(self.fm.horizontalAdvance(text))

    def sample(self, item: object, x: float, y: float, row_h: float) -> _Sample:
        """The swatch or line of a pyqtgraph item (BarGraphItem or PlotDataItem) at x, y."""
        opts = getattr(item, "opts", {})
        h = self.sample_h
        rect = QRectF(x + 1, y + (row_h - h) / 2, self.sample_w - 2, h)
        pen = QPen(pg.mkPen(opts["pen"])) if opts.get("pen") is not None else None
        if isinstance(item, pg.BarGraphItem):
            return _Sample(rect, QBrush(pg.mkBrush(opts.get("brush"))), pen)
        if isinstance(item, pg.ScatterPlotItem):
            side = min(h + 2, rect.width())
            square = QRectF(rect.center().x() - side / 2, rect.center().y() - side / 2, side, side)
            return _Sample(square, QBrush(pg.mkBrush(opts.get("brush"))), None, cross=True)
        if pen is not None and self.style.presenter:
            pen.setWidthF(max(pen.widthF(), 3.0))  # a line sample on a projector: thick
        return _Sample(rect, None, pen)


def _layout_column(look: _Look, title: str, entries: list[Entry]) -> tuple[QSizeF, list]:
    """Title on top, one entry a line, in full words."""
    ops: list = []
    title_h = math.ceil(look.tfm.height())
    title_w = math.ceil(look.tfm.horizontalAdvance(title))
    ops.append(_Text(QRectF(PAD, PAD, title_w + 2, title_h), look.title_font, title))
    y = PAD + title_h + (6 if look.style.presenter else 4)
    width = title_w + 2
    for item, text, *_ in entries:
        ops.append(look.sample(item, PAD, y, look.row_h))
        tx = PAD + look.sample_w + look.gap
        tw = math.ceil(look.fm.horizontalAdvance(text)) + 2
        ops.append(_Text(QRectF(tx, y, tw, look.row_h), look.text_font, text))
        width = max(width, tx - PAD + tw)
        y += look.row_h
    return QSizeF(math.ceil(width + 2 * PAD), math.ceil(y + PAD)), ops


def _layout_strip(look: _Look, title: str, entries: list[Entry], width: float
                  ) -> tuple[QSizeF, list]:
    """Title then entries on one line, wrapped to ``width``; wrapped lines start under the
    first entry while the title is short, so the title stays the line's head.

    The longest words that take no more lines than the shortest: every line a strip takes is
    height the chart under it loses."""
    levels = max((len(e) - 1 for e in entries), default=1)
    layouts = [_flow_strip(look, title, [(e[0], e[min(1 + k, len(e) - 1)]) for e in entries],
                           width) for k in range(levels)]
    fewest = layouts[-1][0].height()
    return next(lay for lay in layouts if lay[0].height() <= fewest)


def _flow_strip(look: _Look, title: str, entries: list[tuple[object, str]], width: float
                ) -> tuple[QSizeF, list]:
    ops: list = []
    line_h = max(math.ceil(look.tfm.height()), look.row_h)
    title_w = math.ceil(look.tfm.horizontalAdvance(title)) + 2
    ops.append(_Text(QRectF(PAD, 0, title_w, line_h), look.title_font, title))
    x = PAD + title_w + look.entry_gap
    indent = x if x < 0.3 * width else PAD
    right = max(width - PAD, x + 1)
    y = 0.0
    for item, text in entries:
        ew = look.entry_w(text)
        if x + ew > right and x > indent:
            x, y = indent, y + line_h
        ops.append(look.sample(item, x, y, line_h))
        tx = x + look.sample_w + look.gap
        ops.append(_Text(QRectF(tx, y, ew - (tx - x) + 2, line_h), look.text_font, text))
        x += ew + look.entry_gap
    return QSizeF(max(width, 1.0), math.ceil(y + line_h + PAD)), ops


class ChartLegend(pg.GraphicsWidget):
    """One chart's legend: its title and one sample per colour, never over the data.

    As a column (``strip_host`` None) it sits in its own grid cell beside the chart. As a strip
    (``strip_host`` the chart's PlotItem) it takes the plot's title row, spans the axes and the
    plot, and wraps to their width, so a narrow window or presenter mode's big text leaves the
    plots their width.

    It changes only with the theme, the style or when the timeline meets a new activity, yet
    in the charts' scene a dozen label items would cost Python calls (bounds, shape, paint) on
    every frame: so it is drawn from a pixmap rendered when it changes; an SVG export still
    gets vectors.
    """

    sig_height_changed = Signal()  # a strip wrapped to another number of lines

    def __init__(self, title: str, strip_host: pg.PlotItem | None = None) -> None:
        super().__init__()
        self.title = title
        self.entries: list[Entry] = []
        self.strip_host = strip_host
        self.collapsed = False  # takes no room and draws nothing (the other form is shown)
        self._look: _Look | None = None
        self._theme: Theme | None = None
        self._ops: list = []
        self._pixmap = QPixmap()
        self._size = QSizeF(0, 0)
        self._column_size = QSizeF(0, 0)
        self._wrapped_at = -1.0
        if strip_host is not None:
            host = strip_host.layout
            # The plot's (unused, hidden) title label holds the middle of row 0: the strip
            # takes the whole row instead.
            host.removeItem(strip_host.titleLabel)
            strip_host.titleLabel.hide()
            host.addItem(self, 0, 0, 1, 3)
            host.setRowFixedHeight(0, 0)
            self.setMinimumSize(0, 0)
            self.setPreferredSize(0, 0)

    # ------------------------------------------------------------------ public API
    @property
    def is_strip(self) -> bool:
        return self.strip_host is not None

    @property
    def column_size(self) -> QSizeF:
        """What the column form needs (after :meth:`apply`): the panel decides with it."""
        return QSizeF(self._column_size)

    @property
    def strip_height(self) -> float:
        """Height a shown strip takes over its chart (0 for a column or a collapsed strip)."""
        return self._size.height() if self.is_strip and not self.collapsed else 0.0

    def set_entries(self, entries: list[Entry]) -> None:
        self.entries = entries

    def texts(self) -> list[str]:
        """Every word drawn, title first (for tests and accessibility)."""
        return [op.text for op in self._ops if isinstance(op, _Text)]

    def set_collapsed(self, collapsed: bool) -> None:
        """Collapsed: no room taken and nothing drawn; the other form of the legend shows."""
        if collapsed == self.collapsed:
            return
        self.collapsed = collapsed
        # Qt then skips it when it paints (bounds and paint are Python calls, every frame).
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemHasNoContents, collapsed)
        self._relayout()

    def apply(self, theme: Theme, style: Style) -> None:
        self._theme = theme
        self._look = _Look(style)
        self._column_size, _ = _layout_column(self._look, self.title, self.entries)
        self._relayout()

    # ------------------------------------------------------------------ layout
    def _strip_width(self) -> float:
        w = self.size().width()
        if w <= 1 and self.strip_host is not None:
            w = self.strip_host.size().width() - 2  # before the first layout pass
        return max(w, 1.0)

    def _relayout(self) -> None:
        look = self._look
        if look is None:
            return
        if self.collapsed:
            was = self._size.height()
            self._ops, self._size, self._pixmap = [], QSizeF(0, 0), QPixmap()
            self._wrapped_at = -1.0
            if self.is_strip:
                self.strip_host.layout.setRowFixedHeight(0, 0)
                if was:
                    self.sig_height_changed.emit()
            else:
                self.setMinimumSize(0, 0)
                self.setPreferredSize(0, 0)
                self.setMaximumWidth(0)
            self.updateGeometry()
            self.update()
            return
        if self.is_strip:
            width = self._strip_width()
            self._wrapped_at = width
            was = self._size.height()
            self._size, self._ops = _layout_strip(look, self.title, self.entries, width)
            self.strip_host.layout.setRowFixedHeight(0, self._size.height())
            if self._size.height() != was:
                self.sig_height_changed.emit()
        else:
            self._size, self._ops = _layout_column(look, self.title, self.entries)
            self.setMaximumWidth(UNLIMITED)
            self.setMinimumSize(self._size)
            self.setPreferredSize(self._size)
        self._render()
        self.updateGeometry()
        self.update()

    def resizeEvent(self, ev: QGraphicsSceneResizeEvent) -> None:
        super().resizeEvent(ev)
        # A strip wraps to the width its row gets; its height follows (one more pass at most).
        moved = abs(ev.newSize().width() - self._wrapped_at) >= 1.0
        if self.is_strip and not self.collapsed and self._look is not None and moved:
            self._relayout()

    # ------------------------------------------------------------------ paint
    def _draw(self, p: QPainter) -> None:
        theme = self._theme
        if theme is None:
            return
        text_pen = QPen(qcolor(theme.foreground))
        # A square as pale as the background ("starting", a light fill) still shows its edge.
        outline = QPen(qcolor(theme.foreground + "66"))
        outline.setWidthF(1.0)
        for op in self._ops:
            if isinstance(op, _Text):
                p.setFont(op.font)
                p.setPen(text_pen)
                p.drawText(op.rect, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                           op.text)
            elif op.cross and op.brush is not None:
                cross = QPen(op.brush.color())
                cross.setWidthF(max(2.0, op.rect.width() / 4))
                cross.setCapStyle(Qt.PenCapStyle.RoundCap)
                p.setPen(cross)
                r = op.rect
                p.drawLine(r.topLeft(), r.bottomRight())
                p.drawLine(r.bottomLeft(), r.topRight())
            elif op.brush is not None:
                p.setBrush(op.brush)
                p.setPen(op.pen if op.pen is not None else outline)
                p.drawRect(op.rect)
            elif op.pen is not None:
                p.setPen(op.pen)
                y = op.rect.center().y()
                p.drawLine(QPointF(op.rect.left(), y), QPointF(op.rect.right(), y))

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
            p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            self._draw(p)
        finally:
            p.end()
        self._pixmap = pm

    def paint(self, p: QPainter, *args: object) -> None:
        if self.collapsed:
            return
        engine = p.paintEngine()
        if engine is not None and engine.type() == QPaintEngine.Type.SVG:
            self._draw(p)  # vectors for a vector export
        elif not self._pixmap.isNull():
            p.drawPixmap(0, 0, self._pixmap)
