"""The flow view's still parts: stations, the queue's pipe and slots, streams, the gate, legend."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QPainter, QPen

from engine.explain.words import left_undone_words
from engine.flow_geometry import FlowGeometry
from engine.flow_layout import (
    EDGE_DONE,
    EDGE_GET,
    EDGE_PUT,
    GATE_CLOSED,
    GATE_NOT_CALLED,
    GATE_OPEN,
    GATE_PREMATURE,
    FlowFrame,
    Station,
)
from engine.states import Activity
from gui.charts.palette import Theme, qcolor
from gui.flow.look import (
    S_DONE,
    S_DROPPED,
    S_FAILED,
    S_RETRIED,
    S_SENTINEL,
    S_TASK,
    S_UNFINISHED,
    TokenStyle,
    paint_token,
    text_font,
    token_font,
)

_WORDS = {
    Activity.STARTING: "starting",
    Activity.RUNNING: "producing",
    Activity.WAIT_GET: "waiting in get()",
    Activity.PROCESS: "working",
    Activity.BLOCK_PUT: "blocked in put()",
    Activity.FAILED: "failing attempt",
    Activity.PAUSED: "paused",
    Activity.STEP_WAIT: "waiting for a step",
    Activity.EXITED: "exited",
    Activity.DIED: "died",
}
# Where a station's box is narrow (a small view, presenter mode beside the Step pane).
_SHORT_WORDS = {
    Activity.WAIT_GET: "in get()",
    Activity.BLOCK_PUT: "blocked: put()",
    Activity.FAILED: "failed",
    Activity.STEP_WAIT: "at step gate",
}


# A consumer holding tasks in these is not working on them: they wait for a task_done() that
# only a bug skipped (engine.explain.words.left_undone_words).
_LEFT_BY = frozenset((Activity.WAIT_GET, Activity.EXITED, Activity.DIED))
# A worker QueueLab ended (Stop, the hang rule): not a death (engine.flow_layout.Station.stopped).
STOPPED_WORDS = ("stopped by QueueLab", "stopped")


def _fit_words(p: QPainter, act: Activity, width: float, stopped: bool = False) -> str:
    """What the station does, in words that fit ``width``: the short form, else elided."""
    long, short = STOPPED_WORDS if stopped else (_WORDS.get(act, ""), _SHORT_WORDS.get(act, ""))
    return _fit_choice(p, tuple(w for w in (long, short) if w), width)


def _fit_choice(p: QPainter, choices: tuple[str, ...], width: float) -> str:
    """The first of ``choices`` (longest first) that fits ``width`` in the pen's font, else
    the last one elided."""
    fm = p.fontMetrics()
    for words in choices:
        if fm.horizontalAdvance(words) <= width:
            return words
    return fm.elidedText(choices[-1] if choices else "", Qt.TextElideMode.ElideRight, int(width))


GATE_WORDS = {
    GATE_NOT_CALLED: "join() not called yet",
    GATE_CLOSED: "join() waiting: gate closed",
    GATE_OPEN: "join() returned: gate open",
    GATE_PREMATURE: "join() returned too early!",
}
LEGEND_TOKENS = (
    (S_TASK, "7", "task (id: value)"),
    (S_SENTINEL, "None", "sentinel"),
    (S_DONE, "7", "done"),
    (S_FAILED, "7", "failed"),
    (S_RETRIED, "↺7", "retried (re-put)"),
    (S_DROPPED, "7", "dropped by a dead worker"),
    (S_UNFINISHED, "7", "left unfinished (worker stopped)"),
)
# The legend's other entries: how a station ended, the gate, a stream.
LEGEND_LINES = (
    (("mark", "died"), "worker died"),
    (("mark", "stopped"), "worker stopped by QueueLab"),
    (("gate", GATE_CLOSED), "gate closed (join waits)"),
    (("gate", GATE_OPEN), "gate open (join returned)"),
    (("gate", GATE_PREMATURE), "red: join returned prematurely"),
    (("stream", ""), "stream: too fast to follow (rate in the box)"),
)


def legend_labels() -> list[str]:
    """Every legend entry's words, in the order they are drawn."""
    return [label for _k, _t, label in LEGEND_TOKENS] + [label for _k, label in LEGEND_LINES]


