"""A replay returns the pages it freed (its staged edges, dropped tables) to
the file system: `events.db.reclaim` VACUUMs a file when a tenth of it is
free, and `memman events replay` calls it for the projection files."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import apsw

from events.db import reclaim
from memman.operations.maintenance import _dump, drain_all
from memman.service import Memman


def _pages(path: Path) -> tuple[int, int]:
    conn = apsw.Connection(str(path))
    try:
        return conn.execute("PRAGMA freelist_count").fetchone()[0], conn.execute("PRAGMA page_count").fetchone()[0]
    finally:
        conn.close()


def _with_free_pages(path: Path, rows: int) -> None:
    conn = apsw.Connection(str(path))
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE IF NOT EXISTS kept (x BLOB); CREATE TABLE junk (x BLOB)")
    with conn:
        conn.executemany("INSERT INTO kept VALUES (randomblob(1000))", [()] * 200)
        conn.executemany("INSERT INTO junk VALUES (randomblob(1000))", [()] * rows)
    conn.execute("DROP TABLE junk")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def test_a_file_a_tenth_free_is_vacuumed_and_keeps_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "p.db"
    _with_free_pages(path, 10)  # ~5% free: left alone
    conn = apsw.Connection(str(path))
    assert reclaim(conn) is False and _pages(path)[0] > 0
    conn.close()
    _with_free_pages(path, 400)
    conn = apsw.Connection(str(path))
    kept = conn.execute("SELECT x FROM kept ORDER BY rowid").fetchall()
    assert reclaim(conn) is True
    assert _pages(path)[0] == 0
    assert conn.execute("SELECT x FROM kept ORDER BY rowid").fetchall() == kept
    conn.close()


def test_a_busy_file_is_left_as_it_is(tmp_path: Path) -> None:
    path = tmp_path / "p.db"
    _with_free_pages(path, 400)
    writer = apsw.Connection(str(path))
    writer.execute("BEGIN IMMEDIATE")
    conn = apsw.Connection(str(path))  # no busy timeout: the lock is refused at once
    assert reclaim(conn) is False
    writer.execute("ROLLBACK")
    assert _pages(path)[0] > 0 and conn.execute("SELECT count(*) FROM kept").fetchone()[0] == 200
    conn.close()
    writer.close()


def test_events_replay_returns_the_free_pages_of_the_projection_files(data_dir: Path) -> None:
    with Memman(data_dir) as app:
        for text in ("Dana owns the billing service", "The billing timeout is 45s", "Priya prefers Vim"):
            app.remember(text)
        store = app.db.directory
    drain_all(data_dir)
    with Memman(data_dir) as app:
        before = {t: _dump(app.db.main.conn, t) for t in ("memories", "edge_rows", "edge_metas")}
    for name in ("projections.db", "vectors.db"):
        _with_free_pages(store / name, 2000)
        assert _pages(store / name)[0] > 400
    env = {"MEMMAN_DATA_DIR": str(data_dir), "MEMMAN_SERVER": "off", "MEMMAN_AUTODRAIN": "0", "PATH": "/usr/bin:/bin"}
    proc = subprocess.run([sys.executable, "-m", "memman", "events", "replay"], env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    for name in ("projections.db", "vectors.db"):
        free, pages = _pages(store / name)
        assert free < pages / 10, name
    with Memman(data_dir) as app:
        assert {t: _dump(app.db.main.conn, t) for t in before} == before
    verify = subprocess.run([sys.executable, "-m", "memman", "events", "verify"], env=env, capture_output=True, text=True)
    assert verify.returncode == 0, verify.stdout + verify.stderr


def test_a_rebuild_from_the_start_leaves_no_free_pages_nor_wal(tmp_path: Path) -> None:
    """A bulk catch-up (a replay, or the first open after a version bump)
    stages edges and drops tables; the file it leaves is compact."""
    from events.log import EventLog
    from events.types import Edge, EdgesInferred, Provenance
    from projections.graph import GraphProjector
    from projections.runner import ProjectionSet

    log = EventLog(tmp_path / "log.db")
    for n in range(300):
        edges = [Edge(src=f"M{n}", dst=f"M{k}", edge_type="entity", weight=0.5, meta={"entity": f"e{k}"}) for k in range(n)][-40:]
        if edges:
            log.append(EdgesInferred(edges=edges, provenance=Provenance(implementation="rules")))
    pset = ProjectionSet(tmp_path / "p.db", [GraphProjector()], log)
    pset.bulk_min = 10
    pset.catch_up()
    rows = _dump(pset.conn, "edge_rows")
    pset.replay()
    free, pages = _pages(tmp_path / "p.db")
    assert free == 0 and pages > 50
    assert not (tmp_path / "p.db-wal").exists() or (tmp_path / "p.db-wal").stat().st_size == 0
    assert _dump(pset.conn, "edge_rows") == rows


def test_a_projection_without_a_bulk_mode_is_compacted_after_its_rebuild_too(tmp_path: Path) -> None:
    """The vectors projection has no bulk mode; its rebuild after a version
    bump still returns the dropped table's pages."""
    from events.log import EventLog
    from events.types import MemoryEmbedded, Provenance, Vector
    from projections.runner import ProjectionSet
    from projections.vectors import VectorsProjector

    log = EventLog(tmp_path / "log.db")
    for n in range(60):
        vectors = [Vector(memory_id=f"M{n}-{k}", data=bytes(64)) for k in range(10)]  # type: ignore[arg-type]
        log.append(MemoryEmbedded(fingerprint="t:32", dim=32, vectors=vectors, provenance=Provenance(implementation="t")))
    pset = ProjectionSet(tmp_path / "v.db", [VectorsProjector()], log)
    pset.bulk_min = 10
    pset.catch_up()
    pset.close()
    _with_free_pages(tmp_path / "v.db", 400)  # what the old version's dropped table leaves
    again = ProjectionSet(tmp_path / "v.db", [VectorsProjector()], log)
    again.conn.execute("UPDATE checkpoints SET seq = 0, version = 3 WHERE name = 'vectors'")
    again.close()
    again = ProjectionSet(tmp_path / "v.db", [VectorsProjector()], log)
    again.bulk_min = 10
    again.catch_up()
    assert _pages(tmp_path / "v.db")[0] == 0
    assert again.conn.execute("SELECT count(*) FROM vectors").fetchone() == (600,)
