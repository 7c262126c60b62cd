"""The event log: an append-only SQLite table, the single source of truth.

Append-only is enforced by the schema (triggers abort any UPDATE or DELETE).
`seq` is AUTOINCREMENT, so it only grows and, since a rolled-back transaction
also rolls back the sequence, it has no gaps: `verify()` checks both.
Derived events are idempotent: the unique index on (type, causation, stage)
refuses a second copy of the same derivation.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from functools import cached_property
from pathlib import Path

import apsw
import msgspec

from events.clock import Clock, at_microseconds, from_iso, to_iso, utc_now
from events import codec, compact
from events.db import connect, immediate, migrate, translated_errors
from events.errors import AppendOnlyViolation, CorruptEvent, LogDamaged, LogError, UnknownEvent
from events.integrity import checksum, row_checksum
from events.ids import UlidFactory, ulid_ms
from events.types import EVENT_CLASSES, Event, Recorded, type_of
from events.upcast import upcast

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    id             TEXT    NOT NULL UNIQUE,
    type           TEXT    NOT NULL,
    schema_version INTEGER NOT NULL,
    recorded_at    TEXT    NOT NULL,
    occurred_at    TEXT    NOT NULL,
    actor          TEXT    NOT NULL,
    causation      INTEGER REFERENCES events(seq),
    stage          TEXT,
    payload        BLOB    NOT NULL,
    checksum       TEXT
);
CREATE INDEX IF NOT EXISTS events_type ON events(type, seq);
CREATE INDEX IF NOT EXISTS events_recorded ON events(recorded_at);
CREATE INDEX IF NOT EXISTS events_occurred ON events(occurred_at);
CREATE INDEX IF NOT EXISTS events_causation ON events(causation) WHERE causation IS NOT NULL;
CREATE UNIQUE INDEX IF NOT EXISTS events_derivation
    ON events(type, causation, stage) WHERE causation IS NOT NULL AND stage IS NOT NULL;
CREATE TABLE IF NOT EXISTS event_keys (
    key TEXT    PRIMARY KEY,
    seq INTEGER NOT NULL REFERENCES events(seq)
) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS events_no_update BEFORE UPDATE ON events
    BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS events_no_delete BEFORE DELETE ON events
    BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;
"""

# Which events concern which memory (`memman log`, `events list --memory`):
# every memory an event names, an edge event its ~15 ends. A log created
# since compact storage (issue 16) keeps these as integer pairs behind a view
# of the old name and shape, so every reader and writer (`copy_log`
# included) still reads and inserts (memory_id, seq): memory ids are
# numbered once in `memory_numbers`, and a reference costs ~12 bytes instead
# of ~38 (737 -> ~300 bytes a memory at 10k). A log created before keeps its
# `event_memories` table (`_LEGACY_MEMORY_INDEX`); nothing is converted.
_MEMORY_INDEX = """
CREATE TABLE memory_numbers (n INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE);
CREATE TABLE memory_events (
    n   INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    PRIMARY KEY (n, seq)
) WITHOUT ROWID;
CREATE VIEW event_memories (memory_id, seq) AS
    SELECT m.id, e.seq FROM memory_events e JOIN memory_numbers m ON m.n = e.n;
CREATE TRIGGER event_memories_insert INSTEAD OF INSERT ON event_memories BEGIN
    INSERT OR IGNORE INTO memory_numbers (id) VALUES (new.memory_id);
    INSERT INTO memory_events (n, seq) VALUES ((SELECT n FROM memory_numbers WHERE id = new.memory_id), new.seq);
END;
CREATE TRIGGER event_memories_no_update INSTEAD OF UPDATE ON event_memories
    BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;
CREATE TRIGGER event_memories_no_delete INSTEAD OF DELETE ON event_memories
    BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;
CREATE TRIGGER memory_events_no_update BEFORE UPDATE ON memory_events
    BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;
CREATE TRIGGER memory_events_no_delete BEFORE DELETE ON memory_events
    BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;
CREATE TRIGGER memory_numbers_no_update BEFORE UPDATE ON memory_numbers
    BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;
CREATE TRIGGER memory_numbers_no_delete BEFORE DELETE ON memory_numbers
    BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;
"""
_LEGACY_MEMORY_INDEX = """
CREATE TABLE IF NOT EXISTS event_memories (
    memory_id TEXT    NOT NULL,
    seq       INTEGER NOT NULL REFERENCES events(seq),
    PRIMARY KEY (memory_id, seq)
) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS event_memories_no_update BEFORE UPDATE ON event_memories
    BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS event_memories_no_delete BEFORE DELETE ON event_memories
    BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;
"""

