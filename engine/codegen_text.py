"""The text helpers of the generated program: WriterBase (lines, comments, draws) and literals."""

from __future__ import annotations

import textwrap

from engine.config import RunConfig
from engine.distributions import Distribution, format_number
from engine.own_function import OwnFunction, is_own, peek

BUG_MARK = "# BUG (lesson):"


class WriterBase:
    """The program's lines and how to write them; the parts are in the subclasses."""

    def __init__(
        self, cfg: RunConfig, narrate: bool = True, own: OwnFunction | None = None
    ) -> None:
        self.cfg = cfg
        # The user's own function: where it is from its source (no code of it runs here), and
        # its number of arguments from the parent's resolve() when the caller has it.
        self.own: OwnFunction | None = None
        if is_own(cfg.workload):
            found = peek(cfg.workload)
            args = own.args if own is not None and own.text == cfg.workload else found.args
            self.own = OwnFunction(found.text, found.module, found.attr, args, found.file,
                                   found.path)  # fmt: skip
        self.narrate = narrate
        self.lines: list[str] = []
        self.many_producers = cfg.producers > 1
        self.many_consumers = cfg.consumers > 1
        self.scaled = cfg.time_scale != 1.0
        self.seeded = cfg.seed is not None
        self.random_names: set[str] = set()
        self.needs_sleep = False

    # ------------------------------------------------------------------ output helpers
    def emit(self, indent: int, *lines: str) -> None:
        self.lines.extend(("    " * indent + line) if line else "" for line in lines)

    def say(self, indent: int, line: str) -> None:
        """A per-task print: left out of a program generated with ``narrate=False``."""
        if self.narrate:
            self.emit(indent, line)

    def bug(self, indent: int, text: str) -> None:
        """A ``# BUG (lesson):`` comment, wrapped to fit beside the code."""
        width = 96 - 4 * indent
        wrapped = textwrap.wrap(text, width - len(BUG_MARK) - 1) or [""]
        self.emit(indent, f"{BUG_MARK} {wrapped[0]}")
        rest = " ".join(wrapped[1:])
        for line in textwrap.wrap(rest, width - 2):
            self.emit(indent, f"#   {line}")

    @property
    def speed_arg(self) -> str:
        return ", speed" if self.cfg.workload == "cpu" else ""

    def seconds(self, expr: str) -> str:
        return f"{expr} * TIME_SCALE" if self.scaled else expr

    def draw(self, dist: Distribution) -> str:
        """An expression drawing one value of ``dist`` with the random module."""
        p = [format_number(x) for x in dist.params]
        if dist.kind == "constant":
            return float_literal(dist.params[0])
        if dist.kind == "uniform":
            if dist.params == (0.0, 1.0):
                self.random_names.add("random")
                return "random()"
            self.random_names.add("uniform")
            return f"uniform({p[0]}, {p[1]})"
        if dist.kind == "exponential":
            # mean * Exp(1), exactly as QueueLab draws it, so seeded values agree.
            self.random_names.add("expovariate")
            return f"{p[0]} * expovariate(1.0)"
        self.random_names.add("normalvariate")
        return f"max(0.0, normalvariate({p[0]}, {p[1]}))"

    def who(self, role: str) -> tuple[str, str, str]:
        """(starting, finished, dot-name) f-string bodies for a producer or consumer."""
        many = self.many_producers if role == "producer" else self.many_consumers
        title = role.capitalize()
        if many:
            return (
                f"{title} {{identifier}} starting",
                f"{title} {{identifier}} finished",
                f".{role}-{{identifier}}",
            )
        return f"{title} starting", f"{title} finished", f".{role}"


def fstr(text: str) -> str:
    """A string literal; an f-string when it has a placeholder."""
    prefix = "f" if "{" in text else ""
    return f"{prefix}'{text}'"


def float_literal(x: float) -> str:
    return repr(float(x))


def one_line(text: str) -> str:
    """Text fit for a comment line: one line, printable characters only (no NUL, no CR)."""
    return " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())
