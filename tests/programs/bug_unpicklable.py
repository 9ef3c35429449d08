"""A bug: a job holds a lambda, which cannot be pickled; the feeder drops it, join() hangs."""

import multiprocessing as mp
import sys


def worker(jobs):
    while (job := jobs.get()) is not None:
        print("job", job[0])
        jobs.task_done()
    jobs.task_done()


if __name__ == "__main__":
    if len(sys.argv) > 1:
        mp.set_start_method(sys.argv[1])
    jobs = mp.JoinableQueue()
    w = mp.Process(target=worker, args=(jobs,), name="worker")
    w.start()
    jobs.put((0, 1.0))
    jobs.put((1, lambda x: x))  # not picklable
    jobs.put((2, 3.0))
    jobs.join()
    jobs.put(None)
    w.join()
