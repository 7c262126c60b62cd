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


# ------------------------------------------------------------ issue 11: how people write changes


@pytest.mark.parametrize(
    ("new", "old", "rule"),
    [
        ("Switched CI from GitHub Actions to Buildkite", "We use GitHub Actions for CI", "from-to"),
        ("Moved the nightly backup job from web1 to web2", "The nightly backup job runs on web1", "from-to"),
        ("Replaced Redis with Memcached for the session cache", "The session cache runs on Redis", "replaced"),
        ("We use Buildkite instead of GitHub Actions for CI", "We use GitHub Actions for CI", "instead"),
        ("Upgraded Postgres to 16", "We use Postgres 15 in staging and production", "postgres: 15 -> 16"),
        ("We raised the API timeout to 60s", "The API timeout is 30s", "api timeout: 30s -> 60s"),
        ("Dana no longer leads the payments team", "Dana leads the payments team", "no longer"),
        ("From now on deploys go through Argo CD", "Deploys go through Jenkins", "from now on"),
        ("The code freeze lasts until 12 Dec", "The code freeze lasts until 5 Dec", "value changed: 5 -> 12"),
        ("We use Postgres 15 in staging and production", "We use Postgres 15 in production", "more detail"),
    ],
)
def test_a_change_in_other_words_is_an_update_that_names_its_rule(new: str, old: str, rule: str) -> None:
    d = decide(new, old)
    assert (d.action, d.target) == ("UPDATE", "old")
    assert rule in d.reason


@pytest.mark.parametrize(
    ("new", "old"),
    [
        # the false supersessions: another subject, lower-case names and identifiers included
        (
            "The analytics metrics exporter runs in us-west-2 every 21 minutes",
            "The notification metrics exporter runs in us-west-2 every 16 minutes",
        ),
        ("Ticket 456 is assigned to Bob", "Ticket 123 is assigned to Bob"),
        ("Bob is assigned ticket 456", "Bob is assigned ticket 123"),
        ("web2 listens on port 9090", "web1 listens on port 8080"),
        ("web2 port 9090", "web1 port 8080"),
        # a change about something else entirely
        ("Migrated the payments database from MySQL to Postgres", "The search database is MySQL"),
        ("Upgraded Postgres to 16", "Postgres backups run every 6 hours"),
        ("Switched the docs site from GitHub Pages to Netlify", "We use GitHub Pages for the blog"),
    ],
)
def test_a_different_subject_is_never_an_update(new: str, old: str) -> None:
    assert decide(new, old).action == "ADD"


def test_a_swapped_speaker_is_not_a_duplicate() -> None:
    d = decide("Dana: That's awesome, Priya!", "Priya: That's awesome, Dana!")
    assert d.action == "ADD"


def test_a_restatement_with_less_detail_is_already_known() -> None:
    d = decide("We use Postgres 15 in production", "We use Postgres 15 in staging and production")
    assert (d.action, d.reason) == ("NONE", "already known in more detail")


def test_a_change_that_does_not_name_the_old_value_leaves_the_candidate_alone() -> None:
    # "instead of Jenkins" says nothing about the GitHub Actions memory
    assert decide("We use Buildkite instead of Jenkins for CI", "We use GitHub Actions for CI").action == "ADD"
