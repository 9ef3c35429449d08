"""Daemon consumers that loop for ever (no sentinels): main joins the queue and exits, and
multiprocessing terminates the daemons at exit.

Main waits until both daemons run before it puts: a daemon still starting when main exits is
terminated mid-start and may print the first lines of a traceback (plain and traced alike,
now and then), which would make the two runs' stderr differ by chance."""

import multiprocessing as mp
import sys


def serve(queue, started):
    started.release()
    while True:
        queue.get()
        queue.task_done()


if __name__ == "__main__":
    if len(sys.argv) > 1:
        mp.set_start_method(sys.argv[1])
    queue = mp.JoinableQueue()
    started = mp.Semaphore(0)
    for i in range(2):
        mp.Process(target=serve, args=(queue, started), daemon=True, name=f"daemon-{i}").start()
    for _ in range(2):
        started.acquire()
    for i in range(10):
        queue.put(i)
    queue.join()
    print("all 10 handled")
