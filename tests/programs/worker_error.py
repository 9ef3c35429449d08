"""A worker that fails on item 3 and exits with an error; main reports the exit code."""

import multiprocessing as mp
import sys


def work(queue):
    while True:
        item = queue.get()
        if item == 3:
            raise ValueError("cannot handle 3")
        queue.task_done()


if __name__ == "__main__":
    if len(sys.argv) > 1:
        mp.set_start_method(sys.argv[1])
    queue = mp.JoinableQueue()
    for i in range(5):
        queue.put(i)
    p = mp.Process(target=work, args=(queue,), name="fragile")
    p.start()
    p.join()
    print("worker exit code", p.exitcode)
    sys.exit(p.exitcode)