def _rect(r: tuple[float, float, float, float]) -> QRectF:
    return QRectF(*r)


def gate_colour(theme: Theme, gate: str) -> QColor:
    return qcolor({
        GATE_NOT_CALLED: theme.producers_line, GATE_CLOSED: theme.queued,
        GATE_OPEN: theme.dones, GATE_PREMATURE: theme.warning,
    }[gate])  # fmt: skip


def paint_backdrop(p: QPainter, g: FlowGeometry, f: FlowFrame, theme: Theme,
                   look: dict[str, TokenStyle]) -> None:  # fmt: skip
    """Everything but the moving tokens, for the frame ``f`` laid out as ``g``."""
    paint_still(p, g, theme, look)
    paint_counts(p, g, f, theme)


def paint_still(p: QPainter, g: FlowGeometry, theme: Theme, look: dict[str, TokenStyle]) -> None:
    """What changes only with the size and the theme: the background and the legend."""
    p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    p.fillRect(QRectF(0, 0, g.width, g.height), qcolor(theme.background))
    _legend(p, g, theme, look, g.unit)


def paint_counts(p: QPainter, g: FlowGeometry, f: FlowFrame, theme: Theme) -> None:
    """What changes with the run's state: stations, edges and streams, the queue, the gate."""
    p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    fg = qcolor(theme.foreground)
    muted = qcolor(theme.producers_line)
    u = g.unit
    _headings(p, g, f, fg, u)
    _edges(p, g, f, theme, muted)
    rates = {(s.edge, s.station): s.rate for s in f.streams}
    for i, s in enumerate(f.producers):
        extra = f"put {s.made}" + (f" of {f.tasks_total // max(1, len(f.producers))}"
                                    if f.tasks_total else "")  # fmt: skip
        if (EDGE_PUT, i) in rates:
            extra += f" · {rates[(EDGE_PUT, i)]:.0f}/s"
        _station(p, g.producers[i], s, theme, extra, u, holds=False)
    for i, s in enumerate(f.consumers):
        more = f.held_more[i] if i < len(f.held_more) else 0
        extra: str | tuple[str, ...] = f"holds {s.held}" + (f" (+{more})" if more else "")
        if s.stopped and s.held:
            extra = f"left {s.held} unfinished"
        elif s.held and s.activity in _LEFT_BY:
            # Back in get() or gone holding tasks: nobody is working on them (the forgotten
            # task_done()), which "holds 1" beside "exited" did not say.
            extra = left_undone_words(s.held, gone=s.activity != Activity.WAIT_GET)
        if (EDGE_GET, i) in rates:
            rate = f" · {rates[(EDGE_GET, i)]:.0f}/s"
            extra = tuple(e + rate for e in extra) if isinstance(extra, tuple) else extra + rate
        _station(p, g.consumers[i], s, theme, extra, u)
    _queue(p, g, f, theme, u)
    _gate(p, g, f, theme, u)


def paint_clock(p: QPainter, g: FlowGeometry, f: FlowFrame, theme: Theme, note: str = "") -> None:
    """The time shown, top right: it changes every frame, so it is not part of the backdrop."""
    p.setFont(text_font(g.unit, 0.36))
    p.setPen(qcolor(theme.producers_line))
    text = f"{note}   t = {f.t:.2f} s" if note else f"t = {f.t:.2f} s"
    p.drawText(QRectF(0, 0, g.width - g.unit * 0.3, g.unit * 0.6),
               Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, text)


