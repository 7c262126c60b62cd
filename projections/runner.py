"""Keeps projections caught up with the log.

A `ProjectionSet` is one SQLite file holding some projections and their
checkpoints. `catch_up` applies every handled event with seq > checkpoint and
advances the checkpoints in the same transaction, in batches, so a crash never
half-applies and a restart resumes where it stopped. Two processes catching
up at once are safe: checkpoints are re-read inside each write transaction and
events at or below them are skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import apsw

from events.db import compact_wal, connect, immediate, reclaim, translated_errors
from events.log import EventLog
from events.types import Recorded
from projections.base import Projector

Progress = Callable[[int, int], None]  # (applied so far, seq reached)

# A catch-up from checkpoint 0 over at least this many events (a replay, a
# first build) runs projectors that offer it in bulk mode: `bulk_begin`
# drops what is cheaper to build once at the end (full-text triggers, a
# secondary index), `bulk_end` builds it and is idempotent. A row
# "bulk:<name>" in `checkpoints`, written in the transaction that began bulk
# mode and deleted in the one that ended it, makes the next open of the set
# finish a bulk mode a crash interrupted (running `bulk_end` is safe even
# while another process is still replaying: it only restores and re-indexes).
# After it the file's free pages (the staged edges, the tables a version bump
# dropped: ~0.7 KB a memory at 100k) go back to the disk by a VACUUM and the
# WAL is truncated (`events.db.reclaim`, `compact_wal`), so a rebuilt store
# is as small as a new one: ~1 s of CPU at 100k against a ~12-20 s rebuild.
BULK_MIN_EVENTS = 5000
_BULK = "bulk:"
# In bulk mode a batch (one transaction) is larger, the page cache holds a
# 100k store's hot pages, and the WAL is copied back by size rather than
# every ~512 KiB (each copy an fsync): at 100k the default 2 MiB cache turned
# the random updates of memories and edges into page reads, and commits,
# auto-checkpoints included, were 13% of a replay's time.
BULK_BATCH = 20_000
BULK_CACHE_KIB = 128 * 1024
BULK_WAL_PAGES = 8192  # 32 MiB
# ... and both files are read through a memory map (SQLite's mmap_size), not
# a pread per page: at 100k a replay read ~1.3 GB of pages that way, ~10%
# of its CPU as system time.
BULK_MMAP = 1 << 40  # SQLite caps it at its compile-time maximum

_CHECKPOINTS = (
    "CREATE TABLE IF NOT EXISTS checkpoints ("
    " name TEXT PRIMARY KEY, seq INTEGER NOT NULL, version INTEGER NOT NULL)"
)


_LOG_MARK = "CREATE TABLE IF NOT EXISTS log_mark (one INTEGER PRIMARY KEY CHECK (one = 1), seq INTEGER, id TEXT)"


@contextmanager
def _bulk_pragmas(conn: apsw.Connection, *log_conns: apsw.Connection, on: bool) -> Iterator[None]:
    """A larger page cache and WAL for this connection while `on` (bulk mode),
    as they were afterwards."""
    if not on:
        yield
        return
    cache = conn.execute("PRAGMA cache_size").fetchone()[0]
    wal = conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0]
    mapped = [(c, c.execute("PRAGMA mmap_size").fetchone()[0]) for c in (conn, *log_conns)]
    conn.execute(f"PRAGMA cache_size=-{BULK_CACHE_KIB}")
    conn.wal_autocheckpoint(BULK_WAL_PAGES)
    for c, _ in mapped:
        c.execute(f"PRAGMA mmap_size={BULK_MMAP}")
    try:
        yield
    finally:
        conn.execute(f"PRAGMA cache_size={int(cache)}")
        conn.wal_autocheckpoint(int(wal))
        for c, size in mapped:
            c.execute(f"PRAGMA mmap_size={int(size)}")


class ProjectionSet:
    def __init__(
        self, path: Path, projectors: Sequence[Projector], log: EventLog, *, readonly: bool = False
    ) -> None:
        self.path = path
        self.projectors = tuple(projectors)
        self.log = log
        self.readonly = readonly
        self.bulk_min = BULK_MIN_EVENTS
        self.conn: apsw.Connection = connect(path, readonly=readonly)
        if not readonly:
            with translated_errors(path):
                self._ensure()

    def close(self) -> None:
        self.conn.close()

    def _ensure(self) -> None:
        """Create missing projections; rebuild any whose version changed."""
        if self._all_current():
            return
        with immediate(self.conn):
            self.conn.execute(_CHECKPOINTS)
            stored = {n: v for n, _, v in self.conn.execute("SELECT name, seq, version FROM checkpoints")}
            for p in self.projectors:
                if stored.get(p.name) != p.version:
                    p.drop(self.conn)
                    p.create(self.conn)
                    self.conn.execute(
                        "INSERT OR REPLACE INTO checkpoints (name, seq, version) VALUES (?, 0, ?)",
                        (p.name, p.version),
                    )
                    self.conn.execute("DELETE FROM checkpoints WHERE name = ?", (_BULK + p.name,))
                elif _BULK + p.name in stored:
                    self._bulk_end(p)

    def _all_current(self) -> bool:
        try:
            stored = {n: v for n, v in self.conn.execute("SELECT name, version FROM checkpoints")}
        except apsw.SQLError:  # no checkpoints table yet
            return False
        if any(name.startswith(_BULK) for name in stored):
            return False  # a bulk replay was interrupted: finish it (see BULK_MIN_EVENTS)
        return all(stored.get(p.name) == p.version for p in self.projectors)

    def checkpoints(self) -> dict[str, int]:
        with translated_errors(self.path):
            rows = self.conn.execute("SELECT name, seq FROM checkpoints").fetchall()
        known = dict(rows)
        return {p.name: known.get(p.name, 0) for p in self.projectors}

    def behind(self) -> bool:
        """Whether an event this set handles is past its checkpoint (a cheap
        indexed probe, so readers catch up only when there is work)."""
        mark = min(self.checkpoints().values(), default=0)
        types = sorted(frozenset().union(*(p.handles for p in self.projectors)))
        return bool(
            self.log.conn.execute(
                f"SELECT 1 FROM events WHERE type IN ({','.join('?' * len(types))}) AND seq > ? LIMIT 1",
                (*types, mark),
            ).fetchone()
        )

    def lag(self) -> int:
        """How many seqs the slowest projection here is behind the log head."""
        return self.log.head() - min(self.checkpoints().values(), default=0)

    def catch_up(self, *, batch: int = 5000, progress: Progress | None = None, upto: int | None = None) -> int:
        """Apply every pending event (up to seq `upto`, default the head);
        returns how many events were applied."""
        head = self.log.head() if upto is None else min(upto, self.log.head())
        start = min(self.checkpoints().values(), default=head)
        if start >= head:
            return 0
        types = frozenset().union(*(p.handles for p in self.projectors))
        applied, position = 0, start
        bulk = self._bulk_begin(start, head)
        if bulk:
            batch = max(batch, BULK_BATCH)
        written: dict[str, int] = {}  # checkpoints as this catch-up left them
        with translated_errors(self.path), _bulk_pragmas(self.conn, *self._log_conns(), on=bool(bulk)):
            try:
                while position < head:
                    events = list(self.log.read(after=position, upto=head, types=types, limit=batch, scan=True))
                    end = events[-1].seq if len(events) == batch else head
                    count, written = self._apply_batch(events, end, written)
                    applied += count
                    position = end
                    if progress is not None:
                        progress(applied, position)
            finally:  # also after a rolled-back batch: what was kept may not be in the tables
                self._close_caches()
            if bulk:
                with immediate(self.conn):
                    for p in bulk:
                        self._bulk_end(p)
        if start == 0 and head >= self.bulk_min and not self.readonly:
            # a rebuild from the start (a replay, a version bump's first open): its slack back to the disk
            reclaim(self.conn)
            compact_wal(self.conn)
        return applied

    def _apply_batch(self, events: list[Recorded], end: int, written: dict[str, int]) -> tuple[int, dict[str, int]]:
        """One write transaction: apply the events past each checkpoint, move
        the checkpoints to `end`; returns (events applied, checkpoints now)."""
        applied = 0
        routes: dict[str, list[Projector]] = {}  # event type -> the projectors handling it
        with immediate(self.conn):
            marks = self.checkpoints()
            self._caches(marks, written)
            for rec in events:
                route = routes.get(rec.type)
                if route is None:
                    route = routes[rec.type] = [p for p in self.projectors if rec.type in p.handles]
                for p in route:
                    if rec.seq > marks[p.name]:
                        p.apply(self.conn, rec)
                        applied += 1
            for p in self.projectors:
                if marks[p.name] < end:
                    self.conn.execute("UPDATE checkpoints SET seq=? WHERE name=?", (end, p.name))
            self._mark(end)
        return applied, {name: max(seq, end) for name, seq in marks.items()}

    def _caches(self, marks: dict[str, int], written: dict[str, int]) -> None:
        """Inside a batch's write transaction: projectors that keep what they
        read in memory (`cache_open`/`cache_close`, e.g. the graph's id numbers)
        keep it from one batch to the next only while their checkpoint is the
        one this catch-up wrote, i.e. no other process applied events (and so
        wrote their tables) in between; otherwise they start afresh."""
        for p in self.projectors:
            if hasattr(p, "cache_open") and written.get(p.name) != marks[p.name]:
                p.cache_close()  # type: ignore[attr-defined]
                p.cache_open(self.conn)  # type: ignore[attr-defined]

    def _close_caches(self) -> None:
        for p in self.projectors:
            if hasattr(p, "cache_close"):
                p.cache_close()  # type: ignore[attr-defined]

    def _log_conns(self) -> tuple[apsw.Connection, ...]:
        """The log's connection where it is a SQLite one (PostgreSQL has none)."""
        conn = getattr(self.log, "conn", None)
        return (conn,) if isinstance(conn, apsw.Connection) else ()

    def _bulk_begin(self, start: int, head: int) -> list[Projector]:
        """Put the projectors starting from 0 into bulk mode, if worth it."""
        if head - start < self.bulk_min or self.readonly:
            return []
        marks = self.checkpoints()
        chosen = [p for p in self.projectors if marks[p.name] == 0 and hasattr(p, "bulk_begin")]
        if chosen:
            with translated_errors(self.path), immediate(self.conn):
                for p in chosen:
                    p.bulk_begin(self.conn)  # type: ignore[attr-defined]
                    self.conn.execute(
                        "INSERT OR REPLACE INTO checkpoints (name, seq, version) VALUES (?, 0, -1)", (_BULK + p.name,)
                    )
        return chosen

    def _bulk_end(self, p: Projector) -> None:
        """Inside the caller's transaction: end bulk mode for `p`."""
        p.bulk_end(self.conn)  # type: ignore[attr-defined]
        self.conn.execute("DELETE FROM checkpoints WHERE name = ?", (_BULK + p.name,))

    def _mark(self, seq: int) -> None:
        """Remember which event the checkpoints reached (its id), so a log
        swapped for another or an older copy is recognised on the next open."""
        row = self.log.conn.execute("SELECT id FROM events WHERE seq = ?", (seq,)).fetchone()
        if row is not None:
            self.conn.execute(_LOG_MARK)
            self.conn.execute("INSERT OR REPLACE INTO log_mark (one, seq, id) VALUES (1, ?, ?)", (seq, row[0]))

    def log_mark(self) -> tuple[int, str] | None:
        """(seq, event id) of the last event these projections reached, if recorded."""
        try:
            row = self.conn.execute("SELECT seq, id FROM log_mark").fetchone()
        except apsw.SQLError:  # built by an older memman
            return None
        return (row[0], row[1]) if row else None

    def reset(self, names: Sequence[str] | None = None) -> None:
        """Drop and recreate projections (all, or those named), checkpoints at 0."""
        chosen = [p for p in self.projectors if names is None or p.name in names]
        with translated_errors(self.path), immediate(self.conn):
            for p in chosen:
                p.drop(self.conn)
                p.create(self.conn)
                self.conn.execute(
                    "INSERT OR REPLACE INTO checkpoints (name, seq, version) VALUES (?, 0, ?)",
                    (p.name, p.version),
                )
                self.conn.execute("DELETE FROM checkpoints WHERE name = ?", (_BULK + p.name,))

    def replay(self, names: Sequence[str] | None = None, *, progress: Progress | None = None) -> int:
        self.reset(names)
        return self.catch_up(progress=progress)

    def names(self) -> list[str]:
        return [p.name for p in self.projectors]