APPEND_ONLY_TRIGGERS = (
    "events_no_update",
    "events_no_delete",
    "event_memories_no_update",
    "event_memories_no_delete",
)
COMPACT_INDEX_TRIGGERS = (  # also required where the memory index is compact
    "memory_events_no_update",
    "memory_events_no_delete",
    "memory_numbers_no_update",
    "memory_numbers_no_delete",
)

# Bump when _SCHEMA gains something; every statement in it is idempotent
# (IF NOT EXISTS), so an older database is brought up to date by re-running it.
# Version 3 added the per-event `checksum` column (events/integrity.py),
# version 4 the `event_keys` table (idempotent remember and import).
SCHEMA_VERSION = 4

_COLUMNS = "seq, id, type, schema_version, recorded_at, occurred_at, actor, causation, stage, payload"
# A new log: compact envelopes (events/compact.py) and the compact memory index.
_COMPACT_SCHEMA = compact.SCHEMA + _MEMORY_INDEX
# How SQLite names the unique derivation index in a refusal, by kind of log.
_DERIVATION_INDEX = ("events_derivation", "events.type, events.causation", "event_rows.causation, event_rows.type")


class NewEvent(msgspec.Struct, frozen=True, kw_only=True):
    """An event plus the envelope fields its writer chooses."""

    event: Event
    actor: str = "cli"
    occurred_at: datetime | None = None
    causation: int | None = None
    stage: str | None = None


def _encode_other(value: object) -> object:
    """datetime subclasses (freezegun's, pendulum's) encode as ISO strings,
    which decode back into `datetime` fields."""
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot store a {type(value).__name__} in an event")


class DuplicateDerivation(LogError):
    """The same derivation (type, causation, stage) is already in the log."""


