"""Daemon consumers that loop for ever (no sentinels): main joins the queue and exits, and
multiprocessing terminates the daemons at exit."""

import multiprocessing as mp
import sys


def serve(queue):
    while True:
        queue.get()
        queue.task_done()


if __name__ == "__main__":
    if len(sys.argv) > 1:
        mp.set_start_method(sys.argv[1])
    queue = mp.JoinableQueue()
    for i in range(2):
        mp.Process(target=serve, args=(queue,), daemon=True, name=f"daemon-{i}").start()
    for i in range(10):
        queue.put(i)
    queue.join()
    print("all 10 handled")
