"""`recall(disable=...)` switches single signals off for the benchmark's
ablations (tools/recall_bench): each switch removes exactly its signal."""

from __future__ import annotations

import pytest

from events.errors import BadInput
from memman.operations.maintenance import drain_all
from memman.recall.fusion import probability
from memman.recall.hybrid import SIGNALS, values
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


def test_without_entity_and_recency_the_scores_drop_those_terms(drained: Memman) -> None:
    off = drained.recall("PostgreSQL", disable=["entity", "recency"])
    assert off.results and all(h.signals.entity == 0.0 for h in off.results)
    for h in off.results:  # the score is the calibrated fusion of the remaining signals alone
        remaining = values(h.signals, h.importance, ["entity", "recency"])
        assert "entity" not in remaining and "recency" not in remaining
        assert h.score == pytest.approx(probability(remaining), abs=1e-4)
    on = drained.recall("PostgreSQL")
    assert any(h.signals.entity > 0 for h in on.results)  # the query's entity is there when the signal is on


def test_the_vector_channel_steps_can_be_switched_off_one_by_one(drained: Memman) -> None:
    for step in ("centering", "query-weights", "store-floor"):
        assert step in SIGNALS
        assert drained.recall("which database holds billing", disable=[step]).meta.mode == "hybrid"


def test_an_unknown_signal_is_bad_input(drained: Memman) -> None:
    with pytest.raises(BadInput, match="unknown recall signal"):
        drained.recall("billing", disable=["telepathy"])
