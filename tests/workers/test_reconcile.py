"""The rule reconciler: NONE for the same or nearly the same text, UPDATE only
when nothing but a value changed, ADD otherwise; protected memories are never
superseded; the candidates shown are recorded, best first."""

from __future__ import annotations

import pytest

from workers.stages.extract import extract_entities
from workers.stages.reconcile import Known, RuleReconciler


def decide(new: str, old: str, *, protected: bool = False):  # type: ignore[no-untyped-def]
    known = Known(memory_id="old", content=old, entities=extract_entities(old), protected=protected)
    return RuleReconciler().decide("new", new, extract_entities(new), [known])


@pytest.mark.parametrize(
    ("new", "old"),
    [
        ("The API timeout is 60s", "The API timeout is 30s"),
        ("We build with Python 3.12", "We build with Python 3.11"),
        ("The batch window is 3h", "The batch window is 2h"),
        ("Max upload size is 20 MB", "Max upload size is 10 MB"),
    ],
)
def test_only_a_changed_value_is_an_update(new: str, old: str) -> None:
    d = decide(new, old)
    assert (d.action, d.target) == ("UPDATE", "old")
    assert "value changed" in d.reason


@pytest.mark.parametrize(
    ("new", "old"),
    [
        # found by tools/bench.py: distinct facts that share a template
        ("Database migrations for vortex-api take 113 seconds", "Database migrations for checkout-web take 73 seconds"),
        ("The ledger API v2 listens on port 8443", "The search API v4 listens on port 9090"),
        ("Carol prefers Emacs with 4 spaces", "Dan prefers Vim with 2 spaces"),
        ("The API timeout is 60s for uploads", "The API timeout is 30s"),
        # found by tools/bench_graph.py: the same sentence about another named subject
        (
            "We put a Redis cache in front of the Flint API because page loads were too slow at peak.",
            "We put a Redis cache in front of the Kestrel API because page loads were too slow at peak.",
        ),
    ],
)
def test_distinct_facts_sharing_a_template_are_added(new: str, old: str) -> None:
    assert decide(new, old).action == "ADD"


@pytest.mark.parametrize(
    ("new", "old"),
    [
        ("The API timeout is 30s", "The API timeout is 30s"),
        ("the api timeout is 30s.", "The API timeout is 30s"),
        ("The  API   timeout is 30s!", "The API timeout is 30s"),
    ],
)
def test_the_same_text_is_none(new: str, old: str) -> None:
    d = decide(new, old)
    assert (d.action, d.target, d.reason) == ("NONE", "old", "same text")


def test_a_protected_memory_is_never_superseded() -> None:
    assert decide("The API timeout is 60s", "The API timeout is 30s", protected=True).action == "ADD"


def test_candidates_are_recorded_best_first() -> None:
    known = [
        Known(memory_id="far", content="Lunch is at noon", entities=[], similarity=0.1),
        Known(memory_id="near", content="The deploy runs nightly", entities=[], similarity=0.7),
    ]
    d = RuleReconciler().decide("new", "The deploy runs weekly", [], known)
    assert [c.memory_id for c in d.candidates] == ["near", "far"]
    assert d.action == "ADD"
