"""The SQLite log's schema: its tables, indexes and append-only triggers,
the version a log records, and how a log is created or brought up to date.

A new log gets compact envelopes (events/compact.py) and the compact memory
index; a log created before keeps its text `events` table (`TEXT_SCHEMA`)
and the memory index it has. `EventLog` (events/log/__init__.py) imports
this module only when a log it opens for writing is older than
`SCHEMA_VERSION` (new, or written by an older memman): most opens read
`PRAGMA user_version` and go on.
"""

from __future__ import annotations

import apsw

from events import compact
from events.integrity import row_checksum
from events.log.rows import COLUMNS

# A text log: the envelope as text columns of `events` (a log created before
# compact envelopes; tests/events/logs.py builds one).
TEXT_SCHEMA = """
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
# `event_memories` table (`LEGACY_MEMORY_INDEX`); nothing is converted.
MEMORY_INDEX = """
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
LEGACY_MEMORY_INDEX = """
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

# A new log: compact envelopes (events/compact.py) and the compact memory index.
_COMPACT_SCHEMA = compact.SCHEMA + MEMORY_INDEX
# A text log's update trigger, put back after the one documented rewrite
# (erasure) and after checksumming an old log's rows (`_add_checksums`).
UPDATE_TRIGGER = """CREATE TRIGGER IF NOT EXISTS events_no_update BEFORE UPDATE ON events
    BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END"""


def schema_for(conn: apsw.Connection) -> str:
    """What `migrate` runs: a new log gets compact envelopes; a log that has
    them re-runs their (idempotent) schema, a text log its own."""
    if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'events'").fetchone() is None:
        return _COMPACT_SCHEMA
    return compact.SCHEMA_AGAIN if compact.is_compact(conn) else TEXT_SCHEMA


def upgrade(conn: apsw.Connection) -> None:
    """What idempotent DDL cannot do (inside the migration's transaction)."""
    _memory_index(conn)
    _add_checksums(conn)


def _memory_index(conn: apsw.Connection) -> None:
    """The compact memory index for a new log; a log that has one of either
    kind keeps it."""
    if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'event_memories'").fetchone() is not None:
        return
    fresh = conn.execute("SELECT 1 FROM events LIMIT 1").fetchone() is None
    conn.execute(MEMORY_INDEX if fresh else LEGACY_MEMORY_INDEX)


def _add_checksums(conn: apsw.Connection) -> None:
    """Upgrade a log written before checksums (schema < 3): add the column and
    checksum the existing rows as they are now (the trigger is lifted for
    this one statement inside the migration's transaction)."""
    columns = {r[1] for r in conn.execute("PRAGMA table_info(events)")}
    if "checksum" in columns:
        return
    conn.execute("ALTER TABLE events ADD COLUMN checksum TEXT")
    conn.execute("DROP TRIGGER IF EXISTS events_no_update")
    rows = conn.execute(f"SELECT {COLUMNS} FROM events").fetchall()
    for row in rows:
        conn.execute("UPDATE events SET checksum = ? WHERE seq = ?", (row_checksum(row), row[0]))
    conn.execute(UPDATE_TRIGGER)
