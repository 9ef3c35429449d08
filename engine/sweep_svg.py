"""A sweep's chart as SVG text, written by hand: throughput per point with its interval and fit."""

from __future__ import annotations

import math
import textwrap
from html import escape

import numpy as np

from engine.distributions import format_number
from engine.sweep import Param
from engine.usl import Fit

W, H = 800, 510
LEFT, RIGHT, TOP, BOTTOM = 80, 30, 50, 110
COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")


def _ticks(lo: float, hi: float, n: int = 6) -> list[float]:
    span = hi - lo if hi > lo else 1.0
    raw = span / n
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.ceil(lo / step) * step
    return [first + i * step for i in range(int((hi - first) / step + 1e-9) + 1)]


def sweep_svg(doc: dict, params: list[Param], fit_list: list[tuple[dict, Fit | None]]) -> str:
    """The SVG document for ``doc`` (as :func:`engine.sweep_report.to_json` builds it)."""
    key = params[0].key
    rows = [r for r in doc["points"] if r["throughput_median"]]
    xs = [float(r["values"][key]) for r in doc["points"]] or [0.0, 1.0]
    tops = [(r["throughput_ci"] or [0, r["throughput_median"]])[1] for r in rows] or [1.0]
    x_lo, x_hi = min(xs), max(xs)
    if x_hi == x_lo:
        x_lo, x_hi = x_lo - 1, x_hi + 1
    pad = (x_hi - x_lo) * 0.05
    x_lo, x_hi = x_lo - pad, x_hi + pad
    y_hi = max(tops) * 1.12
    pw, ph = W - LEFT - RIGHT, H - TOP - BOTTOM

    def px(x: float) -> float:
        return LEFT + (x - x_lo) / (x_hi - x_lo) * pw

    def py(y: float) -> float:
        return TOP + ph - y / y_hi * ph

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" '
           f'viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="13">',
           f'<rect width="{W}" height="{H}" fill="white"/>',
           f'<text x="{W / 2}" y="28" text-anchor="middle" font-size="16" font-weight="bold">'
           f'Throughput by {escape(key)}</text>']  # fmt: skip
    for t in _ticks(0, y_hi):
        y = py(t)
        out.append(f'<line x1="{LEFT}" x2="{W - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{LEFT - 8}" y="{y + 4:.1f}" text-anchor="end">{t:g}</text>')
    integral = params[0].integral
    x_ticks = sorted(set(xs)) if len(set(xs)) <= 12 else _ticks(x_lo, x_hi)
    for t in x_ticks:
        out.append(f'<text x="{px(t):.1f}" y="{TOP + ph + 20}" text-anchor="middle">'
                   f'{format_number(float(round(t)) if integral else t)}</text>')  # fmt: skip
    out.append(f'<rect x="{LEFT}" y="{TOP}" width="{pw}" height="{ph}" fill="none" stroke="#444"/>')
    out.append(f'<text x="{LEFT + pw / 2}" y="{TOP + ph + 42}" text-anchor="middle">'
               f'{escape(key)}</text>')  # fmt: skip
    out.append(f'<text transform="translate(22 {TOP + ph / 2}) rotate(-90)" '
               f'text-anchor="middle">tasks per second (median, 95 % interval)</text>')  # fmt: skip
    other = params[1].key if len(params) > 1 else None
    series: dict[object, list[dict]] = {}
    for r in rows:
        series.setdefault(r["values"][other] if other else None, []).append(r)
    for i, (label, group) in enumerate(series.items()):
        colour = COLOURS[i % len(COLOURS)]
        group.sort(key=lambda r: r["values"][key])
        line = " ".join(f"{px(r['values'][key]):.1f},{py(r['throughput_median']):.1f}"
                        for r in group)  # fmt: skip
        out.append(f'<polyline points="{line}" fill="none" stroke="{colour}" stroke-width="1.2" '
                   f'opacity="0.6"/>')  # fmt: skip
        for r in group:
            x, y = px(r["values"][key]), py(r["throughput_median"])
            if r["throughput_ci"]:
                lo, hi = (py(v) for v in r["throughput_ci"])
                out.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{lo:.1f}" y2="{hi:.1f}" '
                           f'stroke="{colour}" stroke-width="2"/>')  # fmt: skip
            out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4.5" fill="{colour}"/>')
        if other is not None:
            out.append(f'<text x="{LEFT + 10}" y="{TOP + 18 + 16 * i}" fill="{colour}">'
                       f'{escape(other)} = {label:g}</text>')  # fmt: skip
    for i, (_where, fit) in enumerate(fit_list):
        if fit is None or key != "consumers":
            continue
        grid_x = np.linspace(max(1.0, x_lo), x_hi, 120)
        pts = " ".join(f"{px(x):.1f},{py(min(y, y_hi)):.1f}"
                       for x, y in zip(grid_x, fit.predict(grid_x), strict=True))  # fmt: skip
        colour = COLOURS[i % len(COLOURS)] if len(fit_list) > 1 else "#666"
        out.append(f'<polyline points="{pts}" fill="none" stroke="{colour}" '
                   f'stroke-dasharray="6 4" stroke-width="1.2" opacity="0.8"/>')  # fmt: skip
    if doc.get("fit"):
        f = doc["fit"]
        peak = "—" if f["peak_n"] is None else f"{f['peak_n']:.1f}"
        where = fit_list[0][0]
        if where:  # a grid: the numbers are the first slice's
            peak += " for " + ", ".join(f"{k} = {v:g}" for k, v in where.items())
        out.append(f'<text x="{W - RIGHT - 10}" y="{TOP + 18}" text-anchor="end" fill="#555">'
                   f"dashed: {f['model'].upper()} fit, σ = {f['sigma']:.3f}, κ = {f['kappa']:.4f}"
                   f", N* = {peak}, r² = {f['r2']:.2f}</text>")  # fmt: skip
    cpus = (doc.get("machine") or {}).get("cpus")
    if key == "consumers" and cpus and x_lo < cpus < x_hi:
        # Where CPU-bound work stops scaling: a reader's eye needs the line, not the number.
        x = px(cpus)
        out.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{TOP}" y2="{TOP + ph}" stroke="#999" '
                   f'stroke-dasharray="2 4"/>')  # fmt: skip
        out.append(f'<text x="{x + 6:.1f}" y="{TOP + ph - 8}" fill="#777">{cpus} CPUs</text>')
    for j, line in enumerate(textwrap.wrap(doc["recommendation"], 92)[:3]):
        out.append(f'<text x="{LEFT}" y="{H - 40 + 16 * j}">{escape(line)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"
