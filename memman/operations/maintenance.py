"""Operator work on a store: status, replay, verify, and the drain over every
store of a data dir."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import apsw

from events.clock import Clock, utc_now
from events.db import WAL_COMPACT_BYTES
from events.errors import DiskFull
from events.log import CORRUPT_LOG_FIX
from memman.output.results import Difference, ReplayReport, StoreStatus, VerifyReport
from memman.service import Memman
from memman.stores import Registry
from projections.graph import count as edge_count
from projections.runner import ProjectionSet
from projections.store import StoreDB

if TYPE_CHECKING:
    from workers.vectors.kept import KeptVectors

MAX_DIFFERENCES = 20


def status(app: Memman) -> StoreStatus:
    from memman.lifecycle.ops import status as retention_status
    from memman.recall.server import reads_server

    dsn = reads_server(app.registry.data_dir, app.store, app.registry.require(app.store))
    if dsn is not None:  # no replica on this machine: the counts come from the server projections
        from memman.operations.server import server_status

        return server_status(app, dsn)
    db = app.db
    lag = db.log.head() - min(db.checkpoints().values(), default=0)  # how far the local replica was behind
    if db.writable:
        db.repair()  # a damaged projection is rebuilt from the log (and said), not reported as "unexpected"
    try:
        db.catch_up()
    except DiskFull as exc:  # report what the projections hold, and say why they lag
        db.notices.append(f"counts may lag the log: {exc}")
    conn = db.main.conn
    by_status = dict(conn.execute("SELECT status, count(*) FROM memories GROUP BY status").fetchall())
    by_category = dict(
        conn.execute("SELECT category, count(*) FROM memories WHERE status='active' GROUP BY category").fetchall()
    )
    work = dict(conn.execute("SELECT state, count(*) FROM work GROUP BY state").fetchall())
    oldest = conn.execute("SELECT min(queued_at) FROM work WHERE state IN ('pending','failed')").fetchone()[0]
    fingerprint = db.setting("embedder")
    vectors = 0
    if fingerprint:
        vectors = db.vectors.conn.execute(
            "SELECT count(*) FROM vectors WHERE fingerprint=?", (fingerprint,)
        ).fetchone()[0]
    sizes = {  # each database with its write-ahead log, which holds recent writes until a checkpoint
        p.name: p.stat().st_size + (w.stat().st_size if (w := p.with_name(p.name + "-wal")).exists() else 0)
        for p in sorted(db.directory.iterdir())
        if p.is_file() and p.suffix == ".db"
    }
    return StoreStatus(
        store=app.store,
        path=str(app.registry.path(app.store)),
        events=db.log.count(),
        log_head=db.log.head(),
        checkpoints=db.checkpoints(),
        by_status=by_status,
        by_category=by_category,
        backlog=work.get("pending", 0) + work.get("failed", 0),
        failed=work.get("failed", 0),
        dead=work.get("dead", 0),
        oldest_pending=oldest,
        embedder=fingerprint,
        vectors=vectors,
        edges=edge_count(conn),
        bytes=sizes,
        retention=retention_status(app),
        backend=db.log.path if db.log.backend != "sqlite" else "sqlite",  # a PostgreSQL log's path is its redacted URL
        replica_lag=lag,
        server_lag=_server_lag(db),
    )


def _server_lag(db: StoreDB) -> dict[str, int] | None:
    from projections.server import mirror

    return mirror.lag(db) if mirror.is_postgres(db) else None


def replay(app: Memman, names: list[str] | None = None, progress: Callable[[int, int], None] | None = None) -> ReplayReport:
    db = app.db
    started = time.perf_counter()
    db.repair()  # a damaged file is moved aside first: dropping its tables in place may not work
    db.replay(names or None, progress=progress)
    if names is None or "vectors" in names:  # the flat caches are derived too: rebuilt on the next read
        for cache in db.directory.glob("vectors-*.f32"):
            cache.unlink(missing_ok=True)
    db.reclaim()  # the pages a replay freed (its staged edges, dropped tables) back to the file system
    db.compact()
    return ReplayReport(
        store=app.store,
        projections=names or db.projection_names(),
        events_applied=db.log.head(),  # every log event was replayed through the chosen projections
        seconds=round(time.perf_counter() - started, 3),
    )


def _dump(conn: apsw.Connection, table: str) -> list[tuple]:
    """Every row, ordered. A virtual table's hidden columns (FTS5's own-name
    and rank columns hold per-cursor values) are left out and its rowid,
    which ties an index row to its memory, is put in."""
    info = conn.execute(f"PRAGMA table_xinfo({table})").fetchall()
    columns = [r[1] for r in info if r[6] != 1]  # 1: hidden column of a virtual table
    if len(columns) < len(info):
        columns.insert(0, "rowid")
    return conn.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY {', '.join(columns)}").fetchall()


def _compare(live: ProjectionSet, scratch: ProjectionSet) -> list[Difference]:
    found: list[Difference] = []
    for projector in live.projectors:
        for table in projector.tables:
            a, b = _dump(live.conn, table), _dump(scratch.conn, table)
            if a == b:
                continue
            only_live = sorted(set(a) - set(b))[:3]
            only_rebuilt = sorted(set(b) - set(a))[:3]
            detail = f"{len(a)} live rows vs {len(b)} rebuilt"
            if only_live:
                detail += f"; live only: {[r[:3] for r in only_live]}"
            if only_rebuilt:
                detail += f"; rebuilt only: {[r[:3] for r in only_rebuilt]}"
            found.append(Difference(table=table, detail=detail))
    return found


def _vector_caches(db: StoreDB) -> list[Difference]:
    from projections.vectors import cache_problem

    found = []
    for (fingerprint,) in db.vectors.conn.execute("SELECT fingerprint FROM vector_sets").fetchall():
        problem = cache_problem(db.vectors.conn, db.directory, fingerprint)
        if problem:
            found.append(Difference(table="vector cache", detail=problem))
    return found


def verify(app: Memman) -> VerifyReport:
    """Rebuild every projection into a scratch copy and compare row for row."""
    started = time.perf_counter()
    db = app.db
    problems = db.log.verify()  # first: a damaged log must be reported, not replayed from
    if problems:
        return VerifyReport(
            store=app.store, ok=False, log_problems=problems, differences=[],
            seconds=round(time.perf_counter() - started, 3), fix=CORRUPT_LOG_FIX,
        )
    damaged = db.damaged()
    if damaged:
        return VerifyReport(
            store=app.store, ok=False, log_problems=[], seconds=round(time.perf_counter() - started, 3),
            differences=[Difference(table=name, detail=f"damaged ({why})") for name, why in damaged.items()],
            fix=f"memman --store {app.store} events replay (moves the damaged file aside and rebuilds it from the log)",
        )
    try:
        db.catch_up()
    except DiskFull as exc:  # the log was checked; the projections cannot be brought level to compare
        db.notices.append(f"the log is sound; projections were not compared: {exc}")
        return VerifyReport(store=app.store, ok=True, log_problems=[], differences=[],
                            seconds=round(time.perf_counter() - started, 3))
    differences: list[Difference] = []
    with tempfile.TemporaryDirectory(prefix="memman-verify-") as tmp:
        for live in db.sets:
            scratch = ProjectionSet(Path(tmp) / live.path.name, live.projectors, db.log)
            try:
                scratch.catch_up()
                if scratch.checkpoints() != live.checkpoints():
                    differences.append(
                        Difference(table="checkpoints", detail=f"{live.checkpoints()} vs {scratch.checkpoints()}")
                    )
                differences.extend(_compare(live, scratch))
            finally:
                scratch.close()
        differences += _vector_caches(db)
        for index in ("memories_fts", "memories_wide"):
            try:  # rank=1: check the index against its content too
                db.main.conn.execute(f"INSERT INTO {index}({index}, rank) VALUES ('integrity-check', 1)")
            except apsw.Error as exc:
                differences.append(Difference(table=index, detail=f"FTS index integrity check failed: {exc}"))
    return VerifyReport(
        store=app.store,
        ok=not problems and not differences,
        log_problems=problems,
        differences=differences[:MAX_DIFFERENCES],
        seconds=round(time.perf_counter() - started, 3),
        fix=f"memman --store {app.store} events replay" if differences else None,
    )


def drain_one(
    data_dir: Path,
    directory: Path,
    name: str,
    *,
    settings_store: str | None = None,
    clock: Clock = utc_now,
    limit: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    kept: KeptVectors | None = None,
):  # type: ignore[no-untyped-def]
    """Drain the store in `directory` under the settings (LLM, embeddings) of
    `settings_store` (default: `name`). The caller holds the drain lock.
    `kept`: a long-running worker's vector sets (workers.vectors.kept.KeptVectors)."""
    from memman.config import settings_for
    from memman.operations.embed import embedder_settings
    from workers.drain import drain_store
    from workers.pipeline import build_pipeline

    settings_store = settings_store or name
    db = StoreDB(directory, clock=clock)
    from workers.providers.breaker import DIRECTORY as BREAKERS

    # rules, or the store's LLM; its circuit breaker shared with every drain of the data dir
    pipeline = build_pipeline(settings_for(data_dir, settings_store).llm, breakers=str(data_dir / BREAKERS))
    try:
        return drain_store(
            db,
            name,
            clock=clock,
            limit=limit,
            progress=progress,
            pipeline=pipeline,
            embeddings=embedder_settings(data_dir, settings_store),
            kept=kept,
        )
    finally:
        pipeline.close()
        db.compact(min_wal_bytes=WAL_COMPACT_BYTES)
        db.close()


