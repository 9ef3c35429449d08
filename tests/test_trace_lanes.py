"""A traced program's own bugs diagnosed in the lessons' words; several queues as lanes.

Each bug program of tests/programs/ runs under ``main.py trace --headless``: roles come from
what each process does (the main process puts, the workers get), so the findings that need a
producer (too few sentinels, a join that returned early) speak of the user's program.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from engine.trace_lanes import queue_name

ROOT = Path(__file__).resolve().parent.parent
PROGRAMS = ROOT / "tests" / "programs"
W = r"worker-[01]"

# program -> (exit code, a summary line the diagnosis must hold, as a regular expression)
BUGS = {
    "bug_no_task_done": (
        3,
        rf"queuelab:   - task_done\(\) missing: {W} took tasks? [36](( and |, ){W} took task "
        rf"[36])?( and 6)? and never called task_done\(\) for them; every consumer has exited, so "
        r"the unfinished counter is stuck at 2 and queue.join\(\) waits forever\.",
    ),
    "bug_few_sentinels": (
        3,
        r"queuelab:   - missing sentinels: 3 consumers, 2 sentinels — worker-[012] waits in "
        r"get\(\) forever: the queue is empty and every producer has finished; put one None "
        r"per consumer\.",
    ),
    "bug_early_join": (
        0,
        r"queuelab:   - premature join: returned while producer was still running, 5 tasks "
        r"not yet put\.",
    ),
    "bug_unpicklable": (
        3,
        r"queuelab:   - Task 1 could not be pickled \(PicklingError: .*\): put\(\) returned, but "
        r"the queue's feeder thread dropped it, so it never reached a consumer\. .*",
    ),
}


def _trace(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "trace", "--headless", *args],
        capture_output=True, text=True, timeout=120, cwd=cwd,
    )  # fmt: skip


@pytest.mark.parametrize("program", sorted(BUGS))
def test_a_programs_bug_is_diagnosed_in_the_lessons_words(program: str, tmp_path: Path) -> None:
    code, pattern = BUGS[program]
    done = _trace(str(PROGRAMS / f"{program}.py"), cwd=tmp_path)
    assert done.returncode == code, done.stderr
    lines = [ln for ln in done.stderr.splitlines() if ln.startswith("queuelab:")]
    assert any(re.fullmatch(pattern, ln) for ln in lines), "\n".join(lines)
    if program == "bug_unpicklable":
        # main waits in queue.join() for the lost item: its sentinel would come after it.
        assert not any("missing sentinels" in ln for ln in lines), "\n".join(lines)


def test_too_few_sentinels_under_spawn(tmp_path: Path) -> None:
    """Roles come from the records, not from fork's inherited state."""
    done = _trace(str(PROGRAMS / "bug_few_sentinels.py"), "spawn", cwd=tmp_path)
    assert done.returncode == 3, done.stderr
    assert "missing sentinels: 3 consumers, 2 sentinels" in done.stderr


