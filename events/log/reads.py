"""Reading the SQLite log: by seq range and type (`read`, what replay and
catch-up walk), by time (`between`, `known_at`), by id, memory and
causation, and the counts and positions (`head`, `count`, `seqs`).

A compact log (events/compact.py) is read from `event_rows` where it
matters for speed (a replay's range, time windows, ids), through the
`events` view elsewhere; rows become `Recorded` in events/log/rows.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime

import apsw

from events import compact
from events.clock import to_iso
from events.errors import CorruptEvent, UnknownEvent
from events.ids import ulid_ms
from events.log.rows import COLUMNS, CORRUPT_LOG_FIX, RowDecoding
from events.types import Recorded


class Reading(RowDecoding):
    """The reading half of `EventLog` (events/log/__init__.py)."""

    backend: str
    conn: apsw.Connection
    _table: str

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
        query = self._range_query(upto, types, scan)
        if query is None:
            return
        sql, args = query
        decode = self._decode if self._stored is None else self._decode_stored
        remaining = limit
        cursor_seq = after
        while remaining is None or remaining > 0:
            size = batch if remaining is None else min(batch, remaining)
            rows = self._read_batch(sql, (cursor_seq, *args, size), cursor_seq)
            if not rows:
                return
            for row in rows:
                yield decode(row)
            cursor_seq = rows[-1][0]
            if remaining is not None:
                remaining -= len(rows)
            if len(rows) < size:
                return

    def _range_query(self, upto: int | None, types: Iterable[str] | None, scan: bool) -> tuple[str, list[object]] | None:
        """`read`'s statement, whose arguments are (after, *args, batch size);
        None when no event can match (types the log never wrote)."""
        type_list: list | None = sorted(set(types)) if types is not None else None
        if type_list is not None and self._stored is not None:
            type_list = sorted(self._stored.numbers(type_list))  # names the log never wrote match nothing
        if type_list is not None and not type_list:
            return None
        columns, table = (COLUMNS, "events") if self._stored is None else (compact.ROW_COLUMNS, "event_rows")
        where = ["seq > ?"]
        args: list[object] = []
        if upto is not None:
            where.append("seq <= ?")
            args.append(upto)
        if type_list is not None:
            column = "+type" if scan and self.backend == "sqlite" else "type"  # "+": not through the index
            where.append(f"{column} IN ({','.join('?' * len(type_list))})")
            args.extend(type_list)
        return f"SELECT {columns} FROM {table} WHERE {' AND '.join(where)} ORDER BY seq LIMIT ?", args

    def _read_batch(self, sql: str, args: tuple, after: int) -> list[tuple]:
        try:
            return self.conn.execute(sql, args).fetchall()
        except UnicodeDecodeError as exc:
            raise CorruptEvent(
                f"an event after seq {after} in {self.path} cannot be read (not UTF-8: damaged on disk);"
                f" {CORRUPT_LOG_FIX}"
            ) from exc

    def for_memory(self, memory_id: str) -> list[Recorded]:
        rows = self.conn.execute(
            f"SELECT {COLUMNS} FROM events WHERE seq IN"
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
        """Events whose `field` time is in [since, until), in seq order,
        optionally of some types. A compact log stores each time as
        microseconds or text (events/compact.py), so each bound is two index
        ranges there (`_between_stored`); a text log compares ISO text."""
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
            f"SELECT {COLUMNS} FROM events WHERE {' AND '.join(where)} ORDER BY seq", args
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
            row = self.conn.execute(f"SELECT {COLUMNS} FROM events WHERE seq = ?", (seq,)).fetchone()
        except UnicodeDecodeError as exc:
            raise CorruptEvent(f"event {seq} in {self.path} cannot be read (not UTF-8: damaged on disk); {CORRUPT_LOG_FIX}") from exc
        if row is None:
            raise UnknownEvent(f"no event with seq {seq}; see 'memman events list'")
        return self._decode(row)

    def get_by_id(self, event_id: str) -> Recorded:
        if self._stored is not None:
            return self._get_by_id_stored(event_id.upper())
        row = self.conn.execute(f"SELECT {COLUMNS} FROM events WHERE id = ?", (event_id.upper(),)).fetchone()
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
            f"SELECT {COLUMNS} FROM events WHERE causation = ? ORDER BY seq", (causation,)
        ).fetchall()
        return [self._decode(row) for row in rows]

    def derivations_of_many(self, causations: Sequence[int]) -> dict[int, list[Recorded]]:
        """`derivations_of` for many inputs in one query (one round trip to a server)."""
        found: dict[int, list[Recorded]] = {seq: [] for seq in causations}
        if not found:
            return found
        marks = ",".join("?" * len(found))
        rows = self.conn.execute(
            f"SELECT {COLUMNS} FROM events WHERE causation IN ({marks}) ORDER BY seq", tuple(found)
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
