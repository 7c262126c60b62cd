"""A replay from the start runs the memories and graph projectors in bulk
mode (full-text indexes and the edges' dst index built once at the end): it
builds exactly what the incremental path builds, and a bulk replay a crash
interrupted is finished by the next open of the projections, never left
with rows missing from the full-text index."""

from __future__ import annotations

from pathlib import Path

from memman.operations.maintenance import drain_all, verify
from memman.service import Memman
from projections.queries import keyword_search
from projections.store import StoreDB

TEXTS = [
    "The billing service timeout is 30s",
    "Priya prefers Helix for code review",
    "We chose Postgres over MySQL because of JSONB",
    "東京のサーバーは毎晩再起動する",
    "The billing service timeout is 45s",
    "Dana owns the auth service",
]


def _store(app: Memman, data_dir: Path) -> Path:
    for text in TEXTS:
        app.remember(text)
    drain_all(data_dir)
    app.db.catch_up()
    return app.db.directory


def _triggers(db: StoreDB) -> set[str]:
    return {r[0] for r in db.main.conn.execute("SELECT name FROM sqlite_master WHERE type IN ('trigger', 'index')")}


def test_a_bulk_replay_builds_what_the_incremental_path_built(app: Memman, data_dir: Path) -> None:
    directory = _store(app, data_dir)
    db = StoreDB(directory)
    try:
        before = _triggers(db)
        settings = [db.main.conn.execute(f"PRAGMA {p}").fetchone()[0] for p in ("cache_size", "wal_autocheckpoint")]
        db.main.bulk_min = 1
        db.replay()
        assert _triggers(db) == before  # triggers and indexes are back
        # the bulk page cache and WAL size were for the replay only
        assert [db.main.conn.execute(f"PRAGMA {p}").fetchone()[0] for p in ("cache_size", "wal_autocheckpoint")] == settings
        assert not [n for (n,) in db.main.conn.execute("SELECT name FROM checkpoints") if n.startswith("bulk:")]
        assert [i for i, _ in keyword_search(db.main.conn, "Helix", limit=5)]
        assert [i for i, _ in keyword_search(db.main.conn, "東京のサーバー", limit=5)]
    finally:
        db.close()
    report = verify(app)
    assert report.ok, report.differences


def test_an_interrupted_bulk_replay_is_finished_by_the_next_open(app: Memman, data_dir: Path) -> None:
    directory = _store(app, data_dir)
    expected = {i for i, _ in keyword_search(app.db.main.conn, "billing OR Helix OR Dana", limit=50)}
    db = StoreDB(directory)
    pset = db.main
    pset.reset()
    assert pset._bulk_begin(0, db.log.head() + pset.bulk_min)  # bulk mode on, marker written
    pset.bulk_min = 10**9
    pset.catch_up()  # every event applied without the triggers; the crash comes before bulk_end
    assert "memories_fts_insert" not in _triggers(db)
    db.close()
    again = StoreDB(directory)
    try:
        assert "memories_fts_insert" in _triggers(again) and "edges_dst" in _triggers(again)
        found = {i for i, _ in keyword_search(again.main.conn, "billing OR Helix OR Dana", limit=50)}
        assert found == expected and found
    finally:
        again.close()
    report = verify(app)
    assert report.ok, report.differences
