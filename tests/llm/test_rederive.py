"""Re-derivation: after an LLM drain nothing is stale and a re-run makes no
call; a new model makes every enrichment stale, re-derived from the memories'
original inputs; `memman rederive` is a thin CLI over it."""

from __future__ import annotations

from pathlib import Path

from memman import config
from memman.config import LLMSettings
from memman.operations.maintenance import drain_all
from memman.operations.rederive import rederive
from memman.service import Memman
from tools.fake_llm import FakeLLM


def test_an_unchanged_configuration_makes_no_call(app: Memman, llm_configured: Path, fake: FakeLLM) -> None:
    app.remember("We chose SQLite for the cache")
    drain_all(llm_configured)
    calls = fake.total
    report = rederive(app, llm_configured)
    assert (report.stale, report.rederived, report.llm_calls) == (0, 0, 0)
    assert fake.total == calls


def test_a_new_model_re_derives_from_the_original_inputs(app: Memman, llm_configured: Path, fake: FakeLLM) -> None:
    first = app.remember("We chose SQLite for the cache. Bob owns the migration.")
    drain_all(llm_configured)
    config.set_value(llm_configured, "llm.model_slow", "fake-slow-2")
    dry = rederive(app, llm_configured, dry_run=True)
    assert dry.stale == 2 and dry.rederived == 0 and dry.items[0].why == "model fake-slow -> fake-slow-2"
    calls = fake.total
    report = rederive(app, llm_configured)
    assert report.rederived == 2 and report.llm_calls == 1 and fake.total == calls + 1
    assert report.tokens_in > 0
    latest = [r for r in app.db.log.read() if r.type == "memory.enriched"][-2:]
    input_seq = app.db.log.for_memory(first.id)[0].seq
    assert {r.causation for r in latest} == {input_seq}  # caused by the original remember
    assert {r.event.provenance.model for r in latest} == {"fake-slow-2"}
    assert rederive(app, llm_configured).llm_calls == 0  # now current
    assert rederive(app, llm_configured, everything=True).rederived == 2  # forced, and no collision


def test_rederive_without_an_llm_is_a_one_line_error(memman, data_dir: Path) -> None:  # type: ignore[no-untyped-def]
    memman("remember", "x y z")
    run = memman("rederive")
    assert run.code == 2
    assert run.err == "memman: error: rederive needs an LLM: set llm.provider, llm.base_url and the models (see docs/llm.md)\n"


def test_rederive_cli_json(memman, llm_configured: Path, fake: FakeLLM) -> None:  # type: ignore[no-untyped-def]
    memman("remember", "We chose SQLite for the cache")
    memman("scheduler", "drain")
    run = memman("rederive", "--dry-run", "--json")
    assert run.code == 0, run.err
    assert run.json()["stale"] == 0 and run.json()["model"] == "fake-slow"


def test_a_store_drained_by_rules_is_rederived_by_the_llm_from_its_inputs(
    app: Memman, data_dir: Path, fake: FakeLLM, llm_settings: LLMSettings
) -> None:
    """Extraction and reconciliation are re-run from the original inputs under
    the new configuration; the comparison shows what changed; the cut-over
    makes the LLM's derivation the store (ids kept, provenance llm)."""
    from memman.operations.shadow import rederive_from_inputs

    first = app.remember("We chose SQLite for the cache. It needs no server.")
    drain_all(data_dir)  # rules: the pronoun keeps both sentences in one memory
    for field in ("provider", "base_url", "api_key", "model_fast", "model_slow", "timeout_s", "max_retries", "retry_backoff_s"):
        config.set_value(data_dir, f"llm.{field}", str(getattr(llm_settings, field)))
    report = rederive_from_inputs(app, cut_over=True)
    assert report.only_live == ["We chose SQLite for the cache. It needs no server."]
    assert report.only_rederived == ["SQLite needs no server.", "We chose SQLite for the cache."]
    with Memman(data_dir) as fresh:
        assert fresh.memory(first.id).content == "We chose SQLite for the cache."
        extracted = [r.event for r in fresh.db.log.read(types=["facts.extracted"])]
        assert [e.provenance.implementation for e in extracted] == ["llm"]
