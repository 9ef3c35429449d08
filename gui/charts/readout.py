"""ChartReadout: the line of figures above the charts (now, or at the hovered time), fitted."""

from __future__ import annotations

import math

from PySide6.QtGui import QTextDocument

from engine.model import RunModel
from gui.charts.palette import Theme
from gui.charts.plotkit import ReadoutLabel, Style
from gui.charts.series import RATE_STEP_S, RATE_WINDOW_S, ModelSeries


class ChartReadout:
    """The readout's label and what it takes to fill it without re-laying out text needlessly.

    ``label`` is the pyqtgraph item the panel places above the charts; ``html`` the text last
    set (with the theme and font size), so an unchanged readout costs no layout.
    """

    def __init__(self) -> None:
        self.label = ReadoutLabel("", justify="left")
        self.html = ""
        self._whole_key: tuple[int, int] | None = None
        self._whole_text = ""
        self._measure = QTextDocument()  # measures readout parts as the label lays them out
        self._measure.setDocumentMargin(0)
        self._measured: dict[str, float] = {}

    @property
    def text(self) -> str:
        return self.label.text

    def _room(self, fallback_width: float) -> float:
        """Width the readout's text may take: the panel's, less margins."""
        w = self.label.size().width()
        if w <= 1:
            w = fallback_width
        return w - 10  # the text item's document margins (4 each side) and a little slack

    def _lines(self, parts: list[str], hint: str, style: Style, fallback_width: float) -> str:
        """``parts`` joined on as few lines as fit the panel's width, ``hint`` added if it fits
        on the last line: a readout cut at the window's edge hides what it is there for."""
        size = f"font-size:{style.font_pt + 1}pt"
        doc = self._measure
        doc.setDefaultFont(self.label.item.font())
        font = doc.defaultFont().key()
        room = self._room(fallback_width)
        sep = "&nbsp;&nbsp;│&nbsp;&nbsp;"

        widths = self._measured
        if len(widths) > 256:
            widths.clear()

        def width(html: str) -> float:
            key = f"{font}|{size}|{html}"
            w = widths.get(key)
            if w is None:  # a text layout each: the separator and the hint are asked often
                doc.setHtml(f"<span style='{size}'>{html}</span>")
                w = widths[key] = doc.idealWidth()
            return w

        sep_w = width(sep)
        lines: list[list[str]] = []
        used = 0.0
        for part in parts:
            pw = width(part)
            if lines and used + sep_w + pw <= room:
                lines[-1].append(part)
                used += sep_w + pw
            else:
                lines.append([part])
                used = pw
        text = "<br>".join(sep.join(line) for line in lines)
        if hint and used + width(hint) <= room:
            text += hint
        return text

    def _whole_run_words(self, m: RunModel) -> str:
        key = (id(m), m.events)
        if key != self._whole_key:  # the summary walks every task: once per change
            self._whole_key, self._whole_text = key, _whole_run(m)
        return self._whole_text

    def update(
        self, m: RunModel | None, s: ModelSeries, t: float | None, now: float, theme: Theme,
        style: Style, *, offer_hint: bool, fallback_width: float, whole_run: bool = True,
    ) -> None:
        """Say the figures at the hovered time ``t`` (None: at ``now``, the run's latest).

        ``offer_hint`` offers "hover a chart" (not in a picture of the charts); ``fallback_width``
        is the room before the label has been laid out. ``whole_run``: an ended run's figures
        are its whole-run means (False: a paced frame before the end is reported, which keeps
        the sliding window's: the summary walks every task).
        """
        at = t if t is not None else now
        parts: list[str] = []
        hint = ""

        def span(text: str, color: str | None = None, bold: bool = False) -> str:
            c = f"color:{color};" if color else ""
            b = "font-weight:bold;" if bold else ""
            return f"<span style='{c}{b}'>{text}</span>"

        if m is None:
            parts.append("No run yet — start one to see its charts.")
        else:
            i = s.counters.index_at(at) if len(s.counters) else -1
            started = len(s.counters) > 0 or now > 0
            if started and (t is None or 0 <= t <= now):
                c = s.counters
                # Before the first put every counter is still zero.
                val = {k: int(c.value_at(k, i)) if i >= 0 else 0 for k in c.cols}
                head = f"t = {at:.3f} s" if t is not None else f"now {at:.1f} s"
                parts.append(span(head, theme.foreground, True))
                parts.append(span(f"unfinished {val['unfinished']}", theme.unfinished, True)
                             + " = " + span(f"queued {val['depth']}", theme.queued)
                             + " + " + span(f"taken {val['in_flight']}", theme.in_flight))
                parts.append(span(f"puts {val['puts']}", theme.puts) + " · "
                             + span(f"gets {val['gets']}", theme.gets) + " · "
                             + span(f"task_done {val['dones']}", theme.dones))
                g = s.grid.view()
                # (A replay's model holds the whole run: its end counts once "now" reaches it.)
                if t is None and whole_run and m.end_t is not None and m.end_t <= now:
                    # The run is over: its whole-run means, the figures its summary gives.
                    parts.append(span(self._whole_run_words(m), theme.rate))
                elif g.size:
                    j = min(g.size - 1, max(0, math.floor(at / RATE_STEP_S)))
                    r = s.rate.view()[j]
                    w, sv = s.mean_wait.view()[j], s.mean_service.view()[j]
                    # Three figures at most: the readout then fits two lines in presenter mode.
                    # They are the sliding window's, and say so: a finished run's last second
                    # is no mean of the run.
                    win = f"{RATE_WINDOW_S:g} s"
                    rate = f"last {win}: " if t is None else f"{win} to t: "
                    rate += f"{r:.0f} done/s" if r >= 100 else f"{r:.1f} done/s"
                    if math.isfinite(w):
                        rate += f" · wait {_fmt_s(w)} · service {_fmt_s(sv)}"
                    parts.append(span(rate, theme.rate))
            elif t is not None:
                parts.append(span(f"t = {t:.3f} s", theme.foreground, True))
            else:
                parts.append("Waiting for the first events…")
            if t is None and i >= 0 and not style.presenter and offer_hint:
                hint = span("&nbsp;&nbsp;(hover a chart to read values)", theme.crosshair[:7])
        text = self._lines(parts, hint, style, fallback_width)
        html = f"{text}|{theme.name}|{style.font_pt}"
        if html != self.html:  # setHtml re-lays out the text: only when it changed
            self.html = html
            self.label.setText(text, color=theme.foreground, size=f"{style.font_pt + 1}pt")


def _whole_run(m: RunModel) -> str:
    """Throughput and mean times over the whole run, as its summary lines say them."""
    sm = m.summary()
    rate = sm.throughput_per_s
    words = f"whole run: {rate:.0f} done/s" if rate >= 100 else f"whole run: {rate:.2f} done/s"
    if sm.task_dones and m.done_t:
        words += f" · mean wait {_fmt_s(sm.mean_wait_s)} · mean service {_fmt_s(sm.mean_service_s)}"
    return words


def _fmt_s(x: float) -> str:
    if x >= 1:
        return f"{x:.2f} s"
    if x >= 0.1:
        return f"{x * 1000:.0f} ms"
    return f"{x * 1000:.1f} ms"
