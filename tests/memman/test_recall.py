"""Recall promises: keyword, vector and recency fused by RRF; pending texts
are found at once by keyword; forgotten and superseded memories never appear;
filters apply to every list; a query unrelated to everything returns nothing;
and, with the shipped static embedder, a paraphrase sharing no keyword with
the memory still finds it, offline."""

from __future__ import annotations

from pathlib import Path

import pytest

from memman.operations.maintenance import drain_all
from memman.recall import recall
from memman.service import Memman

MEMORIES = [
    ("We chose SQLite for the event log because it needs no server", "decision", "user"),
    ("Alice prefers dark mode in every editor", "preference", "user"),
    ("Deployments go through GitHub Actions on every merge to main", "fact", "agent"),
    ("Bob is allergic to peanuts", "fact", "user"),
    ("The office is closed on Fridays", "context", "agent"),
    ("Retries use exponential backoff capped at one hour", "decision", "agent"),
]


@pytest.fixture
def store(app: Memman, data_dir: Path) -> Memman:
    for text, category, source in MEMORIES:
        app.remember(text, category=category, source=source)
    drain_all(data_dir)
    return app


def contents(app: Memman, query: str, **kwargs) -> list[str]:  # type: ignore[no-untyped-def]
    return [h.content for h in recall(app.fresh(), app.store, query, **kwargs).results]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # no content word in common with the memory it should find
        ("which database engine did we pick", MEMORIES[0][0]),
        ("how do we ship code to production", MEMORIES[2][0]),
        ("weekend schedule", MEMORIES[4][0]),
    ],
)
def test_a_paraphrase_with_no_shared_keyword_is_found_offline(store: Memman, query: str, expected: str) -> None:
    result = recall(store.fresh(), store.store, query)
    assert result.meta.keyword_hits == 0  # proves the match is semantic
    assert result.results and result.results[0].content == expected
    assert result.results[0].signals.similarity is not None


def test_a_query_unrelated_to_everything_returns_nothing(store: Memman) -> None:
    assert contents(store, "quantum chromodynamics lecture notes") == []


def test_keyword_matches_rank_first_and_signals_are_reported(store: Memman) -> None:
    result = recall(store.fresh(), store.store, "SQLite event log")
    top = result.results[0]
    assert top.content == MEMORIES[0][0]
    assert top.signals.keyword_rank == 1 and top.signals.vector_rank == 1
    assert 0 < top.score <= 1.1
    assert result.meta.mode == "hybrid" and result.meta.fingerprint


def test_basic_mode_is_keyword_only(store: Memman) -> None:
    result = recall(store.fresh(), store.store, "which database engine did we pick", basic=True)
    assert result.results == [] and result.meta.mode == "basic" and result.meta.vector_hits == 0
    assert contents(store, "peanuts", basic=True) == [MEMORIES[3][0]]


def test_pending_texts_are_found_at_once_and_marked_pending(store: Memman) -> None:
    r = store.remember("The billing service is written in Elixir")
    hits = recall(store.fresh(), store.store, "billing Elixir").results
    assert [(h.id, h.status) for h in hits] == [(r.id, "pending")]


def test_forgotten_memories_never_appear_and_restore_brings_them_back(store: Memman) -> None:
    peanuts = recall(store.fresh(), store.store, "peanuts").results[0]
    store.forget(peanuts.id)
    assert MEMORIES[3][0] not in contents(store, "peanuts allergy food")
    assert MEMORIES[3][0] not in contents(store, "what can Bob not eat")
    store.restore(peanuts.id)
    assert contents(store, "peanuts")[0] == MEMORIES[3][0]


def test_filters_apply_to_keyword_and_vector_results(store: Memman) -> None:
    assert contents(store, "SQLite", category="preference") == []
    assert contents(store, "which database engine did we pick", source="agent") == []
    assert contents(store, "dark mode editor", source="user") == [MEMORIES[1][0]]


def test_limit_caps_the_results(store: Memman) -> None:
    assert len(contents(store, "the", limit=2)) <= 2
    assert len(contents(store, "SQLite server GitHub office peanuts backoff", limit=3)) == 3


def test_recency_breaks_ties_but_never_adds_unmatched_rows(store: Memman, data_dir: Path) -> None:
    store.remember("Zebra crossings are painted white")  # newest, matches nothing below
    drain_all(data_dir)
    assert "Zebra crossings are painted white" not in contents(store, "GitHub Actions deployments")


def test_recall_before_any_drain_says_why_vectors_are_missing(app: Memman) -> None:
    app.remember("Caching layer uses Redis")
    result = recall(app.fresh(), app.store, "Redis")
    assert [h.status for h in result.results] == ["pending"]
    assert result.meta.degraded and "drain" in result.meta.degraded
