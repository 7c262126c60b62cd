"""How a stored row becomes a `Recorded`: the text envelope of `events` and
the compact one of `event_rows` (events/compact.py), the payload unpacked
(events/codec.py), decoded and upcast (events/upcast.py); and what is said
when a row cannot be read (`CorruptEvent`, with the fix: `CORRUPT_LOG_FIX`).
"""

from __future__ import annotations

from datetime import datetime
from functools import cached_property
from pathlib import Path

import msgspec

from events import codec, compact
from events.clock import from_iso
from events.errors import CorruptEvent, LogError
from events.integrity import row_checksum
from events.types import EVENT_CLASSES, Event, Recorded
from events.upcast import upcast

# The text envelope's columns, as every reader of `events` selects them.
COLUMNS = "seq, id, type, schema_version, recorded_at, occurred_at, actor, causation, stage, payload"

CORRUPT_LOG_FIX = (
    "the log is the source of truth and is never repaired in place: copy the store directory aside,"
    " restore log.db from a backup, and 'memman export --what events' reads out every event still readable"
)


class RowDecoding:
    """The decoding half of `EventLog` (events/log/__init__.py)."""

    path: Path | str
    _stored: compact.StoredRow | None
    _last_time: tuple[str, datetime] | None = None  # (text, time) last parsed, see _parsed

    @cached_property
    def _unpack(self) -> codec.Unpacker:
        """Built on first read, as the decoder."""
        return codec.Unpacker()

    @cached_property
    def _decoder(self) -> msgspec.msgpack.Decoder:
        """Built on first read: introspecting the whole union costs ~4 ms,
        which `remember` (append only) should not pay."""
        return msgspec.msgpack.Decoder(Event)

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

    def _row_problem(self, row: tuple, stored: str | None, has_checksum: bool) -> str | None:
        """What is wrong with one row of the `events` columns and its stored
        checksum (`verify`, on either backend), or None if it reads back."""
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


def _known_type(seq: int, type_: str) -> None:
    if type_ not in EVENT_CLASSES:
        raise LogError(f"event {seq} has unknown type {type_!r}; is this memman too old for the store?")
