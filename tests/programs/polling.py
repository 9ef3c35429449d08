"""A consumer polling with get(block=False) until the producer says it is done."""

import multiprocessing as mp
import queue as stdqueue
import sys
import time


def poll(q, done):
    got = 0
    while True:
        try:
            q.get(block=False)
        except stdqueue.Empty:
            if done.is_set() and q.empty():
                break
            time.sleep(0.001)
            continue
        got += 1
        q.task_done()
    print("polled", got)


if __name__ == "__main__":
    if len(sys.argv) > 1:
        mp.set_start_method(sys.argv[1])
    q = mp.JoinableQueue()
    done = mp.Event()
    p = mp.Process(target=poll, args=(q, done), name="poller")
    p.start()
    for i in range(10):
        q.put(i)
        time.sleep(0.002)
    q.join()
    done.set()
    p.join()