def test_pipeline_of_two_queues_is_two_lanes(tmp_path: Path) -> None:
    out = tmp_path / "s.json"
    done = _trace("--json-summary", str(out), str(PROGRAMS / "pipeline.py"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    queues = json.loads(out.read_text())["queues"]
    assert [(q["name"], q["kind"]) for q in queues] == [
        ("first", "JoinableQueue"), ("second", "JoinableQueue")
    ]
    for q in queues:  # 15 items and a None through each stage
        assert (q["puts"], q["gets"], q["task_dones"], q["unfinished"]) == (16, 16, 16, 0)
    # Roles per lane: square consumes "first" and produces "second".
    workers = {q["name"]: {w["name"] for w in q["workers"]} for q in queues}
    assert workers == {"first": {"square"}, "second": {"square", "collect"}}
    assert "queuelab: queue first (JoinableQueue): 16 puts, 16 gets, 16 task_done" in done.stderr
    assert "queuelab: queue second (JoinableQueue): 16 puts, 16 gets" in done.stderr


def test_a_multiprocessing_queue_is_its_own_lane(tmp_path: Path) -> None:
    out = tmp_path / "s.json"
    done = _trace("--json-summary", str(out), str(PROGRAMS / "poison_pill.py"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    queues = {q["name"]: q for q in json.loads(out.read_text())["queues"]}
    assert queues["queue"]["kind"] == "JoinableQueue" and queues["queue"]["puts"] == 23
    results = queues["results"]
    assert results["kind"] == "Queue"
    assert (results["puts"], results["gets"], results["depth"]) == (20, 20, 0)
    # No task_done() on a Queue: an item taken counts as done, none is left "in progress".
    assert (results["in_flight"], results["unfinished"], results["diagnosis"]) == (0, 0, [])
    assert "queue results (Queue): 20 puts, 20 gets, 0 left in the queue" in done.stderr


@pytest.mark.parametrize(
    ("line", "k", "name"),
    [
        ("tasks = mp.JoinableQueue()", 0, "tasks"),
        ("first, second = mp.JoinableQueue(), mp.JoinableQueue()", 1, "second"),
        ("self.inbox: JoinableQueue = ctx.JoinableQueue(4)", 0, "self.inbox"),
        ("queues = [mp.JoinableQueue() for _ in range(3)]", 2, "queues[2]"),
        ("work = mp.JoinableQueue(", 0, "work"),
        ("start(mp.JoinableQueue())", 0, None),
    ],
)
def test_a_queue_is_named_after_its_variable(tmp_path: Path, line: str, k: int, name) -> None:
    src = tmp_path / "prog.py"
    src.write_text(f"import multiprocessing as mp\n{line}\n")
    assert queue_name(str(src), 2, k) == name


ROLES = """
import multiprocessing as mp

def work(q):
    while (item := q.get()) is not None:
        q.task_done()
    q.task_done()

def watch(q):
    q.join()

if __name__ == "__main__":
    q = mp.JoinableQueue()
    for i in range(4):
        q.put(i)
    ps = [mp.Process(target=watch, args=(q,), name="watcher"),
          mp.Process(target=work, args=(q,), name="worker")]
    for p in ps:
        p.start()
    ps[0].join()
    q.put(None)
    ps[1].join()
"""


def test_roles_come_from_what_each_process_does(tmp_path: Path) -> None:
    from engine.events import ROLE_CONSUMER, ROLE_COORDINATOR
    from engine.trace_session import TraceSession

    prog = tmp_path / "roles.py"
    prog.write_text(ROLES)
    session = TraceSession([str(prog)]).start()
    try:
        assert session.wait(60)
        while session.pending:
            session.poll(0.5)
    finally:
        session.close()
    assert session.exit_code == 0
    (lane,) = session.lanes
    by_name = {name: src for src, (_pid, name) in session.names.items()}
    assert lane.role_words(by_name["main"]) == "puts (main)"
    assert lane.role_words(by_name["worker"]) == "consumer"
    assert lane.role_words(by_name["watcher"]) == "joins"
    workers = lane.model.workers
    assert workers[by_name["worker"]].role == ROLE_CONSUMER
    # Only joining, the watcher is neither a producer nor a consumer: the diagnosis does not
    # wait for it to get, nor count it among the consumers a sentinel is owed to.
    assert workers[by_name["watcher"]].role == ROLE_COORDINATOR
    assert 0 not in workers  # main only put: the coordinator, as in the lessons


def test_a_traced_programs_put_that_waits_for_room_is_blocked_in_its_lane(
    tmp_path: Path,
) -> None:
    """bounded.py (maxsize 2, a consumer that sleeps per item): each put that found the queue
    full says so as it begins to wait (PUT_BLOCKED), is a producer's in its lane, and shows
    as "blocked in put()" there, ending with its put's return."""
    from engine.events import Kind
    from engine.model import RunModel
    from engine.states import Activity
    from engine.trace_lanes import Demux
    from engine.tracefile import read_trace

    path = tmp_path / "bounded.qltrace"
    done = _trace("--save", str(path), str(PROGRAMS / "bounded.py"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    trace = read_trace(path)
    blocked = [(s, r) for s, _f, recs in trace.batches for r in recs if r[0] == Kind.PUT_BLOCKED]
    if not blocked:
        pytest.skip("the producer never found the queue full this time")
    puts = {r[3]: (s, r) for s, _f, recs in trace.batches for r in recs if r[0] == Kind.PUT}
    for s, r in blocked:  # each wait ends with its own put, from the same process
        assert puts[r[2]][0] == s and puts[r[2]][1][1] == r[1]
    demux = Demux()
    models: dict[int, RunModel] = {}
    for qid, batches in demux.split(trace.batches).items():
        models.setdefault(qid, RunModel()).feed(batches)
    (lane,) = demux.lanes.values()
    m = models[lane.qid]
    (producer,) = [w for w in m.workers.values() if w.name == "producer"]
    _t0, _t1, acts, _ = producer.intervals.columns(0, len(producer.intervals))
    assert int(Activity.BLOCK_PUT) in acts.tolist()
    assert producer.activity != Activity.BLOCK_PUT  # every wait ended