def _headings(p: QPainter, g: FlowGeometry, f: FlowFrame, fg: QColor, u: float) -> None:
    p.setPen(fg)
    p.setFont(text_font(u, 0.5, bold=True))
    heads = ("Producers", f"Queue: {f.depth} waiting", "Consumers",
             f"Done: {f.done}" + (f" of {f.tasks_total}" if f.tasks_total else ""))  # fmt: skip
    widths = (g.width * 0.2, g.lane[2] + g.unit, g.width * 0.22, g.done_area[2] + g.unit)
    for x, text, w in zip(g.columns, heads, widths, strict=True):
        p.drawText(QRectF(x - w / 2, g.header_y - u * 0.5, w, u), Qt.AlignmentFlag.AlignCenter,
                   text)  # fmt: skip


def _station(p: QPainter, r: tuple, s: Station, theme: Theme, extra: str | tuple[str, ...],
             u: float, holds: bool = True) -> None:  # fmt: skip
    """A worker's box: its name, what it does, and ``extra`` (words, or choices of them longest
    first: the longest that fits is drawn)."""
    rect = _rect(r)
    act = Activity(s.activity)
    # Stopped by QueueLab: the look of a worker that has ended, not of a death.
    colour = qcolor(theme.activities.get(Activity.EXITED if s.stopped else act,
                                         theme.producers_line))  # fmt: skip
    dead = act == Activity.DIED and not s.stopped
    loud = dead or act == Activity.BLOCK_PUT
    p.setPen(QPen(colour, u * (0.16 if dead else 0.1)))
    fill = QColor(colour)
    fill.setAlpha(40)
    p.setBrush(QBrush(fill))
    p.drawRoundedRect(rect, u * 0.25, u * 0.25)
    p.setPen(qcolor(theme.foreground))
    p.setFont(text_font(u, 0.44, bold=True))
    left = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
    # Words on the left, the held token on the right (engine/flow_geometry.station_token).
    text_w = rect.width() - (u * 2.3 if holds else u * 0.4)
    line_h = (rect.height() - u * 0.2) / 3
    top = QRectF(rect.x() + u * 0.2, rect.y() + u * 0.1, text_w, line_h)
    p.drawText(top.adjusted(0, 0, rect.width() - u * 0.4 - text_w, 0), left, s.name)
    p.setFont(text_font(u, 0.36, bold=loud))
    line2 = top.translated(0, line_h)
    p.setPen(colour if loud else qcolor(theme.foreground))
    p.drawText(line2, left, _fit_words(p, act, line2.width(), s.stopped))
    p.setFont(text_font(u, 0.34))
    p.setPen(qcolor(theme.foreground))
    line3 = line2.translated(0, line_h)
    if isinstance(extra, tuple):
        extra = _fit_choice(p, extra, line3.width() - u * 0.2)  # not touching the token
    p.drawText(line3, left, extra)
    if dead or s.stopped:
        corner = rect.topRight()
        _mark(p, "died" if dead else "stopped", corner + QPointF(-u * 0.35, u * 0.35), u * 0.4,
              theme)  # fmt: skip


def _mark(p: QPainter, kind: str, centre: QPointF, size: float, theme: Theme) -> None:
    """A station's end, in its corner and in the legend: a red ✗ (died), a grey ■ (stopped)."""
    h = size / 2
    if kind == "died":
        p.setPen(QPen(qcolor(theme.warning), size * 0.3))
        p.drawLine(centre + QPointF(-h, -h), centre + QPointF(h, h))
        p.drawLine(centre + QPointF(-h, h), centre + QPointF(h, -h))
        return
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(qcolor(theme.activities[Activity.EXITED]))
    p.drawRect(QRectF(centre.x() - h, centre.y() - h, size, size))


