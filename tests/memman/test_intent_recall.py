"""Intent-aware recall: intent detection; every intent answers best first
(WHEN too: chronological order is an explicit `order="time"`); a WHY answer
may put a cause right before its effect, never above a much better match;
the graph brings in what the anchors link to (and --no-graph does not); --as-of answers from what the store
believed then, across replacements, supersessions, forgets and restores."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
from freezegun import freeze_time

from events.clock import from_iso
from memman.recall.intent import detect
from memman.recall.order import order
from memman.output.results import RecallHit, Signals
from memman.operations.maintenance import drain_all
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


def _hit(memory_id: str, score: float) -> RecallHit:
    return RecallHit(
        id=memory_id, content=memory_id, score=score, category="fact", importance=3, entities=[], source="user",
        created_at="", status="active", signals=Signals(),
    )


def _ids(store: Memman) -> list[str]:
    return [store.recall(text, limit=1, intent="general").results[0].id for text, _ in HISTORY[:3]]


def test_why_puts_a_close_cause_right_before_its_effect(store: Memman) -> None:
    cause, effect, other = _ids(store)
    store.link(cause, effect, "causal")
    hits = [_hit(effect, 0.6), _hit(other, 0.55), _hit(cause, 0.5)]
    ordered, name = order(store.fresh(), hits, "why", {}, "score")
    assert [h.id for h in ordered] == [cause, effect, other] and name == "causes-first"


def test_why_never_lifts_a_cause_above_a_much_better_match(store: Memman) -> None:
    cause, effect, other = _ids(store)
    store.link(cause, effect, "causal")
    hits = [_hit(effect, 0.9), _hit(other, 0.5), _hit(cause, 0.3)]  # 0.9 is far better than 0.3
    ordered, name = order(store.fresh(), hits, "why", {}, "score")
    assert [h.id for h in ordered] == [effect, other, cause] and name == "score"


def test_when_answers_best_first_and_time_order_is_asked_for(store: Memman) -> None:
    best = store.recall("when did we raise the public API rate limit to 500 rps")
    assert (best.meta.intent, best.meta.ordering) == ("when", "score")
    assert best.results[0].content == HISTORY[5][0]  # the best match first, not the oldest
    scores = [h.score for h in best.results]
    assert scores == sorted(scores, reverse=True)
    timeline = store.recall("when did we raise the public API rate limit to 500 rps", order="time")
    assert timeline.meta.ordering == "chronological"
    occurred = [store.memory(h.id).occurred_at for h in timeline.results]
    assert occurred == sorted(occurred) and len(timeline.results) == len(best.results)


def test_the_graph_reaches_what_the_anchors_link_to(store: Memman) -> None:
    # A memory only the graph reaches scores low (its own signals say nothing
    # about the query): min_score=0 shows everything the walk reached.
    on = store.recall("Priya", graph=True, min_score=0.0)
    reached = {h.content: h.signals for h in on.results}
    assert on.meta.intent == "entity" and on.meta.graph
    assert HISTORY[3][0] in reached  # Priya -> Project Falcon -> its backend
    assert reached[HISTORY[3][0]].graph > 0 and reached[HISTORY[3][0]].via.startswith("entity:")
    off = store.recall("Priya", graph=False, min_score=0.0, disable=["hop"])
    assert HISTORY[3][0] not in {h.content for h in off.results}
    assert off.meta.traversed == 0
    # the shared rare word "Falcon" reaches it without the graph too (memman/recall/hop.py)
    hop = {h.content: h.signals for h in store.recall("Priya", graph=False, min_score=0.0).results}
    assert hop[HISTORY[3][0]].hop > 0 and hop[HISTORY[3][0]].graph == 0


def test_the_graph_is_off_by_default_where_the_benchmark_shows_no_gain(store: Memman) -> None:
    # docs/recall-benchmark.md: graph on vs off differs by < 0.01 hit@10 in every category
    for query in ("why did we move the ETL to Spark", "when did we change the public API rate limit", "Priya"):
        assert not store.recall(query).meta.graph
    assert store.recall("why did we move the ETL to Spark", graph=True).meta.graph


def test_the_graph_never_brings_in_unrelated_session_neighbours(store: Memman) -> None:
    contents = [h.content for h in store.recall("coffee machine").results]
    assert contents == [HISTORY[6][0]]


def test_intent_can_be_overridden(store: Memman) -> None:
    result = store.recall("public API rate limit", intent="when")
    assert (result.meta.intent, result.meta.ordering) == ("when", "score")


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
