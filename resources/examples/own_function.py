"""Example task functions for QueueLab's ``workload = "module:function"`` (the own-function preset).

Copy this file, change a function, and point QueueLab at it:

    python main.py run --preset own-function --set workload=path/to/my_tasks.py:my_function

QueueLab calls the function once per task in a consumer process: ``fn(value)`` if it takes one
argument, ``fn(value, duration)`` if it takes two. ``value`` is the task's number (0, 1, 2, …)
and ``duration`` the seconds QueueLab drew for the task from ``task_duration`` (× time_scale):
use it or ignore it. What the function returns is shown when you hover the task on the timeline;
if it raises, the task fails and its traceback is shown instead, and ``on_failure`` decides what
the consumer does next.
"""

from __future__ import annotations

import hashlib
import time


def fingerprint(value: int) -> str:
    """CPU-bound work: hash the task's number 200,000 times with SHA-256; 12 hex digits."""
    digest = str(value).encode()
    for _ in range(200_000):
        digest = hashlib.sha256(digest).digest()
    return digest.hex()[:12]


def count_primes(value: int) -> int:
    """CPU-bound work: how many primes there are below 20,000 + 1,000 × the task's number."""
    limit = 20_000 + 1_000 * value
    sieve = bytearray([1]) * limit
    sieve[0:2] = b"\x00\x00"
    for n in range(2, int(limit**0.5) + 1):
        if sieve[n]:
            sieve[n * n :: n] = bytes(len(range(n * n, limit, n)))
    return sum(sieve)


def fetch(value: int, duration: float) -> dict:
    """I/O-bound work, like a web request: wait ``duration`` seconds, return a small response."""
    time.sleep(duration)
    url = f"https://example.org/items/{value}"
    return {"url": url, "status": 200, "took_s": round(duration, 3)}


def flaky(value: int) -> str:
    """Fails on every fifth task (2, 7, 12, …): the traceback shows where."""
    if value % 5 == 2:
        raise ValueError(f"item {value} is damaged")
    return fingerprint(value)
