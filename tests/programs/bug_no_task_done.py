"""A bug: the worker skips task_done() for the jobs it skips, so queue.join() waits forever."""

import multiprocessing as mp
import sys


def worker(jobs):
    while True:
        job = jobs.get()
        if job is None:
            jobs.task_done()
            break
        number, payload = job
        if number % 3 == 0:
            continue  # skipped, but never marked done
        print("done", number, payload)
        jobs.task_done()


if __name__ == "__main__":
    if len(sys.argv) > 1:
        mp.set_start_method(sys.argv[1])
    jobs = mp.JoinableQueue()
    workers = [mp.Process(target=worker, args=(jobs,), name=f"worker-{i}") for i in range(2)]
    for w in workers:
        w.start()
    for number in range(1, 7):
        jobs.put((number, number * 1.5))
    for _ in workers:
        jobs.put(None)
    jobs.join()
    print("all jobs done")
