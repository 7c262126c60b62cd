"""The graphs: a drain produces temporal, entity, semantic, causal and story
edges offline; manual links survive replay and rebuild; a policy change is
re-derived by `graph rebuild` (recorded in the log, so replay reproduces it);
related walks the graph breadth-first."""

from __future__ import annotations

from pathlib import Path

import pytest

from memman import config
from memman.operations.graph import rebuild, related, stats
from memman.operations.maintenance import drain_all
from memman.service import Memman

HISTORY = [
    ("The nightly ETL job on the orders table kept timing out", "user", "2025-03-01T09:00:00Z"),
    ("We moved the ETL to Spark because the nightly job kept timing out", "user", "2025-03-01T09:10:00Z"),
    ("Priya leads Project Falcon", "user", "2025-03-02T10:00:00Z"),
    ("Project Falcon's backend is written in Rust", "agent", "2025-03-05T10:00:00Z"),
    ("Deployments for Project Falcon run on Fridays", "agent", "2025-03-09T10:00:00Z"),
    ("The ETL job reads the orders table through Spark", "agent", "2025-03-10T10:00:00Z"),
]


@pytest.fixture
def store(app: Memman, data_dir: Path) -> Memman:
    from events.clock import from_iso

    for text, source, at in HISTORY:
        app.remember(text, source=source, at=from_iso(at))
    drain_all(data_dir)
    return app


def id_of(app: Memman, content: str) -> str:
    return app.db.main.conn.execute("SELECT id FROM memories WHERE content = ?", (content,)).fetchone()[0]


def edges(app: Memman) -> set[tuple[str, str, str]]:
    rows = app.db.main.conn.execute(
        "SELECT a.content, b.content, edge_type FROM edges JOIN memories a ON a.id = src JOIN memories b ON b.id = dst"
    ).fetchall()
    return set(rows)


def test_a_drain_produces_every_edge_type_offline(store: Memman) -> None:
    found = edges(store)
    kinds = {k for _, _, k in found}
    assert kinds == {"temporal", "entity", "semantic", "causal", "story"}
    # the reason causes the decision (cue: because), cause -> effect
    assert (HISTORY[0][0], HISTORY[1][0], "causal") in found
    # the change ("moved") continues the problem's story ("kept timing out"), earlier -> later
    assert (HISTORY[0][0], HISTORY[1][0], "story") in found
    # a shared rare entity links memories across sources and weeks
    assert (HISTORY[2][0], HISTORY[3][0], "entity") in found
    # the backbone follows each source in time
    assert (HISTORY[0][0], HISTORY[1][0], "temporal") in found
    assert (HISTORY[3][0], HISTORY[4][0], "temporal") in found


def test_manual_links_survive_replay_and_rebuild(store: Memman, data_dir: Path) -> None:
    a, b = id_of(store, HISTORY[2][0]), id_of(store, HISTORY[1][0])
    store.link(a, b, "related", 0.5)
    store.db.replay()
    rebuild(store)
    assert (HISTORY[2][0], HISTORY[1][0], "related") in edges(store)


def test_a_policy_change_is_rederived_by_rebuild_and_replayed_exactly(store: Memman, data_dir: Path) -> None:
    assert any(k == "semantic" for _, _, k in edges(store))
    config.set_value(data_dir, "graph.semantic", "skip")
    report = rebuild(store, dry_run=True)
    head = store.db.log.head()
    assert report.dry_run and "semantic" not in report.after and store.db.log.head() == head
    report = rebuild(store)
    after = edges(store)
    assert not any(k == "semantic" for _, _, k in after)
    assert {k for _, _, k in after} >= {"temporal", "entity", "causal"}
    assert stats(store).policy == report.policy != "p" + "0" * 10
    store.db.replay()
    assert edges(store) == after  # the rebuild is in the log


def test_a_rebuild_under_the_same_policy_gives_the_same_edges(store: Memman) -> None:
    before = edges(store)
    rebuild(store)
    assert edges(store) == before


def test_new_memories_after_a_rebuild_follow_the_recorded_policy(store: Memman, data_dir: Path) -> None:
    config.set_value(data_dir, "graph.semantic", "skip")
    rebuild(store)
    store.remember("Project Falcon's frontend is written in TypeScript", source="agent")
    drain_all(data_dir)
    assert not any(k == "semantic" for _, _, k in edges(store))


def test_related_walks_breadth_first_and_filters_by_type(store: Memman) -> None:
    priya = id_of(store, HISTORY[2][0])
    one = related(store, priya, depth=1)
    two = related(store, priya, depth=2)
    assert {n.content for n in one} < {n.content for n in two}
    assert all(n.depth == 1 for n in one)
    assert all(n.edge_type == "entity" for n in related(store, priya, edge_type="entity", depth=2))
    assert HISTORY[3][0] in {n.content for n in related(store, priya, edge_type="entity")}


def test_stats_count_edges_and_coverage(store: Memman) -> None:
    s = stats(store)
    assert s.memories == len(HISTORY) and s.linked == len(HISTORY)
    assert set(s.edges) == {"temporal", "entity", "semantic", "causal", "story"} and s.mean_degree > 1


def test_stale_only_skips_a_store_already_under_the_policy(store: Memman, data_dir: Path) -> None:
    rebuild(store)  # records the (default) policy
    head = store.db.log.head()
    report = rebuild(store, stale_only=True)
    assert report.skipped and store.db.log.head() == head
    config.set_value(data_dir, "graph.proximity_cap", "1")
    report = rebuild(store, stale_only=True)
    assert not report.skipped and store.db.log.head() > head
