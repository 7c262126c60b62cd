"""SQLite plumbing shared by the log and the projections: how a database is
opened, how a write transaction is taken, and the one seam where apsw errors
become memman errors."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
import os
import time
from pathlib import Path

import apsw

from events.errors import DiskFull, ReadOnlyStore, StoreCorrupt, StoreLocked

BUSY_TIMEOUT_MS = 10_000
WAL_SIZE_LIMIT = 4 * 1024 * 1024
# A drain truncates a WAL only past this size; below it the auto-checkpoint
# (every WAL_AUTOCHECKPOINT_PAGES) keeps it small enough for a cold open.
WAL_COMPACT_BYTES = 2 * 1024 * 1024
WAL_AUTOCHECKPOINT_PAGES = 128  # ~512 KiB: a cold open scans it in well under a millisecond


LOG_FIX = "the event log is the source of truth: restore log.db from a backup"


def connect(path: Path, *, readonly: bool = False) -> apsw.Connection:
    """Open a SQLite file the way every memman database is opened (WAL, NORMAL sync)."""
    if readonly:
        flags = apsw.SQLITE_OPEN_READONLY
    else:
        flags = apsw.SQLITE_OPEN_READWRITE | apsw.SQLITE_OPEN_CREATE
    fix = LOG_FIX if path.name == "log.db" else "delete it and run 'memman events replay'"
    with translated_errors(path, fix=fix):
        created = not readonly and not path.exists()
        try:
            conn = apsw.Connection(str(path), flags=flags)
        except apsw.CantOpenError as exc:
            raise StoreCorrupt(f"cannot open {path}: {exc}") from exc
        if created:  # owner-only; SQLite gives the -wal and -shm files the same mode
            path.touch(mode=0o600, exist_ok=True)
            os.chmod(path, 0o600)
        conn.setbusytimeout(BUSY_TIMEOUT_MS)
        # A one-shot process is usually the last connection; by default it would
        # checkpoint the whole WAL on close (~12 ms per `remember`). Leave that
        # to the auto-checkpoint that runs inside commits once the WAL is large.
        conn.config(apsw.SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1)
        if not readonly:
            _use_wal(conn)
        conn.execute("PRAGMA synchronous=NORMAL")
        # Without a limit the WAL file keeps its high-water size after checkpoints.
        conn.execute(f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT}")
        # Each one-shot process is the first to open the store and must scan the
        # whole WAL to rebuild its index: keep the WAL small (see `compact_wal`).
        conn.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT_PAGES}")
    return conn


def _use_wal(conn: apsw.Connection) -> None:
    """Put the file in WAL mode. Processes that open a brand-new store at once
    race here: the switch needs the file to itself, and SQLite answers BUSY at
    once (its busy handler is not consulted while another connection is
    creating or switching the file). The loser retries until the winner has
    switched it, within the usual busy timeout."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            if conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
                return
            conn.execute("PRAGMA journal_mode=WAL")
        except apsw.BusyError:
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.002)


@contextmanager
def translated_errors(what: Path | str, *, fix: str = "") -> Iterator[None]:
    """Map apsw's lock and corruption errors to StoreLocked / StoreCorrupt."""
    try:
        yield
    except apsw.BusyError as exc:
        raise StoreLocked(f"{what} is locked by another process; try again") from exc
    except (apsw.CorruptError, apsw.NotADBError) as exc:
        raise StoreCorrupt(f"{what} is corrupt ({exc}){'; ' + fix if fix else ''}") from exc
    except apsw.FullError as exc:
        raise DiskFull(f"no space left on the disk holding {what}: free space and retry; nothing was lost") from exc
    except apsw.ReadOnlyError as exc:
        raise ReadOnlyStore(f"{what} is read-only (a read-only mount?): this command must write; nothing was written") from exc


def compact_wal(conn: apsw.Connection) -> None:
    """Checkpoint and truncate the WAL after bulk work (drain, import, replay,
    rebuild), so the next process does not scan megabytes to open the store.
    Best effort: a busy reader just leaves it for the next auto-checkpoint."""
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except (apsw.BusyError, apsw.FullError, apsw.ReadOnlyError, apsw.IOError):
        pass  # a busy reader, a full or read-only disk: the WAL stays as it is, which is safe


SLACK_SHARE = 0.1  # `reclaim` rewrites a file when at least this share of its pages is free


def reclaim(conn: apsw.Connection, share: float = SLACK_SHARE) -> bool:
    """VACUUM the file when at least `share` of its pages are free; whether it did.

    A replay leaves free pages behind: a bulk replay stages the inferred
    edges in a table it empties at the end (projections/graph.py, `_STAGE`:
    ~0.5 KB a memory at 100k), and a rebuilt projection's dropped tables
    free theirs. SQLite reuses free pages for later rows but never returns
    them to the file system, and the indexes a replay fills row by row are
    packed less tightly than a VACUUM rebuilds them: at 100k the file went
    from 2.46 to 1.80 KB a memory, for ~0.9 s of CPU (a replay: ~20 s).
    Best effort, like `compact_wal`: a busy writer, a full or read-only disk
    leave the file as it is (VACUUM is a transaction: nothing is lost)."""
    free = conn.execute("PRAGMA freelist_count").fetchone()[0]
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    if not pages or free < share * pages:
        return False
    try:
        conn.execute("VACUUM")
    except (apsw.BusyError, apsw.FullError, apsw.ReadOnlyError, apsw.IOError):
        return False
    return True


@contextmanager
def immediate(conn: apsw.Connection) -> Iterator[apsw.Connection]:
    """A write transaction taken up front (BEGIN IMMEDIATE), so two writers
    queue on the busy timeout instead of deadlocking on a lock upgrade."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def migrate(
    conn: apsw.Connection, version: int, schema: str, *, upgrade: Callable[[apsw.Connection], None] | None = None
) -> None:
    """Create `schema` once, recorded in PRAGMA user_version; safe under races.
    `upgrade` runs in the same transaction, after the schema, for changes a
    re-run of idempotent DDL cannot make (a new column)."""
    if conn.execute("PRAGMA user_version").fetchone()[0] >= version:
        return
    with immediate(conn):
        if conn.execute("PRAGMA user_version").fetchone()[0] >= version:
            return
        conn.execute(schema)
        if upgrade is not None:
            upgrade(conn)
        conn.execute(f"PRAGMA user_version={int(version)}")
