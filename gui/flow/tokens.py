"""The flow view's tokens: light sprites drawn by the view in one pass, each from its pixmap."""

from __future__ import annotations

import math
from collections.abc import Iterable

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QFont, QFontMetricsF, QPaintEngine, QPainter, QPixmap, QTransform

from engine.flow_layout import Token
from gui.flow.look import TokenStyle, paint_token

PIXEL_ENGINES = (QPaintEngine.Type.Raster, QPaintEngine.Type.OpenGL2, QPaintEngine.Type.X11)
_TX_TRANSLATE = QTransform.TransformationType.TxTranslate.value  # a move, no scaling


class TokenItem:
    """One token; reused for another task once its own leaves the picture.

    Not a QGraphicsItem: a frame moves hundreds of tokens, and a graphics item costs a call
    into Python per token and frame (paint, boundingRect), and Qt's item cache drew about a
    fifth of them again every frame. A token is drawn once into a pixmap of its own when its
    look changes (a new task, a new place) and blitted by :func:`draw_tokens` after that. A
    picture (SVG) or a scaled painter gets the vectors.
    """

    __slots__ = ("_pixmap", "_ratio", "_rect", "_visible", "_x", "_y", "border", "font", "h",
                 "retried", "style", "target", "text", "tok", "w", "z")  # fmt: skip

    def __init__(self) -> None:
        self.tok: Token | None = None
        self.style: TokenStyle | None = None
        self.text = ""
        self.font = QFont()
        self.w = self.h = 10.0
        self.border = 1.0
        self.retried = False
        self.target = (0.0, 0.0)
        self.z = 1
        self._x = self._y = 0.0
        self._visible = False
        self._rect = QRectF(-5.0, -5.0, 10.0, 10.0)  # around the centre, border included
        self._pixmap: QPixmap | None = None
        self._ratio = 0.0

    # The few QGraphicsItem calls the view and the tests use.
    def x(self) -> float:
        return self._x

    def y(self) -> float:
        return self._y

    def setPos(self, x: float, y: float) -> None:
        self._x, self._y = x, y

    def isVisible(self) -> bool:
        return self._visible

    def show(self) -> None:
        self._visible = True

    def hide(self) -> None:
        self._visible = False

    def set_look(self, tok: Token, style: TokenStyle, font: QFont, w: float, h: float) -> None:
        text = fit_text(tok, font, w)
        if (text, style, w, h, tok.retried) != (self.text, self.style, self.w, self.h,
                                                 self.retried):  # fmt: skip
            self.style, self.text, self.font, self.w, self.h = style, text, font, w, h
            self.retried = tok.retried
            self.border = m = max(1.5, h * (0.12 if tok.retried else 0.06))
            self._rect = QRectF(-w / 2 - m, -h / 2 - m, w + 2 * m, h + 2 * m)
            self._pixmap = None
        self.tok = tok

    def pixmap(self, ratio: float) -> QPixmap:
        """The token drawn at ``ratio`` device pixels per pixel (made on first use)."""
        if self._pixmap is None or self._ratio != ratio:
            r = self._rect
            pm = QPixmap(math.ceil(r.width() * ratio), math.ceil(r.height() * ratio))
            pm.setDevicePixelRatio(ratio)
            pm.fill(Qt.GlobalColor.transparent)
            q = QPainter(pm)
            q.translate(-r.x(), -r.y())
            self.paint_vectors(q)
            q.end()
            self._pixmap, self._ratio = pm, ratio
        return self._pixmap

    def paint_vectors(self, p: QPainter) -> None:
        """The token around (0, 0) in ``p``'s coordinates."""
        if self.style is None:
            return
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        rect = QRectF(-self.w / 2, -self.h / 2, self.w, self.h)
        paint_token(p, rect, self.style, self.text, self.font, self.border)


def draw_tokens(p: QPainter, items: Iterable[TokenItem], ratio: float) -> None:
    """Every visible token of ``items`` (in drawing order) at its place."""
    engine = p.paintEngine()
    if (engine is None or engine.type() not in PIXEL_ENGINES
            or p.worldTransform().type().value > _TX_TRANSLATE):  # fmt: skip
        for it in items:
            if it._visible and it.style is not None:
                p.save()
                p.translate(it._x, it._y)
                it.paint_vectors(p)
                p.restore()
        return
    draw = p.drawPixmap
    for it in items:
        if it._visible and it.style is not None:
            r = it._rect
            # Whole pixels: the raster engine's plain blit, no resampling of the pixmap.
            draw(round(it._x + r.x()), round(it._y + r.y()), it.pixmap(ratio))


_FITTED: dict[tuple[str, int, float], str] = {}


def fit_text(tok: Token, font: QFont, w: float) -> str:
    """The token's words: id and value when they fit its width, else the id alone."""
    mark = "↺" if tok.retried and tok.kind != "sentinel" else ""
    text = mark + tok.text
    if ":" not in text:
        return text
    if font.pixelSize() >= 13:
        return text  # room for the value on a second line (gui/flow/look.paint_token)
    key = (text, font.pixelSize(), w)
    fitted = _FITTED.get(key)
    if fitted is None:
        if len(_FITTED) > 4096:
            _FITTED.clear()
        fitted = text
        if QFontMetricsF(font).horizontalAdvance(text) > w * 0.9:
            fitted = text.split(":", 1)[0]
        _FITTED[key] = fitted
    return fitted
