"""The drain with an LLM configured (the loopback fake): every remembered text
gets extraction -> reconciliation -> enrichment -> edges events, each naming
its model and prompt; the classic failures leave the input pending and
retried, never lost; replay and a second drain make no HTTP call."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from events.types import FactsExtracted, MemoryEnriched
from memman.operations import maintenance
from memman import config
from memman.operations.maintenance import drain_all
from memman.service import Memman
from tools.fake_llm import FakeLLM
from workers.llm import prompts


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2025, 1, 1, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now


def derived(app: Memman, type_: str) -> list:
    return [r for r in app.db.log.read() if r.type == type_]


def statuses(app: Memman) -> dict[str, str]:
    app.db.main.catch_up()
    return dict(app.db.main.conn.execute("SELECT content, status FROM memories").fetchall())


def test_a_drain_derives_every_stage_with_llm_provenance(app: Memman, llm_configured: Path, fake: FakeLLM) -> None:
    app.remember("We chose SQLite for the cache. It needs no server.")
    app.remember("Alice prefers tea")
    [report] = drain_all(llm_configured)
    assert (report.completed, report.failed) == (2, 0)
    kinds = Counter((r.type, r.causation) for r in app.db.log.read() if r.causation is not None)
    inputs = {r.seq for r in app.db.log.read() if r.type == "memory.remembered"}
    for seq in inputs:
        for t in ("facts.extracted", "memory.reconciled", "edges.inferred"):
            assert kinds[(t, seq)] == 1, (t, seq)
        assert kinds[("memory.enriched", seq)] >= 1
    facts = derived(app, "facts.extracted")[0].event
    assert isinstance(facts, FactsExtracted)
    assert [f.text for f in facts.facts] == ["We chose SQLite for the cache.", "SQLite needs no server."]
    p = facts.provenance
    assert (p.implementation, p.model, p.prompt_hash) == ("llm", "fake-fast", prompts.EXTRACT.hash)
    assert p.tokens_in > 0 and p.tokens_out > 0
    enriched = derived(app, "memory.enriched")[0].event
    assert isinstance(enriched, MemoryEnriched)
    assert enriched.provenance.model == "fake-slow" and enriched.provenance.prompt_hash == prompts.ENRICH.hash
    assert set(statuses(app).values()) == {"active"}
    # the enrichment feeds the keyword index: a synonym finds the memory
    found = {h.content for h in app.recall("embedded", basic=True).results}
    assert found == {"We chose SQLite for the cache.", "SQLite needs no server."}  # "embedded" is in neither text


def test_without_an_llm_the_rules_decide_and_say_so(app: Memman, data_dir: Path, fake: FakeLLM) -> None:
    app.remember("Alice prefers tea")
    drain_all(data_dir)
    assert fake.total == 0
    for r in app.db.log.read():
        if r.type in ("facts.extracted", "memory.reconciled"):
            assert r.event.provenance.implementation == "rules"
    assert derived(app, "memory.enriched") == []


def test_a_duplicate_is_none_and_deletes_nothing(app: Memman, llm_configured: Path) -> None:
    app.remember("The API timeout is 30s")
    drain_all(llm_configured)
    app.remember("the api timeout is 30s.")
    drain_all(llm_configured)
    decision = derived(app, "memory.reconciled")[-1].event.decisions[0]
    assert decision.action == "NONE" and decision.candidates  # it was shown the original
    assert statuses(app) == {"The API timeout is 30s": "active", "the api timeout is 30s.": "superseded"}


def test_a_contradiction_stores_the_new_fact_and_retires_the_old_reversibly(app: Memman, llm_configured: Path) -> None:
    old = app.remember("Alice likes coffee")
    drain_all(llm_configured)
    app.remember("Alice no longer likes coffee")
    drain_all(llm_configured)
    decision = derived(app, "memory.reconciled")[-1].event.decisions[0]
    assert (decision.action, decision.target) == ("DELETE", old.id)
    assert statuses(app) == {"Alice likes coffee": "forgotten", "Alice no longer likes coffee": "active"}
    assert "retired by" in app.memory(old.id).forget_reason
    app.restore(old.id)
    assert statuses(app)["Alice likes coffee"] == "active"


def test_nothing_worth_storing_retires_the_input_visibly(app: Memman, llm_configured: Path) -> None:
    chatter = app.remember("ok thanks")
    [report] = drain_all(llm_configured)
    assert (report.completed, report.remaining) == (1, 0)
    row = app.memory(chatter.id)
    assert row.status == "forgotten" and "nothing worth storing" in row.forget_reason
    app.restore(chatter.id)
    assert app.memory(chatter.id).status == "active"


@pytest.mark.parametrize("mode", ["garbage", "429", "500", "timeout", "drop"])
def test_failures_leave_the_input_pending_and_retried(
    app: Memman, llm_configured: Path, fake: FakeLLM, mode: str
) -> None:
    clock = Clock()
    fake.delay = 0.5
    memory = app.remember("The deploy runs on Fridays")
    fake.fail(mode, times=2)  # max_retries=1, and a garbage answer gets one repair: two requests fail
    [report] = drain_all(llm_configured, clock=clock)
    assert (report.failed, report.remaining) == (1, 1)
    [failure] = derived(app, "derivation.failed")
    assert failure.event.stage == "extract" and failure.event.retry_after
    assert app.memory(memory.id).status == "pending"  # not lost: still keyword-recallable
    assert [h.id for h in app.recall("deploy Fridays", basic=True).results] == [memory.id]
    assert drain_all(llm_configured, clock=clock)[0].processed == 0  # not due before its backoff
    clock.now += timedelta(minutes=5)
    [report] = drain_all(llm_configured, clock=clock)
    assert (report.completed, report.remaining) == (1, 0)
    assert app.memory(memory.id).status == "active"


def test_a_dead_endpoint_leaves_the_input_pending(app: Memman, llm_configured: Path) -> None:
    dead = FakeLLM().start()
    url = dead.url
    dead.stop()
    config.set_value(llm_configured, "llm.base_url", url)
    memory = app.remember("The deploy runs on Fridays")
    [report] = drain_all(llm_configured)
    assert report.failed == 1 and app.memory(memory.id).status == "pending"
    assert "unavailable" in derived(app, "derivation.failed")[0].event.error


def test_replay_and_a_second_drain_make_no_llm_call(app: Memman, llm_configured: Path, fake: FakeLLM) -> None:
    app.remember("We moved to Postgres because SQLite writers kept locking. Bob owns the migration.")
    app.remember("SQLite writers kept locking at night")
    drain_all(llm_configured)
    before = dict(app.db.main.conn.execute("SELECT id, content || status || keywords FROM memories").fetchall())
    calls = fake.total
    assert calls > 0
    drain_all(llm_configured)
    maintenance.replay(app)
    assert maintenance.verify(app).ok
    after = dict(app.db.main.conn.execute("SELECT id, content || status || keywords FROM memories").fetchall())
    assert after == before and fake.total == calls


def test_the_key_never_reaches_the_log(app: Memman, llm_configured: Path) -> None:
    from tests.llm.conftest import API_KEY

    config.set_value(llm_configured, "llm.base_url", "http://127.0.0.1:9/v1")
    app.remember("The deploy runs on Fridays")
    drain_all(llm_configured)
    raw = b"".join(r[0] for r in app.db.log.conn.execute("SELECT payload FROM events"))
    assert API_KEY.encode() not in raw


def test_log_shows_every_stage_with_model_and_prompt(app: Memman, llm_configured: Path) -> None:
    from memman.output.audit import history

    old = app.remember("Alice likes coffee")
    drain_all(llm_configured)
    new = app.remember("Alice no longer likes coffee")
    drain_all(llm_configured)
    lines = {line.type: line.summary for line in history(app, new.id).events}
    assert "'Alice no longer likes coffee'" in lines["memory.remembered"]
    assert f"llm/1 model=fake-fast prompt={prompts.EXTRACT.hash[:12]}" in lines["facts.extracted"]
    assert f"DELETE {old.id[-8:]}" in lines["memory.reconciled"] and f"was shown {old.id[-8:]} " in lines["memory.reconciled"]
    assert f"model=fake-slow prompt={prompts.ENRICH.hash[:12]}" in lines["memory.enriched"]
    assert "tokens=" in lines["memory.enriched"] and "edges.inferred" in lines


def test_with_an_llm_the_causal_inferer_adds_edges_with_model_provenance(
    app: Memman, llm_configured: Path, fake: FakeLLM
) -> None:
    """The LLM sees the new memory's graph and vector neighbours and proposes
    cause -> effect edges; only confident ones (>= 0.75) are kept, and the
    edges event names the model and prompt."""
    cause = app.remember("The nightly ETL job on the orders table kept timing out")
    drain_all(llm_configured)
    effect = app.remember("We moved the nightly ETL job to Spark because the orders table job kept timing out")
    drain_all(llm_configured)
    rows = app.db.main.conn.execute(
        "SELECT src, dst, meta FROM edges WHERE edge_type = 'causal' AND json_extract(meta, '$.by') IS NOT 'rules'"
    ).fetchall()
    assert (cause.id, effect.id) in {(s, d) for s, d, _ in rows}
    last = derived(app, "edges.inferred")[-1].event
    assert last.provenance.implementation == "rules+llm"
    assert last.provenance.model == "fake-slow" and last.provenance.prompt_hash
