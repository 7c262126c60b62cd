"""The files erasure touches: derived files are deleted and rebuilt from the
scrubbed log; the log is VACUUMed and its WAL truncated; and every file under
the data dir is scanned for what was purged."""

from __future__ import annotations

from pathlib import Path

import apsw

from events.backends import BACKEND_FILE, backend_of, open_log
from events.clock import Clock
from events.db import connect, translated_errors
from projections.store import LOG_FILE, StoreDB

# access.log: ids and times only; backend.dsn: where a PostgreSQL log lives
KEPT = frozenset({LOG_FILE, f"{LOG_FILE}-wal", f"{LOG_FILE}-shm", "access.log", BACKEND_FILE})


def rebuild_derived(directory: Path, clock: Clock) -> list[str]:
    """Delete every derived file of the store (all but the log and the use
    records: projections, vectors, flat vector caches, query and LLM caches,
    corrupt copies set aside) and replay the projections from the log."""
    removed = []
    for path in sorted(directory.iterdir()):
        if path.is_file() and path.name not in KEPT and not path.name.startswith("access."):
            path.unlink()
            removed.append(path.name)
    db = StoreDB(directory, clock=clock)
    try:
        db.catch_up()
        db.compact()
    finally:
        db.close()
    return removed


def vacuum(directory: Path) -> None:
    """Rewrite the log file without free pages and truncate its WAL, so no
    page or frame on disk keeps a payload as it was before the rewrite (a
    PostgreSQL log: VACUUM FULL of its table, see PostgresEventLog.vacuum)."""
    if backend_of(directory) is not None:
        log = open_log(directory)
        try:
            log.vacuum()  # type: ignore[attr-defined]
        finally:
            log.close()
        return
    path = directory / LOG_FILE
    conn = connect(path)
    try:
        with translated_errors(path):
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.execute("VACUUM")
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except apsw.BusyError:
        pass  # a reader holds the WAL: the final scan names the file if it still holds a text
    finally:
        conn.close()


def stores_holding(data_dir: Path, texts: list[str]) -> list[str]:
    """Files under `data_dir` whose bytes contain any of `texts` (as UTF-8,
    case-sensitive and lower-cased), relative to it."""
    needles = {t.encode() for t in texts if t} | {t.casefold().encode() for t in texts if t}
    found = []
    for path in sorted(p for p in data_dir.rglob("*") if p.is_file()):
        try:
            data = path.read_bytes()
        except OSError:
            continue
        if any(n in data for n in needles):
            found.append(str(path.relative_to(data_dir)))
    return found


def log_holding(directory: Path, texts: list[str]) -> list[str]:
    """For a store whose log is in PostgreSQL (not a file `stores_holding`
    can scan): the log, named without its password, if any event still holds
    one of `texts`."""
    if backend_of(directory) is None:
        return []
    needles = sorted({t.encode() for t in texts if t} | {t.casefold().encode() for t in texts if t})
    log = open_log(directory, readonly=True)
    try:
        count = log.holding(needles)  # type: ignore[attr-defined]
    finally:
        log.close()
    return [f"{log.path} ({count} events)"] if count else []