def _arrow(p: QPainter, a: QPointF, b: QPointF, pen: QPen, head: float) -> None:
    p.setPen(pen)
    p.drawLine(a, b)
    d = b - a
    n = max(1e-6, (d.x() ** 2 + d.y() ** 2) ** 0.5)
    ux, uy = d.x() / n, d.y() / n
    s = head
    p.setPen(QPen(pen.color(), 1))
    p.setBrush(pen.color())
    left = QPointF(b.x() - ux * s - uy * s * 0.6, b.y() - uy * s + ux * s * 0.6)
    right = QPointF(b.x() - ux * s + uy * s * 0.6, b.y() - uy * s - ux * s * 0.6)
    p.drawPolygon([b, left, right])


def _edges(p: QPainter, g: FlowGeometry, f: FlowFrame, theme: Theme, muted: QColor) -> None:
    """Thin paths tokens travel; a thick dashed one with a rate where moves are too fast."""
    u = g.unit
    thin = QPen(muted, max(1.0, u * 0.04))
    lx, ly, lw, lh = g.lane
    streams = {(s.edge, s.station): s for s in f.streams}
    dx, dy, _dw, dh = g.done_area
    for edge, rects in ((EDGE_PUT, g.producers), (EDGE_GET, g.consumers), (EDGE_DONE, g.consumers)):
        for i, (x, y, w, h) in enumerate(rects):
            if edge == EDGE_PUT:
                a, b = QPointF(x + w, y + h / 2), QPointF(lx, ly + lh / 2)
            elif edge == EDGE_GET:
                a, b = QPointF(lx + lw, ly + lh / 2), QPointF(x, y + h / 2)
            else:
                a, b = QPointF(x + w, y + h / 2), QPointF(dx, dy + dh / 2)
            if (edge, i) not in streams:
                _arrow(p, a, b, thin, u * 0.25)
                continue
            # Too fast to follow one by one: a stream (its rate is written in the box).
            pen = QPen(qcolor(theme.gets), u * 0.12)
            pen.setStyle(Qt.PenStyle.DashLine)
            _arrow(p, a, b, pen, u * 0.4)


def _queue(p: QPainter, g: FlowGeometry, f: FlowFrame, theme: Theme, u: float) -> None:
    lane = _rect(g.lane)
    p.setPen(QPen(qcolor(theme.queued), u * 0.08))
    fill = qcolor(theme.queued_fill)
    fill.setAlpha(70)
    p.setBrush(QBrush(fill))
    p.drawRoundedRect(lane, u * 0.3, u * 0.3)
    slots = min(f.maxsize, g.queue_capacity) if f.maxsize else 0
    if slots:
        pen = QPen(qcolor(theme.queued), max(1.0, u * 0.05))
        pen.setStyle(Qt.PenStyle.DashLine)
        p.setPen(pen)
        p.setBrush(Qt.BrushStyle.NoBrush)
        for k in range(slots):
            x, y = g.slot_center(k)
            p.drawRoundedRect(QRectF(x - g.token_w * 0.53, y - g.token_h * 0.58, g.token_w * 1.06,
                                     g.token_h * 1.16), u * 0.3, u * 0.3)  # fmt: skip
    p.setFont(text_font(u, 0.36))
    p.setPen(qcolor(theme.foreground))
    below = QRectF(lane.x(), lane.bottom() + u * 0.1, lane.width(), u * 0.55)
    if f.queue_more:
        p.setFont(text_font(u, 0.42, bold=True))
        p.drawText(below, Qt.AlignmentFlag.AlignLeft, f"+ {f.queue_more} more waiting")
    else:
        p.drawText(below, Qt.AlignmentFlag.AlignLeft,
                   f"maxsize {f.maxsize}" if f.maxsize else "unbounded")  # fmt: skip
    p.setFont(text_font(u, 0.34))
    above = QRectF(lane.x(), lane.y() - u * 0.6, lane.width(), u * 0.55)
    p.drawText(above, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignBottom,
               "head: next get() →")  # fmt: skip


