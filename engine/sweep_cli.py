"""``main.py sweep``: the command's driver — progress on stderr, Ctrl+C, outputs, exit code."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from typing import TextIO

from engine.config import RunConfig
from engine.headless import EXIT_ABNORMAL, EXIT_INTERRUPTED, EXIT_OK, _Later, _Signals
from engine.sweep import Param, SweepError, grid, parse_params, sweep
from engine.sweep_report import fits, point_stats, print_text, recommend, to_json, write_csv
from engine.theory import is_open


def _fmt_s(s: float | None) -> str:
    if s is None:
        return "?"
    s = round(s)
    return f"{s // 60}:{s % 60:02d}" if s >= 60 else f"{s} s"


class Bar:
    """One progress line on stderr, redrawn in place on a terminal, a line per run otherwise."""

    def __init__(self, err: TextIO) -> None:
        self.err = err
        self.tty = err.isatty()

    def __call__(self, p_done: int, p_all: int, r_done: int, r_all: int, elapsed: float,
                 eta: float | None, warm: int = 0) -> None:  # fmt: skip
        width = 24
        fill = int(width * r_done / r_all) if r_all else width
        point = min(p_done + 1, p_all)
        text = (f"[{'#' * fill}{'.' * (width - fill)}] point {point}/{p_all}, "
                f"runs {r_done}/{r_all}, {_fmt_s(elapsed)} elapsed, ~{_fmt_s(eta)} left")
        if warm:
            text = f"warm-up run ({warm} left, not counted), {_fmt_s(elapsed)} elapsed"
        if self.tty:
            self.err.write("\r" + text + "\x1b[K")
            if r_done == r_all:
                self.err.write("\n")
        else:
            self.err.write("queuelab: " + text + "\n")
        self.err.flush()


def run_sweep(
    cfg: RunConfig,
    param_texts: list[str],
    *,
    repeats: int = 3,
    warmup: int = 1,
    as_json: bool = False,
    csv_path: str | None = None,
    plot_path: str | None = None,
    save_runs: str | None = None,
    hang_timeout: float | None = 60.0,
    png_writer: Callable[[str, str], None] | None = None,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
) -> int:
    """Run the sweep and print its results; the exit code as ``run``'s (0, 2, 3, 130).

    ``png_writer(svg_text, path)`` draws a PNG: it needs Qt, which the engine never imports,
    so the composition root (main.py) hands it in.
    """
    cpus = os.cpu_count()
    params: list[Param] = parse_params(param_texts, cfg, cpus)
    if repeats < 1 or warmup < 0:
        raise SweepError("--repeats must be at least 1 and --warmup at least 0")
    if plot_path and not plot_path.lower().endswith((".png", ".svg")):
        raise SweepError(f"--plot {plot_path}: expected a file name ending in .png or .svg")
    if plot_path and plot_path.lower().endswith(".png") and png_writer is None:
        raise SweepError(f"--plot {plot_path}: PNG needs Qt here; write .svg instead")
    if save_runs:
        os.makedirs(save_runs, exist_ok=True)
    points = grid(cfg, params)
    bar = Bar(err)
    with _Signals() as signals:
        later = _Later(signals)  # the first Ctrl+C lets the run in progress finish
        complete = sweep(points, repeats=repeats, warmup=warmup, hang_timeout=hang_timeout,
                         save_runs=save_runs, stop=lambda: signals.count > 0, signals=later,
                         progress=bar,
                         warn=lambda w: print(f"queuelab: warning: {w}", file=err))  # fmt: skip
    if not complete:
        if bar.tty:
            err.write("\n")
        print("queuelab: interrupted; the results below are what was measured so far", file=err)
        points = [p for p in points if p.runs]
    rows = point_stats(points, params)
    fit_list = fits(rows, params)
    lam = None
    if is_open(cfg):
        lam = cfg.producers / (cfg.put_interval.mean * cfg.time_scale)
    sentence, bottleneck = recommend(rows, params, cfg.workload, lam, cpus)
    basis = "tasks done ÷ (last task_done − first put)"
    extra = {"repeats": repeats, "warmup": warmup, "throughput_basis": basis}
    doc = to_json(params, rows, fit_list, sentence, bottleneck, complete, extra=extra)
    if as_json:
        print(json.dumps(doc), file=out)
        out.flush()
    else:
        print_text(doc, params, out)
    if csv_path:
        write_csv(csv_path, params, rows)
        print(f"queuelab: wrote {csv_path}", file=err)
    if plot_path:
        from engine.sweep_svg import sweep_svg

        svg = sweep_svg(doc, params, fit_list)
        if plot_path.lower().endswith(".svg"):
            with open(plot_path, "w", encoding="utf-8") as f:
                f.write(svg)
        elif png_writer is not None:
            png_writer(svg, plot_path)
        print(f"queuelab: wrote {plot_path}", file=err)
    failed = [(p, r) for p in points for r in p.failed]
    for p, r in failed:
        where = ", ".join(f"{k} = {v:g}" for k, v in p.values.items())
        print(f"queuelab: a run at {where} ended abnormally: {r.problem}", file=err)
    if not complete:
        return EXIT_INTERRUPTED
    return EXIT_ABNORMAL if failed else EXIT_OK
