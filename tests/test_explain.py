"""engine.explain: one explanation per tick (the stall worked out once), pitfalls found by file."""

from __future__ import annotations

import dataclasses
import pkgutil

import pytest
from test_diagnosis import Script, dead_holder_script

import engine.explain
import engine.explain.diagnosis
from engine.events import Kind as K
from engine.explain import AlertLevel, diagnose, explain
from engine.explain.alert import Alert, run_alert
from engine.explain.pitfalls import FINDERS
from engine.explain.stall import STALL_S, detect_stall


@pytest.mark.parametrize("dead", [False, True])
def test_explain_works_the_stall_out_once(monkeypatch: pytest.MonkeyPatch, dead: bool) -> None:
    calls: list[float] = []

    def counted(model, now_t, *args):  # type: ignore[no-untyped-def]
        calls.append(now_t)
        return detect_stall(model, now_t, *args)

    # Every name the package calls it by.
    monkeypatch.setattr(engine.explain, "detect_stall", counted)
    monkeypatch.setattr(engine.explain.diagnosis, "detect_stall", counted)
    s = dead_holder_script() if dead else Script()
    said = explain(s.model(), 0.31, live=True)
    assert calls == [0.31]
    assert list(said.findings) == diagnose(s.model(), 0.31) + ([said.stall] if said.stall else [])


def test_one_explanation_says_it_all_and_is_frozen() -> None:
    said = explain(dead_holder_script().model(), 0.31, live=True)
    assert said.t == 0.31 and said.deaths == 1 and said.problem
    assert said.findings[0].startswith("consumer-1 (pid 1003) died with exit code -9 (SIGKILL)")
    assert said.alert is not None and said.alert.level == AlertLevel.STALLED
    assert said.alert.text == (
        "STALLED: consumer-1 killed (SIGKILL) holding task 2 — join() can never return; "
        "press Stop"
    )
    assert said.alert.detail == "\n".join(said.findings)
    assert said.hopeless == "consumer-1 died, so queue.join() can never return"
    with pytest.raises(dataclasses.FrozenInstanceError):
        said.hopeless = None  # type: ignore[misc]
    # Not live (a finished run, a replay): nothing to press.
    assert not explain(dead_holder_script().model(), 0.31).alert.text.endswith("press Stop")


def test_every_pitfall_module_is_a_finder_in_its_order() -> None:
    names = [i.name for i in pkgutil.iter_modules(engine.explain.pitfalls.__path__)]
    assert len(names) == len(FINDERS) >= 7
    modules = [f.__module__.rsplit(".", 1)[1] for f in FINDERS]
    assert sorted(modules) == sorted(names)
    orders = [__import__(f.__module__, fromlist=["ORDER"]).ORDER for f in FINDERS]
    assert orders == sorted(orders)
    assert modules[0] == "deaths"  # a death is said first


def stall_script(victim: str = "consumer") -> Script:
    """Four tasks put at 0.1 s; each consumer takes and finishes one, then waits in get();
    at 0.5 s consumer-0 (or the producer, still putting) is killed: two items stay queued."""
    s = Script(consumers=2, tasks=4)
    for i in range(4):
        s.put(1, 0.1, i)
    for i in range(2):
        s.get(s.c(i), 0.2 + 0.01 * i, i)
        s.ok(s.c(i), 0.3 + 0.01 * i)
    s.exit(s.c(0) if victim == "consumer" else 1, 0.5, code=-9)
    return s


def test_a_stall_is_told_once_nothing_moved_for_stall_s_after_a_death_in_get() -> None:
    m = stall_script().model()
    quiet = 0.501  # the death, as the parent saw it
    assert detect_stall(m, quiet + STALL_S - 0.01) is None
    assert detect_stall(m, quiet + STALL_S + 0.01) == (
        "the queue stalled: consumer-0 was killed while waiting in get() and may have left the "
        "queue's read lock held; 2 items are queued but no consumer can take them. Stop the "
        "run; the next run gets a fresh queue.")
    # A shorter patience, as a caller may ask for: the same rule.
    assert detect_stall(m, quiet + 0.2, stall_s=0.1) is not None
    assert detect_stall(m, quiet + 0.05, stall_s=0.1) is None


