"""Appending to the SQLite log: one transaction per batch (all land or
none), idempotency keys checked inside it, the envelope written as text
(`events`) or compact (`event_rows`, events/compact.py), the rows that index
an event by its keys and memories, and the refusal to write to a log a
check found damaged.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import apsw
import msgspec

from events import codec, compact
from events.clock import Clock, at_microseconds, to_iso
from events.db import immediate, translated_errors
from events.errors import AppendOnlyViolation, LogDamaged, LogError
from events.ids import UlidFactory
from events.integrity import row_checksum
from events.log.rows import CORRUPT_LOG_FIX
from events.types import Event, Recorded, type_of

# How SQLite names the unique derivation index in a refusal, by kind of log.
_DERIVATION_INDEX = ("events_derivation", "events.type, events.causation", "event_rows.causation, event_rows.type")


class NewEvent(msgspec.Struct, frozen=True, kw_only=True):
    """An event plus the envelope fields its writer chooses."""

    event: Event
    actor: str = "cli"
    occurred_at: datetime | None = None
    causation: int | None = None
    stage: str | None = None


def encode_other(value: object) -> object:
    """datetime subclasses (freezegun's, pendulum's) encode as ISO strings,
    which decode back into `datetime` fields."""
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot store a {type(value).__name__} in an event")


class DuplicateDerivation(LogError):
    """The same derivation (type, causation, stage) is already in the log."""


class Appending:
    """The writing half of `EventLog` (events/log/__init__.py)."""

    backend: str
    conn: apsw.Connection
    path: Path
    _clock: Clock
    _ids: UlidFactory
    _encoder: msgspec.msgpack.Encoder
    _stored: compact.StoredRow | None

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
                    for item in items:
                        key = getattr(item.event, "key", None)
                        if key is not None and self.seq_of_key(key) is not None:
                            continue
                        recorded.append(self._insert(item, now))
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

    def _insert(self, item: NewEvent, now: datetime) -> Recorded:
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
        else:
            self._insert_stored(item, type_, (now, occurred), event_id, payload, digest)
        seq = self.conn.last_insert_rowid()
        key = getattr(event, "key", None)
        if key is not None:
            self.conn.execute("INSERT INTO event_keys (key, seq) VALUES (?, ?)", (key, seq))
        for memory_id in dict.fromkeys(event.memory_ids()):
            self.conn.execute("INSERT INTO event_memories (memory_id, seq) VALUES (?, ?)", (memory_id, seq))
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

    def _insert_stored(
        self, item: NewEvent, type_: str, times: tuple[datetime, datetime], event_id: str, payload: bytes, digest: str
    ) -> None:
        """`_insert`'s row on a compact log (recorded and occurred `times`):
        what the view's trigger would do, faster (events/compact.py)."""
        names = self._stored
        now, occurred = times
        self.conn.execute(
            "INSERT INTO event_rows (id, type, schema_version, recorded_at, occurred_at, actor,"
            " causation, stage, payload, checksum) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (event_id, names.number(type_), item.event.SCHEMA, compact.micros(now),
             None if occurred == now else compact.micros(occurred), names.number(item.actor),
             item.causation, names.number(item.stage), payload, compact.stored_checksum(digest)),
        )  # fmt: skip

    def encode(self, event: Event) -> bytes:
        """The payload as stored: on SQLite, large payloads compressed
        (events/codec.py); PostgreSQL compresses large values itself (TOAST),
        and its erasure check searches the stored bytes, so they stay plain."""
        raw = self._encoder.encode(event)
        return codec.pack(raw) if self.backend == "sqlite" else raw

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
