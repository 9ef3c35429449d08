"""ProgramWriter: the whole generated program — header, producer, consumer and main."""

from __future__ import annotations

import textwrap

from engine.codegen_consumer import ConsumerWriter
from engine.codegen_text import float_literal, fstr, one_line
from engine.config import default_start_method
from engine.distributions import format_number

# The producers' seeds are derived as in engine.workers.producer_main.
_SEED_STRIDE = "1_000_003"


class ProgramWriter(ConsumerWriter):
    """Builds the program line by line; one method per part of the tutorial's example."""

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
        self.emit(0, f"# QueueLab: {one_line(title)}")
        if cfg.explanation:
            for line in textwrap.wrap(one_line(cfg.explanation), 94):
                self.emit(0, f"# {line}")
        self.emit(
            0,
            "# The SuperFastPython.com example of join and task done for a joinable queue with",
            "# processes, changed to match this configuration. Standard library only"
            + (", and your own function." if self.own else "."),
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
        self.own_import()
        constants: list[str] = []
        if self.scaled:
            constants.append(
                f"# every duration is multiplied by this (QueueLab's time_scale)\n"
                f"TIME_SCALE = {float_literal(cfg.time_scale)}"
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
        self.emit(1, f"print({fstr(start)}, flush=True)")
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
        self.emit(1, f"print({fstr(finish)}, flush=True)")

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
            self.emit(1, f"sleep({self.seconds(float_literal(cfg.join_delay))})")
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
        if cfg.on_failure == "retry" and (cfg.failure_rate > 0 or self.own is not None):
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
