"""A spawn context object passed to the workers, which make their own results queue with it."""

import multiprocessing
import sys


def worker(ctx, jobs):
    while jobs.get() is not None:
        jobs.task_done()
    jobs.task_done()


if __name__ == "__main__":
    method = sys.argv[1] if len(sys.argv) > 1 else "spawn"
    ctx = multiprocessing.get_context(method)
    jobs = ctx.JoinableQueue()
    procs = [ctx.Process(target=worker, args=(ctx, jobs), name=f"ctx-worker-{i}") for i in range(2)]
    for p in procs:
        p.start()
    for i in range(7):
        jobs.put(i)
    for _ in procs:
        jobs.put(None)
    jobs.join()
    for p in procs:
        p.join()
    print("jobs done")
