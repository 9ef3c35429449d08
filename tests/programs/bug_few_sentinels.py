"""A bug: three workers, two sentinels; the third worker waits in get() forever."""

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
    workers = [mp.Process(target=worker, args=(jobs,), name=f"worker-{i}") for i in range(3)]
    for w in workers:
        w.start()
    for number in range(6):
        jobs.put((number, 0.5))
    for _ in range(len(workers) - 1):  # one sentinel too few
        jobs.put(None)
    jobs.join()
    for w in workers:
        w.join()
    print("finished")
