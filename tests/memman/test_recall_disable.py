"""`recall(disable=...)` switches single signals off for the benchmark's
ablations (tools/recall_bench): each switch removes exactly its signal."""

from __future__ import annotations

import pytest

from events.errors import BadInput
from memman.maintenance import drain_all
from memman.recall.hybrid import RRF_K
from memman.service import Memman


@pytest.fixture
def drained(data_dir):  # type: ignore[no-untyped-def]
    with Memman(data_dir) as app:
        app.remember("We moved the billing database to PostgreSQL for transactions.")
        app.remember("The search service caches results in Redis.")
    drain_all(data_dir)
    with Memman(data_dir) as app:
        yield app


def test_without_the_keyword_signal_only_vector_candidates_remain(drained: Memman) -> None:
    full = drained.recall("billing database")
    assert full.meta.keyword_hits >= 1
    off = drained.recall("billing database", disable=["keyword"])
    assert off.meta.keyword_hits == 0
    assert all(h.signals.keyword_rank is None for h in off.results)


def test_without_the_vector_signal_no_vector_ranks(drained: Memman) -> None:
    off = drained.recall("billing database", disable=["vector"])
    assert off.meta.vector_hits == 0 and off.results
    assert all(h.signals.vector_rank is None for h in off.results)


def _fused(rank: int | None) -> float:
    return 0.0 if rank is None else 1.0 / (RRF_K + rank)


def test_without_entity_and_recency_the_scores_drop_those_terms(drained: Memman) -> None:
    off = drained.recall("PostgreSQL", disable=["entity", "recency"])
    assert off.results and all(h.signals.entity == 0.0 for h in off.results)
    for h in off.results:  # the anchor is keyword + vector fusion alone, scaled to its own ceiling
        expected = (_fused(h.signals.keyword_rank) + _fused(h.signals.vector_rank)) / (2 / (RRF_K + 1))
        assert h.signals.anchor == pytest.approx(expected, abs=1e-4)
    on = drained.recall("PostgreSQL")
    assert any(h.signals.entity > 0 for h in on.results)  # the query's entity is there when the signal is on


def test_an_unknown_signal_is_bad_input(drained: Memman) -> None:
    with pytest.raises(BadInput, match="unknown recall signal"):
        drained.recall("billing", disable=["telepathy"])