def drain_all(
    data_dir: Path,
    *,
    stores: list[str] | None = None,
    clock: Clock = utc_now,
    limit: int | None = None,
    progress: Callable[[str, int, int], None] | None = None,
    wait_s: float = 0.0,
    on_wait: Callable[[str, str], None] | None = None,
    kept: KeptVectors | None = None,
):  # type: ignore[no-untyped-def]
    """Drain every store (or those named), each under its own lock, so one
    slow or locked store never holds up the others. A store another drain is
    working on is skipped, or, with `wait_s`, drained once that drain lets go
    (the free stores first; all within `wait_s` seconds together). If every
    chosen store stayed locked, StoreLocked. `on_wait(store, pid)` is told
    before waiting on a store."""
    import time

    from events.errors import StoreLocked
    from workers.lock import store_lock

    registry = Registry(data_dir)
    reports = []
    locked: list[StoreLocked] = []
    deadline = time.monotonic() + wait_s
    names = list(stores or registry.names())
    for waiting in (False, True):
        busy: list[str] = []
        for name in names:
            step = (lambda done, total, n=name: progress(n, done, total)) if progress else None
            directory = registry.require(name)
            told = (lambda pid, n=name: on_wait(n, pid)) if on_wait and waiting else None
            patience = {"wait_s": wait_s, "until": deadline} if waiting else {}
            try:
                with store_lock(data_dir, directory, on_wait=told, **patience):
                    reports.append(
                        drain_one(data_dir, directory, name, clock=clock, limit=limit, progress=step, kept=kept)
                    )
                    retain(data_dir, directory, name, clock=clock)
            except StoreLocked as exc:
                busy.append(name)
                if waiting or wait_s <= 0:
                    locked.append(exc)
        names = busy
        if not busy or wait_s <= 0:
            break
    if locked and not reports:
        raise locked[0]
    if locked:
        from memman.exits import warn

        for exc in locked:
            warn(f"skipped: {exc}")
    return reports


def retain(data_dir: Path, directory: Path, name: str, *, clock: Clock = utc_now):  # type: ignore[no-untyped-def]
    """The retention step after a store's drain (memman/lifecycle/ops.py):
    fold recorded use into the log, record a changed [retention] policy,
    and run gc when its cadence is due; then, on a PostgreSQL store with
    server projections, advance them to this replica (every pass, so a
    `serve` woken by another machine's remember keeps them fresh). The
    caller holds the drain lock."""
    from memman.config import settings_for
    from memman.lifecycle.ops import maintain

    from projections.server import mirror

    db = StoreDB(directory, clock=clock)
    try:
        done = maintain(db, name, settings_for(data_dir, name).retention, clock())
        if mirror.enabled(db):  # last, so they include what retention appended (projections/server/mirror.py)
            db.catch_up()
            mirror.advance(db)
        return done
    finally:
        db.compact(min_wal_bytes=WAL_COMPACT_BYTES)
        db.close()
