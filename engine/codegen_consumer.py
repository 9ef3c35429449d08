"""The consumer of the generated program: its loop, the work, failures and the user's function."""

from __future__ import annotations

from engine.codegen_text import WriterBase, fstr
from engine.distributions import format_number


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
        if do == "sleep":
            self.needs_sleep = True
        if cfg.failure_rate > 0:
            self.failing_work(do, dot)
        else:
            self.emit(2, "# process the item", f"{do}({self.seconds('task[1]')}{self.speed_arg})")
        self.say(2, f"print(f'{dot} got {{task}}', flush=True)")
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
            f"    {do}({self.seconds('value')}{self.speed_arg})",
        )
        if self.seeded:
            self.emit(
                3, f"# the attempt fails with probability {rate}", "if fails(label, attempt):"
            )
        else:
            self.random_names.add("random")
            self.emit(3, "# the attempt fails with this probability", f"if random() < {rate}:")
        self.emit(4, "raise Exception(f'task {label} failed (attempt {attempt + 1})')")
        self.emit(2, "except Exception as e:" if self.narrate else "except Exception:")
        self.say(3, f"print(f'!{dot[1:]} failed on {{task}}: {{e}}', flush=True)")
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

