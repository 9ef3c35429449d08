"""engine.explain: one explanation per tick (the stall worked out once), pitfalls found by file."""

from __future__ import annotations

import dataclasses
import pkgutil

import pytest
from test_diagnosis import Script, dead_holder_script

import engine.explain
import engine.explain.diagnosis
from engine.explain import AlertLevel, diagnose, explain
from engine.explain.pitfalls import FINDERS
from engine.explain.stall import detect_stall


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
