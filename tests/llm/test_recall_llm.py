"""recall --expand adds the LLM's terms to the keyword query (cached: asking
again makes no call); a configured rerank re-orders the top results, is
skipped for 1-2 token queries, and on failure keeps the fused order and says so."""

from __future__ import annotations

from pathlib import Path

from memman import config
from memman.operations.maintenance import drain_all
from memman.service import Memman
from tools.fake_llm import FakeLLM


def test_expand_finds_memories_by_synonym_and_is_cached(app: Memman, llm_configured: Path, fake: FakeLLM) -> None:
    app.remember("Our main db is hosted in Frankfurt")
    drain_all(llm_configured)
    fake.reset()
    plain = app.recall("database location", basic=True)
    assert plain.results == []
    expanded = app.recall("database location", basic=True, expand=True)
    assert [h.content for h in expanded.results] == ["Our main db is hosted in Frankfurt"]
    assert "db" in expanded.meta.expansion
    app.recall("database location", basic=True, expand=True)
    assert fake.requests["expand"] == 1


def test_expand_without_an_llm_says_so(app: Memman) -> None:
    app.remember("x y z")
    result = app.recall("x", basic=True, expand=True)
    assert "needs an LLM" in (result.meta.degraded or "")


def _configure_rerank(data_dir: Path, fake: FakeLLM) -> None:
    for key, value in (("provider", "compatible"), ("base_url", fake.url), ("model", "fake-rerank"), ("timeout_ms", "300")):
        config.set_value(data_dir, f"rerank.{key}", value)


def test_rerank_reorders_skips_short_queries_and_survives_failure(app: Memman, data_dir: Path, fake: FakeLLM) -> None:
    for text in ("writers locking postgres nightly", "postgres writers", "postgres"):
        app.remember(text)
    drain_all(data_dir)
    _configure_rerank(data_dir, fake)
    result = app.recall("postgres writers locking nightly")
    assert result.meta.reranked == "compatible:fake-rerank"
    assert result.results[0].content == "writers locking postgres nightly"
    assert fake.requests["rerank"] == 1
    app.recall("postgres writers")  # two tokens: not worth a rerank
    assert fake.requests["rerank"] == 1
    fake.fail("500")
    failed = app.recall("postgres writers locking nightly")
    assert failed.meta.reranked is None and "rerank failed" in (failed.meta.degraded or "")
    assert failed.results  # the fused order stands


def test_recall_expand_cli(memman, llm_configured: Path, fake: FakeLLM) -> None:  # type: ignore[no-untyped-def]
    memman("remember", "Our main db is hosted in Frankfurt")
    run = memman("recall", "database location", "--expand", "--basic", "--json")
    assert run.code == 0, run.err
    assert run.json()["results"][0]["content"] == "Our main db is hosted in Frankfurt"
