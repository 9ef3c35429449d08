"""A pool of cpu_count() consumers summing numbers, each stopped by its own None."""

import multiprocessing
import sys


def worker(tasks, results):
    while True:
        n = tasks.get()
        if n is None:
            tasks.task_done()
            return
        results.put(sum(range(n)))
        tasks.task_done()


if __name__ == "__main__":
    if len(sys.argv) > 1:
        multiprocessing.set_start_method(sys.argv[1])
    count = multiprocessing.cpu_count()
    tasks = multiprocessing.JoinableQueue()
    results = multiprocessing.Queue()
    pool = [multiprocessing.Process(target=worker, args=(tasks, results)) for _ in range(count)]
    for p in pool:
        p.start()
    for n in range(40):
        tasks.put(n * 100)
    for _ in pool:
        tasks.put(None)
    tasks.join()
    print("total", sum(results.get() for _ in range(40)))
    for p in pool:
        p.join()
