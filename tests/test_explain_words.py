"""The words of every explanation, as text: lists, task names, exit codes, the chip, the sentences.

engine/explain/words.py holds the phrasing the pitfalls, the status bar's chip and the CLI's
diagnosis share. The pitfall tests (test_diagnosis.py, test_explain.py) check the facts of a
finding and a few words of it; these check the words themselves at their edges (one item or
many, the limits on how many tasks are named, signals and plain exit codes), where a change
would make a sentence a person reads wrong ("1 tasks", "task 1, 2 and and 3") and no
pitfall test would notice. Expected texts are written out by hand, not produced by the code.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from engine.events import LABEL_NONE, LABEL_OTHER, ROLE_CONSUMER, ROLE_PRODUCER
from engine.explain import words as w
from engine.model import RunModel
from engine.states import Activity, JoinState, WorkerInfo


def test_and_list_joins_with_commas_and_a_final_and() -> None:
    assert w.and_list([]) == ""
    assert w.and_list(["a"]) == "a"
    assert w.and_list(["a", "b"]) == "a and b"
    assert w.and_list(iter(["a", "b", "c"])) == "a, b and c"


def test_exit_words_name_the_signal_of_a_negative_code() -> None:
    assert w.exit_words(None) == "no exit code yet"
    assert w.exit_words(0) == "exit code 0"
    assert w.exit_words(1) == "exit code 1"
    assert w.exit_words(-1) == "exit code -1 (SIGHUP)"  # the smallest signal is named too
    assert w.exit_words(-9) == "exit code -9 (SIGKILL)"
    assert w.exit_words(-15) == "exit code -15 (SIGTERM)"
    assert w.exit_words(-999) == "exit code -999"  # no such signal: the number alone


@pytest.mark.parametrize(("state", "clause"), [
    (JoinState.WAITING, " and queue.join() waits forever"),
    (JoinState.NOT_CALLED, " and queue.join() will wait forever"),
    (JoinState.RETURNED, ""),
])
def test_join_consequence_follows_the_join(state: JoinState, clause: str) -> None:
    m = RunModel()
    m.join_state = state
    assert w.join_consequence(m) == clause


def test_task_words() -> None:
    assert w.task_word(LABEL_NONE) == "the sentinel None"
    assert w.task_word(LABEL_OTHER) == "an item"
    assert w.task_word(0) == "task 0"
    assert w.task_word(7) == "task 7"


def test_tasks_phrase_names_up_to_eight_then_counts_the_rest() -> None:
    assert w.tasks_phrase([]) == ""
    assert w.tasks_phrase([3]) == "task 3"
    assert w.tasks_phrase([0]) == "task 0"  # task 0 is a task, not an "other"
    assert w.tasks_phrase([1, 5]) == "tasks 1 and 5"
    assert w.tasks_phrase([4, LABEL_NONE]) == "task 4 and the sentinel None"
    assert w.tasks_phrase([4, 5, LABEL_NONE, LABEL_OTHER]) == (
        "tasks 4, 5, the sentinel None and an item")
    assert w.tasks_phrase([LABEL_NONE]) == "the sentinel None"
    assert w.tasks_phrase([LABEL_NONE, LABEL_OTHER]) == "the sentinel None and an item"
    eight = list(range(1, 9))
    assert w.tasks_phrase(eight) == "tasks 1, 2, 3, 4, 5, 6, 7 and 8"
    assert w.tasks_phrase(list(range(1, 10))) == "tasks 1, 2, 3, 4, 5, 6, 7, 8 and 1 more"
    assert w.tasks_phrase(list(range(1, 1212))) == (
        "tasks 1, 2, 3, 4, 5, 6, 7, 8 and 1,203 more")


def test_chip_tasks_names_three_then_counts_the_rest() -> None:
    assert w.chip_tasks([3]) == "task 3"
    assert w.chip_tasks([3, 4]) == "tasks 3 and 4"
    assert w.chip_tasks([3, 4, 5]) == "tasks 3, 4 and 5"
    assert w.chip_tasks([3, 4, 5, 6]) == "tasks 3, 4 and 2 more"
    assert w.chip_tasks([3, 4, 5, 6, 7]) == "tasks 3, 4 and 3 more"
    assert w.chip_tasks([LABEL_NONE]) == "the sentinel None"
    assert w.chip_tasks([LABEL_NONE, LABEL_OTHER]) == "the sentinel None and an item"
    assert w.chip_tasks([0, LABEL_NONE]) == "tasks 0 and the sentinel None"


def _worker(role: int, code: int | None = None, name: str = "consumer-1",
            activity: Activity = Activity.RUNNING, last: Activity | None = None) -> WorkerInfo:
    info = WorkerInfo(src=1, name=name, role=role, exitcode=code, activity=activity)
    if last is not None:
        info.intervals.append((0.0, 1.0, int(last), -1))
    return info


def test_chip_death_names_the_signal_or_the_exit_code() -> None:
    assert w.chip_death(_worker(ROLE_CONSUMER, -9)) == "consumer-1 killed (SIGKILL)"
    assert w.chip_death(_worker(ROLE_CONSUMER, -999)) == "consumer-1 killed (signal 999)"
    assert w.chip_death(_worker(ROLE_PRODUCER, 1, "producer")) == "producer died (exit code 1)"
    assert w.chip_death(_worker(ROLE_PRODUCER, 0, "producer")) == "producer died (exit code 0)"


def test_chip_where_says_what_broke_the_queue() -> None:
    # The last interval, not the activity after death, says what the worker was in.
    in_get = _worker(ROLE_CONSUMER, -9, activity=Activity.DIED, last=Activity.WAIT_GET)
    assert w.chip_where(in_get) == " in get()"
    processing = _worker(ROLE_CONSUMER, -9, activity=Activity.WAIT_GET, last=Activity.PROCESS)
    assert w.chip_where(processing) == ""
    # No interval yet: the current activity.
    assert w.chip_where(_worker(ROLE_CONSUMER, -9, activity=Activity.WAIT_GET)) == " in get()"
    assert w.chip_where(_worker(ROLE_PRODUCER, 1, "producer")) == " during put()"


def test_chip_more_counts_the_other_dead() -> None:
    a, b, c = (_worker(ROLE_CONSUMER, -9, f"consumer-{i}") for i in (1, 2, 3))
    assert w.chip_more([a], a) == ""
    assert w.chip_more([a, b], a) == " (+1 more dead)"
    assert w.chip_more([a, b, c], a) == " (+2 more dead)"
    assert w.chip_more([b, c], a) == " (+2 more dead)"  # the one named is not among them


def test_death_sentences() -> None:
    assert w.death_sentence("producer", 1, put_of=(3, 5)) == (
        "producer died with exit code 1 after putting 3 of its 5 tasks.")
    assert w.death_sentence("producer", 1, put_of=(0, 0)) == "producer died with exit code 1."
    assert w.death_sentence("consumer-2", -9, held=[4]) == (
        "consumer-2 died with exit code -9 (SIGKILL) while holding task 4: nobody will call "
        "task_done() for it, so the unfinished counter cannot reach 0 and queue.join() never "
        "returns.")
    assert "task_done() for them," in w.death_sentence("consumer-2", -9, held=[4, 5])
    assert w.death_sentence("consumer-2", 1, held=[]) == (
        "consumer-2 died with exit code 1 holding no task.")
    assert w.death_sentence("consumer-2", 1, last_error="ValueError: x") == (
        "consumer-2 died with exit code 1 holding no task; its last error: ValueError: x.")


def test_lost_item_sentence_starts_with_a_capital() -> None:
    assert w.lost_item_sentence(3, "no").startswith("Task 3 could not be pickled (no): ")
    assert w.lost_item_sentence(0, "no").startswith("Task 0 could not be pickled")
    assert w.lost_item_sentence(LABEL_OTHER, "no").startswith("An item could not be pickled")
    assert w.lost_item_sentence(LABEL_NONE, "no").startswith("An item could not be pickled")


def test_premature_join_sentences() -> None:
    assert w.premature_join_sentence(["producer-1"], 1) == (
        "premature join: returned while producer-1 was still running, 1 task not yet put.")
    assert w.premature_join_sentence(["producer-1", "producer-2"], 4) == (
        "premature join: returned while producer-1 and producer-2 were still running, "
        "4 tasks not yet put.")
    assert w.premature_join_sentence([], 2) == (
        "premature join: returned before the producers had put all their tasks, "
        "2 tasks not yet put.")


def test_task_done_missing_sentence() -> None:
    # Only the counter and the join's state are read: a stand-in holds them.
    m = SimpleNamespace(join_state=JoinState.WAITING, unfinished=2)
    text = w.task_done_missing_sentence([("consumer-1", [1]), ("consumer-2", [2])],
                                        "every consumer is waiting in get()", 2, m)
    assert text == (
        "task_done() missing: consumer-1 took task 1 and consumer-2 took task 2 and never "
        "called task_done() for them; every consumer is waiting in get(), so the unfinished "
        "counter is stuck at 2 and queue.join() waits forever.")
    m.unfinished = 1
    one = w.task_done_missing_sentence([("consumer-1", [1])], "x", 1, m)
    assert "task_done() for it; x, so the unfinished counter is stuck at 1" in one


def test_consumers_where() -> None:
    assert w.consumers_where(0, 2, "exited") == "every consumer has exited"
    assert w.consumers_where(2, 2, "exited") == "every consumer is waiting in get()"
    assert w.consumers_where(1, 2, "exited") == (
        "every consumer is waiting in get() or has exited")


def test_missing_sentinels_sentences() -> None:
    assert w.missing_sentinels_sentence(["consumer-2"], 2, 1) == (
        "missing sentinels: 2 consumers, 1 sentinel — consumer-2 waits in get() forever: the "
        "queue is empty and every producer has finished; put one None per consumer.")
    assert w.missing_sentinels_sentence(["consumer-1"], 1, 0).startswith(
        "missing sentinels: 1 consumer, 0 sentinels — consumer-1 waits in get()")
    assert w.missing_sentinels_sentence(["consumer-1", "consumer-2"], 2, 2) == (
        "consumer-1 and consumer-2 wait in get() forever: the queue is empty and every "
        "producer has finished, and no sentinel is left for them.")
    assert w.missing_sentinels_sentence(["consumer-1"], 1, 1).endswith(
        "no sentinel is left for it.")


def test_producer_sentences() -> None:
    assert w.blocked_producer_sentence("producer", 4, 4, "every consumer has exited", 1) == (
        "producer is blocked in put() on a full queue (4 of maxsize 4) and every consumer has "
        "exited, so nothing will make room; 1 of its tasks is not yet put.")
    assert w.idle_producer_sentence("producer", 2.34, 1, "nobody", 3) == (
        "producer has put nothing for 2.3 s with 1 item queued and nobody; "
        "3 of its tasks are not yet put.")
    assert "with 2 items queued" in w.idle_producer_sentence("producer", 1.0, 2, "x", 3)
    # Every task put, and still idle with items queued: not "0 of its tasks are not yet put".
    assert w.idle_producer_sentence("producer", 1.9, 2, "nobody", 0).endswith(
        "; all of its tasks are put.")


def test_stranded_sentences() -> None:
    m = RunModel()
    m.join_state = JoinState.RETURNED
    assert w.stranded_sentence(["task 1"], w.nobody_words(False), m) == (
        "1 item is still in the queue (task 1) but every consumer has exited, so nothing will "
        "take it.")
    m.join_state = JoinState.WAITING
    assert w.stranded_sentence(["task 1", "task 2"], w.nobody_words(True), m) == (
        "2 items are still in the queue (task 1 and task 2) but every consumer has exited or "
        "died, so nothing will take them and queue.join() waits forever.")


def test_task_done_sentences() -> None:
    assert "(once);" in w.extra_task_done_sentence("consumer-1", 1)
    assert "(3 times);" in w.extra_task_done_sentence("consumer-1", 3)
    assert w.extra_task_dones_sentence(1).startswith(
        "task_done() was called 1 time more than tasks were taken ")
    assert w.extra_task_dones_sentence(2).startswith("task_done() was called 2 times more")


def test_left_undone_words_longest_first() -> None:
    assert w.left_undone_words(1, gone=True) == (
        "1 task never marked done", "never marked done", "no task_done()")
    assert w.left_undone_words(2, gone=False) == (
        "2 tasks not marked done", "not marked done", "no task_done()")
