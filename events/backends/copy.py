"""Copying a log between backends, row for row.

A copied event keeps everything: seq, id, type, schema_version, both times,
actor, causation, stage and the payload bytes, so the target is the same log
(its content hash equal), not a re-recording. `copy_log` is idempotent and
resumable: it first proves the target's events are a prefix of the source's
(same hash over the same seqs), then appends only the source events after the
target's head, one committed batch at a time; a killed copy resumes there.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator

from events.db import immediate, translated_errors
from events.errors import BadInput
from events.log import EventLog

_COLUMNS = "seq, id, type, schema_version, recorded_at, occurred_at, actor, causation, stage, payload, checksum"
_HASHED = 10  # every column but the checksum, which is derived from them
BATCH = 2000

Row = tuple[object, ...]


class DivergentLog(BadInput):
    """The target already holds events that are not this store's."""


def rows(log: EventLog, *, after: int = 0, upto: int | None = None, batch: int = BATCH) -> Iterator[Row]:
    """Raw event rows with after < seq <= upto, in seq order."""
    bulk = getattr(log, "bulk_reads", None)
    if bulk is not None:  # a PostgreSQL log reads many rows faster through psycopg
        bulk()
    position = after
    while True:
        chunk = log.conn.execute(
            f"SELECT {_COLUMNS} FROM events WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?",
            (position, upto if upto is not None else 2**62, batch),
        ).fetchall()
        for row in chunk:
            yield tuple(bytes(v) if isinstance(v, memoryview) else v for v in row)
        if len(chunk) < batch:
            return
        position = chunk[-1][0]


def content_hash(log: EventLog, *, upto: int | None = None) -> str:
    """sha256 over every event row up to `upto`, identical for equal logs on any backend."""
    digest = hashlib.sha256()
    for row in rows(log, upto=upto):
        for value in row[:_HASHED]:
            data = value if isinstance(value, bytes) else repr(value).encode()
            digest.update(len(data).to_bytes(8, "big") + data)
    return digest.hexdigest()


def _links(log: EventLog, after: int, upto: int) -> list[Row]:
    return [
        tuple(r)
        for r in log.conn.execute(
            "SELECT memory_id, seq FROM event_memories WHERE seq > ? AND seq <= ? ORDER BY seq, memory_id",
            (after, upto),
        ).fetchall()
    ]


def _keys(log: EventLog, after: int, upto: int) -> list[Row]:
    """The idempotency keys of events after < seq <= upto (so a `remember --id`
    retried after the move still appends nothing)."""
    return [
        tuple(r)
        for r in log.conn.execute(
            "SELECT key, seq FROM event_keys WHERE seq > ? AND seq <= ? ORDER BY seq", (after, upto)
        ).fetchall()
    ]


def _write(target: EventLog, batch: list[Row], links: list[Row], keys: list[Row]) -> None:
    placeholders = ",".join("?" * len(batch[0]))
    if target.backend == "sqlite":
        with translated_errors(target.path), immediate(target.conn):
            target.conn.executemany(f"INSERT INTO events ({_COLUMNS}) VALUES ({placeholders})", batch)
            target.conn.executemany("INSERT INTO event_memories (memory_id, seq) VALUES (?, ?)", links)
            target.conn.executemany("INSERT INTO event_keys (key, seq) VALUES (?, ?)", keys)
        return
    from events.backends.postgres import pg_errors

    raw = target.raw  # type: ignore[attr-defined]
    with pg_errors(target.path), raw.transaction(), raw.cursor() as cur:
        cur.execute("LOCK TABLE events IN EXCLUSIVE MODE")
        cur.executemany(f"INSERT INTO events ({_COLUMNS}) VALUES ({placeholders.replace('?', '%s')})", batch)
        if links:
            cur.executemany("INSERT INTO event_memories (memory_id, seq) VALUES (%s, %s)", links)
        if keys:
            cur.executemany("INSERT INTO event_keys (key, seq) VALUES (%s, %s)", keys)


def check_prefix(source: EventLog, target: EventLog) -> int:
    """The target's head, after proving its events are the source's first ones."""
    head = target.head()
    if head > source.head() or (head and content_hash(source, upto=head) != content_hash(target, upto=head)):
        raise DivergentLog(
            f"{target.path} already holds a different event log ({head} events); use an empty database or file"
        )
    return head


def copy_log(
    source: EventLog, target: EventLog, *, upto: int | None = None, progress: Callable[[int], None] | None = None
) -> int:
    """Append the source's events after the target's head (up to `upto`);
    returns how many were copied."""
    position = check_prefix(source, target)
    copied = 0
    batch: list[Row] = []
    for row in rows(source, after=position, upto=upto):
        batch.append(row)
        if len(batch) == BATCH:
            copied += _flush(source, target, batch, progress, copied)
            batch = []
    if batch:
        copied += _flush(source, target, batch, progress, copied)
    return copied


def _flush(
    source: EventLog, target: EventLog, batch: list[Row], progress: Callable[[int], None] | None, so_far: int
) -> int:
    low, high = int(batch[0][0]) - 1, int(batch[-1][0])  # type: ignore[call-overload]
    _write(target, batch, _links(source, low, high), _keys(source, low, high))
    if progress is not None:
        progress(so_far + len(batch))
    return len(batch)
