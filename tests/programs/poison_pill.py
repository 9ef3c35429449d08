"""Poison pill per consumer: main puts 20 numbers and one None per consumer, then joins."""

import multiprocessing as mp
import sys

CONSUMERS = 3


def consume(queue, results):
    while True:
        item = queue.get()
        if item is None:
            queue.task_done()
            break
        results.put(item * item)
        queue.task_done()


if __name__ == "__main__":
    if len(sys.argv) > 1:
        mp.set_start_method(sys.argv[1])
    queue = mp.JoinableQueue()
    results = mp.Queue()
    workers = [mp.Process(target=consume, args=(queue, results), name=f"squarer-{i}")
               for i in range(CONSUMERS)]
    for w in workers:
        w.start()
    for n in range(20):
        queue.put(n)
    for _ in workers:
        queue.put(None)
    queue.join()
    total = sum(results.get() for _ in range(20))
    for w in workers:
        w.join()
    print("sum of squares:", total)
