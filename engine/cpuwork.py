"""CPU work as a fixed amount of computation, calibrated once per process to seconds on one core.

A ``cpu`` task of d seconds runs the loop iterations that take d seconds of one idle core's time.
It is work, not a deadline: with more busy processes than cores, or a busy sibling hyperthread,
it takes longer on the clock, exactly as the user's own CPU-bound function would. The program
``main.py code`` generates calibrates and works the same way (see engine/codegen.py).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

CALIBRATION_LOOP = 200_000  # iterations per timed sample (about 5-10 ms)
CALIBRATION_SAMPLES = 7
CHUNK = 20_000  # iterations between two looks at the pause flag (well under a millisecond)

# A fixed speed (loop iterations per second) instead of measuring it: benchmarks/fidelity.py
# gives QueueLab and the plain program the same figure, so both do exactly the same work per
# task and the ratio of their throughputs is not the ratio of two noisy calibrations.
SPEED_ENV = "QUEUELAB_CPU_SPEED"

_speed: float | None = None


def _spin(n: int) -> None:
    for _ in range(n):
        pass


def calibrate() -> float:
    """Loop iterations per second of this thread's CPU time (the least disturbed sample).

    Measured on the thread's CPU clock, so time the host or a neighbour takes from us while we
    measure does not count; the fastest sample is the one least slowed by a busy sibling core.
    ``QUEUELAB_CPU_SPEED`` in the environment, if set, is taken instead of measuring.
    """
    global _speed
    if _speed is None and os.environ.get(SPEED_ENV):
        _speed = float(os.environ[SPEED_ENV])
    if _speed is None:
        best = float("inf")
        for _ in range(CALIBRATION_SAMPLES):
            c0 = time.thread_time()
            _spin(CALIBRATION_LOOP)
            best = min(best, time.thread_time() - c0)
        _speed = CALIBRATION_LOOP / max(best, 1e-9)
    return _speed


def work(seconds: float, speed: float, paused: Callable[[], bool] | None = None,
         hold: Callable[[], None] | None = None) -> None:  # fmt: skip
    """Run ``seconds`` x ``speed`` iterations; between chunks ``hold()`` while ``paused()``.

    The chunks count on from each other (``range(i, j)``), so the loop runs over the very
    integers the plain program's one ``for _ in range(n)`` does: a loop's cost per iteration
    depends on how large its integers are (chunks of ``range(20_000)`` ran ~6 % faster than
    one ``range(1_744_000)``), and a task must cost what the plain program's costs.
    """
    total = int(seconds * speed)
    i = 0
    while i < total:
        j = i + CHUNK if total - i > CHUNK else total
        for _ in range(i, j):
            pass
        i = j
        if paused is not None and hold is not None and paused():
            hold()
