"""Processes the program ends itself: a Pool's with-block, and terminate() of a waiting consumer.

A reader of the tutorial asks how to feed a process pool from a queue: the pool's workers
get the queue through the initializer. ``with Pool(...)`` terminates its workers when the
block ends, and a consumer left waiting in get() is terminated by the program: SIGTERM (exit
code -15), as the program asked, not a fault.
"""

import multiprocessing as mp
import sys
import time
from concurrent.futures import ProcessPoolExecutor

q = None


def init(queue):
    global q
    q = queue


def work(n):
    item = q.get()
    q.task_done()
    return item * n


def waiter(queue):
    queue.get()  # nothing more is put: it waits here until terminated


if __name__ == "__main__":
    mp.set_start_method(sys.argv[1] if len(sys.argv) > 1 else "spawn")
    jq = mp.JoinableQueue()
    for i in range(6):
        jq.put(i)
    with mp.Pool(2, initializer=init, initargs=(jq,)) as pool:
        print(sorted(pool.map(work, [1, 1, 1])))
    with ProcessPoolExecutor(2, initializer=init, initargs=(jq,)) as ex:
        print(sorted(ex.map(work, [1, 1, 1])))
    jq.join()
    p = mp.Process(target=waiter, args=(jq,), name="waiter")
    p.start()
    time.sleep(0.5)  # it is in get() by now
    p.terminate()
    p.join()
    print("waiter exit code", p.exitcode)
