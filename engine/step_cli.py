"""``run --step`` and ``run --schedule``: be the scheduler from a terminal (or a test's stdin).

Each time every process is waiting for permission, blocked or gone, the pending operations are
printed, numbered (the number is the process's stream: main is 0), and the next choice is read
from standard input: a number or a process name; an empty line lets the earliest waiting
operation go; end of input lets the run go on freely to its end. The schedule followed is saved.
"""

from __future__ import annotations

import os
import select
import sys
import tempfile
import time
from typing import Any, TextIO

from engine.codegen import code_line_map, generate_program
from engine.config import RunConfig
from engine.schedule import check_names, load_schedule, save_schedule, shipped_schedule
from engine.step import Proc, State, StepController, StepError


def resolve_schedule(name: str) -> str:
    """A path as given, or the name of a schedule shipped in resources/schedules."""
    if os.path.exists(name):
        return name
    shipped = shipped_schedule(name)
    return str(shipped) if shipped.is_file() else name


class StepSession:
    """What ``run`` needs for step mode: the schedule to follow, the prompt, saving at the end."""

    def __init__(
        self,
        cfg: RunConfig,
        *,
        interactive: bool,
        schedule: str | None = None,
        save_path: str | None = None,
        inp: TextIO = sys.stdin,
        out: TextIO = sys.stdout,
        err: TextIO = sys.stderr,
    ) -> None:
        self.cfg = cfg
        self.interactive = interactive
        self.inp, self.out, self.err = inp, out, err
        self.save_path = save_path
        self.schedule_path = resolve_schedule(schedule) if schedule else None
        self.plan = []
        if self.schedule_path is not None:
            self.plan = load_schedule(self.schedule_path)  # ScheduleError: exit 2, nothing started
            check_names(self.plan, cfg, os.path.basename(self.schedule_path))
        program = generate_program(cfg)
        self._lines = code_line_map(program)
        self._text = program.splitlines()
        self._eof = False
        self._signals: Any = None
        self._buf = b""  # input read but not used yet

    # ------------------------------------------------------------ hooks called by run_headless
    def attach(self, run: Any, signals: Any) -> None:
        self._signals = signals
        st: StepController = run.stepper
        if self.plan:
            then = "step" if self.interactive else "free"
            st.follow(self.plan, os.path.basename(self.schedule_path or ""), then=then)
        elif not self.interactive:
            st.run_free()

    def on_poll(self, run: Any) -> str | None:
        """Prompt when it is the user's turn; the refusal of a schedule step, if any."""
        st: StepController | None = run.stepper
        if st is None:
            return None
        if st.error is not None:
            return f"the schedule cannot be followed: {st.error}"
        if not self.interactive or self._eof or st.plan or not st.stepping:
            return None
        m = run.model
        if not st.pending() or not st.quiet(m):
            return None
        self._prompt(st, m)
        return None

    def finish(self, run: Any) -> None:
        st: StepController | None = run.stepper
        if st is None or not (self.interactive or self.save_path):
            return
        path = self.save_path
        if path is None:
            stamp = time.strftime("%Y%m%d-%H%M%S")
            path = os.path.join(tempfile.gettempdir(), f"queuelab-{stamp}-{os.getpid()}.schedule")
        title = f"{self.cfg.title or 'QueueLab run'}: {len(st.schedule)} steps"
        try:
            save_schedule(path, st.schedule, title)
        except OSError as exc:
            print(f"queuelab: warning: cannot save the schedule to {path}: {exc}", file=self.err)
            return
        print(f"queuelab: schedule ({len(st.schedule)} steps) saved to {path}; follow it again "
              f"with: run --schedule {path}", file=self.err)  # fmt: skip

    # ------------------------------------------------------------ the prompt
    def line_of(self, st: StepController, p: Proc, model: Any) -> tuple[int, str] | None:
        key = st.line_key(p, model)
        n = self._lines.get(key) if key else None
        if n is None:
            return None
        return n, self._text[n - 1].strip()

    def table(self, st: StepController, model: Any) -> list[str]:
        """One line per process: its number, name, next operation and source line, or state."""
        rows = []
        width = max(len(p.name) for p in st.procs.values())
        for p in st.procs.values():
            if p.state is State.PENDING:
                what = st.op_text(p, model)
                line = self.line_of(st, p, model)
                where = f"  (line {line[0]})" if line else ""
                why = st.would_block(p, model)
                mark = f"  BLOCKED: {why}" if why else ""
                rows.append(f"  {p.src}  {p.name:{width}}  {what}{where}{mark}")
            else:
                rows.append(f"  {p.src}  {p.name:{width}}  ({st.state_words(p, model)})")
        return rows

    def _prompt(self, st: StepController, model: Any) -> None:
        out = self.out
        number = len(st.schedule) + 1
        nxt = st.next_choice(model)
        print(f"--- step {number}: who goes next? ---", file=out)
        for row in self.table(st, model):
            print(row, file=out)
        hint = f"Enter: {nxt.name}" if nxt is not None else "Enter: next"
        print(f"number or name ({hint}; end of input: run freely)> ", end="", file=out)
        out.flush()
        answer = self._read()
        if answer is None:
            print("\n(end of input: the run goes on freely)", file=out)
            self._eof = True
            st.run_free()
            return
        choice = answer.strip()
        if not _is_tty(self.inp):
            print(choice, file=out)  # a piped choice is shown, as a terminal would echo it
        try:
            p = st.grant_next(model) if choice == "" else st.grant(choice, model)
        except StepError as exc:
            print(f"queuelab: {exc}; choose again", file=out)
            return
        if p is not None:
            line = self.line_of(st, p, model)
            at = f" (line {line[0]}: {line[1]})" if line else ""
            print(f"  step {number}: {p.name} {st.schedule[-1].note}{at}", file=out)
        out.flush()

    def _read(self) -> str | None:
        """One line of input; None at its end or when Ctrl+C stops the run."""
        inp = self.inp
        try:
            fd = inp.fileno()
        except (AttributeError, OSError, ValueError):
            fd = None
        if fd is None:  # a StringIO (tests in-process): no waiting to do
            line = inp.readline()
            return None if line == "" else line
        # Read the descriptor ourselves, in slices, so a Ctrl+C (a flag set by the run's
        # handler) is seen at once; Python's buffered stdin would hide lines it read ahead.
        while b"\n" not in self._buf:
            if self._signals is not None and self._signals.count:
                return None
            ready, _, _ = select.select([fd], [], [], 0.1)
            if not ready:
                continue
            chunk = os.read(fd, 4096)
            if not chunk:
                if not self._buf:
                    return None
                self._buf += b"\n"
                break
            self._buf += chunk
        line, _, self._buf = self._buf.partition(b"\n")
        return line.decode("utf-8", "replace")


def _is_tty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False
