"""Starts its process outside ``if __name__ == '__main__':`` (a learner's classic mistake).

Under spawn and forkserver the child imports this module first, tries to start a process of
its own and fails with RuntimeError before it runs its target: exit code 1. Under fork it runs.
"""

import multiprocessing as mp
import sys


def work(q):
    q.put("hello")


mp.set_start_method(sys.argv[1] if len(sys.argv) > 1 else "spawn", force=True)
q = mp.JoinableQueue()
p = mp.Process(target=work, args=(q,), name="worker")
p.start()
p.join()
print("worker exit code", p.exitcode)
