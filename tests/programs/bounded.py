"""A bounded queue (maxsize 2) that blocks its producer process until the consumer catches up."""

import sys
import time
from multiprocessing import JoinableQueue, Process, set_start_method


def produce(queue):
    for i in range(12):
        queue.put(i)
    queue.put(None)


def consume(queue):
    seen = 0
    while True:
        item = queue.get()
        if item is None:
            queue.task_done()
            break
        time.sleep(0.01)
        seen += 1
        queue.task_done()
    print("consumed", seen)


if __name__ == "__main__":
    if len(sys.argv) > 1:
        set_start_method(sys.argv[1])
    queue = JoinableQueue(maxsize=2)
    procs = [Process(target=produce, args=(queue,), name="producer"),
             Process(target=consume, args=(queue,), name="consumer")]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    queue.join()
    print("done")
