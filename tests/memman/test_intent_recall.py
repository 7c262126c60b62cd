"""Intent-aware recall: intent detection; WHY answers list causes before
effects; WHEN answers are chronological; the graph brings in what the anchors
link to (and --no-graph does not); --as-of answers from what the store
believed then, across replacements, supersessions, forgets and restores."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
from freezegun import freeze_time

from events.clock import from_iso
from memman.recall.intent import detect
from memman.maintenance import drain_all
from memman.service import Memman
from workers.stages.extract import extract_entities


@pytest.mark.parametrize(
    ("query", "intent"),
    [
        ("why did we move the ETL to Spark", "why"),
        ("what was the reason for the rollback", "why"),
        ("when did we change the rate limit", "when"),
        ("what happened after the outage", "when"),
        ("Priya", "entity"),
        ("tell me about Project Falcon", "entity"),
        ("how do we deploy", "general"),
        ("rate limit for the public API", "general"),
    ],
)
def test_intent_is_detected_from_the_query(query: str, intent: str) -> None:
    assert detect(query, extract_entities(query)) == intent


HISTORY = [
    ("The nightly ETL job on the orders table kept timing out", "2025-03-01T09:00:00Z"),
    ("We moved the ETL to Spark because the nightly job kept timing out", "2025-03-01T09:20:00Z"),
    ("Priya leads Project Falcon", "2025-03-02T10:00:00Z"),
    ("Project Falcon's backend is written in Rust", "2025-03-05T10:00:00Z"),
    ("The public API rate limit is 100 rps", "2025-03-06T10:00:00Z"),
    ("We raised the public API rate limit to 500 rps after the launch", "2025-04-10T10:00:00Z"),
    ("The office coffee machine was replaced", "2025-04-11T10:00:00Z"),
]


@pytest.fixture
def store(app: Memman, data_dir: Path) -> Memman:
    for text, at in HISTORY:
        app.remember(text, source="user", at=from_iso(at))
    drain_all(data_dir)
    return app


def test_why_lists_causes_before_effects(store: Memman) -> None:
    result = store.recall("why did we move the ETL to Spark")
    assert (result.meta.intent, result.meta.ordering) == ("why", "causes-first")
    contents = [h.content for h in result.results]
    assert contents.index(HISTORY[0][0]) < contents.index(HISTORY[1][0])


def test_when_is_chronological(store: Memman) -> None:
    result = store.recall("when did we change the public API rate limit")
    assert (result.meta.intent, result.meta.ordering) == ("when", "chronological")
    contents = [h.content for h in result.results]
    assert contents.index(HISTORY[4][0]) < contents.index(HISTORY[5][0])
    occurred = [store.memory(h.id).occurred_at for h in result.results]
    assert occurred == sorted(occurred)


def test_the_graph_reaches_what_the_anchors_link_to(store: Memman) -> None:
    on = store.recall("Priya", graph=True)
    reached = {h.content: h.signals for h in on.results}
    assert on.meta.intent == "entity" and on.meta.graph
    assert HISTORY[3][0] in reached  # Priya -> Project Falcon -> its backend
    assert reached[HISTORY[3][0]].graph > 0 and reached[HISTORY[3][0]].via.startswith("entity:")
    off = store.recall("Priya", graph=False)
    assert HISTORY[3][0] not in {h.content for h in off.results}
    assert off.meta.traversed == 0


def test_the_graph_is_on_by_default_only_where_the_benchmark_shows_it_wins(store: Memman) -> None:
    assert store.recall("why did we move the ETL to Spark").meta.graph
    assert store.recall("when did we change the public API rate limit").meta.graph
    assert not store.recall("Priya").meta.graph
    assert not store.recall("rate limit for the public API").meta.graph


def test_the_graph_never_brings_in_unrelated_session_neighbours(store: Memman) -> None:
    contents = [h.content for h in store.recall("coffee machine").results]
    assert contents == [HISTORY[6][0]]


def test_intent_can_be_overridden(store: Memman) -> None:
    result = store.recall("public API rate limit", intent="when")
    assert (result.meta.intent, result.meta.ordering) == ("when", "chronological")


def test_every_signal_and_the_meta_are_reported(store: Memman) -> None:
    result = store.recall("Priya", graph=True)
    assert result.meta.anchors >= 1 and result.meta.traversed >= 1 and result.meta.entities == ["Priya"]
    top = result.results[0]
    assert top.content == HISTORY[2][0]
    assert top.signals.entity == 1.0 and top.signals.anchor > 0


def test_known_at_answers_from_what_the_store_believed_then(app: Memman, data_dir: Path) -> None:
    """The audit view (transaction time): what `--as-of` meant before the two
    axes; the projections' status and text history answer it without a replay."""
    def at(text: str) -> datetime:
        return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)

    with freeze_time("2025-01-01T10:00:00Z"):
        slow = app.remember("The payments API timeout is 30s")
        cache = app.remember("Session cache lives in Redis")
        drain_all(data_dir)
    with freeze_time("2025-02-01T10:00:00Z"):
        app.remember("The payments API timeout is 60s")  # supersedes the 30s memory
        drain_all(data_dir)
    with freeze_time("2025-03-01T10:00:00Z"):
        app.forget(cache.id, "moved to Memcached")
    with freeze_time("2025-04-01T10:00:00Z"):
        app.restore(cache.id)
        app.replace(cache.id, "Session cache lives in Memcached")
        drain_all(data_dir)

    def contents(query: str, when: str) -> list[str]:
        result = app.recall(query, known_at=at(when))
        assert result.meta.known_at is not None
        return [h.content for h in result.results]

    assert contents("payments API timeout", "2025-01-15T00:00:00") == ["The payments API timeout is 30s"]
    assert contents("payments API timeout", "2025-02-15T00:00:00") == ["The payments API timeout is 60s"]
    assert contents("session cache", "2025-02-15T00:00:00") == ["Session cache lives in Redis"]
    assert contents("session cache", "2025-03-15T00:00:00") == []  # forgotten then
    assert contents("session cache", "2025-04-15T00:00:00") == ["Session cache lives in Memcached"]
    assert contents("payments API timeout", "2024-12-01T00:00:00") == []  # before anything
    # and now, the live store agrees with the latest past
    assert [h.content for h in app.recall("session cache").results] == ["Session cache lives in Memcached"]
    assert app.memory(slow.id).status == "superseded"
