"""The LLM stages against the fake: the same interfaces as the rule stages,
candidates shown under aliases and mapped back, protected memories never
retired, summaries kept only when clearly shorter, causal edges kept at
confidence >= 0.75, expansions cached, rerank through a compatible endpoint."""

from __future__ import annotations

from pathlib import Path

import pytest

from memman.config import LLMSettings, RerankSettings
from tools.fake_llm import FakeLLM
from workers.llm.causal import LLMCausalInferer
from workers.llm.client import ChatClient
from workers.llm.expand import QueryExpander
from workers.llm.prompts import CAUSAL, EXTRACT
from workers.llm.rerank import Reranker
from workers.llm.stages import LLMEnricher, LLMExtractor, LLMReconciler
from workers.stages.extract import ExtractInput
from workers.stages.reconcile import Known


@pytest.fixture
def client(llm_settings: LLMSettings):  # type: ignore[no-untyped-def]
    c = ChatClient(llm_settings)
    yield c
    c.close()


def _ids():  # type: ignore[no-untyped-def]
    counter = iter(range(100))
    return lambda: f"NEW{next(counter)}"


def item(text: str, **kw: object) -> ExtractInput:
    return ExtractInput(memory_id="IN", text=text, category=kw.get("category", "general"), importance=kw.get("importance", 3), entities=kw.get("entities", []))  # type: ignore[arg-type]


def test_extraction_splits_resolves_and_keeps_the_input_id_first(client: ChatClient) -> None:
    stage = LLMExtractor(client)
    out = stage.extract(item("Alice prefers tea. She is currently in Paris.", entities=["Team"]), _ids())
    assert [f.memory_id for f in out.facts] == ["IN", "NEW0"]
    assert out.facts[0].category == "preference" and out.facts[0].entities[0] == "Team"
    assert any("transient" in w for w in out.warnings)  # the quality gate, rules and model merged
    p = stage.provenance()
    assert (p.implementation, p.version, p.model, p.prompt_hash) == ("llm", "1", "fake-fast", EXTRACT.hash)
    assert p.tokens_in > 0 and p.tokens_out > 0
    assert stage.provenance().tokens_in == 0  # taking the provenance resets the accounting


def test_a_user_category_and_importance_win(client: ChatClient) -> None:
    out = LLMExtractor(client).extract(item("Alice prefers tea.", category="decision", importance=5), _ids())
    assert (out.facts[0].category, out.facts[0].importance) == ("decision", 5)


def test_nothing_worth_storing_is_an_empty_extraction_with_a_reason(client: ChatClient) -> None:
    out = LLMExtractor(client).extract(item("ok thanks"), _ids())
    assert out.facts == [] and out.nothing
    assert out.warnings[-1].startswith("nothing worth storing: chatter")


def known(memory_id: str, content: str, similarity: float, protected: bool = False) -> Known:
    return Known(memory_id=memory_id, content=content, entities=[], similarity=similarity, protected=protected)


def test_reconciliation_maps_aliases_back_and_records_ranked_candidates(client: ChatClient, fake: FakeLLM) -> None:
    stage = LLMReconciler(client)
    cands = [known("A", "Alice likes coffee", 0.5), known("B", "Alice likes tea", 0.9)]
    d = stage.decide("NEW", "alice likes tea.", [], cands)
    assert (d.action, d.target) == ("NONE", "B")
    assert [(c.memory_id, c.similarity) for c in d.candidates] == [("B", 0.9), ("A", 0.5)]
    shown = fake.bodies[-1]["messages"][1]["content"]
    assert '"c1"' in shown and "NEW" not in shown.replace("NEWS", "")  # aliases, never ULIDs


def test_delete_and_update(client: ChatClient) -> None:
    stage = LLMReconciler(client)
    d = stage.decide("NEW", "Alice no longer likes coffee", [], [known("A", "Alice likes coffee", 0.8)])
    assert (d.action, d.target) == ("DELETE", "A")
    d = stage.decide("NEW", "The API timeout is 60s", [], [known("A", "The API timeout is 30s", 0.8)])
    assert (d.action, d.target) == ("UPDATE", "A")


def test_no_candidates_is_add_without_a_call(client: ChatClient, fake: FakeLLM) -> None:
    d = LLMReconciler(client).decide("NEW", "anything", [], [])
    assert d.action == "ADD" and fake.total == 0


def test_a_protected_memory_is_never_retired(client: ChatClient) -> None:
    d = LLMReconciler(client).decide("NEW", "Alice no longer likes coffee", [], [known("A", "Alice likes coffee", 0.8, True)])
    assert d.action == "ADD" and "protected" in d.reason


def test_a_target_not_shown_is_repaired(client: ChatClient, fake: FakeLLM) -> None:
    answers = iter([{"action": "DELETE", "target": "01JXYZ", "reason": "hallucinated"}])
    fake.overrides["reconcile"] = lambda p: next(answers, {"action": "ADD", "reason": "ok"})
    d = LLMReconciler(client).decide("NEW", "x y z", [], [known("A", "a b c", 0.8)])
    assert d.action == "ADD" and fake.total == 2


def test_enrichment_keeps_a_summary_only_when_clearly_shorter(client: ChatClient) -> None:
    long = "We moved the main database from SQLite to postgres because concurrent writers kept hitting locks at night."
    out = LLMEnricher(client).enrich([("A", "notes about postgres"), ("B", long)])
    assert [e.memory_id for e in out] == ["A", "B"]
    assert out[0].summary == "" and out[1].summary == "We moved the main database from"
    assert "postgresql" in out[0].keywords  # the fake's synonym table
    assert out[1].entities == ["SQLite"]  # "We" at a sentence start is not a name


def test_causal_edges_below_the_threshold_are_dropped(client: ChatClient) -> None:
    inferer = LLMCausalInferer(client)
    memory = known("M", "We moved to Postgres because SQLite writers kept locking", 1.0)
    strong = known("S", "SQLite writers kept locking at night", 0.8)
    weak = known("W", "Night shift notes", 0.5)  # shares one word: confidence 0.5
    edges = inferer.infer(memory, [strong, weak])
    assert [(e.src, e.dst, e.edge_type) for e in edges] == [("S", "M", "causal")]
    assert edges[0].weight == 0.9 and edges[0].meta["rel"] == "causes"
    p = inferer.provenance()
    assert (p.model, p.prompt_hash) == ("fake-slow", CAUSAL.hash)


def test_causal_without_neighbours_makes_no_call(client: ChatClient, fake: FakeLLM) -> None:
    assert LLMCausalInferer(client).infer(known("M", "x", 1.0), []) == [] and fake.total == 0


def test_expansion_is_cached_per_store(client: ChatClient, fake: FakeLLM, tmp_path: Path) -> None:
    expander = QueryExpander(client, tmp_path)
    first = expander.expand("which database")
    again = QueryExpander(client, tmp_path).expand("Which  DATABASE")
    assert first.synonyms == ["db", "datastore"] and not first.cached
    assert again.cached and again.synonyms == first.synonyms
    assert fake.requests["expand"] == 1


def test_rerank_orders_by_relevance(rerank_settings: RerankSettings, fake: FakeLLM) -> None:
    r = Reranker(rerank_settings)
    ranked = r.rerank("postgres locking writers", [("A", "tabs or spaces"), ("B", "postgres writers locking")])
    r.close()
    assert [i for i, _ in ranked] == ["B", "A"] and fake.requests["rerank"] == 1
