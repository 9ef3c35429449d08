"""The standalone program, in the tutorial's style, that a run configuration stands for.

:func:`generate_program` writes a Python program that needs only the standard library and does
what QueueLab's workers do for that configuration: the same worker counts, task labels,
distributions (drawn with the same seeds, so a seeded program draws the same values), pacing,
sentinels, joins and failure handling — a lesson's deliberate bug included and marked with a
``# BUG (lesson):`` comment. :func:`code_line_map` finds the lines of its key statements so the
window can highlight what each worker is doing.
"""

from __future__ import annotations

import re
import textwrap

from engine.config import RunConfig, default_start_method
from engine.distributions import Distribution, format_number
from engine.events import ROLE_PRODUCER
from engine.model import Activity, JoinState, RunModel

__all__ = [
    "BUG_MARK",
    "LINE_KEYS",
    "code_line_map",
    "generate_program",
    "main_line_key",
    "worker_line_key",
]

BUG_MARK = "# BUG (lesson):"

# Keys every program has in code_line_map, and what the window highlights with them.
LINE_KEYS: tuple[str, ...] = ("put", "get", "process", "task_done", "join", "producer_join")

# The producers' seeds are derived as in engine.workers.producer_main.
_SEED_STRIDE = "1_000_003"


def generate_program(cfg: RunConfig, narrate: bool = True) -> str:
    """A complete program equivalent to ``cfg``, ready for ``python -I program.py``.

    ``narrate=False`` leaves out every per-task print (added, got, failed on, retries) and
    nothing else: QueueLab's workers print nothing per task, so benchmarks/fidelity.py times
    this version against a QueueLab run like for like.
    """
    return _Writer(cfg, narrate).program()


def code_line_map(program: str) -> dict[str, int]:
    """1-based line numbers of the key statements of a generated program.

    Always present: ``put`` (a producer's put of a task), ``get``, ``process`` (the consumer's
    work on a task), ``task_done`` (after a processed task), ``join`` (``queue.join()``) and
    ``producer_join``. Present when the program has them: ``sentinel_put``, ``sentinel_check``,
    ``sentinel_task_done``, ``fail``, ``retry_put``, ``extra_task_done``, ``join_delay``.
    """
    lines = [line.strip() for line in program.splitlines()]
    found: dict[str, int] = {}

    def first(key: str, pattern: str, start: int = 0) -> int | None:
        rx = re.compile(pattern)
        for i in range(start, len(lines)):
            if rx.fullmatch(lines[i]):
                found.setdefault(key, i + 1)
                return i
        return None

    consumer = first("_consumer", r"def consumer\(.*\):") or 0
    main = first("_main", r"if __name__ == '__main__':") or len(lines)
    first("put", r"queue\.put\(task\)")
    first("sentinel_put", r"queue\.put\(None\)")
    first("get", r"task = queue\.get\(\)", consumer)
    first("sentinel_check", r"if task is None:", consumer)
    work = r"(sleep|work)\((task\[1\]|value)( \* TIME_SCALE)?(, speed)?\)"
    process = first("process", work, consumer)
    first("fail", r"raise Exception\(.*\)", consumer)
    first("retry_put", r"queue\.put\(\(label, value, attempt \+ 1\)\)", consumer)
    got = first("_got", r"print\(f'\.consumer.* got \{task\}', flush=True\)", process or consumer)
    first("task_done", r"queue\.task_done\(\)", got if got is not None else consumer)
    first("extra_task_done", r"queue\.task_done\(\)  # the second call", consumer)
    # The sentinel's task_done is the consumer's last one, after its loop.
    for i in range(main - 1, consumer, -1):
        if lines[i] == "queue.task_done()":
            if "# mark the signal as processed" in lines[i - 1]:
                found["sentinel_task_done"] = i + 1
            break
    first("join_delay", r"sleep\(.*\)", main)
    first("producer_join", r"(producer_process|process)\.join\(\)", main)
    first("join", r"queue\.join\(\)", main)
    return {k: v for k, v in found.items() if not k.startswith("_")}


