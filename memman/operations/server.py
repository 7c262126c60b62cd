"""Operations on a PostgreSQL store's server projections (projections/server/)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from events.errors import BadInput
from memman.output.results import ServerReplayReport, StoreStatus

if TYPE_CHECKING:
    from memman.service import Memman


def replay_server(app: Memman) -> ServerReplayReport:
    """Rebuild every server projection from this machine's replica (caught
    up first), waiting for a worker that is advancing one."""
    from projections.server import mirror

    app.ensure_writable()
    db = app.db
    if not mirror.is_postgres(db):
        raise BadInput(f"--server needs a store on PostgreSQL; store {app.store!r} keeps its log in SQLite")
    started = time.perf_counter()
    rows = mirror.rebuild(db)
    seq = min(db.checkpoints()[name] for name in rows) if rows else db.log.head()
    return ServerReplayReport(
        store=app.store, server=db.log.path, seq=seq, rows=rows, seconds=round(time.perf_counter() - started, 3)
    )


def server_status(app: Memman, dsn: str) -> StoreStatus:
    """`status` on a machine that reads the server projections: counts from
    them (a memory not yet drained is `pending`, and is the backlog), the
    log's head and each server projection's lag, and no local replica built
    for it. What only the replica's work queue knows (failed and
    dead-lettered inputs, retention) is left out (0 / none)."""
    from projections.server.view import ServerView

    with ServerView(dsn, app.store, clock=app.clock) as view:
        pg, log = view.pg, view.log
        head = log.head()
        marks = {n: (s if v >= 0 else 0) for n, s, v in pg.execute("SELECT name, seq, version FROM proj_checkpoints")}
        by_status = dict(pg.execute("SELECT status, count(*) FROM proj_memories GROUP BY status").fetchall())
        by_category = dict(pg.execute(
            "SELECT category, count(*) FROM proj_memories WHERE status = 'active' GROUP BY category"
        ).fetchall())  # fmt: skip
        oldest = pg.execute("SELECT min(created_at) FROM proj_memories WHERE status = 'pending'").fetchone()[0]
        fingerprint = view.db.setting("embedder")
        vectors = pg.execute("SELECT count(*) FROM proj_vectors WHERE fingerprint = ?", [fingerprint]).fetchone()[0]
        edges = pg.execute("SELECT count(*) FROM proj_edges").fetchone()[0]
        return StoreStatus(
            store=app.store, path=str(app.registry.path(app.store)), events=log.count(), log_head=head,
            checkpoints=marks, by_status=by_status, by_category=by_category, backlog=by_status.get("pending", 0),
            failed=0, dead=0, oldest_pending=oldest, embedder=fingerprint, vectors=int(vectors), edges=int(edges),
            bytes={}, backend=log.path, server_lag={n: head - s for n, s in marks.items()},
        )  # fmt: skip
