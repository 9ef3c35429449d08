"""The flow view's look: token colours and shapes, shared by the tokens and by the legend."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontMetricsF,
    QPainter,
    QPainterPath,
    QPen,
    QPolygonF,
)

from engine.flow_layout import DONE, DROPPED, LOST, SENTINEL, UNFINISHED, Token
from gui.charts.palette import Theme, qcolor

# Token styles, one per legend entry.
S_TASK = "task"
S_DONE = "done"
S_SENTINEL = "sentinel"
S_FAILED = "failed"
S_RETRIED = "retried"
S_DROPPED = "dropped"
S_UNFINISHED = "unfinished"


@dataclass(frozen=True)
class TokenStyle:
    fill: QColor
    border: QColor
    text: QColor
    shape: str  # "round" (a task) or "hex" (a sentinel)
    dashed: bool = False
    cross: bool = False


def token_style_key(tok: Token) -> str:
    if tok.place in (DROPPED, LOST):
        return S_DROPPED
    if tok.place == UNFINISHED:
        return S_UNFINISHED
    if tok.failed:
        return S_FAILED
    if tok.kind == SENTINEL:
        return S_SENTINEL
    if tok.place == DONE:
        return S_DONE
    if tok.retried:
        return S_RETRIED
    return S_TASK


def styles(theme: Theme) -> dict[str, TokenStyle]:
    """Every token style for a theme: fills that stand out on its background, legible text."""
    dark = theme.dark
    white, black = QColor("#ffffff"), QColor("#101317")
    fg = qcolor(theme.foreground)
    return {
        S_TASK: TokenStyle(qcolor(theme.in_flight), fg, black if dark else white, "round"),
        S_DONE: TokenStyle(qcolor(theme.done_fill), qcolor(theme.dones), fg, "round"),
        S_SENTINEL: TokenStyle(
            QColor("#2b2f36") if not dark else QColor("#e8e8ec"), qcolor(theme.join_line),
            white if not dark else black, "hex",
        ),
        S_FAILED: TokenStyle(qcolor(theme.warning), fg, white if not dark else black, "round"),
        S_RETRIED: TokenStyle(
            qcolor(theme.in_flight), qcolor(theme.queued), black if dark else white, "round"
        ),
        S_DROPPED: TokenStyle(
            QColor("#b9bec4") if not dark else QColor("#4a5058"), qcolor(theme.warning), fg,
            "round", dashed=True, cross=True,
        ),
        # Held by a worker QueueLab stopped: a task's colour, faded, with a muted dashed
        # border and no cross (nothing failed, the run was ended around it).
        S_UNFINISHED: TokenStyle(
            qcolor(theme.in_flight_fill), qcolor(theme.producers_line), fg, "round", dashed=True
        ),
    }


def token_path(rect: QRectF, shape: str) -> QPainterPath:
    path = QPainterPath()
    if shape == "hex":
        x, y, w, h = rect.x(), rect.y(), rect.width(), rect.height()
        d = h * 0.45
        pts = [QPointF(x + d, y), QPointF(x + w - d, y), QPointF(x + w, y + h / 2),
               QPointF(x + w - d, y + h), QPointF(x + d, y + h), QPointF(x, y + h / 2)]  # fmt: skip
        path.addPolygon(QPolygonF(pts))
        path.closeSubpath()
    else:
        r = rect.height() * 0.32
        path.addRoundedRect(rect, r, r)
    return path


def paint_token(p: QPainter, rect: QRectF, style: TokenStyle, text: str, font: QFont,
                border_w: float) -> None:  # fmt: skip
    """One token: its shape filled, its border (thick for a retry), its text centred."""
    pen = QPen(style.border, border_w)
    if style.dashed:
        pen.setStyle(Qt.PenStyle.DashLine)
    p.setPen(pen)
    p.setBrush(QBrush(style.fill))
    p.drawPath(token_path(rect, style.shape))
    if style.cross:
        p.setPen(QPen(style.border, border_w))
        inset = rect.height() * 0.2
        d = QPointF(inset, inset)
        p.drawLine(rect.topLeft() + d, rect.bottomRight() - d)
    p.setPen(style.text)
    head, sep, value = text.partition(": ")
    font = _fitting(font, head, rect.width() * 0.9)
    p.setFont(font)
    if not sep:
        p.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)
        return
    # The id large on top, the value (the task's seconds) smaller below it.
    top = QRectF(rect.x(), rect.y() + rect.height() * 0.04, rect.width(), rect.height() * 0.56)
    p.drawText(top, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignBottom, head)
    small = QFont(font)
    small.setBold(False)
    small.setPixelSize(max(8, round(font.pixelSize() * 0.68)))
    p.setFont(small)
    low = QRectF(rect.x(), top.bottom(), rect.width(), rect.height() * 0.38)
    p.drawText(low, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop, value)


def _fitting(font: QFont, text: str, width: float) -> QFont:
    """``font``, smaller if ``text`` would not fit ``width`` ("None" on a small token)."""
    need = QFontMetricsF(font).horizontalAdvance(text)
    if need <= width or need <= 0:
        return font
    smaller = QFont(font)
    smaller.setPixelSize(max(7, int(font.pixelSize() * width / need)))
    return smaller


def token_font(unit: float) -> QFont:
    f = QFont()
    f.setPixelSize(max(9, round(unit * 0.46)))
    f.setBold(True)
    return f


def text_font(unit: float, scale: float = 0.46, bold: bool = False) -> QFont:
    f = QFont()
    f.setPixelSize(max(9, round(unit * scale)))
    f.setBold(bold)
    return f
