"""Timeline marks for what went wrong at an instant: a task_done() that raised ValueError
("called too many times"), and an item a put() lost because its feeder could not pickle it."""

from __future__ import annotations

from collections.abc import Iterable

import pyqtgraph as pg

from engine.events import Kind
from engine.model import RunModel
from gui.charts.palette import Theme, qcolor
from gui.charts.plotkit import Style

ERROR_KIND = int(Kind.TASK_DONE_ERROR)
LOST_KIND = int(Kind.FEED_ERROR)
_MARKED = (ERROR_KIND, LOST_KIND)
MARK_Z = 15  # above the bars and their labels, below the cursor (20) and the tip (30)
ERROR_WORDS = "task_done() raised ValueError"  # the legend's words for the mark
LOST_WORDS = "put() item lost: it could not be pickled"
# Raw mark: (worker src, absolute perf_counter time, what happened in words).
RawMark = tuple[int, float, str]


def _mark(src: int, r: tuple) -> RawMark:
    if r[0] == ERROR_KIND:
        return (src, float(r[1]), f"{ERROR_WORDS} — {r[2]}")
    # The item never arrives and join() can never return (cpython#79423).
    return (src, float(r[1]), f"{LOST_WORDS} ({r[3]}); queue.join() can never return")


def error_records(applied: Iterable[tuple[int, tuple]]) -> list[RawMark]:
    """The marked records among ``(src, record)`` pairs, as RunModel.feed applies them."""
    return [_mark(src, r) for src, r in applied if r[0] in _MARKED]


def trace_error_records(batches: Iterable[tuple[int, int, list[tuple]]]) -> list[RawMark]:
    """The marked records of a recorded run's batches."""
    return [
        _mark(src, r) for src, _first, records in batches for r in records if r[0] in _MARKED
    ]


class ErrorMarks:
    """A cross on a worker's row at each task_done() that raised, and its words for the hover.

    The model counts these errors and keeps their texts, but not their times, so the marks come
    from the records themselves: ``note`` takes them as a live run applies them, ``set_fixed``
    takes a recorded run's all at once (kept across the replay's model rebuilds). Times are
    converted by the model shown, and a mark later than what it has seen (a replay's
    playhead) is not drawn yet.
    """

    def __init__(self, plot: pg.PlotItem) -> None:
        self.plot = plot
        self.item = pg.ScatterPlotItem(symbol="x", pxMode=True)
        self.item.setZValue(MARK_Z)
        plot.addItem(self.item, ignoreBounds=True)
        self._noted: list[RawMark] = []
        self._fixed: list[RawMark] = []
        # Shown now: (row, run-relative t, worker name, text).
        self.shown: list[tuple[int, float, str, str]] = []
        self._key: tuple | None = None
        self._counted: tuple | None = None  # the model's error counts at the last note
        self._size = 16

    def clear(self) -> None:
        """Forget the live run's marks (a new run, or none)."""
        self._noted.clear()
        self._key = None
        self._counted = None

    def note(self, applied: Iterable[tuple[int, tuple]], model: RunModel | None = None) -> bool:
        """Take the errors among records a live run applied; True if there were any.

        ``model``, the one they were applied to, counts what marks are made of: while its
        counts stand still a flood's records are not scanned (0.2 µs each, 0.1 s a flood).
        """
        if model is not None:
            counted = (id(model), model.task_done_errors, len(model.lost_items))
            if counted == self._counted:
                return False
            self._counted = counted
        found = error_records(applied)
        self._noted.extend(found)
        return bool(found)

    def set_fixed(self, marks: list[RawMark]) -> None:
        self._fixed = list(marks)
        self._key = None

    def apply(self, theme: Theme, style: Style) -> None:
        # A cross in the warning colour with a thin outline of the background: it reads on
        # a blue task bar, a grey waiting bar and the bare background alike.
        self._size = 24 if style.presenter else 16
        self.item.setPen(pg.mkPen(qcolor(theme.background), width=1.0))
        self.item.setBrush(pg.mkBrush(qcolor(theme.warning)))
        self.item.setSize(self._size)
        self._key = None

    def update(
        self, model: RunModel | None, rows_src: list[int], until: float | None = None
    ) -> bool:
        """Place the marks on the rows (``rows_src``: the worker src of each row, in order),
        those up to ``until`` (None: the model's last event).

        True when marks appeared or all went (the legend names them only while there are any).
        """
        marks = self._fixed + self._noted
        last = until if until is not None or model is None else model.last_t
        key = (id(model), len(marks), last, tuple(rows_src), self._size)
        if key == self._key:
            return False
        self._key = key
        had = bool(self.shown)
        shown: list[tuple[int, float, str, str]] = []
        if model is not None and model.t0 is not None:  # rel() would take t0 from the mark
            index = {src: i for i, src in enumerate(rows_src)}
            for src, t_abs, text in marks:
                t = model.rel(t_abs)
                row = index.get(src)
                if row is None or t > last + 1e-9:
                    continue
                w = model.workers.get(src)
                shown.append((row, t, w.name if w is not None else f"worker {src}", text))
        if shown != self.shown:  # the key moves with every record: setData repaints the plot
            self.item.setData(x=[s[1] for s in shown], y=[float(s[0]) for s in shown])
        self.shown = shown
        return had != bool(shown)

    def near(self, row: int, t: float, tolerance_s: float) -> str | None:
        """Hover words for a mark on ``row`` within ``tolerance_s`` of ``t``, else None."""
        best: tuple[float, int, float, str, str] | None = None
        for r, mt, name, text in self.shown:
            d = abs(mt - t)
            if r == row and d <= tolerance_s and (best is None or d < best[0]):
                best = (d, r, mt, name, text)
        if best is None:
            return None
        _, _, mt, name, text = best
        words, _, rest = text.partition(" — ")
        return f"{name}: {words} at {mt:.3f} s" + (f" — {rest}" if rest else "")
