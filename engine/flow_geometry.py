"""Where the flow view draws things, in pixels: stations, queue slots, done tray, join gate.

Pure arithmetic on a view's size and a :class:`~engine.flow_layout.FlowFrame`, so the drawing
code only paints at the places given here, and tests can check a token's pixel position.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.flow_layout import CONSUMER, DONE, DROPPED, LOST, PRODUCER, QUEUE, UNFINISHED, Token

Rect = tuple[float, float, float, float]  # x, y, width, height
Point = tuple[float, float]
MAX_QUEUE_ROWS = 3


@dataclass(frozen=True)
class FlowGeometry:
    width: float
    height: float
    unit: float  # a token's height; everything scales with it (presenter mode: larger)
    token_w: float
    token_h: float
    header_y: float  # baseline band of the column headings
    producers: tuple[Rect, ...]
    consumers: tuple[Rect, ...]
    lane: Rect  # the queue's pipe
    queue_cols: int
    queue_rows: int
    done_area: Rect
    done_cols: int
    done_rows: int
    gate: Rect
    legend: Rect
    columns: tuple[float, float, float, float]  # centres: producers, queue, consumers, done

    @property
    def queue_capacity(self) -> int:
        return self.queue_cols * self.queue_rows

    @property
    def done_capacity(self) -> int:
        return self.done_cols * self.done_rows

    def slot_center(self, k: int) -> Point:
        """Queue slot ``k`` (0 = the head, next to be taken): head at the right end."""
        x, y, w, h = self.lane
        step = self.token_w * 1.12
        row, col = divmod(k, max(1, self.queue_cols))
        row_h = self.token_h * 1.25
        top = y + (h - self.queue_rows * row_h) / 2
        left = x + w - (w - self.queue_cols * step) / 2
        return left - (col + 0.5) * step, top + (row + 0.5) * row_h

    def station_token(self, rects: tuple[Rect, ...], i: int, k: int = 0) -> Point:
        if not rects:
            return self.width / 2, self.height / 2
        x, y, w, h = rects[min(i, len(rects) - 1)]
        # Inside the box, right of its words; further held tokens step down and left, stacked.
        cx = x + w - self.token_w / 2 - self.unit * 0.2
        # Below the name's line (which takes the box's full width).
        return cx - k * self.unit * 0.3, y + h * 0.62 + k * self.unit * 0.22

    def done_center(self, k: int) -> Point:
        x, y, w, _h = self.done_area
        col, row = k % max(1, self.done_cols), k // max(1, self.done_cols)
        cw = w / max(1, self.done_cols)
        return x + (col + 0.5) * cw, y + (row + 0.5) * self.token_h * 1.2

    def token_pos(self, tok: Token, order: int = 0) -> Point:
        """The pixel centre a token rests at; ``order`` stacks tokens held at one station."""
        if tok.place == QUEUE:
            return self.slot_center(tok.station)
        if tok.place in (CONSUMER, UNFINISHED):
            # Left unfinished: still in the hands of the worker QueueLab stopped.
            return self.station_token(self.consumers, tok.station, order)
        if tok.place == PRODUCER:
            x, y, w, h = self.producers[min(tok.station, len(self.producers) - 1)]
            return x + w + self.token_w * 0.6, y + h / 2
        if tok.place == DROPPED:
            x, y, w, h = self.consumers[min(tok.station, len(self.consumers) - 1)]
            return x + w * 0.25 + order * self.unit * 0.3, y + h + self.token_h * 0.75
        if tok.place == DONE:
            return self.done_center(tok.station)
        if tok.place == LOST:
            x, y, w, h = self.lane
            return x + self.token_w, y + h + self.token_h
        return self.width / 2, self.height / 2

    def origin_pos(self, tok: Token) -> Point:
        """Where a new token comes from: its producer, or the consumer that re-put it."""
        if tok.origin == CONSUMER and self.consumers:
            return self.station_token(self.consumers, tok.origin_station)
        if self.producers:
            x, y, w, h = self.producers[min(tok.origin_station, len(self.producers) - 1)]
            return x + w / 2, y + h / 2
        return 0.0, self.height / 2


def _column(n: int, x: float, top: float, bottom: float, w: float, h: float) -> tuple[Rect, ...]:
    """``n`` boxes spread down a column, each at most ``h`` tall, shrinking to fit."""
    if n <= 0:
        return ()
    gap = h * 0.35
    fit = (bottom - top - gap * (n - 1)) / n
    h = max(min(h, fit), h * 0.45)
    total = n * h + (n - 1) * gap
    y0 = top + max(0.0, (bottom - top - total) / 2)
    return tuple((x - w / 2, y0 + i * (h + gap), w, h) for i in range(n))


def flow_geometry(
    width: float, height: float, producers: int, consumers: int, *, presenter: bool = False,
    legend_rows: int = 2, maxsize: int = 0,
) -> FlowGeometry:  # fmt: skip
    """Lay out a view of ``width`` × ``height`` pixels for that many producers and consumers."""
    unit = 42.0 if presenter else 30.0
    # A large view (a full screen, an exported picture) gets larger tokens, not empty space.
    unit = max(unit, min(56.0, height / 24, width / 40))
    unit = max(18.0, min(unit, height / 12, width / 26))
    tw, th = unit * 1.9, unit
    margin = unit * 0.4
    header_y = margin + unit * 0.7
    legend_h = legend_rows * unit * 0.95 + margin
    top = header_y + unit * 0.7
    bottom = height - legend_h - margin
    # Left to right: producer boxes, room for a token blocked in put(), the queue's pipe,
    # consumer boxes (words, and the token held on their right), the done tray and the gate.
    # The pipe takes what the others leave.
    prod_w = min(width * 0.17, unit * 4.8)
    done_w = max(2 * tw * 1.08 + unit * 0.3, width * 0.2)
    # 0.22: a consumer that left tasks says "never marked done" beside its token in the
    # window's default size (at 0.2 the words touched the token).
    cons_w = min(width * 0.22, unit * 6.0)
    done_x = width - margin - done_w
    cons_x = done_x - unit * 0.9 - cons_w
    lane_x0 = margin + prod_w + tw * 1.3
    lane_x1 = cons_x - unit * 0.8
    cx = (margin + prod_w / 2, (lane_x0 + lane_x1) / 2, cons_x + cons_w / 2, done_x + done_w / 2)
    box_h = unit * 2.1
    prods = _column(producers, cx[0], top, bottom, prod_w, box_h)
    cons = _column(consumers, cx[2], top, bottom - unit * 1.4, cons_w, box_h)
    lane_w = max(tw * 1.2, lane_x1 - lane_x0)
    step = tw * 1.12
    cols = max(1, int(lane_w // step))
    # The queue's rows stay in the middle band, between the boxes' centres: one row for a few
    # tasks, up to three when it is long (then a count says how many more wait).
    rows = MAX_QUEUE_ROWS if (bottom - top) > th * 1.25 * MAX_QUEUE_ROWS * 1.6 else 1
    if 0 < maxsize <= cols:
        rows = 1  # a small bounded queue: all its slots in one row
    lane_h = rows * th * 1.25 + unit * 0.3
    mid = (top + bottom) / 2
    lane = (lane_x0, mid - lane_h / 2, lane_w, lane_h)
    gate_h = unit * 3.8
    done_top = top + unit * 0.2
    done_bottom = bottom - gate_h - unit * 0.4
    dcols = max(1, int(done_w // (tw * 1.08)))
    drows = max(1, int((done_bottom - done_top) // (th * 1.2)))
    return FlowGeometry(
        width=width, height=height, unit=unit, token_w=tw, token_h=th, header_y=header_y,
        producers=prods, consumers=cons, lane=lane, queue_cols=cols, queue_rows=rows,
        done_area=(done_x, done_top, done_w, done_bottom - done_top), done_cols=dcols,
        done_rows=drows, gate=(done_x, bottom - gate_h, done_w, gate_h),
        legend=(margin, height - legend_h, width - 2 * margin, legend_h - margin), columns=cx,
    )  # fmt: skip
