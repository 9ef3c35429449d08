"""The consumer of the generated program: its loop, the work, failures and the user's function."""

from __future__ import annotations

import os
import site
import sys
import sysconfig

from engine.codegen_text import WriterBase, fstr
from engine.distributions import format_number

# Names the program defines or imports: a user's function of the same name is imported as
# task_function instead.
_TAKEN = frozenset((
    "producer", "consumer", "queue", "task", "sleep", "work", "calibrate", "timed_loop", "fails",
    "random", "uniform", "expovariate", "normalvariate", "seed", "Random", "JoinableQueue",
    "Process", "set_start_method", "thread_time", "sys", "result", "label", "value", "attempt",
    "identifier", "speed", "print", "max", "range", "first_task",
))  # fmt: skip


class ConsumerWriter(WriterBase):
    """Writes ``def consumer(...)``: get, work (sleep, CPU or the user's function), task_done."""

    def consumer(self) -> None:
        cfg = self.cfg
        start, finish, dot = self.who("consumer")
        speed = ", speed" if cfg.workload == "cpu" else ""
        if self.many_consumers:
            self.emit(
                0, "# task for a consumer process", f"def consumer(queue, identifier{speed}):"
            )
        else:
            self.emit(0, "# task for the consumer process", f"def consumer(queue{speed}):")
        self.emit(1, f"print({fstr(start)}, flush=True)")
        if cfg.extra_task_done:
            self.emit(1, "first_task = True")
        self.emit(
            1,
            "# process items from the queue",
            "while True:",
            "    # get a task from the queue",
            "    task = queue.get()",
            "    # check for signal that we are done",
            "    if task is None:",
            "        break",
        )
        do = "work" if cfg.workload == "cpu" else "sleep"
        if do == "sleep" and self.own is None:
            self.needs_sleep = True
        if cfg.failure_rate > 0 or self.own is not None:
            # What the user's function raises fails the task, as in QueueLab (on_failure).
            self.failing_work(do, dot)
        else:
            self.emit(2, "# process the item", f"{do}({self.seconds('task[1]')}{self.speed_arg})")
        returned = ", returned {result!r:.80}" if self.own is not None else ""
        self.say(2, f"print(f'{dot} got {{task}}{returned}', flush=True)")
        self.emit(2, "# mark the unit of work as processed", "queue.task_done()")
        if cfg.extra_task_done:
            self.emit(2, "if first_task:", "    first_task = False")
            self.bug(
                3,
                "task_done() a second time for the same task. With the counter at 0 it raises "
                "ValueError; with other tasks unfinished it silently counts one of them as done.",
            )
            self.emit(
                3,
                "try:",
                "    queue.task_done()  # the second call",
                "except ValueError as e:",
                f"    print(f'!{dot[1:]}: ValueError: {{e}}', flush=True)",
            )
        if cfg.sentinels == "none":
            self.emit(1, f"print({fstr(finish)}, flush=True)  # never reached: no sentinel")
            return
        if cfg.sentinel_task_done:
            self.emit(1, "# mark the signal as processed", "queue.task_done()")
        else:
            self.bug(
                1,
                "no task_done() for the None signal: it was counted as unfinished when it was "
                "put, so queue.join() never returns.",
            )
        self.emit(1, f"print({fstr(finish)}, flush=True)")

    def failing_work(self, do: str, dot: str) -> None:
        cfg = self.cfg
        rate = format_number(cfg.failure_rate)
        self.emit(
            2,
            "# unpack the task; a retried task carries its attempt number",
            "label, value = task[0], task[1]",
            "attempt = task[2] if len(task) > 2 else 0",
            "try:",
            "    # process the item",
            f"    {self.own_call('label', 'value')}" if self.own else
            f"    {do}({self.seconds('value')}{self.speed_arg})",
        )  # fmt: skip
        if cfg.failure_rate <= 0:
            pass  # only the user's function can fail the task
        elif self.seeded:
            self.emit(
                3, f"# the attempt fails with probability {rate}", "if fails(label, attempt):"
            )
        else:
            self.random_names.add("random")
            self.emit(3, "# the attempt fails with this probability", f"if random() < {rate}:")
        if cfg.failure_rate > 0:
            self.emit(4, "raise Exception(f'task {label} failed (attempt {attempt + 1})')")
        self.emit(2, "except Exception as e:" if self.narrate else "except Exception:")
        error = "{type(e).__name__}: {e}" if self.own else "{e}"
        self.say(3, f"print(f'!{dot[1:]} failed on {{task}}: {error}', flush=True)")
        if cfg.on_failure == "skip_task_done":
            self.bug(
                3,
                "back to get() without task_done(): the failed task stays unfinished, so "
                "queue.join() never returns. Call task_done() on every path (try/finally).",
            )
            self.emit(3, "continue")
            return
        if cfg.on_failure == "retry":
            self.emit(
                3,
                f"if attempt < {cfg.max_retries}:",
                "    # put the task back on the queue for another attempt",
            )
            self.say(4, f"print(f'{dot} retries {{task}} (attempt {{attempt + 2}})', flush=True)")
            self.emit(
                3,
                "    queue.put((label, value, attempt + 1))",
                "# mark the failed attempt as processed; a re-put task is unfinished already",
                "queue.task_done()",
                "continue",
            )
            return
        self.emit(
            3, "# mark the failed task as processed all the same", "queue.task_done()", "continue"
        )

    # ------------------------------------------------------------------ the user's function
    @property
    def own_name(self) -> str:
        """The name the program calls the user's function by."""
        own = self.own
        assert own is not None
        first = own.attr.split(".")[0]
        name = "task_function" if first in _TAKEN else first
        return name + own.attr[len(first) :]

    def own_call(self, value: str, duration: str) -> str:
        """``result = fn(value)`` or ``result = fn(value, duration)``, as QueueLab calls it."""
        own = self.own
        assert own is not None
        args = value if own.args == 1 else f"{value}, {self.seconds(duration)}"
        return f"result = {self.own_name}({args})"

    def own_import(self) -> None:
        """The import of the user's function, at the top: every process runs it (spawn)."""
        own = self.own
        if own is None:
            return
        first = own.attr.split(".")[0]
        alias = "" if self.own_name.split(".")[0] == first else " as task_function"
        self.emit(0, f'# your own task function (QueueLab\'s workload = "{own.text}")')
        if own.file:
            folder, stem = os.path.split(own.file)
            if stem.endswith(".py") and own.module.isidentifier() and not _known(own.module):
                self.emit(0, "import sys", f"sys.path.insert(0, {folder!r})  # its folder")
                self.emit(0, f"from {own.module} import {first}{alias}")
                return
            # A file name that is no module name: loaded from its path instead.
            self.emit(
                0,
                "from importlib.util import module_from_spec, spec_from_file_location",
                f"spec = spec_from_file_location('task_module', {own.file!r})",
                "task_module = module_from_spec(spec)",
                "spec.loader.exec_module(task_module)",
                f"{alias[4:] or first} = task_module.{first}",
            )
            return
        if own.path and not _on_plain_path(own.path):
            self.emit(0, "import sys", f"sys.path.insert(0, {own.path!r})  # where it was found")
        self.emit(0, f"from {own.module} import {first}{alias}")


def _known(name: str) -> bool:
    """A module name taken already (the standard library's, or one imported here)."""
    return name in sys.stdlib_module_names or name in sys.modules


def _on_plain_path(folder: str) -> bool:
    """Whether a plain ``python program.py`` finds modules in ``folder`` without help."""
    paths = {sysconfig.get_paths()[k] for k in ("stdlib", "platstdlib", "purelib", "platlib")}
    try:
        paths.update(site.getsitepackages())
        paths.add(site.getusersitepackages())
    except AttributeError:  # a virtualenv's old site module
        pass
    return os.path.normpath(folder) in {os.path.normpath(p) for p in paths}
