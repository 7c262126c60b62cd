"""The drain turns remembered text into memories: each input gets exactly one
extraction, reconciliation, embedding and edges event; a second drain does
nothing; a failing stage is recorded, retried with backoff and dead-lettered
after five attempts without losing the input; one drain runs at a time."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from freezegun import freeze_time

from events.clock import from_iso
from events.errors import StoreLocked
from events.types import StoreConfigured
from memman.operations.maintenance import drain_all
from memman.recall import recall
from memman.service import Memman
from workers.drain import drain_store
from workers.embedders import EmbedderMismatch, create_embedder
from workers.embedders.base import Fingerprint
from workers.lock import drain_lock


def derived_counts(app: Memman) -> Counter:
    return Counter((r.type, r.causation) for r in app.db.log.read() if r.causation is not None)


def statuses(app: Memman) -> dict[str, str]:
    app.db.main.catch_up()
    return dict(app.db.main.conn.execute("SELECT content, status FROM memories").fetchall())


class BrokenEmbedder:
    """A provider that is down: every call fails."""

    def __init__(self) -> None:
        self.fingerprint = create_embedder().fingerprint
        self.calls = 0

    def embed(self, texts: Sequence[str], *, kind: str = "document") -> np.ndarray:
        self.calls += 1
        raise ConnectionError("embedding provider unreachable")


def test_drain_turns_pending_texts_into_active_memories(app: Memman, data_dir: Path) -> None:
    first = app.remember("We chose SQLite because it needs no server. Postgres was the alternative we rejected.")
    app.remember("Alice prefers tabs over spaces")
    [report] = drain_all(data_dir)
    assert (report.completed, report.failed, report.remaining) == (2, 0, 0)
    rows = app.db.main.conn.execute("SELECT id, content, status, entities FROM memories ORDER BY key").fetchall()
    assert [r[2] for r in rows] == ["active"] * 3
    assert rows[0][0] == first.id  # the first fact keeps the id the agent was given
    assert rows[0][1] == "We chose SQLite because it needs no server."
    entities = {content: json.loads(e) for _, content, _, e in rows}
    assert "SQLite" in entities["We chose SQLite because it needs no server."]
    assert "Postgres" in entities["Postgres was the alternative we rejected."]
    for (type_, _), n in derived_counts(app).items():
        assert n == 1, type_


def test_a_second_drain_does_nothing(app: Memman, data_dir: Path) -> None:
    app.remember("The deploy pipeline runs on GitHub Actions")
    drain_all(data_dir)
    head = app.db.log.head()
    [report] = drain_all(data_dir)
    assert report.processed == 0
    assert app.db.log.head() == head


def test_a_duplicate_is_none_and_deletes_nothing(app: Memman, data_dir: Path) -> None:
    app.remember("The API timeout is 30s")
    app.remember("the api timeout is 30s.")
    drain_all(data_dir)
    assert statuses(app) == {"The API timeout is 30s": "active", "the api timeout is 30s.": "superseded"}
    decisions = [r.event for r in app.db.log.read(types=["memory.reconciled"])]
    assert [d.decisions[0].action for d in decisions] == ["ADD", "NONE"]
    assert decisions[1].decisions[0].candidates  # the decision records what it was shown


def test_a_changed_value_supersedes_the_older_memory_which_stays_in_history(app: Memman, data_dir: Path) -> None:
    old = app.remember("The API timeout is 30s")
    drain_all(data_dir)
    new = app.remember("The API timeout is 60s")
    drain_all(data_dir)
    assert app.memory(old.id).status == "superseded"
    assert app.memory(old.id).superseded_by == new.id
    hits = recall(app.fresh(), app.store, "API timeout").results
    assert [h.content for h in hits] == ["The API timeout is 60s"]
    assert [r.type for r in app.db.log.for_memory(old.id)][0] == "memory.remembered"  # history kept


def test_a_memory_forgotten_before_the_drain_stays_forgotten(app: Memman, data_dir: Path) -> None:
    r = app.remember("Temporary note about the staging database")
    app.forget(r.id)
    drain_all(data_dir)
    assert app.memory(r.id).status == "forgotten"
    app.restore(r.id)
    assert app.memory(r.id).status == "active"  # restore gives back the drained memory


def test_replace_rederives_under_the_same_id(app: Memman, data_dir: Path) -> None:
    r = app.remember("Builds use Python 3.11")
    drain_all(data_dir)
    app.replace(r.id, "Builds use Python 3.12 and uv")
    assert app.memory(r.id).status == "pending"
    drain_all(data_dir)
    m = app.memory(r.id)
    assert (m.status, m.content) == ("active", "Builds use Python 3.12 and uv")
    vectors = app.db.vectors.conn.execute("SELECT count(*) FROM vectors WHERE memory_id=?", (r.id,)).fetchone()[0]
    assert vectors == 1


def test_a_replace_before_the_drain_skips_the_stale_text(app: Memman, data_dir: Path) -> None:
    r = app.remember("Deploys happen on Tuesdays")
    app.replace(r.id, "Deploys happen on Thursdays")
    [report] = drain_all(data_dir)
    assert report.processed == 1
    assert app.memory(r.id).content == "Deploys happen on Thursdays"


def test_a_failing_stage_is_recorded_and_retried_with_backoff(app: Memman) -> None:
    with freeze_time("2026-01-01T10:00:00Z") as clock:
        r = app.remember("Redis is used for the session cache")
        broken = BrokenEmbedder()
        report = drain_store(app.db, app.store, clock=app.clock, embedder=broken)
        assert (report.failed, report.remaining) == (1, 1)
        [failure] = [x.event for x in app.db.log.read(types=["derivation.failed"])]
        assert (failure.stage, failure.attempt, failure.dead) == ("embed", 1, False)
        assert "unreachable" in failure.error
        assert failure.retry_after == "2026-01-01T10:00:30.000000Z"
        # the extraction that succeeded is kept and will not be redone
        assert len(list(app.db.log.read(types=["facts.extracted"]))) == 1

        report = drain_store(app.db, app.store, clock=app.clock, embedder=broken)
        assert report.processed == 0  # not due yet
        clock.tick(timedelta(seconds=31))
        report = drain_store(app.db, app.store, clock=app.clock, embedder=create_embedder())
        assert (report.completed, report.remaining) == (1, 0)
    assert app.memory(r.id).status == "active"
    assert len(list(app.db.log.read(types=["facts.extracted"]))) == 1


def test_after_five_failures_the_input_is_dead_lettered_and_not_lost(app: Memman) -> None:
    with freeze_time("2026-01-01T10:00:00Z") as clock:
        r = app.remember("Kafka retention is 7 days")
        broken = BrokenEmbedder()
        waits = []
        for _ in range(5):
            drain_store(app.db, app.store, clock=app.clock, embedder=broken)
            failure = list(app.db.log.read(types=["derivation.failed"]))[-1].event
            if failure.retry_after:
                waits.append((from_iso(failure.retry_after) - app.clock()).total_seconds())
            clock.tick(timedelta(hours=2))
        assert waits == [30, 60, 120, 240]
        assert failure.dead and failure.attempt == 5
        report = drain_store(app.db, app.store, clock=app.clock, embedder=broken)
        assert report.processed == 0 and report.dead == 1
        assert broken.calls == 5
    state = app.db.main.conn.execute("SELECT state, attempts FROM work").fetchall()
    assert state == [("dead", 5)]
    hits = recall(app.fresh(), app.store, "Kafka retention", basic=True).results
    assert [(h.id, h.status) for h in hits] == [(r.id, "pending")]  # still there, still findable


def test_only_one_drain_runs_at_a_time(app: Memman, data_dir: Path) -> None:
    app.remember("Grafana dashboards live in the ops repo")  # a store to drain: the lock is taken per store
    with drain_lock(data_dir):
        with pytest.raises(StoreLocked, match="another drain is running"):
            drain_all(data_dir)
    drain_all(data_dir)  # released


def test_the_drain_binds_the_store_to_one_embedder(app: Memman, data_dir: Path) -> None:
    app.remember("Grafana dashboards live in the ops repo")
    drain_all(data_dir)
    assert app.db.setting("embedder") == create_embedder().fingerprint.key
    app.db.log.append(StoreConfigured(setting="embedder", value="static:other-model:256:deadbeef"))
    app.remember("Another memory")
    with pytest.raises(EmbedderMismatch, match="bound to embedder static:other-model"):
        drain_all(data_dir)


def test_the_temporal_backbone_links_consecutive_memories_of_one_source(app: Memman, data_dir: Path) -> None:
    a = app.remember("Kickoff meeting held with the platform team", source="user")
    b = app.remember("Agent opened the migration ticket", source="agent")
    c = app.remember("The team agreed on a March launch date", source="user")
    drain_all(data_dir)
    edges = app.db.main.conn.execute(
        "SELECT src, dst, edge_type FROM edges WHERE json_extract(meta, '$.rel') = 'precedes'"
    ).fetchall()
    assert edges == [(a.id, c.id, "temporal")]
    assert b.id not in {x for e in edges for x in e[:2]}


def test_imported_history_links_by_when_it_happened(app: Memman, data_dir: Path) -> None:
    from datetime import datetime, timezone

    late = app.remember("Launch postponed to April", at=datetime(2025, 3, 1, tzinfo=timezone.utc))
    early = app.remember("Launch planned for March", at=datetime(2025, 1, 1, tzinfo=timezone.utc))
    drain_all(data_dir)
    # `early` is derived second but occurred first: it has no predecessor
    edges = app.db.main.conn.execute(
        "SELECT src, dst FROM edges WHERE json_extract(meta, '$.rel') = 'precedes'"
    ).fetchall()
    assert (early.id, late.id) not in edges and (late.id, early.id) not in edges or edges == []
    assert Fingerprint  # the interface is importable for third-party embedders


def test_replacing_a_fact_split_off_another_text_inherits_that_texts_metadata(app: Memman, data_dir: Path) -> None:
    app.remember(
        "We run Postgres 16 in production. The staging cluster mirrors production nightly.",
        category="context",
        importance=4,
        source="user",
    )
    drain_all(data_dir)
    second = app.db.main.conn.execute("SELECT id FROM memories WHERE content LIKE 'The staging%'").fetchone()[0]
    app.replace(second, "The staging cluster mirrors production weekly")
    m = app.memory(second)
    assert (m.category, m.importance, m.source, m.status) == ("context", 4, "user", "pending")


def test_a_value_change_within_one_drain_supersedes(app: Memman, data_dir: Path) -> None:
    old = app.remember("The API timeout is 30s")
    app.remember("Unrelated: the cafeteria opens at 8")
    new = app.remember("The API timeout is 60s")
    drain_all(data_dir)  # all three in one chunk: the decision must see the first
    assert app.memory(old.id).superseded_by == new.id


@pytest.mark.parametrize("chunk", [1, 2, 100])
def test_decisions_do_not_depend_on_chunk_boundaries(app: Memman, data_dir: Path, chunk: int, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import workers.drain

    monkeypatch.setattr(workers.drain, "CHUNK", chunk)
    texts = [
        ("Kickoff with the data team", "user"),
        ("The batch window is 2h", "agent"),
        ("the batch window is 2h", "agent"),
        ("The batch window is 3h", "agent"),
        ("Launch review scheduled", "user"),
    ]
    for text, source in texts:
        app.remember(text, source=source)
    drain_all(data_dir)
    state = sorted(app.db.main.conn.execute("SELECT content, status FROM memories").fetchall())
    assert state == [
        ("Kickoff with the data team", "active"),
        ("Launch review scheduled", "active"),
        ("The batch window is 2h", "superseded"),
        ("The batch window is 3h", "active"),
        ("the batch window is 2h", "superseded"),
    ]
    edges = app.db.main.conn.execute(
        "SELECT a.content, b.content FROM edges JOIN memories a ON a.id = src JOIN memories b ON b.id = dst"
        " WHERE json_extract(edges.meta, '$.rel') = 'precedes'"
    ).fetchall()
    # 3h's only predecessor of its source is the 2h memory it supersedes: the
    # backbone links active memories; the supersession is `superseded_by`.
    assert edges == [("Kickoff with the data team", "Launch review scheduled")]


class MergingReconciler:
    """A reconciler stage that answers like an LLM merging two texts: UPDATE
    the older memory and carry the merged text (stands in for the model)."""

    implementation = "llm"
    version = "test"

    def decide(self, memory_id, text, entities, candidates):  # type: ignore[no-untyped-def]
        from events.types import Decision

        if not candidates:
            return Decision(memory_id=memory_id, action="ADD")
        old = candidates[0]
        return Decision(
            memory_id=memory_id,
            action="UPDATE",
            target=old.memory_id,
            reason="merged",
            text=f"{text} (previously: {old.content})",
        )


def test_an_update_that_merges_texts_stores_embeds_and_indexes_the_merged_text(app: Memman) -> None:
    from workers.pipeline import Pipeline
    from workers.stages.extract import RuleExtractor

    pipeline = Pipeline(extractor=RuleExtractor(), reconciler=MergingReconciler())
    old = app.remember("The staging cluster runs Kubernetes 1.29")
    drain_store(app.db, app.store, clock=app.clock, pipeline=pipeline)
    new = app.remember("The staging cluster runs Kubernetes 1.31")
    drain_store(app.db, app.store, clock=app.clock, pipeline=pipeline)
    merged = "The staging cluster runs Kubernetes 1.31 (previously: The staging cluster runs Kubernetes 1.29)"
    assert app.memory(new.id).content == merged and app.memory(old.id).status == "superseded"
    assert [h.id for h in recall(app.fresh(), app.store, "previously", basic=True).results] == [new.id]
    # the vector is the merged text's, not the extracted fact's
    embedder = create_embedder()
    stored = np.frombuffer(
        app.db.vectors.conn.execute("SELECT vec FROM vectors WHERE memory_id=?", (new.id,)).fetchone()[0], "<f2"
    ).astype(np.float32)  # stored as float16 (projections/vectors.py): the same vector within rounding
    assert float(stored @ embedder.embed([merged])[0]) > 0.999
    before = app.db.main.conn.execute("SELECT id, content, status FROM memories ORDER BY id").fetchall()
    app.db.replay()
    assert app.db.main.conn.execute("SELECT id, content, status FROM memories ORDER BY id").fetchall() == before
