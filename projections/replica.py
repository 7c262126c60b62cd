"""The local projections of a store whose log is in PostgreSQL are a read
replica of a log other machines write too (docs/postgres.md). Events only
append, except for erasure: a `memory.purged` tombstone recorded elsewhere
means events this replica has already applied were rewritten in place, so
catching up is not enough (the purged text would stay in its memories, FTS
index, vectors and caches). Such a replica drops every derived file and
replays from the scrubbed log, as the purging machine itself did.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import NoReturn

from events.clock import from_iso, to_iso
from events.errors import BackendUnavailable
from events.ids import ulid_time
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


# ------------------------------------------------------------ reading offline

SYNCED_FILE = "replica.synced"  # "<seq> <ISO time>": when this replica last matched the server's head
SYNC_NOTE_S = 60  # rewritten at most this often while the head stays where it was


def note_synced(directory: Path, seq: int, now: datetime) -> None:
    """Record that this replica held the whole shared log (up to `seq`) at
    `now`: what a recall answered offline says about its staleness. A store
    that cannot be written keeps no note (the warning then names the last
    event the replica holds instead)."""
    known = synced(directory)
    if known is not None and known[0] == seq and (now - known[1]).total_seconds() < SYNC_NOTE_S:
        return
    path = directory / SYNCED_FILE
    tmp = path.with_name(f"{SYNCED_FILE}.{os.getpid()}.tmp")
    try:
        tmp.write_text(f"{seq} {to_iso(now)}\n")
        tmp.replace(path)
    except OSError:
        tmp.unlink(missing_ok=True)


def synced(directory: Path) -> tuple[int, datetime] | None:
    """(seq, time) this replica last matched the shared log, if noted."""
    try:
        seq, at = (directory / SYNCED_FILE).read_text().split()
        return int(seq), from_iso(at)
    except (OSError, ValueError):
        return None


def offline_warning(where: str, directory: Path, mark: tuple[int, str] | None, now: datetime) -> str:
    """The one line a read answered without the server prints on stderr."""
    known = synced(directory)
    if known is not None:
        seq, at = known
        when = f"last in step with the server {_ago(now, at)} ({at:%Y-%m-%dT%H:%M:%SZ}, event #{seq})"
    elif mark is not None:
        when = f"holding the log up to event #{mark[0]}, recorded {_ago(now, ulid_time(mark[1]))}"
    else:
        when = "never caught up"
    return f"cannot reach the PostgreSQL log at {where}: answered from this machine's replica, {when}; writes fail until it is back"


def _ago(now: datetime, then: datetime) -> str:
    seconds = max(0, int((now - then).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit} ago"
    return f"{seconds} s ago"


class UnreachableLog:
    """Stands in for a shared log whose server cannot be reached, so that a
    read (recall) answers from the local replica alone (StoreDB.answer_offline).
    Whatever needs the log itself fails as the real one did: one line, exit 6."""

    backend = "postgresql"
    offline = True

    def __init__(self, where: str, error: BackendUnavailable) -> None:
        self.path = where  # the redacted URL, as the real log shows it
        self.error = error

    def _refuse(self, *args: object, **kwargs: object) -> NoReturn:
        raise BackendUnavailable(str(self.error))

    @property
    def conn(self) -> NoReturn:
        self._refuse()

    head = count = read = get = get_by_id = for_memory = seq_of_key = between = known_at = _refuse
    append = append_many = verify = derivations_of = derivations_of_many = has_derivation = _refuse

    def close(self) -> None:
        return None
