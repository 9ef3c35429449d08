"""A Process subclass holding its queue, named by the program."""

import multiprocessing
import sys


class Worker(multiprocessing.Process):
    def __init__(self, queue, number):
        super().__init__(name=f"worker-{number}")
        self.queue = queue

    def run(self):
        while True:
            job = self.queue.get()
            if job is None:
                self.queue.task_done()
                return
            self.queue.task_done()


if __name__ == "__main__":
    if len(sys.argv) > 1:
        multiprocessing.set_start_method(sys.argv[1])
    queue = multiprocessing.JoinableQueue()
    workers = [Worker(queue, i) for i in range(2)]
    for w in workers:
        w.start()
    for job in range(6):
        queue.put(("job", job))
    for _ in workers:
        queue.put(None)
    queue.join()
    for w in workers:
        w.join()
    print("names", sorted(w.name for w in workers))
