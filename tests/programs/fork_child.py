"""A process forks plain children (os.fork) while its queue's records may still be buffered.

One child ends normally, so its atexit handlers run; the other is ended by SIGTERM. Traced,
neither may send the parent's unsent records as its own: each put is counted once.
"""

import multiprocessing as mp
import os
import signal
import sys
import time
import warnings

# Python 3.12+ warns that fork() in a threaded process (the queue's feeder thread) may
# deadlock, naming the pid: the program's output must be the same from run to run.
warnings.filterwarnings("ignore", "This process", DeprecationWarning)


def consumer(q):
    while True:
        item = q.get()
        q.task_done()
        if item is None:
            return


def fork_and(end):
    pid = os.fork()
    if pid == 0:
        if end == "exit":
            sys.exit(0)
        time.sleep(30)
        os._exit(1)
    if end == "term":
        os.kill(pid, signal.SIGTERM)
    _, status = os.waitpid(pid, 0)
    print("child", end, os.waitstatus_to_exitcode(status))


if __name__ == "__main__":
    mp.set_start_method(sys.argv[1] if len(sys.argv) > 1 else "spawn")
    q = mp.JoinableQueue()
    for i in range(3):
        q.put(i)
    fork_and("exit")
    for i in range(3, 6):
        q.put(i)
    fork_and("term")
    q.put(None)
    c = mp.Process(target=consumer, args=(q,), name="consumer")
    c.start()
    q.join()
    c.join()
    print("done")
