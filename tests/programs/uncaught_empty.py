"""Uncaught queue.Empty from get(timeout=...): in a child process, a thread and the main process.

The tracebacks printed must be the plain program's: no frame of QueueLab's traced queue
between the program's line and CPython's multiprocessing/queues.py.
"""

import multiprocessing as mp
import queue
import sys
import threading


def consumer(q):
    while True:
        q.get(timeout=0.3)  # the last call raises queue.Empty: the process ends with it
        q.task_done()


def poll_once(q):
    q.get(timeout=0.05)


if __name__ == "__main__":
    mp.set_start_method(sys.argv[1] if len(sys.argv) > 1 else "spawn")
    q = mp.JoinableQueue()
    p = mp.Process(target=consumer, args=(q,), name="consumer")
    p.start()
    q.put("work")
    q.join()
    p.join()
    print("consumer exit code", p.exitcode)
    t = threading.Thread(target=poll_once, args=(q,), name="poller")
    t.start()
    t.join()
    try:
        q.get(block=False)
    except queue.Empty as e:
        raise RuntimeError("no more work") from e
