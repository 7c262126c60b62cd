"""The compact envelope of a SQLite log (issue 16, compact storage, fifth pass).

Every event's envelope was text: a type name (~15 bytes), an actor, a stage
such as `embed:static:minilm-l6-static-256:256:93381a1159c1` (~50 bytes), two
27-character ISO times and a 35-character checksum, each repeated in the
indexes that hold it (~1.1 KB a memory of the log's 4 KB at 10k). A log
created since keeps the same logical values in fewer bytes:

- `event_rows` holds the envelope: type, actor and stage as numbers of
  `event_names` (numbered in the order the log first writes them), both times
  as integer microseconds since 1970 (`occurred_at` NULL when it equals
  `recorded_at`, as it does for every derived event), the checksum as its 16
  digest bytes;
- no index on every id (~200 bytes a memory): ids are minted from the clock
  reading that is `recorded_at`, so `EventLog.get_by_id` finds one through
  the time index (`id_window`); the few rows whose id says another time
  are indexed apart (`events_odd_id`, a partial index);
- one derivation index instead of two (see the schema's note);
- `events` is a view of the old name, columns and values over it, so every
  reader that queries `events` (the CLI, `copy_log`, `migrate`'s content
  hash, `events verify`'s checksums) reads the same text as from a log
  written before. Its INSTEAD OF triggers convert a row inserted as text
  (`copy_log`) and forward an UPDATE or DELETE to the rows, where the
  append-only triggers refuse it.

A value that does not read back as the same text is kept as it came: a time
that is not in `to_iso`'s fixed form (an older writer's, copied over by
`migrate`) stays text and a checksum of another algorithm stays text, so the
view returns every value exactly and the content hash over the logical values
is equal on every backend (tests/events/test_compact_log.py). The hot readers
(a replay's `EventLog.read`, time windows) query `event_rows` directly
(`StoredRow`, `time_range`); the rest go through the view.

A PostgreSQL log keeps its text columns: it is what the server stores and
indexes, and the compression is SQLite-local, like the payloads'.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import apsw

from events.clock import at_microseconds, from_iso, to_iso

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MICRO = timedelta(microseconds=1)
CHECKSUM_PREFIX = "b2:"  # events/integrity.py's algorithm: stored as its 16 bytes


def _iso(x: str) -> str:
    """SQL: integer microseconds as `to_iso` writes them; any other value as it is."""
    return (
        f"CASE WHEN typeof({x}) = 'integer' THEN"
        f" strftime('%Y-%m-%dT%H:%M:%S', {x} / 1000000 - ({x} % 1000000 < 0), 'unixepoch')"
        f" || '.' || substr('00000' || (({x} % 1000000 + 1000000) % 1000000), -6) || 'Z' ELSE {x} END"
    )


_DIGITS = "[0-9]"
_ISO_GLOB = f"{_DIGITS * 4}-{_DIGITS * 2}-{_DIGITS * 2}T{_DIGITS * 2}:{_DIGITS * 2}:{_DIGITS * 2}.{_DIGITS * 6}Z"


def _stored_time(x: str) -> str:
    """SQL: a time as stored: microseconds when it reads back as the same text."""
    micros = f"(unixepoch(substr({x}, 1, 19)) * 1000000 + CAST(substr({x}, 21, 6) AS INTEGER))"
    return f"CASE WHEN {x} GLOB '{_ISO_GLOB}' AND {_iso(micros)} = {x} THEN {micros} ELSE {x} END"


def _stored_checksum(x: str) -> str:
    return (
        f"CASE WHEN {x} GLOB '{CHECKSUM_PREFIX}*' AND length({x}) = 35"
        f" AND lower(hex(unhex(substr({x}, 4)))) = substr({x}, 4) THEN unhex(substr({x}, 4)) ELSE {x} END"
    )


def _read_checksum(x: str) -> str:
    return f"CASE WHEN typeof({x}) = 'blob' THEN '{CHECKSUM_PREFIX}' || lower(hex({x})) ELSE {x} END"


_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
# SQL: the millisecond a ULID in `id` says it was minted at (events/ids.py: ulid_ms);
# a character outside the alphabet makes it a number no recorded time matches.
_ID_MS = " + ".join(f"(instr('{_CROCKFORD}', substr(id, {k + 1}, 1)) - 1) * {32 ** (9 - k)}" for k in range(10))
# Rows whose id was not minted from their own recorded_at (a writer whose
# clock stepped back, an id copied from elsewhere): the only ids indexed.
ODD_ID = f"NOT (recorded_at >= ({_ID_MS} - 1) * 1000 AND recorded_at < ({_ID_MS} + 2) * 1000)"


def _name(x: str) -> str:
    return f"(SELECT n FROM event_names WHERE name = {x})"


_APPEND_ONLY = "BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END"

# Untyped time and checksum columns (no affinity): an integer, a text or a
# blob is stored as given. The indexes are a text log's, under the same names
# (DuplicateDerivation reads the derivation index's), but for two: none on the
# id (above), and one index serves both the derivations' uniqueness and the
# reads by causation: (causation, type, stage) over every event that has a
# causation. A NULL stage is distinct from every other in a UNIQUE index, so
# it refuses the same pairs as the text log's index on rows with a stage, and
# `causation = ?` reads it by its first column (the text log's
# `events_causation`, ~50 bytes a memory, is not needed).
SCHEMA = f"""
CREATE TABLE event_names (n INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE event_rows (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    id             TEXT    NOT NULL,
    type           INTEGER NOT NULL,
    schema_version INTEGER NOT NULL,
    recorded_at            NOT NULL,
    occurred_at,
    actor          INTEGER NOT NULL,
    causation      INTEGER REFERENCES event_rows(seq),
    stage          INTEGER,
    payload        BLOB    NOT NULL,
    checksum
);
CREATE INDEX events_type ON event_rows(type);
CREATE INDEX events_recorded ON event_rows(recorded_at);
CREATE INDEX events_occurred ON event_rows(occurred_at) WHERE occurred_at IS NOT NULL;
CREATE UNIQUE INDEX events_derivation ON event_rows(causation, type, stage) WHERE causation IS NOT NULL;
CREATE INDEX events_odd_id ON event_rows(id) WHERE {ODD_ID};
CREATE TABLE event_keys (
    key TEXT    PRIMARY KEY,
    seq INTEGER NOT NULL REFERENCES event_rows(seq)
) WITHOUT ROWID;
CREATE VIEW events (seq, id, type, schema_version, recorded_at, occurred_at, actor, causation, stage, payload, checksum) AS
    SELECT r.seq, r.id, t.name, r.schema_version, {_iso("r.recorded_at")},
           {_iso("coalesce(r.occurred_at, r.recorded_at)")}, a.name, r.causation, s.name, r.payload,
           {_read_checksum("r.checksum")}
    FROM event_rows r JOIN event_names t ON t.n = r.type JOIN event_names a ON a.n = r.actor
    LEFT JOIN event_names s ON s.n = r.stage;
CREATE TRIGGER events_insert INSTEAD OF INSERT ON events BEGIN
    INSERT OR IGNORE INTO event_names (name) VALUES (new.type), (new.actor), (new.stage);
    INSERT INTO event_rows (seq, id, type, schema_version, recorded_at, occurred_at, actor, causation, stage,
                            payload, checksum)
    VALUES (new.seq, new.id, {_name("new.type")}, new.schema_version, {_stored_time("new.recorded_at")},
            CASE WHEN new.occurred_at IS new.recorded_at THEN NULL ELSE {_stored_time("new.occurred_at")} END,
            {_name("new.actor")}, new.causation, {_name("new.stage")}, new.payload,
            {_stored_checksum("new.checksum")});
END;
CREATE TRIGGER events_update INSTEAD OF UPDATE ON events BEGIN
    INSERT OR IGNORE INTO event_names (name) VALUES (new.type), (new.actor), (new.stage);
    UPDATE event_rows SET id = new.id, type = {_name("new.type")}, schema_version = new.schema_version,
        recorded_at = {_stored_time("new.recorded_at")},
        occurred_at = CASE WHEN new.occurred_at IS new.recorded_at THEN NULL ELSE {_stored_time("new.occurred_at")} END,
        actor = {_name("new.actor")}, causation = new.causation, stage = {_name("new.stage")},
        payload = new.payload, checksum = {_stored_checksum("new.checksum")}
    WHERE seq = old.seq;
END;
CREATE TRIGGER events_delete INSTEAD OF DELETE ON events BEGIN
    DELETE FROM event_rows WHERE seq = old.seq;
END;
CREATE TRIGGER events_no_update BEFORE UPDATE ON event_rows {_APPEND_ONLY};
CREATE TRIGGER events_no_delete BEFORE DELETE ON event_rows {_APPEND_ONLY};
CREATE TRIGGER event_names_no_update BEFORE UPDATE ON event_names {_APPEND_ONLY};
CREATE TRIGGER event_names_no_delete BEFORE DELETE ON event_names {_APPEND_ONLY};
"""
# What a later SCHEMA_VERSION re-runs on a compact log (the text log's
# `_SCHEMA` would index the view): the same statements, idempotent.
SCHEMA_AGAIN = SCHEMA
for _kind in ("TABLE", "INDEX", "UNIQUE INDEX", "VIEW", "TRIGGER"):
    SCHEMA_AGAIN = SCHEMA_AGAIN.replace(f"CREATE {_kind} ", f"CREATE {_kind} IF NOT EXISTS ")

# The append-only triggers `events_no_update` / `events_no_delete` guard the
# rows themselves (the view forwards an UPDATE or DELETE to them, so a write
# through `events` is refused by the same trigger as on a text log, and one
# made with the trigger dropped lands in the rows, where `verify` finds it).
TRIGGERS = ("event_names_no_update", "event_names_no_delete")
UPDATE_TRIGGER = f"CREATE TRIGGER IF NOT EXISTS events_no_update BEFORE UPDATE ON event_rows {_APPEND_ONLY}"

# What `EventLog.read` selects from `event_rows`: the stored values, turned
# into an envelope in Python (`StoredRow`), not by the view's SQL per row.
ROW_COLUMNS = "seq, id, type, schema_version, recorded_at, occurred_at, actor, causation, stage, payload"


def is_compact(conn: apsw.Connection) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'event_rows'").fetchone() is not None


def micros(moment: datetime) -> int:
    """An aware time as integer microseconds since 1970 (exact)."""
    return (at_microseconds(moment) - EPOCH) // _MICRO


def stored_checksum(text: str | None) -> bytes | str | None:
    """A checksum as `event_rows` stores it (the trigger's rule, in Python)."""
    if text is not None and len(text) == 35 and text.startswith(CHECKSUM_PREFIX):
        digest = text[3:]
        try:
            raw = bytes.fromhex(digest)
        except ValueError:
            return text
        if raw.hex() == digest:
            return raw
    return text


class StoredRow:
    """Turns `event_rows` values into envelope values and back: names by
    number (both ways, kept in memory: a committed number never changes),
    times from microseconds (or from text where one was kept as text),
    remembering the last time built, as a drain's chunk shares one
    `recorded_at`. `forget()` after a rolled-back write: a name numbered in
    it no longer exists, and its number may go to another name."""

    def __init__(self, conn: apsw.Connection) -> None:
        self._conn = conn
        self._names: dict[int, str] = {}
        self._numbers: dict[str, int] = {}
        self._last: tuple[object, datetime] | None = None

    def forget(self) -> None:
        self._names, self._numbers = {}, {}

    def name(self, number: int | None) -> str | None:
        if number is None:
            return None
        name = self._names.get(number)
        if name is None:  # one at a time: a damaged name fails only the events that carry it
            row = self._conn.execute("SELECT name FROM event_names WHERE n = ?", (number,)).fetchone()
            if row is None:
                raise KeyError(f"no name numbered {number}")
            name = self._names[number] = row[0]
        return name

    def number(self, name: str | None) -> int | None:
        """The number of a name, numbering it if the log never wrote it
        (inside the caller's write transaction)."""
        if name is None:
            return None
        number = self._numbers.get(name)
        if number is None:
            self._conn.execute("INSERT OR IGNORE INTO event_names (name) VALUES (?)", (name,))
            number = self._numbers[name] = self._conn.execute(
                "SELECT n FROM event_names WHERE name = ?", (name,)
            ).fetchone()[0]
        return number

    def numbers(self, names: list[str]) -> list[int]:
        """The numbers of these names (names the log never wrote have none)."""
        if not names:
            return []
        marks = ",".join("?" * len(names))
        return [n for (n,) in self._conn.execute(f"SELECT n FROM event_names WHERE name IN ({marks})", names)]

    def time(self, value: object) -> datetime:
        last = self._last
        if last is None or last[0] != value:
            moment = EPOCH + timedelta(microseconds=value) if isinstance(value, int) else from_iso(str(value))
            last = self._last = (value, moment)
        return last[1]


def id_window(ms: int) -> tuple[int, int]:
    """Where in `recorded_at` (microseconds, from .. to, exclusive) an event
    whose ULID says millisecond `ms` was recorded: `UlidFactory.mint` reads
    the millisecond off the same clock reading (float rounding may put it one
    below); a writer whose clock stepped back mints later milliseconds, which
    the caller's scan finds."""
    return (ms - 1) * 1000, (ms + 2) * 1000


def time_range(column: str, since: datetime | None, until: datetime | None) -> tuple[str, list[object]]:
    """SQL over `event_rows` for since <= column < until: the integer rows and,
    apart, the rows whose time was kept as text (SQLite orders every integer
    before every text, so each half is one index range)."""
    numeric = [f"{column} >= ?" if since is not None else f"{column} IS NOT NULL", f"{column} < ?"]
    text = [f"{column} >= ?", f"{column} < ?"]
    args: list[object] = []
    if since is not None:
        args.append(micros(since))
    args.append(micros(until) if until is not None else "")  # "": below every text
    args += [to_iso(since) if since is not None else "", to_iso(until) if until is not None else b""]
    return f"(({' AND '.join(numeric)}) OR ({' AND '.join(text)}))", args
