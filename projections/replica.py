"""The local projections of a store whose log is in PostgreSQL are a read
replica of a log other machines write too (docs/postgres.md). Events only
append, except for erasure: a `memory.purged` tombstone recorded elsewhere
means events this replica has already applied were rewritten in place, so
catching up is not enough (the purged text would stay in its memories, FTS
index, vectors and caches). Such a replica drops every derived file and
replays from the scrubbed log, as the purging machine itself did.
"""

from __future__ import annotations

from pathlib import Path

from events.log import EventLog

# Never derived: the log (a SQLite one, or where a PostgreSQL one lives) and
# the use records (ids and times only, folded into the log by the drain).
_KEPT_PREFIXES = ("log.db", "backend.dsn", "access.")


def purged_since(log: EventLog, applied: int) -> bool:
    """Whether the log records a purge after seq `applied` (one indexed read)."""
    row = log.conn.execute(
        "SELECT seq FROM events WHERE type = 'memory.purged' AND seq > ? ORDER BY seq LIMIT 1", (applied,)
    ).fetchone()
    return row is not None


def drop_derived(directory: Path, keep: set[str]) -> list[str]:
    """Delete the store's derived files (projections, vectors and their flat
    caches, query and LLM caches, files set aside as corrupt) except `keep`,
    the files this process has open; returns the names deleted."""
    removed = []
    for path in sorted(directory.iterdir()):
        name = path.name
        if not path.is_file() or name.startswith(_KEPT_PREFIXES) or name.split("-")[0] in keep:
            continue
        path.unlink(missing_ok=True)
        removed.append(name)
    return removed
