"""FlowView: every task as a token gliding producer → queue → consumer → done, from the model."""

from __future__ import annotations

import math
import time

from PySide6.QtCore import QRectF, Qt, QTimer
from PySide6.QtGui import (
    QContextMenuEvent,
    QFontMetricsF,
    QPainter,
    QPixmap,
    QResizeEvent,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QFrame,
    QGraphicsScene,
    QGraphicsView,
    QMenu,
    QMessageBox,
    QWidget,
)

from engine.flow_geometry import FlowGeometry, flow_geometry
from engine.flow_layout import (
    CONSUMER,
    DROPPED,
    UNFINISHED,
    FlowFrame,
    FlowLimits,
    flow_frame,
    latest_time,
    station_counts,
)
from engine.model import RunModel
from gui.charts.palette import Theme, theme_for_palette
from gui.flow.backdrop import (
    legend_labels,
    paint_backdrop,
    paint_clock,
    paint_counts,
    paint_still,
)
from gui.flow.look import styles, text_font, token_font, token_style_key
from gui.flow.tokens import PIXEL_ENGINES, TokenItem, draw_tokens

TICK_MS = 16  # the glide's timer: ~60 frames a second while tokens move, none when at rest
GLIDE_TAU_S = 0.09  # a token covers 1 - 1/e of its way in this many (frame) seconds
SETTLED_PX = 0.5
JUMP_WINDOWS = 2.0  # a time jump larger than this many eye windows (or backwards) snaps
BIG_RUN_TASKS = 20_000  # above this many tasks a cut may be put off while a replay plays
CUT_SHARE = 4.0  # ... until this many times its own cost has passed since the last one