def _gate(p: QPainter, g: FlowGeometry, f: FlowFrame, theme: Theme, u: float) -> None:
    x, y, w, _h = g.gate
    colour = gate_colour(theme, f.gate)
    p.setPen(qcolor(theme.foreground))
    p.setFont(text_font(u, 0.5, bold=True))
    p.drawText(QRectF(x, y, w, u * 0.75), Qt.AlignmentFlag.AlignCenter,
               f"unfinished = {f.unfinished}")  # fmt: skip
    # Two posts and a bar: across them while join() waits, lifted when it returned.
    post_y0, post_y1 = y + u * 1.35, y + u * 2.75
    px0, px1 = x + w * 0.2, x + w * 0.8
    p.setPen(QPen(qcolor(theme.foreground), u * 0.12))
    p.drawLine(QPointF(px0, post_y0), QPointF(px0, post_y1))
    p.drawLine(QPointF(px1, post_y0), QPointF(px1, post_y1))
    pen = QPen(colour, u * 0.26)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    if f.gate == GATE_NOT_CALLED:
        pen.setStyle(Qt.PenStyle.DotLine)
    p.setPen(pen)
    mid = (post_y0 + post_y1) / 2
    if f.gate in (GATE_OPEN, GATE_PREMATURE):
        p.drawLine(QPointF(px0, mid), QPointF(px0 + (px1 - px0) * 0.4, post_y0 - u * 0.3))
    else:
        p.drawLine(QPointF(px0, mid), QPointF(px1, mid))
    p.setPen(colour if f.gate != GATE_NOT_CALLED else qcolor(theme.foreground))
    p.setFont(text_font(u, 0.4, bold=f.gate == GATE_PREMATURE))
    p.drawText(QRectF(x - u, post_y1 + u * 0.05, w + 2 * u, u * 0.6), Qt.AlignmentFlag.AlignCenter,
               GATE_WORDS[f.gate])  # fmt: skip


def _legend(p: QPainter, g: FlowGeometry, theme: Theme, look: dict[str, TokenStyle],
            u: float) -> None:  # fmt: skip
    x0, y0, w, _h = g.legend
    p.setPen(QPen(qcolor(theme.grid_major), 1))
    p.drawLine(QPointF(x0, y0), QPointF(x0 + w, y0))
    small = u * 0.62
    tw = small * 1.9
    font = token_font(small)
    words = text_font(u, 0.36)
    x, y = x0, y0 + u * 0.15
    row_h = u * 0.9
    entries: list[tuple[str, object]] = [(label, key) for key, _t, label in LEGEND_TOKENS]
    entries += [(label, key) for key, label in LEGEND_LINES]
    text_of = {key: t for key, t, _ in LEGEND_TOKENS}
    for label, key in entries:
        p.setFont(words)
        text_w = p.fontMetrics().horizontalAdvance(label)
        need = tw + u * 0.25 + text_w + u * 0.6
        if x + need > x0 + w and x > x0:
            x, y = x0, y + row_h
        sample = QRectF(x, y + (row_h - small) / 2, tw, small)
        if isinstance(key, tuple) and key[0] == "mark":
            _mark(p, key[1], sample.center(), small * 0.6, theme)
        elif isinstance(key, tuple):
            kind, gate = key
            if kind == "gate":
                pen = QPen(gate_colour(theme, gate), small * 0.3)
            else:
                pen = QPen(qcolor(theme.gets), small * 0.3)
                pen.setStyle(Qt.PenStyle.DashLine)
            pen.setCapStyle(Qt.PenCapStyle.RoundCap)
            p.setPen(pen)
            p.drawLine(QPointF(sample.left() + 3, sample.center().y()),
                       QPointF(sample.right() - 3, sample.center().y()))  # fmt: skip
        else:
            paint_token(p, sample, look[key], text_of[key], font, max(1.0, small * 0.08))
        p.setPen(qcolor(theme.foreground))
        p.setFont(words)
        p.drawText(QRectF(sample.right() + u * 0.2, y, text_w + 4, row_h),
                   Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, label)  # fmt: skip
        x += need
