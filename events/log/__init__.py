"""The event log: an append-only SQLite table, the single source of truth.

Append-only is enforced by the schema (triggers abort any UPDATE or DELETE).
`seq` is AUTOINCREMENT, so it only grows and, since a rolled-back transaction
also rolls back the sequence, it has no gaps: `verify()` checks both.
Derived events are idempotent: the unique index on (type, causation, stage)
refuses a second copy of the same derivation.

`EventLog` is assembled here from one module per concern:

| module | what it holds |
|---|---|
| `schema.py` | tables, indexes, triggers, creating and upgrading a log (imported only then) |
| `append.py` | `NewEvent`, `append` / `append_many`, the text and compact row writers, the damaged-log refusal |
| `reads.py` | `read` (seq ranges), `between` / `known_at` (time), lookups by id, memory and causation, counts |
| `rows.py` | a stored row (text or compact envelope) decoded into a `Recorded`; `COLUMNS`, `CORRUPT_LOG_FIX` |
| `verify.py` | `verify`: triggers, seq, SQLite's integrity check, every checksum (imported on first use) |
| `erasure.py` | what purge needs: plain payloads, checksums, the one rewrite (imported on first use) |

`append`, `reads` and `rows` load with the log (every `remember` and `recall`
opens it); `schema` only when a log is created or upgraded, `verify` and
`erasure` only when called, so the hot path pays for none of their code.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import apsw
import msgspec

from events import compact
from events.clock import Clock, utc_now
from events.db import connect, migrate, translated_errors
from events.ids import UlidFactory
from events.log.append import Appending, DuplicateDerivation, NewEvent, encode_other
from events.log.reads import Reading
from events.log.rows import CORRUPT_LOG_FIX
from events.types import Recorded

__all__ = ["CORRUPT_LOG_FIX", "SCHEMA_VERSION", "DuplicateDerivation", "EventLog", "NewEvent"]

# Bump when the schema (events/log/schema.py) gains something; every statement
# in it is idempotent (IF NOT EXISTS), so an older database is brought up to
# date by re-running it. Version 3 added the per-event `checksum` column
# (events/integrity.py), version 4 the `event_keys` table (idempotent
# remember and import).
SCHEMA_VERSION = 4


class EventLog(Appending, Reading):
    """Append and read events of one store (the SQLite backend; the PostgreSQL
    one, events/backends/postgres.py, keeps this class's reads and encoding)."""

    backend = "sqlite"
    # A log created since compact storage's fifth pass keeps its envelopes in
    # `event_rows` behind the `events` view (events/compact.py); None: a text log.
    _stored: compact.StoredRow | None = None
    _table = "events"  # the table that holds the rows (seq, payload)

    def __init__(self, path: Path, *, clock: Clock = utc_now, readonly: bool = False) -> None:
        self.path = path
        self._clock = clock
        self._ids = UlidFactory()
        self._encoder = msgspec.msgpack.Encoder(enc_hook=encode_other)
        self.conn = connect(path, readonly=readonly)
        with translated_errors(path):
            if not readonly:
                _migrate(self.conn)
            if compact.is_compact(self.conn):
                self._stored, self._table = compact.StoredRow(self.conn), "event_rows"

    def close(self) -> None:
        self.conn.close()

    def verify(self) -> list[str]:
        """Problems with the log's integrity; an empty list means it is sound.

        Checks the append-only triggers, that seq runs 1..N, SQLite's own
        integrity check, and every event's checksum and payload. Reads only;
        never repairs (the log is the last copy of the data)."""
        from events.log.verify import verify

        return verify(self)

    def checksums(self, seq: int, payload: bytes) -> tuple[str, str]:
        """(the stored checksum of event `seq`, its checksum with `payload`
        instead): what a purge tombstone records for each rewritten event."""
        from events.log.erasure import checksums

        return checksums(self, seq, payload)

    def plain_payloads(self) -> Iterator[tuple[int, bytes]]:
        """(seq, msgpack payload, decompressed) of every event: what a byte
        search over the log's content (purge) must read."""
        from events.log.erasure import plain_payloads

        return plain_payloads(self)

    def rewrite_payloads(self, payloads: dict[int, bytes], *, record: NewEvent | None = None) -> Recorded | None:
        """The one documented rewrite of the append-only log: replace the
        payloads of some events (by seq) and their checksums, in one
        transaction. Only erasure (purge, memman/erasure/) calls this, with
        `record`: the `memory.purged` tombstone naming the rewritten seqs and
        their checksums before and after, appended in the same transaction,
        so a rewrite is never unaccounted for. Envelopes are never touched."""
        from events.log.erasure import rewrite_payloads

        return rewrite_payloads(self, payloads, record)


def _migrate(conn: apsw.Connection) -> None:
    """Create or upgrade the log's schema if it is older than SCHEMA_VERSION
    (`migrate` checks again under its write lock); the DDL is imported only
    then."""
    if conn.execute("PRAGMA user_version").fetchone()[0] >= SCHEMA_VERSION:
        return
    from events.log.schema import schema_for, upgrade

    migrate(conn, SCHEMA_VERSION, schema_for(conn), upgrade=upgrade)
