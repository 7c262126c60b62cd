"""What keeps a drain's cost flat as a store grows, checked for correctness
(the speed itself is measured by tools/bench_drain.py, never asserted):
drains in many small passes build exactly what a replay builds, the flat
vector cache follows by appending, and a small drain leaves the WAL to
SQLite's size-driven checkpoint instead of truncating it every time."""

from __future__ import annotations

from pathlib import Path

from memman.operations.maintenance import drain_all, verify
from memman.service import Memman
from projections.store import StoreDB
from projections.vectors import _cache_path, cache_problem, matrix

TEXTS = [
    "The billing service timeout is 30s",
    "Priya prefers Helix for code review",
    "We chose Postgres over MySQL because of JSONB",
    "The checkout project deploys to us-east-1",
    "The billing service timeout is 45s",
    "Dana owns the auth service",
    "Run database migrations with alembic upgrade head",
    "The payments API retry limit is 5",
]


def test_many_small_drains_build_what_a_replay_builds(app: Memman, data_dir: Path) -> None:
    for text in TEXTS:
        app.remember(text)
        drain_all(data_dir)
    report = verify(app)
    assert report.ok, report.differences
    db = app.db
    fingerprint = db.setting("embedder")
    assert fingerprint is not None
    ids, rows = matrix(db.vectors.conn, db.directory, fingerprint)
    table = db.vectors.conn.execute(
        "SELECT memory_id, vec FROM vectors WHERE fingerprint=? ORDER BY id", (fingerprint,)
    ).fetchall()
    assert ids == [m for m, _ in table]
    assert [r.astype("<f2").tobytes() for r in rows] == [v for _, v in table]  # float16 stored, float32 cached
    assert cache_problem(db.vectors.conn, db.directory, fingerprint) is None
    _cache_path(db.directory, fingerprint).unlink()  # a rebuilt cache equals the appended one
    again_ids, again = matrix(db.vectors.conn, db.directory, fingerprint)
    assert again_ids == ids and again.tobytes() == rows.tobytes()


def test_a_small_drain_does_not_truncate_the_wal_but_compaction_by_size_does(app: Memman, data_dir: Path) -> None:
    app.remember(TEXTS[0])
    drain_all(data_dir)
    directory = app.db.directory
    wal = directory / "log.db-wal"
    assert wal.exists() and wal.stat().st_size > 0  # left to the auto-checkpoint, not truncated per drain
    db = StoreDB(directory)
    try:
        db.log.head()
        db.compact(min_wal_bytes=wal.stat().st_size + 1)
        assert wal.stat().st_size > 0
        db.compact(min_wal_bytes=1)
        assert wal.stat().st_size == 0
    finally:
        db.close()


def test_a_drain_restores_the_garbage_collector_as_it_found_it(app: Memman, data_dir: Path) -> None:
    """The drain collects less often while it runs (workers/drain.py,
    `_fewer_collections`); afterwards, after a failure too, the thresholds
    and the frozen generation are what they were, and a heap the process
    froze itself (the warm server does) stays frozen."""
    import gc

    from workers import drain

    before = gc.get_threshold()
    seen: list[tuple[tuple[int, int, int], int]] = []
    real = drain._drain_store

    def watched(*args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append((gc.get_threshold(), gc.get_freeze_count()))
        return real(*args, **kwargs)

    try:
        drain._drain_store = watched  # type: ignore[assignment]
        app.remember("The billing service timeout is 30s")
        drain_all(data_dir)
        assert seen[0][0] == (drain.GC_YOUNG, *before[1:]) and seen[0][1] > 0
        assert (gc.get_threshold(), gc.get_freeze_count()) == (before, 0)

        def failing(*args, **kwargs):  # type: ignore[no-untyped-def]
            raise RuntimeError("a stage blew up")

        drain._drain_store = failing  # type: ignore[assignment]
        app.remember("Dana owns the auth service")
        try:
            drain_all(data_dir)
        except RuntimeError:
            pass
        assert (gc.get_threshold(), gc.get_freeze_count()) == (before, 0)

        # The frozen count is not a fixed number (a frozen object freed by
        # its reference count leaves the permanent generation), so a sentinel
        # says whether the heap is still frozen: unfrozen, it would be back
        # in the oldest generation.
        drain._drain_store = watched  # type: ignore[assignment]
        sentinel: list[object] = []
        gc.freeze()
        drain_all(data_dir)
        assert gc.get_freeze_count() > 0 and gc.get_threshold() == before
        assert not any(obj is sentinel for generation in range(3) for obj in gc.get_objects(generation))
    finally:
        drain._drain_store = real  # type: ignore[assignment]
        gc.unfreeze()


def test_a_drain_reads_through_a_larger_page_cache_and_restores_it(app: Memman, data_dir: Path) -> None:
    """Each local file's page cache is `DRAIN_CACHE_KIB` during a drain
    (workers/drain.py, `_page_cache`) and what it was afterwards."""
    from events.clock import utc_now
    from workers import drain

    seen: list[list[int]] = []
    real = drain._drain_store

    def watched(db, *args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append([h.conn.execute("PRAGMA cache_size").fetchone()[0] for h in (db.main, db.vectors, db.log)])
        return real(db, *args, **kwargs)

    app.remember("The billing service timeout is 30s")
    db = StoreDB(app.db.directory)
    try:
        before = [h.conn.execute("PRAGMA cache_size").fetchone()[0] for h in (db.main, db.vectors, db.log)]
        drain._drain_store = watched  # type: ignore[assignment]
        drain.drain_store(db, "default", clock=utc_now)
        after = [h.conn.execute("PRAGMA cache_size").fetchone()[0] for h in (db.main, db.vectors, db.log)]
    finally:
        drain._drain_store = real  # type: ignore[assignment]
        db.close()
    assert seen == [[-drain.DRAIN_CACHE_KIB] * 3]
    assert after == before and -drain.DRAIN_CACHE_KIB not in before
