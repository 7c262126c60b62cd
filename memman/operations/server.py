"""Operations on a PostgreSQL store's server projections (projections/server/)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from events.errors import BadInput
from memman.output.results import ServerReplayReport

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