def test_a_stall_after_a_producer_killed_mid_put_blames_its_put() -> None:
    s = stall_script(victim="producer")
    s.get(s.c(0), 0.6, 2)  # one more task after the death: consumer-0 waits again from 0.7 s
    s.ok(s.c(0), 0.7)
    said = detect_stall(s.model(), 0.7 + STALL_S + 0.01)
    assert said == (
        "the queue stalled: producer-0 was killed while its last put was still being written "
        "and may have left a torn message in the queue's pipe (or its write lock held); 1 item "
        "is queued but no consumer can take it. Stop the run; the next run gets a fresh queue.")
    assert detect_stall(s.model(), 0.7 + STALL_S - 0.01) is None  # quiet only since then


def test_no_stall_without_a_queued_item_a_death_or_every_consumer_waiting() -> None:
    late = 10.0
    healthy = Script(consumers=2, tasks=1)
    healthy.put(1, 0.1, 0)
    assert detect_stall(healthy.model(), late) is None  # queued, but nobody died
    busy = stall_script()
    busy.get(busy.c(1), 0.6, 2)  # consumer-1 works on: not stuck in get()
    assert detect_stall(busy.model(), late) is None
    both = stall_script()
    both.exit(both.c(1), 0.6, code=-9)  # no consumer left to stall: the deaths say it all
    assert detect_stall(both.model(), late) is None
    drained = Script(consumers=2, tasks=1)  # the one item taken and done, then a death
    drained.put(1, 0.1, 0)
    drained.get(drained.c(0), 0.2, 0)
    drained.ok(drained.c(0), 0.3)
    drained.exit(drained.c(0), 0.4, code=-9)
    assert detect_stall(drained.model(), late) is None  # nothing queued to be stuck
    stopped = stall_script()
    stopped.rec(0, (K.STOP, 0.45, "stopped"))  # killed by Stop: not a fault of the worker
    assert detect_stall(stopped.model(), late) is None


def test_the_chip_names_the_latest_death_of_a_stalled_queue_then_counts_findings() -> None:
    m = stall_script().model()
    found, stall = diagnose(m, 2.0), detect_stall(m, 2.0)
    chip = run_alert(m, found, stall, live=True)
    assert chip is not None and chip.level == AlertLevel.STALLED
    assert chip.text == ("STALLED: consumer-0 killed (SIGKILL) in get() — the queue is "
                         "unusable; press Stop")
    assert chip.detail == "\n".join(found)
    with pytest.raises(dataclasses.FrozenInstanceError):
        chip.text = ""  # type: ignore[misc]
    assert run_alert(m, found, stall, live=False).text.endswith("the queue is unusable")
    # Two deaths: the later one is the culprit, the other counted.
    s = stall_script()
    s.exit(s.c(1), 0.6, code=-15)
    m = s.model()
    assert run_alert(m, diagnose(m, 2.0), "stalled", live=True).text == (
        "STALLED: consumer-1 killed (SIGTERM) in get() (+1 more dead) — the queue is unusable; "
        "press Stop")
    # A death that stalls nothing: a problem, with the way to the words if there are any.
    m = stall_script(victim="producer").model()
    assert run_alert(m, diagnose(m, 0.55), None, live=True) == Alert(
        AlertLevel.PROBLEM, "producer-0 killed (SIGKILL) — see Diagnosis", diagnose(m, 0.55)[0])
    assert run_alert(m, [], None, live=True).text == "producer-0 killed (SIGKILL)"
    healthy = Script().model()
    assert run_alert(healthy, ["a", "b"], None, live=True) == Alert(
        AlertLevel.PROBLEM, "2 problems found — see Diagnosis", "a\nb")
    assert run_alert(healthy, ["a"], None, live=True).text == "1 problem found — see Diagnosis"
    assert run_alert(healthy, [], None, live=True) is None
    assert run_alert(None, ["a"], None, live=True) is None
