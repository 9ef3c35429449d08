"""join() called in a child: the producer process waits for its own items to be processed."""

import multiprocessing as mp
import sys


def produce(queue):
    for i in range(8):
        queue.put(i)
    queue.join()
    print("producer saw every item processed")
    queue.put(None)


def consume(queue):
    while queue.get() is not None:
        queue.task_done()
    queue.task_done()


if __name__ == "__main__":
    if len(sys.argv) > 1:
        mp.set_start_method(sys.argv[1])
    queue = mp.JoinableQueue()
    procs = [mp.Process(target=produce, args=(queue,), name="producer"),
             mp.Process(target=consume, args=(queue,), name="consumer")]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    print("exit codes", [p.exitcode for p in procs])
