"""`memman migrate`: move a store's log to another backend, keeping its name.

Copy the log row for row (events/backends/copy.py), check the copy, switch
the store, then replay the projections from the new log and compare them with
the live ones (what `events verify` does); a failed check switches back.

- Idempotent and resumable: the copy appends only after the target's head,
  once the target is proven to be a prefix of the source; re-running after a
  success or a kill copies what is missing (nothing, after a success).
- Consistent: the last catch-up and the switch happen while holding the
  source log's write lock, so no `remember` lands on the old backend unseen.
- Guarded by the data dir's drain lock: no drain appends meanwhile here.
- Zero provider calls: embeddings and LLM outputs move as events.

Where the copy goes: to PostgreSQL, the DSN's database (one store per
database or schema); to SQLite, `<store>/log.db`, which stays invisible while
`backend.dsn` exists, so the switch is removing that one file. The old SQLite
log is kept beside the store as `log.db.before-postgresql-<time>`; an old
PostgreSQL log is left untouched in its database (teammates may still use it).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from events.backends import LOG_FILE, backend_of, record_backend
from events.backends.copy import check_prefix, content_hash, copy_log
from events.backends.dsn import check, redact
from events.errors import BadInput, StoreCorrupt
from events.log import EventLog
from memman.output.results import MigrateReport
from memman.service import Memman


def _target_log(directory: Path, to: str, *, dry_run: bool) -> EventLog | None:
    """The log the copy goes to; None in a dry run when it does not exist yet."""
    if to == "sqlite":
        path = directory / LOG_FILE
        if dry_run and not path.exists():
            return None
        return EventLog(path, readonly=dry_run)
    from events.backends.postgres import PostgresEventLog

    target = PostgresEventLog(to, readonly=dry_run)
    if dry_run and not target.conn.execute("SELECT to_regclass('events') IS NOT NULL").fetchone()[0]:
        target.close()
        return None
    return target


@contextmanager
def _writes_held(log: EventLog) -> Iterator[None]:
    """Hold the source log's write lock (writers wait, readers go on)."""
    if log.backend == "sqlite":
        from events.db import immediate

        with immediate(log.conn):
            yield
        return
    from events.backends.postgres import connect

    raw = connect(log.dsn, where=log.path)  # type: ignore[attr-defined]
    try:
        with raw.transaction():
            raw.execute("LOCK TABLE events IN EXCLUSIVE MODE")
            yield
    finally:
        raw.close()


def migrate(
    app: Memman, to: str, *, dry_run: bool = False, progress: Callable[[int], None] | None = None
) -> MigrateReport:
    from workers.lock import drain_lock

    started = time.perf_counter()
    to = "sqlite" if to == "sqlite" else check(to)
    directory = app.registry.require(app.store, create_default=False)
    current = backend_of(directory) or "sqlite"
    if to == current:
        raise BadInput(f"store {app.store!r} is already on {redact(to)}")
    if not dry_run:
        app.ensure_writable()
    source = app.db.log
    with drain_lock(app.registry.data_dir):
        target = _target_log(directory, to, dry_run=dry_run)
        try:
            if dry_run:
                present = 0 if target is None else check_prefix(source, target)
                return _report(app, current, to, source.head(), source.head() - present, "", False, started)
            copied = copy_log(source, target, progress=progress)  # the bulk, while writers go on
            with _writes_held(source):
                copied += copy_log(source, target, upto=None)  # what arrived meanwhile
                digest = _check_copy(source, target)
                record_backend(directory, None if to == "sqlite" else to)  # the switch: one atomic file step
                if current == "sqlite":
                    _seal(source)  # a writer already waiting for the old log fails instead of writing there
            events = target.head()
        finally:
            if target is not None:
                target.close()
    late = source.head() - events  # PostgreSQL only: teammates may go on writing to the old log
    app.close()
    if current == "sqlite":
        _archive(directory, app.clock)
    _replay_and_compare(app, directory, current)
    if late > 0:
        app.db.notices.append(f"{late} events reached {redact(current)} after the switch; they are not in the new log")
    return _report(app, current, to, events, copied, digest, True, started)


def _check_copy(source: EventLog, target: EventLog) -> str:
    problems = target.verify()
    if problems:
        raise StoreCorrupt(f"the copy at {target.path} fails verification: {'; '.join(problems)}")
    if target.count() != source.count():
        raise StoreCorrupt(f"the copy has {target.count()} events, the source {source.count()}")
    digest = content_hash(source)
    if content_hash(target) != digest:
        raise StoreCorrupt(f"the copy at {target.path} differs from the source log")
    return digest


def _seal(log: EventLog) -> None:
    """Refuse every later append to the old SQLite log (inside the write
    transaction that also switched the store)."""
    rows = log.conn.execute("SELECT type FROM sqlite_master WHERE name = 'events'").fetchone()
    table = "event_rows" if rows and rows[0] == "view" else "events"  # a compact log's rows (events/compact.py)
    log.conn.execute(
        f"CREATE TRIGGER IF NOT EXISTS events_moved BEFORE INSERT ON {table}"
        " BEGIN SELECT RAISE(ABORT, 'this store moved to PostgreSQL; run the command again'); END"
    )


def _archive(directory: Path, clock: Callable) -> None:  # type: ignore[type-arg]
    """Keep the old SQLite log aside, its WAL folded in, under a dated name."""
    import apsw

    path = directory / LOG_FILE
    conn = apsw.Connection(str(path))
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    stamp = clock().strftime("%Y%m%dT%H%M%S")
    path.replace(directory / f"{LOG_FILE}.before-postgresql-{stamp}")
    for suffix in ("-wal", "-shm"):
        (directory / (LOG_FILE + suffix)).unlink(missing_ok=True)


def _replay_and_compare(app: Memman, directory: Path, previous: str) -> None:
    """Rebuild the projections from the new log in scratch and compare them
    with the live ones; on any difference, switch back and say so."""
    from memman.operations.maintenance import verify

    report = verify(app)
    if report.ok:
        return
    detail = "; ".join([*report.log_problems, *(f"{d.table}: {d.detail}" for d in report.differences)][:3])
    if previous == "sqlite":
        raise StoreCorrupt(f"projections replayed from the new log differ ({detail}); the old log.db was kept aside")
    record_backend(directory, previous)
    raise StoreCorrupt(f"projections replayed from the new log differ ({detail}); switched back to {redact(previous)}")


def _report(
    app: Memman, current: str, to: str, events: int, copied: int, digest: str, switched: bool, started: float
) -> MigrateReport:
    return MigrateReport(
        store=app.store,
        source=redact(current),
        target=redact(to),
        events=events,
        copied=copied,
        content_hash=digest,
        switched=switched,
        seconds=round(time.perf_counter() - started, 3),
    )
