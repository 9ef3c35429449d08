"""Where a generated program's key statements are: code_line_map and the worker/main line keys.

The window highlights the line each worker (and the main process) is executing in the program
engine/codegen.py writes; these functions find those lines and map a worker's activity to them.
"""

from __future__ import annotations

import re

from engine.config import RunConfig
from engine.events import ROLE_PRODUCER
from engine.model import Activity, JoinState, RunModel

# Keys every program has in code_line_map, and what the window highlights with them.
LINE_KEYS: tuple[str, ...] = ("put", "get", "process", "task_done", "join", "producer_join")


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
    work += r"|result = [\w.]+\(label.*\)"  # the user's own function (workload)
    process = first("process", work, consumer)
    if first("fail", r"raise Exception\(.*\)", consumer) is None:
        first("fail", r"except Exception( as e)?:", consumer)  # the user's function raised
    first("retry_put", r"queue\.put\(\(label, value, attempt \+ 1\)\)", consumer)
    got = first("_got", r"print\(f'\.consumer.* got \{task\}.*', flush=True\)", process or consumer)
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
