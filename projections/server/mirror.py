"""Keeping the server projections up to date from a worker's local replica.

Any machine with a replica (a drain worker, `serve`, `events replay
--server`) advances them: per projection, one PostgreSQL transaction locks
its checkpoint row, reads which memories the events since that checkpoint
concern (up to what the local replica has applied), copies those memories'
replica rows over the server's, and moves the checkpoint, all in that
transaction. So a failure anywhere changes nothing, checkpoint included,
and the next pass redoes the range.

Why copy the replica's rows rather than apply events in PostgreSQL: the
replica's projectors are the one place where events become rows (supersession,
stale derivations, manual edges winning, ...); a second set of rules in SQL
would drift from them, and `events verify` compares replica rows with a
replay, which then vouches for the server rows too. Rows are a pure function
of the log up to a seq, so two replicas at the same seq hold the same rows
and it does not matter which worker copies them.

Two workers at once: a worker locks the checkpoint row with `FOR UPDATE
SKIP LOCKED`, so while one advances a projection the other skips it (it is
being done) instead of waiting or applying the same range twice. A rebuild
(`events replay --server`) waits for the lock instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from events.db import translated_errors
from projections.server import schema
from projections.server.tables import Table, tables

if TYPE_CHECKING:
    from projections.store import StoreDB

_SETUP_LOCK = 0x6D656D70726F6A  # pg_advisory_xact_lock key while creating the tables ("memproj")
REBUILD_LOCK_TIMEOUT = "10min"  # a rebuild waits for a worker's advance (an HNSW build) this long


def is_postgres(db: StoreDB) -> bool:
    return getattr(db.log, "backend", "sqlite") == "postgresql"


def enabled(db: StoreDB) -> bool:
    """Whether this store's database has server projections (someone asked for
    them: `events replay --server` or `store create --reads server`)."""
    if not is_postgres(db):
        return False
    row = db.log.conn.execute("SELECT to_regclass('proj_checkpoints') IS NOT NULL").fetchone()
    return bool(row and row[0])


def _pg(db: StoreDB) -> Any:
    return db.log.raw  # type: ignore[attr-defined]


def setup(db: StoreDB) -> None:
    """Create the checkpoint table and a row per projection (idempotent; an
    unknown version makes the next advance rebuild that projection)."""
    from events.backends.postgres import pg_errors

    pg = _pg(db)
    with pg_errors(db.log.path), pg.transaction():
        pg.execute("SELECT pg_advisory_xact_lock(%s)", (_SETUP_LOCK,))
        pg.execute("CREATE EXTENSION IF NOT EXISTS vector")
        pg.execute(schema.CHECKPOINTS)
        for ddl in schema.CREATE.values():  # empty until a worker advances them: readers find nothing, not an error
            pg.execute(ddl)
        for t in tables(None):
            pg.execute(
                "INSERT INTO proj_checkpoints (name, seq, version) VALUES (%s, 0, -1) ON CONFLICT DO NOTHING",
                (t.name,),
            )


def advance(db: StoreDB, *, wait: bool = False) -> dict[str, int]:
    """Bring every server projection up to this machine's replica; returns
    {projection: rows copied} for those advanced (a projection another worker
    is advancing right now is skipped, unless `wait`)."""
    from events.backends.postgres import pg_errors

    done: dict[str, int] = {}
    bound = db.setting("embedder")
    with pg_errors(db.log.path):
        for t in tables(bound):
            copied = _advance_one(db, t, wait=wait)
            if copied is not None:
                done[t.name] = copied
    return done


def rebuild(db: StoreDB) -> dict[str, int]:
    """Drop and rebuild every server projection from this machine's replica
    (caught up first): `events replay --server`."""
    from events.backends.postgres import pg_errors

    db.catch_up()
    setup(db)
    pg = _pg(db)
    with pg_errors(db.log.path), pg.transaction():
        pg.execute(f"SET LOCAL lock_timeout = '{REBUILD_LOCK_TIMEOUT}'")
        pg.execute("SELECT 1 FROM proj_checkpoints FOR UPDATE")  # wait for any worker's advance to finish
        pg.execute("UPDATE proj_checkpoints SET version = -1, seq = 0")
    return advance(db, wait=True)


def _advance_one(db: StoreDB, t: Table, *, wait: bool) -> int | None:
    """One projection in one transaction; None when there was nothing to do
    or another worker holds it."""
    pg = _pg(db)
    pset = getattr(db, t.source)
    with pg.transaction():
        if wait:
            pg.execute(f"SET LOCAL lock_timeout = '{REBUILD_LOCK_TIMEOUT}'")
        lock = "FOR UPDATE" if wait else "FOR UPDATE SKIP LOCKED"
        row = pg.execute(f"SELECT seq, version FROM proj_checkpoints WHERE name = %s {lock}", (t.name,)).fetchone()
        if row is None:  # another worker holds it (or setup has not run)
            return None
        start, version = row
        with translated_errors(pset.path), _snapshot(pset.conn):
            if _replaying(pset, t.name):
                return None  # its rows are not all in place until the replay's bulk mode ends (runner.BULK_MIN_EVENTS)
            if version != t.version:
                pg.execute(schema.DROP[t.name])
                pg.execute(schema.CREATE[t.name])
                start = 0
            target = pset.checkpoints()[t.name]
            if target <= start and version == t.version:
                return None
            ids = None if start == 0 else _touched(db, t, start, target)
            if ids is not None and not ids:
                copied = 0
            else:
                t.delete(pg, ids)
                copied = _copy(pg, t, t.rows(pset.conn, ids))
            t.finish(pg, pset.conn)
        pg.execute("UPDATE proj_checkpoints SET seq = %s, version = %s WHERE name = %s", (target, t.version, t.name))
    return copied


def _replaying(pset: Any, name: str) -> bool:
    """Whether a replay of this replica projection is in bulk mode (it may
    hold rows aside, e.g. the graph's staged edges, while its checkpoint moves)."""
    from projections.runner import _BULK

    return pset.conn.execute("SELECT 1 FROM checkpoints WHERE name = ?", (_BULK + name,)).fetchone() is not None


class _snapshot:
    """A read transaction on the replica: its checkpoint and the rows copied
    come from one snapshot, even if another process advances it meanwhile."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn

    def __enter__(self) -> None:
        self.conn.execute("BEGIN")

    def __exit__(self, *exc: object) -> None:
        self.conn.execute("COMMIT")


def _touched(db: StoreDB, t: Table, start: int, target: int) -> list[str] | None:
    """The memory ids the events in (start, target] concern, or None when
    one of them may have changed rows beyond those (copy everything)."""
    ids: dict[str, None] = {}
    for rec in db.log.read(after=start, upto=target, types=t.handles(), scan=True):
        if t.everything(rec):
            return None
        ids.update(dict.fromkeys(rec.event.memory_ids()))
    return list(ids)


def _copy(pg: Any, t: Table, rows: Iterable[tuple[object, ...]]) -> int:
    count = 0
    with pg.cursor() as cur, cur.copy(f"COPY {t.table} ({', '.join(t.columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
            count += 1
    return count


def lag(db: StoreDB) -> dict[str, int] | None:
    """How many seqs each server projection is behind the log's head, or None
    when this store has none."""
    if not enabled(db):
        return None
    head = db.log.head()
    rows = db.log.conn.execute("SELECT name, seq, version FROM proj_checkpoints").fetchall()
    return {name: head - (seq if version >= 0 else 0) for name, seq, version in rows}