class EventLog:
    """Append and read events of one store (the SQLite backend; the PostgreSQL
    one, events/backends/postgres.py, keeps this class's reads and encoding)."""

    backend = "sqlite"
    _last_time: tuple[str, datetime] | None = None  # (text, time) last parsed, see _parsed
    # A log created since compact storage's fifth pass keeps its envelopes in
    # `event_rows` behind the `events` view (events/compact.py); None: a text log.
    _stored: compact.StoredRow | None = None
    _table = "events"  # the table that holds the rows (seq, payload)

    def __init__(self, path: Path, *, clock: Clock = utc_now, readonly: bool = False) -> None:
        self.path = path
        self._clock = clock
        self._ids = UlidFactory()
        self._encoder = msgspec.msgpack.Encoder(enc_hook=_encode_other)
        self.conn = connect(path, readonly=readonly)
        with translated_errors(path):
            if not readonly:
                migrate(self.conn, SCHEMA_VERSION, _schema_for(self.conn), upgrade=_upgrade)
            if compact.is_compact(self.conn):
                self._stored, self._table = compact.StoredRow(self.conn), "event_rows"

    def close(self) -> None:
        self.conn.close()

    @cached_property
    def _unpack(self) -> codec.Unpacker:
        """Built on first read, as the decoder."""
        return codec.Unpacker()

    @cached_property
    def _decoder(self) -> msgspec.msgpack.Decoder:
        """Built on first read: introspecting the whole union costs ~4 ms,
        which `remember` (append only) should not pay."""
        return msgspec.msgpack.Decoder(Event)

    # ------------------------------------------------------------ writing

    def append(
        self,
        event: Event,
        *,
        actor: str = "cli",
        occurred_at: datetime | None = None,
        causation: int | None = None,
        stage: str | None = None,
    ) -> Recorded:
        return self.append_many(
            [NewEvent(event=event, actor=actor, occurred_at=occurred_at, causation=causation, stage=stage)]
        )[0]

    def append_many(self, items: Sequence[NewEvent]) -> list[Recorded]:
        """Append all items in one transaction: all of them land, or none.
        An item whose idempotency key (`event.key`) is already in the log is
        skipped: checked inside the write transaction, so two processes
        retrying the same key append it once. Returns what was appended."""
        if not items:
            return []
        self.refuse_if_damaged()
        now = at_microseconds(self._clock())
        recorded: list[Recorded] = []
        with translated_errors(self.path):
            try:
                with immediate(self.conn):
                    named: list[tuple[str, int]] = []  # (memory id, seq) of every memory the events name
                    for item in items:
                        key = getattr(item.event, "key", None)
                        if key is not None and self.seq_of_key(key) is not None:
                            continue
                        recorded.append(self._insert(item, now, named))
                    self._index_memories(named)
            except BaseException as exc:
                self._forget_names()  # rolled back: names numbered in it are gone
                if not isinstance(exc, apsw.ConstraintError):
                    raise
                if any(name in str(exc) for name in _DERIVATION_INDEX):
                    raise DuplicateDerivation(f"derivation already recorded: {exc}") from exc
                if "append-only" in str(exc):
                    raise AppendOnlyViolation(str(exc)) from exc
                raise LogError(f"could not append to the log: {exc}") from exc
        return recorded

    def _forget_names(self) -> None:
        if self._stored is not None:
            self._stored.forget()

    @cached_property
    def _numbered(self) -> bool:
        """Whether this log's memory index is the compact one (`_MEMORY_INDEX`)."""
        return self.conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'memory_events'").fetchone() is not None

    def _index_memories(self, named: list[tuple[str, int]]) -> None:
        """Index a batch's events under the memories they name. On a compact
        index, what the view's trigger does row by row (number each id in
        order of first naming, then one row per reference), in three
        statements for the batch: a drain's chunk names ~19 memories per
        input, and the trigger cost one statement each."""
        if not named:
            return
        if not self._numbered:
            self.conn.executemany("INSERT INTO event_memories (memory_id, seq) VALUES (?, ?)", named)
            return
        ids = list(dict.fromkeys(memory_id for memory_id, _ in named))
        self.conn.executemany("INSERT OR IGNORE INTO memory_numbers (id) VALUES (?)", [(i,) for i in ids])
        numbers: dict[str, int] = {}
        for start in range(0, len(ids), 500):
            part = ids[start : start + 500]
            sql = f"SELECT id, n FROM memory_numbers WHERE id IN ({','.join('?' * len(part))})"
            numbers.update(self.conn.execute(sql, part).fetchall())
        self.conn.executemany("INSERT INTO memory_events (n, seq) VALUES (?, ?)", [(numbers[m], seq) for m, seq in named])

    def _insert(self, item: NewEvent, now: datetime, named: list[tuple[str, int]]) -> Recorded:
        event = item.event
        type_ = type_of(event)
        occurred = at_microseconds(item.occurred_at) if item.occurred_at else now
        event_id = self._ids.mint(now)
        envelope = (event_id, type_, event.SCHEMA, to_iso(now), to_iso(occurred), item.actor, item.causation, item.stage)
        payload = self.encode(event)
        digest = row_checksum((None, *envelope, payload))
        if self._stored is None:
            self.conn.execute(
                "INSERT INTO events (id, type, schema_version, recorded_at, occurred_at, actor,"
                " causation, stage, payload, checksum) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (*envelope, payload, digest),
            )
        else:  # the view's trigger would do the same, slower (events/compact.py)
            names = self._stored
            self.conn.execute(
                "INSERT INTO event_rows (id, type, schema_version, recorded_at, occurred_at, actor,"
                " causation, stage, payload, checksum) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (event_id, names.number(type_), event.SCHEMA, compact.micros(now),
                 None if occurred == now else compact.micros(occurred), names.number(item.actor),
                 item.causation, names.number(item.stage), payload, compact.stored_checksum(digest)),
            )  # fmt: skip
        seq = self.conn.last_insert_rowid()
        key = getattr(event, "key", None)
        if key is not None:
            self.conn.execute("INSERT INTO event_keys (key, seq) VALUES (?, ?)", (key, seq))
        named.extend((memory_id, seq) for memory_id in dict.fromkeys(event.memory_ids()))
        return Recorded(
            seq=seq,
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

    # ------------------------------------------------------------ reading

    def head(self) -> int:
        """The seq of the newest event, 0 for an empty log."""
        row = self.conn.execute(f"SELECT max(seq) FROM {self._table}").fetchone()
        return row[0] or 0

    def seq_of_key(self, key: str) -> int | None:
        """The seq of the event recorded under an idempotency key, if any."""
        row = self.conn.execute("SELECT seq FROM event_keys WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def seqs(self, batch: int = 5000) -> Iterator[int]:
        """Every seq in order, read from the index alone (no payloads): what a
        salvage walks, since any single row may be unreadable."""
        position = 0
        while True:
            rows = self.conn.execute(
                f"SELECT seq FROM {self._table} WHERE seq > ? ORDER BY seq LIMIT ?", (position, batch)
            ).fetchall()
            if not rows:
                return
            yield from (r[0] for r in rows)
            position = rows[-1][0]

    def count(self, types: Iterable[str] | None = None) -> int:
        """How many events the log holds (of these types), counted in an index."""
        if types is None:
            return self.conn.execute(f"SELECT count(*) FROM {self._table}").fetchone()[0]
        names = sorted(set(types))
        keys = names if self._stored is None else self._stored.numbers(names)
        if not keys:
            return 0
        marks = ",".join("?" * len(keys))
        return self.conn.execute(f"SELECT count(*) FROM {self._table} WHERE type IN ({marks})", keys).fetchone()[0]

    def read(
        self,
        *,
        after: int = 0,
        upto: int | None = None,
        types: Iterable[str] | None = None,
        limit: int | None = None,
        batch: int = 2000,
        scan: bool = False,
    ) -> Iterator[Recorded]:
        """Events with after < seq <= upto, in seq order, optionally of some types.

        Reads in batches, so a replay of a large log never holds it all in memory.
        `scan`: walk the seq range and filter by type instead of reading the
        type index (a projection catch-up, whose types are a fifth of the log
        or more: through the index SQLite also sorts every batch by seq,
        4-6x slower at 10k; measured in docs/drain-costs.md).
        """
        type_list: list | None = sorted(set(types)) if types is not None else None
        if type_list is not None and self._stored is not None:
            type_list = sorted(self._stored.numbers(type_list))  # names the log never wrote match nothing
        if type_list is not None and not type_list:
            return
        columns, table = (_COLUMNS, "events") if self._stored is None else (compact.ROW_COLUMNS, "event_rows")
        decode = self._decode if self._stored is None else self._decode_stored
        remaining = limit
        cursor_seq = after
        while remaining is None or remaining > 0:
            size = batch if remaining is None else min(batch, remaining)
            where = ["seq > ?"]
            args: list[object] = [cursor_seq]
            if upto is not None:
                where.append("seq <= ?")
                args.append(upto)
            if type_list is not None:
                column = "+type" if scan and self.backend == "sqlite" else "type"  # "+": not through the index
                where.append(f"{column} IN ({','.join('?' * len(type_list))})")
                args.extend(type_list)
            try:
                rows = self.conn.execute(
                    f"SELECT {columns} FROM {table} WHERE {' AND '.join(where)} ORDER BY seq LIMIT ?",
                    (*args, size),
                ).fetchall()
            except UnicodeDecodeError as exc:
                raise CorruptEvent(
                    f"an event after seq {cursor_seq} in {self.path} cannot be read (not UTF-8: damaged on disk);"
                    f" {CORRUPT_LOG_FIX}"
                ) from exc
            if not rows:
                return
            for row in rows:
                yield decode(row)
            cursor_seq = rows[-1][0]
            if remaining is not None:
                remaining -= len(rows)
            if len(rows) < size:
                return

    def for_memory(self, memory_id: str) -> list[Recorded]:
        rows = self.conn.execute(
            f"SELECT {_COLUMNS} FROM events WHERE seq IN"
            " (SELECT seq FROM event_memories WHERE memory_id = ?) ORDER BY seq",
            (memory_id,),
        ).fetchall()
        return [self._decode(row) for row in rows]

    def between(
        self,
        since: datetime | None = None,
        until: datetime | None = None,
        *,
        field: str = "recorded_at",
        types: Iterable[str] | None = None,
    ) -> list[Recorded]:
        if field not in ("recorded_at", "occurred_at"):
            raise ValueError(f"unknown time field {field!r}")
        if self._stored is not None:
            return self._between_stored(since, until, field, types)
        where, args = ["1 = 1"], []
        if since is not None:
            where.append(f"{field} >= ?")
            args.append(to_iso(since))
        if until is not None:
            where.append(f"{field} < ?")
            args.append(to_iso(until))
        if types is not None:
            type_list = sorted(set(types))
            where.append(f"type IN ({','.join('?' * len(type_list))})")
            args.extend(type_list)
        rows = self.conn.execute(
            f"SELECT {_COLUMNS} FROM events WHERE {' AND '.join(where)} ORDER BY seq", args
        ).fetchall()
        return [self._decode(row) for row in rows]

    def _between_stored(
        self, since: datetime | None, until: datetime | None, field: str, types: Iterable[str] | None
    ) -> list[Recorded]:
        """`between` on a compact log: each time's index, over microseconds and
        text (events/compact.py: time_range); an `occurred_at` left NULL is
        the event's `recorded_at`."""
        where, args = ["1 = 1"], []
        if since is not None or until is not None:
            sql, args = compact.time_range("recorded_at", since, until)
            if field == "occurred_at":
                other, more = compact.time_range("occurred_at", since, until)
                sql, args = f"((occurred_at IS NULL AND {sql}) OR {other})", args + more
            where.append(sql)
        if types is not None:
            numbers = self._stored.numbers(sorted(set(types)))  # type: ignore[union-attr]
            where.append(f"type IN ({','.join('?' * len(numbers))})")
            args.extend(numbers)
        rows = self.conn.execute(
            f"SELECT {compact.ROW_COLUMNS} FROM event_rows WHERE {' AND '.join(where)} ORDER BY seq", args
        ).fetchall()
        return [self._decode_stored(row) for row in rows]

    def known_at(self, moment: datetime) -> int:
        """The last seq recorded at or before `moment` (0: nothing yet): what
        `recall --known-at` reads the projections up to."""
        if self._stored is None:
            row = self.conn.execute("SELECT max(seq) FROM events WHERE recorded_at <= ?", (to_iso(moment),)).fetchone()
        else:  # microseconds, and apart the times kept as text (events/compact.py)
            row = self.conn.execute(
                "SELECT max(seq) FROM event_rows WHERE recorded_at <= ? OR (recorded_at >= '' AND recorded_at <= ?)",
                (compact.micros(moment), to_iso(moment)),
            ).fetchone()
        return int(row[0] or 0)

    def get(self, seq: int) -> Recorded:
        if not 0 < seq < 2**63:
            raise UnknownEvent(f"no event with seq {seq}; see 'memman events list'")
        try:
            row = self.conn.execute(f"SELECT {_COLUMNS} FROM events WHERE seq = ?", (seq,)).fetchone()
        except UnicodeDecodeError as exc:
            raise CorruptEvent(f"event {seq} in {self.path} cannot be read (not UTF-8: damaged on disk); {CORRUPT_LOG_FIX}") from exc
        if row is None:
            raise UnknownEvent(f"no event with seq {seq}; see 'memman events list'")
        return self._decode(row)

    def get_by_id(self, event_id: str) -> Recorded:
        if self._stored is not None:
            return self._get_by_id_stored(event_id.upper())
        row = self.conn.execute(f"SELECT {_COLUMNS} FROM events WHERE id = ?", (event_id.upper(),)).fetchone()
        if row is None:
            raise UnknownEvent(f"no event with id {event_id}; see 'memman events list'")
        return self._decode(row)

    def _get_by_id_stored(self, event_id: str) -> Recorded:
        """A compact log indexes only odd ids (events/compact.py): the id's
        millisecond narrows the time index to a few events; an id minted
        otherwise is in the partial index `events_odd_id`."""
        ms = ulid_ms(event_id)
        row = None
        if ms is not None:
            low, high = compact.id_window(ms)
            row = self.conn.execute(
                "SELECT seq FROM event_rows WHERE recorded_at >= ? AND recorded_at < ? AND id = ?", (low, high, event_id)
            ).fetchone()
        if row is None:  # an id minted otherwise: the partial index of such rows (a scan where a log lacks it)
            odd = self.conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'events_odd_id'").fetchone()
            where = f"id = ? AND {compact.ODD_ID}" if odd else "id = ?"
            row = self.conn.execute(f"SELECT seq FROM event_rows WHERE {where}", (event_id,)).fetchone()
        if row is None:
            raise UnknownEvent(f"no event with id {event_id}; see 'memman events list'")
        return self.get(row[0])

    def derivations_of(self, causation: int) -> list[Recorded]:
        rows = self.conn.execute(
            f"SELECT {_COLUMNS} FROM events WHERE causation = ? ORDER BY seq", (causation,)
        ).fetchall()
        return [self._decode(row) for row in rows]

    def derivations_of_many(self, causations: Sequence[int]) -> dict[int, list[Recorded]]:
        """`derivations_of` for many inputs in one query (one round trip to a server)."""
        found: dict[int, list[Recorded]] = {seq: [] for seq in causations}
        if not found:
            return found
        marks = ",".join("?" * len(found))
        rows = self.conn.execute(
            f"SELECT {_COLUMNS} FROM events WHERE causation IN ({marks}) ORDER BY seq", tuple(found)
        ).fetchall()
        for row in rows:
            rec = self._decode(row)
            found[rec.causation].append(rec)  # type: ignore[index]
        return found

    def has_derivation(self, type_: str, causation: int, stage: str) -> bool:
        row = self.conn.execute(
            "SELECT 1 FROM events WHERE type = ? AND causation = ? AND stage = ?", (type_, causation, stage)
        ).fetchone()
        return row is not None

    def _parsed(self, text: str) -> datetime:
        """`from_iso`, remembering the last time read: every event of a drain's
        chunk was recorded at the same moment (one clock reading per append)."""
        last = self._last_time
        if last is None or last[0] != text:
            last = self._last_time = (text, from_iso(text))
        return last[1]

    def _decode(self, row: tuple) -> Recorded:
        """A row of the `events` columns (text envelope) as a Recorded."""
        seq, id_, type_, version, recorded_at, occurred_at, actor, causation, stage, payload = row
        _known_type(seq, type_)
        try:
            recorded = self._parsed(recorded_at)
            occurred = recorded if occurred_at == recorded_at else from_iso(occurred_at)
        except (ValueError, TypeError, OverflowError) as exc:
            raise self._corrupt(seq, exc) from exc
        return self._recorded(seq, id_, type_, version, recorded, occurred, actor, causation, stage, payload)

    def _decode_stored(self, row: tuple) -> Recorded:
        """A row of `event_rows` (compact envelope: events/compact.py) as a Recorded."""
        seq, id_, type_, version, recorded_at, occurred_at, actor, causation, stage, payload = row
        stored = self._stored
        try:
            names = stored.name(type_), stored.name(actor), stored.name(stage)  # type: ignore[union-attr]
            _known_type(seq, names[0])  # type: ignore[arg-type]
            recorded = stored.time(recorded_at)  # type: ignore[union-attr]
            occurred = recorded if occurred_at is None else stored.time(occurred_at)  # type: ignore[union-attr]
        except (ValueError, TypeError, OverflowError, KeyError, UnicodeDecodeError) as exc:
            raise self._corrupt(seq, exc) from exc
        return self._recorded(seq, id_, names[0], version, recorded, occurred, names[1], causation, names[2], payload)

    def _corrupt(self, seq: int, exc: Exception) -> CorruptEvent:
        return CorruptEvent(f"event {seq} in {self.path} cannot be read ({type(exc).__name__}: {exc}); {CORRUPT_LOG_FIX}")

    def _recorded(
        self, seq: int, id_: str, type_: str, version: int, recorded: datetime, occurred: datetime,
        actor: str, causation: int | None, stage: str | None, payload: bytes,
    ) -> Recorded:  # fmt: skip
        cls = EVENT_CLASSES.get(type_)
        if cls is None:
            raise LogError(f"event {seq} has unknown type {type_!r}; is this memman too old for the store?")
        try:
            payload = self._unpack(payload)
            if version == cls.SCHEMA:
                event = self._decoder.decode(payload)
            else:
                raw = upcast(type_, version, cls.SCHEMA, msgspec.msgpack.decode(payload))
                event = msgspec.convert(raw, Event)
            return Recorded(
                seq=seq,
                id=id_,
                type=type_,
                schema_version=version,
                recorded_at=recorded,
                occurred_at=occurred,
                actor=actor,
                causation=causation,
                stage=stage,
                event=event,
            )
        except (msgspec.DecodeError, msgspec.ValidationError, ValueError, TypeError, OverflowError, codec.CodecError) as exc:
            raise self._corrupt(seq, exc) from exc

    # ------------------------------------------------------------ erasure

    def checksums(self, seq: int, payload: bytes) -> tuple[str, str]:
        """(the stored checksum of event `seq`, its checksum with `payload`
        instead): what a purge tombstone records for each rewritten event."""
        row = self.conn.execute(f"SELECT {_COLUMNS}, checksum FROM events WHERE seq = ?", (seq,)).fetchone()
        if row is None:
            raise UnknownEvent(f"no event with seq {seq}; see 'memman events list'")
        return row[-1] or row_checksum(row[:-1]), row_checksum((*row[:-2], payload))

    def plain_payloads(self) -> Iterator[tuple[int, bytes]]:
        """(seq, msgpack payload, decompressed) of every event: what a byte
        search over the log's content (purge) must read."""
        for seq, payload in self.conn.execute(f"SELECT seq, payload FROM {self._table}"):
            try:
                yield seq, codec.unpack(payload)
            except codec.CodecError:
                yield seq, payload  # damaged: searched as it is; `events verify` names it

    def encode(self, event: Event) -> bytes:
        """The payload as stored: on SQLite, large payloads compressed
        (events/codec.py); PostgreSQL compresses large values itself (TOAST),
        and its erasure check searches the stored bytes, so they stay plain."""
        raw = self._encoder.encode(event)
        return codec.pack(raw) if self.backend == "sqlite" else raw

    # ------------------------------------------------------------ integrity

    def verify(self) -> list[str]:
        """Problems with the log's integrity; an empty list means it is sound.

        Checks the append-only triggers, that seq runs 1..N, SQLite's own
        integrity check, and every event's checksum and payload. Reads only;
        never repairs (the log is the last copy of the data)."""
        problems: list[str] = []
        with translated_errors(self.path, fix=CORRUPT_LOG_FIX):
            present = {
                r[0] for r in self.conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall()
            }
            index = self.conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'memory_events'").fetchone()
            required = APPEND_ONLY_TRIGGERS + (COMPACT_INDEX_TRIGGERS if index else ())
            for name in required + (compact.TRIGGERS if self._stored is not None else ()):
                if name not in present:
                    problems.append(f"append-only trigger {name} is missing")
            damaged = "the events cannot all be read: a page of the log is damaged on disk"
            try:  # a damaged page of the rows themselves fails these reads: reported, and the log marked
                count, low, high = self.conn.execute(f"SELECT count(*), min(seq), max(seq) FROM {self._table}").fetchone()
                if count and (low != 1 or high != count):
                    problems.append(f"seq is not contiguous: {count} events span {low}..{high}")
            except apsw.CorruptError:
                problems.append(damaged)
            try:
                for (message,) in self.conn.execute("PRAGMA integrity_check(20)").fetchall():
                    if message != "ok":
                        problems.append(f"SQLite integrity check: {message}")
            except apsw.CorruptError:
                problems.append("SQLite integrity check: it stopped at a damaged page")
            try:
                problems += self._verify_events()
            except apsw.CorruptError:
                if damaged not in problems:
                    problems.append(damaged)
        self._mark_damaged(problems)
        return problems

    # A log a check found damaged gets a marker beside it (log.db.damaged),
    # and nothing is appended to it while the marker stands: new events must
    # not pile onto a file that is to be restored from a backup. Finding
    # damage needs a full read, far too slow for every append; the marker
    # makes one finding (by verify or doctor) stop every later write, and the
    # next check that finds the log sound (after a restore) removes it.
    @property
    def damaged_marker(self) -> Path:
        return self.path.with_name(self.path.name + ".damaged")

    def refuse_if_damaged(self) -> None:
        marker = self.damaged_marker
        if not marker.exists():
            return
        try:
            found = marker.read_text(encoding="utf-8", errors="replace").strip().splitlines()[0]
        except (OSError, IndexError):
            found = "damage"
        raise LogDamaged(
            f"{self.path} was found damaged ({found}); nothing was written; {CORRUPT_LOG_FIX};"
            " then 'memman events verify' checks it again and allows writes once it is sound"
        )

    def _mark_damaged(self, problems: list[str]) -> None:
        marker = self.damaged_marker
        try:
            if problems:
                marker.write_text(f"{problems[0]}\n", encoding="utf-8")
                marker.chmod(0o600)
            else:
                marker.unlink(missing_ok=True)
        except OSError:  # a read-only store: nothing will be appended to it anyway
            pass

    def _verify_events(self, limit: int = 20) -> list[str]:
        """Checksum and decode every event; at most `limit` problems named.
        Row by row, so one unreadable row (bytes that are not UTF-8 where
        text belongs) is named without hiding the rest."""
        columns = {r[1] for r in self.conn.execute("PRAGMA table_info(events)")}
        has_checksum = "checksum" in columns
        bad: list[str] = []
        total = 0
        select = f"SELECT {_COLUMNS}, {'checksum' if has_checksum else 'NULL'} FROM events WHERE seq = ?"
        for seq in self.seqs():
            try:
                row = self.conn.execute(select, (seq,)).fetchone()
                problem = self._row_problem(row[:-1], row[-1], has_checksum)
            except UnicodeDecodeError:
                problem = f"event {seq} holds bytes that are not valid UTF-8 where text belongs: damaged on disk"
            if problem:
                total += 1
                if len(bad) < limit:
                    bad.append(problem)
        if total > len(bad):
            bad.append(f"... and {total - len(bad)} more damaged events")
        return bad

    def _row_problem(self, row: tuple, stored: str | None, has_checksum: bool) -> str | None:
        seq = row[0]
        if has_checksum and stored is None:
            return f"event {seq} has no checksum (written around the integrity check)"
        if has_checksum and stored != row_checksum(row):
            return f"event {seq} does not match its checksum: it was altered or damaged on disk"
        try:
            self._decode(row)
        except (CorruptEvent, LogError) as exc:
            return str(exc).split(";")[0]
        return None

    def rewrite_payloads(self, payloads: dict[int, bytes], *, record: NewEvent | None = None) -> Recorded | None:
        """The one documented rewrite of the append-only log: replace the
        payloads of some events (by seq) and their checksums, in one
        transaction. Only erasure (purge, memman/erasure/) calls this, with
        `record`: the `memory.purged` tombstone naming the rewritten seqs and
        their checksums before and after, appended in the same transaction,
        so a rewrite is never unaccounted for. The append-only trigger is
        dropped and restored inside the transaction, so no other writer ever
        sees the log without it. Envelopes are never touched."""
        if not payloads and record is None:
            return None
        self.refuse_if_damaged()
        now = at_microseconds(self._clock())
        try:  # on a compact log, the view forwards the update to its rows, where the trigger is
            with translated_errors(self.path), immediate(self.conn):
                self.conn.execute("DROP TRIGGER IF EXISTS events_no_update")
                for seq, payload in payloads.items():
                    row = self.conn.execute(f"SELECT {_COLUMNS} FROM events WHERE seq = ?", (seq,)).fetchone()
                    if row is None:
                        raise UnknownEvent(f"no event with seq {seq}; see 'memman events list'")
                    new = (*row[:-1], payload)
                    self.conn.execute(
                        "UPDATE events SET payload = ?, checksum = ? WHERE seq = ?", (payload, row_checksum(new), seq)
                    )
                self.conn.execute(_UPDATE_TRIGGER if self._stored is None else compact.UPDATE_TRIGGER)
                if record is None:
                    return None
                named: list[tuple[str, int]] = []
                recorded = self._insert(record, now, named)
                self._index_memories(named)
                return recorded
        except BaseException:
            self._forget_names()
            raise


_UPDATE_TRIGGER = """CREATE TRIGGER IF NOT EXISTS events_no_update BEFORE UPDATE ON events
    BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END"""

CORRUPT_LOG_FIX = (
    "the log is the source of truth and is never repaired in place: copy the store directory aside,"
    " restore log.db from a backup, and 'memman export --what events' reads out every event still readable"
)


def _schema_for(conn: apsw.Connection) -> str:
    """What `migrate` runs: a new log gets compact envelopes; a log that has
    them re-runs their (idempotent) schema, a text log its own."""
    if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'events'").fetchone() is None:
        return _COMPACT_SCHEMA
    return compact.SCHEMA_AGAIN if compact.is_compact(conn) else _SCHEMA


def _known_type(seq: int, type_: str) -> None:
    if type_ not in EVENT_CLASSES:
        raise LogError(f"event {seq} has unknown type {type_!r}; is this memman too old for the store?")


def _upgrade(conn: apsw.Connection) -> None:
    """What idempotent DDL cannot do (inside the migration's transaction)."""
    _memory_index(conn)
    _add_checksums(conn)


def _memory_index(conn: apsw.Connection) -> None:
    """The compact memory index for a new log; a log that has one of either
    kind keeps it."""
    if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'event_memories'").fetchone() is not None:
        return
    fresh = conn.execute("SELECT 1 FROM events LIMIT 1").fetchone() is None
    conn.execute(_MEMORY_INDEX if fresh else _LEGACY_MEMORY_INDEX)


def _add_checksums(conn: apsw.Connection) -> None:
    """Upgrade a log written before checksums (schema < 3): add the column and
    checksum the existing rows as they are now (the trigger is lifted for
    this one statement inside the migration's transaction)."""
    columns = {r[1] for r in conn.execute("PRAGMA table_info(events)")}
    if "checksum" in columns:
        return
    conn.execute("ALTER TABLE events ADD COLUMN checksum TEXT")
    conn.execute("DROP TRIGGER IF EXISTS events_no_update")
    rows = conn.execute(f"SELECT {_COLUMNS} FROM events").fetchall()
    for row in rows:
        conn.execute("UPDATE events SET checksum = ? WHERE seq = ?", (row_checksum(row), row[0]))
    conn.execute(_UPDATE_TRIGGER)
