"""The event log in PostgreSQL: one log shared by a team's machines.

Same rows and bytes as the SQLite log (events/log/): the same columns, the
ISO time strings, the msgpack payload, the ULID ids; only the dialect differs.
Reads are inherited from `EventLog` through a small connection adapter (`?`
placeholders become `%s`); appends and integrity checks are this module's.

Promises, enforced by the server:
- append-only: row and TRUNCATE triggers raise on UPDATE, DELETE and TRUNCATE
  of `events` and `event_memories` (SQLSTATE MM001);
- a global position readers never skip: every append transaction takes
  `LOCK TABLE events IN EXCLUSIVE MODE` (as the `eventsourcing` library does),
  so appends commit one after another in seq order, and seq is max+1 inside
  the lock, so a rolled-back append leaves no gap (a sequence would). Readers
  (SELECT) are never blocked by the lock;
- idempotent derivations: the same unique (type, causation, stage) index;
- a wake-up: a statement trigger NOTIFYs `memman_log` when an append commits,
  so idle `scheduler serve` workers start at once (workers/wake.py);
- a log a check found damaged takes no more appends, from any machine: `verify`
  records its first finding in `log_damage` (SQLite's `log.db.damaged` file),
  a statement trigger refuses every INSERT while a row is there (SQLSTATE
  MM002, no extra round trip), and the next sound `verify` clears it.

One store per database (or per schema, with `options=-csearch_path=NAME` in
the DSN). psycopg is imported here only, so SQLite stores never load it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import msgspec

from events.backends.dsn import redact
from events.backends.libpq import DAMAGED_FIX, server_error
from events.backends.pgappend import insert_rows
from events.backends.pgschema import APPEND_ONLY_TRIGGERS, NOTIFY_CHANNEL, SCHEMA, SCHEMA_VERSION  # noqa: F401 (NOTIFY_CHANNEL is re-exported)
from events.clock import Clock, at_microseconds, to_iso, utc_now
from events.errors import (
    BackendUnavailable,
    BadInput,
    LogDamaged,
    LogError,
    StoreLocked,
    UnknownEvent,
)
from events.ids import UlidFactory
from events.log import DuplicateDerivation, EventLog, NewEvent
from events.log.append import encode_other
from events.log.rows import COLUMNS
from events.integrity import row_checksum
from events.types import Recorded, type_of

BULK_READ = 1000  # a read spanning more seqs than this goes through psycopg (bulk_reads)
LOCK_TIMEOUT = "10s"  # like SQLite's busy timeout: a writer waits this long, then StoreLocked

_APPEND_LOCK = "LOCK TABLE events IN EXCLUSIVE MODE"
_SCHEMA_LOCK = 0x6D656D6D616E  # pg_advisory_xact_lock key while creating the schema ("memman")


UNREACHABLE = "cannot reach the PostgreSQL log at {where}; is the server up?"


@contextmanager
def pg_errors(where: str, unreachable: str = UNREACHABLE) -> Iterator[None]:
    """The one seam where psycopg errors become memman errors; `unreachable`
    is the message for a server that cannot be reached ({where} filled in)."""
    psycopg = driver()
    from psycopg import errors as pgerr

    try:
        yield
    except pgerr.UniqueViolation as exc:
        if exc.diag.constraint_name == "events_derivation":
            raise DuplicateDerivation(f"derivation already recorded in {where}") from exc
        raise LogError(f"could not append to the log in {where}: {exc.diag.message_primary}") from exc
    except (pgerr.LockNotAvailable, pgerr.QueryCanceled) as exc:
        raise StoreLocked(f"the log in {where} is locked by another writer; try again") from exc
    except psycopg.OperationalError as exc:
        raise BackendUnavailable(unreachable.format(where=where)) from exc
    except psycopg.Error as exc:
        message = exc.diag.message_primary or (str(exc).splitlines() or [type(exc).__name__])[0]  # a client-side error has no diag
        raise server_error(exc.sqlstate or "", message, exc.diag.message_detail or "", where) from exc


class PgConnection:
    """psycopg behind the small `execute(sql, args)` surface the SQLite reads
    use: `?` placeholders are rewritten to `%s`, errors go through `pg_errors`."""

    def __init__(self, raw: Any, where: str) -> None:
        self.raw = raw
        self.where = where
        self._sql: dict[str, str] = {}

    def execute(self, sql: str, args: Sequence[object] = ()) -> Any:
        query = self._sql.get(sql)
        if query is None:
            query = self._sql[sql] = sql.replace("%", "%%").replace("?", "%s")
        with pg_errors(self.where):
            return self.raw.execute(query, tuple(args))

    def close(self) -> None:
        self.raw.close()


_NO_DRIVER = "a PostgreSQL backend needs the driver: pip install 'memman[postgres]'"


def require_driver() -> None:
    """BadInput naming the extra unless psycopg is installed; found without
    importing it (reads do not need it, but a store must be able to write)."""
    from importlib.util import find_spec

    try:
        found = find_spec("psycopg") is not None
    except ValueError:  # blocked in sys.modules
        found = False
    if not found:
        raise BadInput(_NO_DRIVER)


def driver() -> Any:
    """psycopg, or BadInput naming the extra to install (never an ImportError's text)."""
    try:
        import psycopg
    except ImportError:
        raise BadInput(_NO_DRIVER) from None
    import logging  # already loaded by psycopg

    quiet = logging.getLogger("psycopg")
    if not quiet.handlers:  # an error inside a pipeline is raised (and mapped by pg_errors) and also
        quiet.addHandler(logging.NullHandler())  # logged ("error ignored terminating"): one line on stderr, not two
    return psycopg


def connect(dsn: str, *, where: str) -> Any:
    """An autocommit psycopg connection: every read is its own snapshot, and
    appends open an explicit transaction. The lock timeout rides in the
    startup packet (no extra round trip), after any options the DSN sets."""
    psycopg = driver()
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    with pg_errors(where, UNREACHABLE + " (nothing was written)"):  # no session, so no write either
        options = f"{conninfo_to_dict(dsn).get('options') or ''} -c lock_timeout={LOCK_TIMEOUT}".strip()
        return psycopg.connect(make_conninfo(dsn, options=options), autocommit=True, connect_timeout=10)


class PostgresEventLog(EventLog):
    """The event log of one store, in a PostgreSQL database."""

    backend = "postgresql"

    def __init__(self, dsn: str, *, clock: Clock = utc_now, readonly: bool = False) -> None:
        """Reads go through libpq directly (events/backends/libpq.py), so a
        process that only reads never imports psycopg; the psycopg
        connection (`raw`) opens on first write."""
        from events.backends.libpq import open_reader

        require_driver()
        self.dsn = dsn
        self.path = redact(dsn)  # shown in messages; never the password
        self._clock = clock
        self._ids = UlidFactory()
        self._encoder = msgspec.msgpack.Encoder(enc_hook=encode_other)
        self._raw: Any = None
        reader = open_reader(dsn, where=self.path, unreachable=UNREACHABLE + " (nothing was written)")
        self.conn = reader if reader is not None else PgConnection(self.raw, self.path)  # type: ignore[assignment]
        if not readonly:
            self._migrate()

    @property
    def raw(self) -> Any:
        """The psycopg connection, opened on first use (appends, locks, LISTEN)."""
        if self._raw is None:
            self._raw = connect(self.dsn, where=self.path)
        return self._raw

    def bulk_reads(self) -> None:
        """Many rows follow (a long catch-up, verify, a copy): read them through
        psycopg from now on, whose C row loading is ~6x faster than libpq via
        ctypes (36k vs 6k events/s here), which pays for its import after
        about BULK_READ events."""
        if isinstance(self.conn, PgConnection):
            return
        bulk = PgConnection(self.raw, self.path)
        self.conn.close()
        self.conn = bulk  # type: ignore[assignment]

    def read(self, *, after: int = 0, upto: int | None = None, types: Iterable[str] | None = None,
             limit: int | None = None, batch: int = 2000, scan: bool = False) -> Iterator[Recorded]:
        """As EventLog.read; a span of more than BULK_READ seqs switches to `bulk_reads`."""
        span = min(upto if upto is not None else 2**62, after + limit if limit is not None else 2**62) - after
        if span > BULK_READ:
            self.bulk_reads()
        return super().read(after=after, upto=upto, types=types, limit=limit, batch=batch, scan=scan)

    def seqs(self, batch: int = 5000) -> Iterator[int]:
        self.bulk_reads()  # every seq of the log
        return super().seqs(batch)

    def plain_payloads(self) -> Iterator[tuple[int, bytes]]:
        self.bulk_reads()  # every payload of the log
        return super().plain_payloads()

    def _migrate(self) -> None:
        """Create the schema once; when it exists this is one small read."""
        try:
            if self._version() >= SCHEMA_VERSION:
                return
        except LogError:  # no schema yet (or one we cannot read: creating it says why)
            pass
        with pg_errors(self.path), self.raw.transaction():
            self.raw.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
            self.raw.execute(SCHEMA)
            version = self.raw.execute("SELECT max(version) FROM memman_schema").fetchone()[0] or 0
            if version < SCHEMA_VERSION:
                self.raw.execute("DELETE FROM memman_schema")
                self.raw.execute("INSERT INTO memman_schema (version) VALUES (%s)", (SCHEMA_VERSION,))

    def _version(self) -> int:
        row = self.conn.execute("SELECT max(version) FROM memman_schema").fetchone()
        return row[0] or 0

    def close(self) -> None:
        self.conn.close()
        if self._raw is not None:
            self._raw.close()

    # ------------------------------------------------------------ writing

    def append_many(self, items: Sequence[NewEvent]) -> list[Recorded]:
        """All items in one transaction, under the table lock that serialises
        appends: all of them land, or none, and seq commits in order. An item
        whose idempotency key is already in the log is skipped (checked under
        the lock, so two machines retrying one key append it once). Sent as one
        pipeline (BEGIN, LOCK, the inserts, COMMIT): a `remember` costs about
        one round trip, two with a key."""
        if not items:
            return []
        now = at_microseconds(self._clock())
        raw = self.raw
        with pg_errors(self.path), raw.pipeline(), raw.transaction(), raw.cursor() as cur:
            cur.execute(_APPEND_LOCK)
            fresh = self._unkeyed(raw, items)
            prepared = [self._prepare(item, now) for item in fresh]
            head = insert_rows(raw, prepared) if prepared else 0
        return [msgspec.structs.replace(rec, seq=head + n) for n, (rec, _) in enumerate(prepared, start=1)]

    @staticmethod
    def _unkeyed(raw: Any, items: Sequence[NewEvent]) -> list[NewEvent]:
        """The items to append: those without an idempotency key, or whose key
        is neither in the log nor earlier in `items`."""
        keys = [k for k in (getattr(i.event, "key", None) for i in items) if k is not None]
        if not keys:
            return list(items)
        seen = {row[0] for row in raw.execute("SELECT key FROM event_keys WHERE key = ANY(%s)", (keys,)).fetchall()}
        fresh = []
        for item in items:
            key = getattr(item.event, "key", None)
            if key is None or key not in seen:
                fresh.append(item)
                if key is not None:
                    seen.add(key)
        return fresh

    def _prepare(self, item: NewEvent, now: datetime) -> tuple[Recorded, tuple[object, ...]]:
        """The row (without seq, which the server assigns) and its Recorded (seq 0 until known)."""
        event = item.event
        type_ = type_of(event)
        occurred = at_microseconds(item.occurred_at) if item.occurred_at else now
        event_id = self._ids.mint(now)
        envelope = (event_id, type_, event.SCHEMA, to_iso(now), to_iso(occurred), item.actor, item.causation, item.stage)
        payload = self._encoder.encode(event)
        row = (*envelope, payload, row_checksum((None, *envelope, payload)))  # the same checksum as SQLite's
        rec = Recorded(
            seq=0,
            id=event_id,
            type=type_,
            schema_version=event.SCHEMA,
            recorded_at=now,
            occurred_at=occurred,
            actor=item.actor,
            causation=item.causation,
            stage=item.stage,
            event=event,
        )
        return rec, row

    # ------------------------------------------------------------ integrity

    def verify(self) -> list[str]:
        """Problems with the log's integrity; an empty list means it is sound:
        the append-only triggers (a disabled one counts as missing), seq 1..N,
        and every event's checksum (events/integrity.py) and payload."""
        self.bulk_reads()  # every event is read
        problems: list[str] = []
        rows = self.conn.execute(
            "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgenabled <> 'D'"
            " AND tgrelid IN ('events'::regclass, 'event_memories'::regclass)"
        ).fetchall()
        present = {r[0] for r in rows}
        for name in APPEND_ONLY_TRIGGERS:
            if name not in present:
                problems.append(f"append-only trigger {name} is missing")
        count, low, high = self.conn.execute("SELECT count(*), min(seq), max(seq) FROM events").fetchone()
        if count and (low != 1 or high != count):
            problems.append(f"seq is not contiguous: {count} events span {low}..{high}")
        problems += self._verify_events()
        self._mark_damaged(problems)
        return problems

    def _mark_damaged(self, problems: list[str]) -> None:
        """Record the first finding (appends stop, on every machine) or clear
        it. A role that may not write the marker, or a log opened read-only
        on an older schema, leaves it as it was, as SQLite does on a
        read-only store."""
        from psycopg import errors as pgerr

        try:
            with pg_errors(self.path), self.raw.transaction():
                self.raw.execute("DELETE FROM log_damage")
                if problems:
                    self.raw.execute("INSERT INTO log_damage (problem) VALUES (%s)", (problems[0],))
        except LogError as exc:
            if not isinstance(exc.__cause__, pgerr.InsufficientPrivilege | pgerr.UndefinedTable | pgerr.ReadOnlySqlTransaction):
                raise

    def refuse_if_damaged(self) -> None:
        """LogDamaged if a check found the log damaged (the marker row)."""
        with pg_errors(self.path):
            row = self.raw.execute("SELECT problem FROM log_damage LIMIT 1").fetchone()
        if row is not None:
            raise LogDamaged(f"{self.path} was found damaged ({row[0]}); nothing was written; {DAMAGED_FIX}")

    def _verify_events(self, limit: int = 20, batch: int = 5000) -> list[str]:
        """Checksum and decode every event, in batches; at most `limit` named."""
        bad: list[str] = []
        total, position = 0, 0
        while True:
            rows = self.conn.execute(
                f"SELECT {COLUMNS}, checksum FROM events WHERE seq > ? ORDER BY seq LIMIT ?", (position, batch)
            ).fetchall()
            for row in rows:
                problem = self._row_problem(tuple(row[:-1]), row[-1], True)
                if problem:
                    total += 1
                    if len(bad) < limit:
                        bad.append(problem)
            if len(rows) < batch:
                break
            position = rows[-1][0]
        if total > len(bad):
            bad.append(f"... and {total - len(bad)} more damaged events")
        return bad

    def rewrite_payloads(self, payloads: dict[int, bytes], *, record: NewEvent | None = None) -> Recorded | None:
        """The one documented rewrite (erasure), as on SQLite: new payloads and
        checksums, and `record` (the `memory.purged` tombstone) appended, in
        one transaction that disables and re-enables the UPDATE trigger; DDL
        is transactional here, so no other session ever sees the log without
        it. The old row versions stay in the table's pages until `vacuum`."""
        if not payloads and record is None:
            return None
        now = at_microseconds(self._clock())
        prepared = [self._prepare(record, now)] if record is not None else []
        raw = self.raw
        self.refuse_if_damaged()  # as on SQLite: a damaged log is restored, never rewritten further
        with pg_errors(self.path), raw.transaction(), raw.cursor() as cur:
            cur.execute(_APPEND_LOCK)
            cur.execute("ALTER TABLE events DISABLE TRIGGER events_no_update")
            for seq, payload in payloads.items():
                row = cur.execute(f"SELECT {COLUMNS} FROM events WHERE seq = %s", (seq,)).fetchone()
                if row is None:
                    raise UnknownEvent(f"no event with seq {seq}; see 'memman events list'")
                new = (*row[:-1], payload)
                cur.execute("UPDATE events SET payload = %s, checksum = %s WHERE seq = %s", (payload, row_checksum(new), seq))
            cur.execute("ALTER TABLE events ENABLE TRIGGER events_no_update")
            head = insert_rows(raw, prepared) if prepared else 0
        return msgspec.structs.replace(prepared[0][0], seq=head + 1) if prepared else None

    def vacuum(self) -> None:
        """Rewrite the log's tables so no dead row version keeps a rewritten
        payload (VACUUM FULL: an exclusive lock for the rewrite's duration).
        The server's WAL and any backups or replicas of the database are the
        database administrator's: memman cannot reach them (docs/postgres.md)."""
        with pg_errors(self.path):
            self.raw.execute("VACUUM FULL events")

    def holding(self, needles: list[bytes]) -> int:
        """How many events' payloads still contain any of `needles` (bytes, as stored)."""
        if not needles:
            return 0
        clause = " OR ".join("position(%s::bytea in payload) > 0" for _ in needles)
        with pg_errors(self.path):
            row = self.raw.execute(f"SELECT count(*) FROM events WHERE {clause}", list(needles)).fetchone()
        return int(row[0])
