"""A pipeline of two JoinableQueues: parse -> square -> collect, each stage its own process."""

import multiprocessing as mp
import sys


def square(inbox, outbox):
    while (item := inbox.get()) is not None:
        outbox.put(int(item) ** 2)
        inbox.task_done()
    inbox.task_done()
    outbox.put(None)


def collect(inbox, n):
    total = 0
    while (item := inbox.get()) is not None:
        total += item
        inbox.task_done()
    inbox.task_done()
    print("collected", total, "from", n, "items")


if __name__ == "__main__":
    if len(sys.argv) > 1:
        mp.set_start_method(sys.argv[1])
    first, second = mp.JoinableQueue(), mp.JoinableQueue()
    stages = [mp.Process(target=square, args=(first, second), name="square"),
              mp.Process(target=collect, args=(second, 15), name="collect")]
    for s in stages:
        s.start()
    for i in range(15):
        first.put(str(i))
    first.put(None)
    first.join()
    second.join()
    for s in stages:
        s.join()
