"""Where a store's log lives: SQLite (the default, `<store>/log.db`) or
PostgreSQL (a DSN recorded in `<store>/backend.dsn`, mode 0600).

Both backends keep one contract (tests/events/test_log.py runs the same
`EventLogContract` against each): append / append_many, reads by seq, type,
memory and time, idempotent derivations, append-only enforced by the schema,
a gap-free seq, and `verify()`. `open_log` is the one place that picks one.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from events.clock import Clock, utc_now

if TYPE_CHECKING:
    from events.log import EventLog

LOG_FILE = "log.db"
BACKEND_FILE = "backend.dsn"


def backend_of(directory: Path) -> str | None:
    """The PostgreSQL DSN a store's log lives in, or None for a SQLite log."""
    try:
        text = (directory / BACKEND_FILE).read_text().strip()
    except FileNotFoundError:
        return None
    return text or None


def record_backend(directory: Path, dsn: str | None) -> None:
    """Record (or with None remove) a store's PostgreSQL DSN, readable by its owner only."""
    path = directory / BACKEND_FILE
    if dsn is None:
        path.unlink(missing_ok=True)
        return
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(dsn + "\n")
    os.chmod(tmp, 0o600)
    tmp.replace(path)


def has_log(directory: Path) -> bool:
    return (directory / LOG_FILE).exists() or (directory / BACKEND_FILE).exists()


def open_log(directory: Path, *, clock: Clock = utc_now, readonly: bool = False) -> EventLog:
    """The log of the store in `directory`, on whichever backend it records."""
    dsn = backend_of(directory)
    if dsn is not None:
        from events.backends.postgres import PostgresEventLog

        return PostgresEventLog(dsn, clock=clock, readonly=readonly)
    from events.log import EventLog

    return EventLog(directory / LOG_FILE, clock=clock, readonly=readonly)
