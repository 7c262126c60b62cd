"""What erasure (purge, memman/erasure/) needs of a SQLite log: every
payload in plain bytes to search, the checksums before and after a rewrite,
and the one documented rewrite of the append-only log.

Imported on first use: no `remember` or `recall` pays for it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from events import codec, compact
from events.clock import at_microseconds
from events.db import immediate, translated_errors
from events.errors import UnknownEvent
from events.integrity import row_checksum
from events.log.rows import COLUMNS
from events.log.schema import UPDATE_TRIGGER
from events.types import Recorded

if TYPE_CHECKING:
    from events.log import EventLog
    from events.log.append import NewEvent


def checksums(log: EventLog, seq: int, payload: bytes) -> tuple[str, str]:
    """(the stored checksum of event `seq`, its checksum with `payload`
    instead): what a purge tombstone records for each rewritten event."""
    row = log.conn.execute(f"SELECT {COLUMNS}, checksum FROM events WHERE seq = ?", (seq,)).fetchone()
    if row is None:
        raise UnknownEvent(f"no event with seq {seq}; see 'memman events list'")
    return row[-1] or row_checksum(row[:-1]), row_checksum((*row[:-2], payload))


def plain_payloads(log: EventLog) -> Iterator[tuple[int, bytes]]:
    """(seq, msgpack payload, decompressed) of every event: what a byte
    search over the log's content (purge) must read."""
    for seq, payload in log.conn.execute(f"SELECT seq, payload FROM {log._table}"):
        try:
            yield seq, codec.unpack(payload)
        except codec.CodecError:
            yield seq, payload  # damaged: searched as it is; `events verify` names it


def rewrite_payloads(log: EventLog, payloads: dict[int, bytes], record: NewEvent | None) -> Recorded | None:
    """`EventLog.rewrite_payloads` on SQLite: the append-only trigger is
    dropped and restored inside the transaction, so no other writer ever
    sees the log without it."""
    if not payloads and record is None:
        return None
    log.refuse_if_damaged()
    now = at_microseconds(log._clock())
    conn = log.conn
    try:  # on a compact log, the view forwards the update to its rows, where the trigger is
        with translated_errors(log.path), immediate(conn):
            conn.execute("DROP TRIGGER IF EXISTS events_no_update")
            for seq, payload in payloads.items():
                row = conn.execute(f"SELECT {COLUMNS} FROM events WHERE seq = ?", (seq,)).fetchone()
                if row is None:
                    raise UnknownEvent(f"no event with seq {seq}; see 'memman events list'")
                new = (*row[:-1], payload)
                conn.execute("UPDATE events SET payload = ?, checksum = ? WHERE seq = ?", (payload, row_checksum(new), seq))
            conn.execute(UPDATE_TRIGGER if log._stored is None else compact.UPDATE_TRIGGER)
            return log._insert(record, now) if record is not None else None
    except BaseException:
        log._forget_names()
        raise
