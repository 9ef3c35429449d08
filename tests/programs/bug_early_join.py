"""A bug: main joins the queue before the producer has put anything; join() returns at once."""

import multiprocessing as mp
import sys
import time


def produce(jobs):
    time.sleep(0.3)  # the producer takes its time to start; main does not wait for it
    for number in range(5):
        jobs.put((number, 1.0))


def consume(jobs):
    while True:
        job = jobs.get()
        print("job", job[0])
        jobs.task_done()


if __name__ == "__main__":
    if len(sys.argv) > 1:
        mp.set_start_method(sys.argv[1])
    jobs = mp.JoinableQueue()
    producer = mp.Process(target=produce, args=(jobs,), name="producer")
    consumer = mp.Process(target=consume, args=(jobs,), name="consumer", daemon=True)
    producer.start()
    consumer.start()
    jobs.join()  # too early: nothing was put yet
    print("all jobs done (or so main thinks)")
    producer.join()