def worker_line_key(role: int, activity: Activity) -> str | None:
    """The code_line_map key of the statement a worker in this activity is executing."""
    if role == ROLE_PRODUCER:
        return "put" if activity in (Activity.RUNNING, Activity.BLOCK_PUT) else None
    return {
        Activity.WAIT_GET: "get",
        Activity.PROCESS: "process",
        Activity.FAILED: "fail",
        Activity.BLOCK_PUT: "retry_put",
    }.get(activity)


def main_line_key(model: RunModel, cfg: RunConfig | None = None) -> str | None:
    """The code_line_map key of the statement the main process is executing, None when done.

    With ``cfg`` a main still inside its ``join_delay`` points at that sleep.
    """
    if model.end_reason is not None:
        return None
    if model.join_state == JoinState.WAITING:
        return "join"
    if model.producers_joined_t is not None:
        return "join" if model.join_state == JoinState.NOT_CALLED else None
    if model.join_state == JoinState.RETURNED:
        return "producer_join"  # queue first: the producers are joined after the queue
    if cfg is None:
        return "producer_join"
    if cfg.join_delay > 0 and model.last_t < cfg.join_delay * cfg.time_scale:
        return "join_delay"
    return "producer_join" if cfg.join_order == "producers_first" else "join"


class _Writer:
    """Builds the program line by line; one method per part of the tutorial's example."""

    def __init__(self, cfg: RunConfig, narrate: bool = True) -> None:
        self.cfg = cfg
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
            return _float_literal(dist.params[0])
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

    # ------------------------------------------------------------------ the program
    def program(self) -> str:
        body: list[str] = []
        self.lines = body
        self.producer()
        self.emit(0, "")
        self.consumer()
        self.emit(0, "")
        self.main()
        head: list[str] = []
        self.lines = head
        self.header()
        return "\n".join(head + body) + "\n"

    def header(self) -> None:
        cfg = self.cfg
        title = cfg.title or "a QueueLab configuration"
        self.emit(0, f"# QueueLab: {_one_line(title)}")
        if cfg.explanation:
            for line in textwrap.wrap(_one_line(cfg.explanation), 94):
                self.emit(0, f"# {line}")
        self.emit(
            0,
            "# The SuperFastPython.com example of join and task done for a joinable queue with",
            "# processes, changed to match this configuration. Standard library only.",
        )
        if self.needs_sleep:
            self.emit(0, "from time import sleep")
        if cfg.workload == "cpu":
            self.emit(0, "from time import thread_time")
        names = sorted(self.random_names)
        if names:
            self.emit(0, f"from random import {', '.join(names)}")
        if cfg.failure_rate > 0 and self.seeded:
            self.emit(0, "from random import Random")
        self.emit(
            0, "from multiprocessing import JoinableQueue", "from multiprocessing import Process"
        )
        if cfg.start_method != default_start_method():
            self.emit(0, "from multiprocessing import set_start_method")
        constants: list[str] = []
        if self.scaled:
            constants.append(
                f"# every duration is multiplied by this (QueueLab's time_scale)\n"
                f"TIME_SCALE = {_float_literal(cfg.time_scale)}"
            )
        if self.seeded and ("seed" in self.random_names or cfg.failure_rate > 0):
            constants.append(
                f"# random seed, as in QueueLab: the same seed draws the same values\n"
                f"SEED = {cfg.seed}"
            )
        if constants:
            self.emit(0, "")
            for c in constants:
                self.emit(0, *c.split("\n"))
        if cfg.workload == "cpu":
            self.emit(
                0,
                "",
                "# how many loop iterations one core runs in a second of its own CPU time",
                "# (QueueLab measures it the same way, once, before its workers start)",
                "def calibrate():",
                "    best = min(timed_loop(200_000) for _ in range(7))",
                "    return 200_000 / best",
                "",
                "def timed_loop(n):",
                "    start = thread_time()",
                "    for _ in range(n):",
                "        pass",
                "    return thread_time() - start",
                "",
                "# CPU-bound work: the computation that takes the given seconds on one idle",
                "# core; when more processes than cores share the CPU it takes longer",
                "def work(seconds, speed):",
                "    for _ in range(int(seconds * speed)):",
                "        pass",
            )
        if cfg.failure_rate > 0 and self.seeded:
            self.emit(
                0,
                "",
                "# whether an attempt at a task fails: the same draw QueueLab makes",
                "def fails(label, attempt):",
                f"    return Random(f'{{SEED}}:{{label}}:{{attempt}}').random() < "
                f"{format_number(cfg.failure_rate)}",
            )
        self.emit(0, "")

    def producer(self) -> None:
        cfg = self.cfg
        start, finish, dot = self.who("producer")
        n = cfg.tasks_per_producer
        if self.many_producers:
            self.emit(0, "# task for a producer process; each one puts its own range of tasks")
            self.emit(0, "def producer(queue, identifier):")
        else:
            self.emit(0, "# task for the producer process", "def producer(queue):")
        self.emit(1, f"print({_fstr(start)}, flush=True)")
        draws = any(d.kind != "constant" for d in (cfg.task_duration, cfg.put_interval))
        if self.seeded and draws:
            stride = "identifier" if self.many_producers else "0"
            self.emit(1, "# seed this process's random numbers as QueueLab seeds its producers")
            self.emit(1, f"seed(SEED * {_SEED_STRIDE} + {stride})")
            self.random_names.add("seed")
        self.emit(1, "# add tasks to the queue")
        if self.many_producers:
            self.emit(1, f"for i in range(identifier * {n}, identifier * {n} + {n}):")
        else:
            self.emit(1, f"for i in range({n}):")
        pause = cfg.put_interval
        if not (pause.kind == "constant" and pause.params[0] == 0):
            self.needs_sleep = True
            self.emit(2, "# wait before the next put")
            self.emit(2, f"sleep({self.seconds(self.draw(pause))})")
        self.emit(2, "# generate a task", f"task = (i, {self.draw(cfg.task_duration)})")
        self.say(2, f"print(f'{dot} added {{task}}', flush=True)")
        self.emit(2, "# add it to the queue", "queue.put(task)")
        if not self.many_producers:
            self.retry_drain(1)
            self.sentinels(1)
        self.emit(1, f"print({_fstr(finish)}, flush=True)")

    def sentinels(self, indent: int) -> None:
        cfg = self.cfg
        c = cfg.consumers
        if cfg.sentinels == "none":
            self.bug(
                indent,
                "no None is sent, so no consumer ever learns that the tasks are over: "
                "they wait in get() forever.",
            )
            return
        if cfg.sentinels == "single":
            self.emit(indent, "# send a signal that no further tasks are coming")
            if c > 1:
                self.bug(
                    indent,
                    f"a single None for {c} consumers: the one that takes it exits, the other "
                    f"{c - 1} wait in get() forever. Put one None per consumer.",
                )
            self.emit(indent, "queue.put(None)")
            return
        if c == 1:
            self.emit(indent, "# send a signal that no further tasks are coming", "queue.put(None)")
            return
        self.emit(
            indent,
            "# send one signal per consumer that no further tasks are coming",
            f"for _ in range({c}):",
            "    queue.put(None)",
        )

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
        self.emit(1, f"print({_fstr(start)}, flush=True)")
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
            self.emit(1, f"print({_fstr(finish)}, flush=True)  # never reached: no sentinel")
            return
        if cfg.sentinel_task_done:
            self.emit(1, "# mark the signal as processed", "queue.task_done()")
        else:
            self.bug(
                1,
                "no task_done() for the None signal: it was counted as unfinished when it was "
                "put, so queue.join() never returns.",
            )
        self.emit(1, f"print({_fstr(finish)}, flush=True)")

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

    def main(self) -> None:
        cfg = self.cfg
        self.emit(0, "# entry point", "if __name__ == '__main__':")
        if cfg.start_method != default_start_method():
            self.emit(1, "# start worker processes as QueueLab was told to")
            self.emit(1, f"set_start_method('{cfg.start_method}')")
        speed = ", speed" if cfg.workload == "cpu" else ""
        if speed:
            self.emit(1, "# measure this machine's speed once, before any process starts")
            self.emit(1, "speed = calibrate()")
        self.emit(1, "# create the shared queue")
        if cfg.maxsize:
            self.emit(1, f"# a bounded queue: put() blocks while {cfg.maxsize} items wait in it")
            self.emit(1, f"queue = JoinableQueue(maxsize={cfg.maxsize})")
        else:
            self.emit(1, "queue = JoinableQueue()")
        if self.many_producers:
            self.emit(
                1,
                "# create and start the producer processes",
                "producer_processes = [",
                "    Process(target=producer, args=(queue, i))",
                f"    for i in range({cfg.producers})",
                "]",
                "for process in producer_processes:",
                "    process.start()",
            )
        else:
            self.emit(
                1,
                "# create and start the producer process",
                "producer_process = Process(target=producer, args=(queue,))",
                "producer_process.start()",
            )
        if self.many_consumers:
            self.emit(
                1,
                "# create and start the consumer processes",
                "consumer_processes = [",
                f"    Process(target=consumer, args=(queue, i{speed}))",
                f"    for i in range({cfg.consumers})",
                "]",
                "for process in consumer_processes:",
                "    process.start()",
            )
        else:
            self.emit(
                1,
                "# create and start the consumer process",
                f"consumer_process = Process(target=consumer, args=(queue{speed or ','}))",
                "consumer_process.start()",
            )
        if cfg.join_delay > 0:
            self.needs_sleep = True
            self.emit(1, "# wait a while before joining")
            self.emit(1, f"sleep({self.seconds(_float_literal(cfg.join_delay))})")
        if cfg.join_order == "producers_first":
            self.join_producers()
            self.join_queue()
        else:
            producer = "producers have" if self.many_producers else "producer has"
            self.bug(
                1,
                f"the queue is joined before the {producer} finished: join() returns as soon "
                "as the tasks put so far are done (at once, if none are), possibly before all "
                f"tasks are even put. Join the {producer.split()[0]} first.",
            )
            self.join_queue()
            self.join_producers()

    def join_producers(self) -> None:
        if self.many_producers:
            self.emit(
                1,
                "# wait for the producers to finish",
                "for process in producer_processes:",
                "    process.join()",
                "print('Main found that the producers have finished', flush=True)",
            )
            self.emit(
                1,
                "# main sends the signals once every producer has exited: sent by the last",
                "# producer, they could overtake a task still in another producer's feeder",
            )
            self.retry_drain(1)
            self.sentinels(1)
        else:
            self.emit(
                1,
                "# wait for the producer to finish",
                "producer_process.join()",
                "print('Main found that the producer has finished', flush=True)",
            )

    def retry_drain(self, indent: int) -> None:
        """Retried tasks are re-put by consumers: sentinels must not overtake them."""
        cfg = self.cfg
        if cfg.on_failure == "retry" and cfg.failure_rate > 0:
            self.emit(
                indent,
                "# wait until every task, retries included, is done before the signals",
                "queue.join()",
            )

    def join_queue(self) -> None:
        self.emit(
            1,
            "# wait for the queue to empty",
            "queue.join()",
            "print('Main found that all tasks are processed', flush=True)",
        )


def _fstr(text: str) -> str:
    """A string literal; an f-string when it has a placeholder."""
    prefix = "f" if "{" in text else ""
    return f"{prefix}'{text}'"


def _float_literal(x: float) -> str:
    return repr(float(x))


def _one_line(text: str) -> str:
    """Text fit for a comment line: one line, printable characters only (no NUL, no CR)."""
    return " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())