class FlowView(QGraphicsView):
    """The flow of tasks at a time of the model: live (its latest time) or a replay's playhead.

    Each frame asks :func:`engine.flow_layout.flow_frame` where every token is, and glides the
    token items there in frame time (:meth:`advance`), so a video renders the same glide as
    the screen. A jump (a seek, a restart) puts them in place at once.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("flow_view")
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        # No antialiasing here: the tokens and the backdrop are drawn antialiased into their
        # pixmaps, and blitting those with it on takes a slower path.
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.FullViewportUpdate)
        # The view draws everything itself, each part setting the hints it needs.
        self.setOptimizationFlags(QGraphicsView.OptimizationFlag.DontSavePainterState
                                  | QGraphicsView.OptimizationFlag.DontAdjustForAntialiasing)
        self.setMinimumSize(480, 320)
        self._scene = QGraphicsScene(self)
        # An empty scene: the view draws the backdrop and the tokens itself (drawBackground,
        # drawForeground); the scene only gives them coordinates.
        self._scene.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.NoIndex)
        self.setScene(self._scene)
        # The picture under the tokens, in two pixmaps: the still parts (background, legend),
        # and over a copy of them what changes with the run's state, drawn again only when it
        # changed (not at every frame of a glide).
        self._still: QPixmap | None = None
        self._still_key: tuple | None = None
        self._backdrop: QPixmap | None = None
        self._backdrop_key: tuple | None = None
        self.model: RunModel | None = None
        self.frame: FlowFrame | None = None
        self.geometry_: FlowGeometry | None = None
        self.presenter = False
        self.interactive = True
        self.speed = 1.0
        self._t: float | None = None  # None: a live run's "now" (follow)
        # A live run's clock at the last frame (the charts' right edge, the status bar's
        # elapsed time): the picture is cut there, not at the last event, so its time reads
        # as theirs and a stream ends when the moves stop, though no event says so.
        self._live_now: float | None = None
        self._theme: Theme = theme_for_palette()
        self._look = styles(self._theme)
        self.items: dict[int, TokenItem] = {}
        self._pool: list[TokenItem] = []
        self._drawn: list[TokenItem] = []  # the tokens in drawing order
        self._last_tick = time.monotonic()
        self.timer = QTimer(self)
        self.timer.setObjectName("flow_glide")
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self._on_timer_timeout)
        self.auto_glide = True  # False: the caller drives advance() (video export)
        self._cut_at = 0.0
        self._cut_cost = 0.0
        self.note = ""
        self._cut_timer = QTimer(self)  # a put-off cut of a big run (set_time)
        self._cut_timer.setSingleShot(True)
        self._cut_timer.timeout.connect(self._on_cut_timer_timeout)

    # ------------------------------------------------------------------ feeding
    def set_model(self, model: RunModel | None) -> None:
        self.model = model
        self._t = self._live_now = None
        self._clear_tokens()
        self.refresh(snap=True)

    def follow(self, model: RunModel | None, now: float | None = None) -> None:
        """A live run's model at ``now`` (the run's clock of the frame, the charts' time; None:
        its latest event), never before an event it holds; drawn now only if the view shows."""
        if model is not self.model:
            self.model = model
            self._clear_tokens()
        self._t, self._live_now = None, now
        if self.isVisible():
            self.refresh()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.refresh(snap=True)

    def show_at(self, model: RunModel | None, t: float | None, speed: float = 1.0, *,
                playing: bool = False) -> None:  # fmt: skip
        """``model`` at ``t``; tokens of tasks already drawn stay (a replay's model that was
        rebuilt holds the same task ids), so switching models does not restart their glide."""
        if model is not self.model:
            self.model = model
            self.geometry_ = None
        self.set_time(t, speed, playing=playing)

    def set_time(self, t: float | None, speed: float = 1.0, *, snap: bool = False,
                 playing: bool = False) -> None:  # fmt: skip
        """Show the run at ``t`` run seconds (None: its latest); ``speed``: run s per wall s.
        ``playing``: a replay plays on (a big run's cut may then be put off a little)."""
        old = self._t if self._t is not None else (self.frame.t if self.frame else None)
        self._t, self._live_now = t, None
        self.speed = max(1e-3, speed)
        new = self._now()
        window = self._limits().eye_window_s
        jump = old is not None and (new < old - 1e-9 or new - old > JUMP_WINDOWS * window)
        m = self.model
        if (playing and not (snap or jump) and m is not None and len(m.tasks) > BIG_RUN_TASKS
                and time.perf_counter() - self._cut_at < CUT_SHARE * self._cut_cost):  # fmt: skip
            # A run of hundreds of thousands of tasks, played while it is fed: a cut costs
            # tens of ms, so the picture keeps to a few cuts a second and the replay stays
            # responsive (the tokens glide on meanwhile). A seek is never put off.
            if not self._cut_timer.isActive():
                self._cut_timer.start(round(CUT_SHARE * self._cut_cost * 1000))
            return
        self.refresh(snap=snap or jump)

    def set_note(self, note: str) -> None:
        """A line of status beside the time (e.g. preparing to seek anywhere)."""
        if note != self.note:
            self.note = note
            self.viewport().update()

    def _on_cut_timer_timeout(self) -> None:
        self.refresh()

    def _now(self) -> float:
        if self._t is not None:
            return self._t
        m = self.model
        if m is None:
            return 0.0
        # Every record applied is shown: a get's return can be later than the frame's clock
        # read (it was stamped after), so the latest event is the least "now" can be.
        latest = latest_time(m)
        return latest if self._live_now is None else max(latest, self._live_now)

    def _limits(self) -> FlowLimits:
        g = self._geometry()
        return FlowLimits(
            queue_slots=g.queue_capacity, done_shown=g.done_capacity,
            eye_window_s=max(0.05, self.speed),
        )  # fmt: skip

    def _geometry(self) -> FlowGeometry:
        m = self.model
        prods, cons = station_counts(m) if m is not None else (1, 1)
        vp = self.viewport()
        w, h = float(max(vp.width(), 200)), float(max(vp.height(), 150))
        maxsize = m.maxsize if m is not None else 0
        key = (w, h, prods, cons, self.presenter, maxsize)
        g = self.geometry_
        if g is None or getattr(self, "_geo_key", None) != key:
            rows = _legend_rows(w, 42.0 if self.presenter else 30.0)
            g = flow_geometry(w, h, prods, cons, presenter=self.presenter, legend_rows=rows,
                              maxsize=maxsize)  # fmt: skip
            self.geometry_, self._geo_key = g, key
            self._scene.setSceneRect(0, 0, w, h)
        return g

    def refresh(self, *, snap: bool = False) -> None:
        """Recompute the frame from the model and send every token towards its place."""
        m = self.model
        if not self.isVisible():
            # A hidden tab costs nothing: the next show cuts the model afresh (showEvent).
            self.frame = None if m is None else self.frame
            return
        g = self._geometry()
        if m is None:
            self.frame = None
            self._clear_tokens()
            self.viewport().update()
            return
        started = time.perf_counter()
        f = flow_frame(m, self._now(), self._limits())
        self._cut_at = time.perf_counter()
        self._cut_cost = self._cut_at - started
        self.frame = f
        font = token_font(g.unit)
        seen: set[int] = set()
        stacked: dict[tuple[str, int], int] = {}
        for tok in f.tokens:
            seen.add(tok.tid)
            order = 0
            if tok.place in (CONSUMER, DROPPED, UNFINISHED):
                order = stacked.get((tok.place, tok.station), 0)
                stacked[(tok.place, tok.station)] = order + 1
            item = self.items.get(tok.tid)
            fresh = item is None
            if item is None:
                item = self._pool.pop() if self._pool else self._new_item()
                self.items[tok.tid] = item
            item.set_look(tok, self._look[token_style_key(tok)], font, g.token_w, g.token_h)
            item.target = g.token_pos(tok, order)
            item.z = 2 + order if tok.place in (CONSUMER, UNFINISHED) else 1
            if snap or tok.stream:
                item.setPos(*item.target)
            elif fresh:
                item.setPos(*g.origin_pos(tok))
            if not item.isVisible():
                item.show()
        for tid in [tid for tid in self.items if tid not in seen]:
            item = self.items.pop(tid)
            item.hide()
            item.tok = None
            self._pool.append(item)
        # Held tokens stack over the others at a consumer; the order is kept till the next cut.
        self._drawn = sorted(self.items.values(), key=lambda it: it.z)
        self.viewport().update()
        if self.auto_glide and not self.timer.isActive() and not self.settled:
            self._last_tick = time.monotonic()
            self.timer.start()

    @staticmethod
    def _new_item() -> TokenItem:
        return TokenItem()

    def _clear_tokens(self) -> None:
        for item in self.items.values():
            item.hide()
            item.tok = None
            self._pool.append(item)
        self.items.clear()
        self._drawn = []

    def drawForeground(self, p: QPainter, rect: QRectF) -> None:
        """The tokens, in one pass over their pixmaps (gui/flow/tokens.py)."""
        if self.frame is not None and self._drawn:
            draw_tokens(p, self._drawn, self.viewport().devicePixelRatioF())

    # ------------------------------------------------------------------ gliding
    @property
    def settled(self) -> bool:
        return all(
            abs(it.x() - it.target[0]) < SETTLED_PX and abs(it.y() - it.target[1]) < SETTLED_PX
            for it in self.items.values()
        )

    def advance(self, dt: float) -> None:
        """Move every token ``dt`` frame seconds of the way towards its place."""
        k = 1.0 - math.exp(-max(0.0, dt) / GLIDE_TAU_S)
        for it in self.items.values():
            tx, ty = it.target
            x, y = it.x(), it.y()
            if abs(tx - x) < SETTLED_PX and abs(ty - y) < SETTLED_PX:
                if (x, y) != (tx, ty):
                    it.setPos(tx, ty)
                continue
            it.setPos(x + (tx - x) * k, y + (ty - y) * k)

    def _on_timer_timeout(self) -> None:
        now = time.monotonic()
        dt, self._last_tick = now - self._last_tick, now
        if not self.isVisible():
            self.timer.stop()
            self.advance(10.0)  # hidden: rest in place, so showing it later shows the truth
            return
        self.advance(min(dt, 0.1))
        if self.settled:
            self.timer.stop()

    # ------------------------------------------------------------------ looks
    def set_presenter(self, on: bool) -> None:
        if on != self.presenter:
            self.presenter = on
            self.geometry_ = None
            self.refresh(snap=True)

    def set_interactive(self, on: bool) -> None:
        self.interactive = on  # nothing is hover-only here: the picture says it all

    def set_theme(self, theme: Theme) -> None:
        self._theme = theme
        self._look = styles(theme)
        self.refresh(snap=True)

    def drawBackground(self, p: QPainter, rect: QRectF) -> None:
        g = self.geometry_
        f = self.frame
        if g is None:
            return
        if f is None:
            p.fillRect(rect, self.palette().window())
            p.setPen(self.palette().windowText().color())
            p.setFont(text_font(g.unit, 0.5))
            p.drawText(QRectF(0, 0, g.width, g.height), Qt.AlignmentFlag.AlignCenter,
                       "Start a run to see its tasks flow.")  # fmt: skip
            return
        # The backdrop changes with counts and states, not with every frame: kept as a pixmap.
        key = (id(g), self._theme.name, f.producers, f.consumers, f.depth, f.queue_more,
               f.unfinished, f.done, f.gate, f.streams, f.held_more, f.maxsize, f.tasks_total)
        engine = p.paintEngine()
        if engine is not None and engine.type() not in PIXEL_ENGINES:
            paint_backdrop(p, g, f, self._theme, self._look)  # a picture (SVG): vectors
            paint_clock(p, g, f, self._theme)
            return
        ratio = self.viewport().devicePixelRatioF()
        size = (round(g.width * ratio), round(g.height * ratio))
        still_key = (size, ratio, id(g), self._theme.name)
        if self._still is None or self._still_key != still_key:
            self._still = self._pixmap(size, ratio)
            with_painter = QPainter(self._still)
            paint_still(with_painter, g, self._theme, self._look)
            with_painter.end()
            self._still_key, self._backdrop_key = still_key, None
        if self._backdrop is None or self._backdrop_key != key:
            if self._backdrop is None or self._backdrop.size() != self._still.size():
                self._backdrop = self._pixmap(size, ratio)
            with_painter = QPainter(self._backdrop)
            with_painter.drawPixmap(0, 0, self._still)
            paint_counts(with_painter, g, f, self._theme)
            with_painter.end()
            self._backdrop_key = key
        p.drawPixmap(0, 0, self._backdrop)
        paint_clock(p, g, f, self._theme, self.note)

    @staticmethod
    def _pixmap(size: tuple[int, int], ratio: float) -> QPixmap:
        pm = QPixmap(*size)
        pm.setDevicePixelRatio(ratio)
        return pm

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.geometry_ = None
        self.refresh(snap=True)

    def export_image(self, path: str) -> None:
        """PNG or SVG of what the view shows, through the charts' one image exporter."""
        from gui.charts.image_export import save_charts_image

        self.advance(10.0)
        # The viewport is a plain QWidget: QGraphicsView.render() takes other arguments. A
        # picture (SVG) gets the tokens as vectors (gui/flow/tokens.draw_tokens).
        save_charts_image(self.viewport(), path)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        """Right-click: save what the view shows as PNG or SVG (in any window)."""
        menu = QMenu(self)
        for suffix, fmt in ((".png", "&PNG"), (".svg", "&SVG")):
            text = f"Save flow view as {fmt}…"
            menu.addAction(text).triggered.connect(lambda _=False, s=suffix: self.save_dialog(s))
        menu.exec(event.globalPos())

    def save_dialog(self, suffix: str) -> str | None:
        path, _ = QFileDialog.getSaveFileName(self, "Save the flow view", f"flow{suffix}",
                                              f"*{suffix}")  # fmt: skip
        if not path:
            return None
        if not path.lower().endswith(suffix):
            path += suffix
        try:
            self.export_image(path)
        except (OSError, ValueError) as exc:
            QMessageBox.critical(self, "Could not save the flow view", str(exc))
            return None
        return path

    def token_positions(self) -> dict[int, tuple[float, float]]:
        """Each drawn token's centre (tests): where the eye sees it now."""
        return {tid: (it.x(), it.y()) for tid, it in self.items.items() if it.isVisible()}


def _legend_rows(width: float, unit: float) -> int:
    """Rows the legend needs at this width (its entries wrap like words)."""
    app = QApplication.instance()
    if app is None:
        return 2
    fm = QFontMetricsF(text_font(unit, 0.36))
    labels = legend_labels()
    usable = width - unit * 0.8
    rows, x = 1, 0.0
    for label in labels:
        need = unit * 0.62 * 1.9 + unit * 0.25 + fm.horizontalAdvance(label) + unit * 0.6
        if x + need > usable and x > 0:
            rows, x = rows + 1, 0.0
        x += need
    return rows
