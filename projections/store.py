"""The files of one store and the projections that live in them.

    <store>/log.db          the event log (source of truth)
    <store>/backend.dsn     or, for a store on PostgreSQL, where its log lives (0600);
                            the projection files are then a local read replica of it
    <store>/projections.db  memories + FTS5, graph edges, settings, the work queue, usage
    <store>/vectors.db      embeddings, with their own checkpoint

Deleting projections.db and vectors.db and replaying gives back the same store.
"""

from __future__ import annotations

import _thread
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path

from events.clock import Clock, to_iso, utc_now
from events.errors import BackendUnavailable, BadInput, LogMissing, StoreCorrupt
from typing import TYPE_CHECKING, TypeVar

from events.backends import LOG_FILE, backend_of, open_log
from events.log import EventLog

if TYPE_CHECKING:  # projectors load on first use: `remember` only appends to the log
    from projections.runner import ProjectionSet, Progress
    from projections.scratch import Scratch

LOG_MISSING_FIX = (
    "copy the store directory aside first ('memman export' reads the memories out of projections.db meanwhile);"
    " then restore log.db and its -wal from a backup, and if that copy is older, move projections.db and"
    " vectors.db aside as well so they are rebuilt from it (never delete them: they may hold the only copy)"
)
PROJECTIONS_FILE = "projections.db"
VECTORS_FILE = "vectors.db"
BULK_WAL_PAGES = 8192  # 32 MiB at 4 KiB pages
T = TypeVar("T")


class StoreDB:
    """Handles on one store's log and projection databases, opened on first use
    (so `remember`, which only appends, never opens a projection)."""

    def __init__(
        self, directory: Path, *, clock: Clock = utc_now, log_directory: Path | None = None, upto: int | None = None
    ) -> None:
        """`log_directory` and `upto` make a scratch view: projections in
        `directory`, built from another store's log up to seq `upto` only."""
        self.directory = directory
        self._clock = clock
        self._log_directory = log_directory or directory
        self.upto = upto
        self.notices: list[str] = []  # things the user should hear about (the CLI prints them)
        self.offline: str | None = None  # why reads answer from the local replica alone (answer_offline)
        self._scratch: Scratch | None = None  # a read-only store is read through a scratch copy
        # Derived state a reader may reuse while the key it is stored under
        # still holds (each entry's key names what it was derived from, e.g.
        # the vector set's stamp). A cold process drops it with the handle; the
        # warm server keeps handles across calls (projections/pool.py).
        self.memo: dict[str, object] = {}

    def kept(self, key: str, version: object, build: Callable[[], T]) -> T:
        """`build()`, memoised under `key` for as long as `version` (what the
        value was derived from) stays the same. One build at a time per key:
        in the warm server a prompt hook's recall that overran its budget
        goes on in its thread, and the next request's recall, on another
        handle sharing this memo, waits for that build instead of loading a
        second copy beside it (at 1M: the server's peak 0.9 -> 2.7 GB when
        hooks came faster than the first load)."""
        held = self.memo.get(key)  # read, not popped: the warm server's handles on one store share a memo (projections/pool.py)
        if isinstance(held, tuple) and held[0] == version:
            return held[1]  # type: ignore[no-any-return]
        del held
        lock = self.memo.setdefault(f"building:{key}", _thread.RLock())  # setdefault is atomic: one lock per key
        with lock:  # type: ignore[attr-defined]
            held = self.memo.get(key)  # built by another thread while this one waited?
            if isinstance(held, tuple) and held[0] == version:
                return held[1]  # type: ignore[no-any-return]
            self.memo.pop(key, None)  # a stale value is dropped before its successor is built (peak memory)
            del held
            value = build()
            self.memo[key] = (version, value)
            return value

    @property
    def clock(self) -> Clock:
        return self._clock

    def is_open(self, name: str) -> bool:
        """Whether the `log`, `main` or `vectors` handle has been opened."""
        return name in self.__dict__

    def open_handles(self) -> list:  # type: ignore[type-arg]
        """The log and projection handles opened so far."""
        return [self.__dict__[n] for n in ("log", "main", "vectors") if n in self.__dict__]

    @property
    def writable(self) -> bool:
        """Whether this process may write the store (false on a read-only mount)."""
        return self._scratch is None and (not self.directory.exists() or os.access(self.directory, os.W_OK))

    def read_only_view(self) -> None:
        """Read a store that cannot be written (a read-only mount, NanoClaw's
        shared global store) through a scratch copy of its files, so catching
        projections up never writes to it and a file we cannot write is never
        mistaken for a corrupt one. The copy is reused while the store does
        not change (projections/scratch.py). Call before opening anything."""
        if self._scratch is not None or self.writable:
            return
        from projections.scratch import open_scratch

        self._scratch = open_scratch(self.directory)
        self.directory = self._log_directory = self._scratch.directory
        self.notices.append("the store is read-only: answered from a scratch copy (nothing was written to it)")

    def now(self):  # type: ignore[no-untyped-def]
        """The store's clock (injectable, so tests can age a store)."""
        return self._clock()

    def _open(self, filename: str, projectors: list) -> ProjectionSet:  # type: ignore[type-arg]
        """Open a projection file; a corrupt one is moved aside and rebuilt
        from the log (projections hold nothing the log does not)."""
        from projections.runner import ProjectionSet

        path = self.directory / filename
        log = self.log  # opened first: its own corruption must not be blamed on a projection
        try:
            pset = ProjectionSet(path, projectors, log)
        except StoreCorrupt:
            if not os.access(self.directory, os.W_OK):  # a file we cannot write is not a corrupt one
                raise
            stamp = to_iso(self._clock()).replace(":", "").replace("-", "")
            aside = path.with_name(f"{filename}.corrupt-{stamp}")
            path.replace(aside)
            for suffix in ("-wal", "-shm"):
                path.with_name(filename + suffix).unlink(missing_ok=True)
            self.notices.append(f"{filename} was corrupt; moved it to {aside.name} and rebuilt it from the log")
            pset = ProjectionSet(path, projectors, self.log)
            pset.catch_up()
            return pset
        if self.offline is not None:  # nothing to compare with: the replica is all there is
            return pset
        self._refuse_older_log(pset)
        if self.upto is None and log.backend != "sqlite":
            return self._replica_after_purge(pset, projectors)
        return pset

    def _replica_after_purge(self, pset: ProjectionSet, projectors: list) -> ProjectionSet:  # type: ignore[type-arg]
        """A replica of a shared log that another machine purged since this
        file last caught up is rebuilt from the scrubbed log (projections/replica.py)."""
        from projections.replica import drop_derived, purged_since
        from projections.runner import ProjectionSet

        if not purged_since(self.log, min(pset.checkpoints().values(), default=0)):
            return pset
        pset.close()
        held = {h.path.name for h in (self.__dict__.get("main"), self.__dict__.get("vectors")) if h is not None}
        removed = drop_derived(self.directory, held)
        self.notices.append(f"a purge was recorded in the shared log: rebuilt {', '.join(removed)} from it")
        rebuilt = ProjectionSet(pset.path, projectors, self.log)
        rebuilt.catch_up()
        return rebuilt

    def answer_offline(self, error: BackendUnavailable) -> bool:
        """Let reads answer from the local replica alone: this is a PostgreSQL
        store whose server cannot be reached (`error`), and a replica exists.
        The log becomes a stand-in that fails every use of the log itself
        (writes, catch-up, --known-at: exit 6, nothing written), and a notice
        says how stale the answer may be. False (nothing changed) for a
        SQLite store, a scratch view, or a machine with no replica yet."""
        from events.backends.dsn import redact
        from projections.replica import UnreachableLog, offline_warning

        dsn = backend_of(self._log_directory)
        if dsn is None or self.upto is not None or not (self.directory / PROJECTIONS_FILE).exists():
            return False
        dead = self.__dict__.pop("log", None)
        if dead is not None:
            dead.close()  # closing a broken connection raises nothing
        stand_in = UnreachableLog(redact(dsn), error)
        self.__dict__["log"] = stand_in
        self.offline = str(error)
        for name in ("main", "vectors"):
            handle = self.__dict__.get(name)
            if handle is not None:
                handle.log = stand_in  # type: ignore[assignment]
        self.notices.append(offline_warning(stand_in.path, self.directory, self.main.log_mark(), self._clock()))
        return True

    def note_synced(self) -> None:
        """After a read found the replica level with a PostgreSQL log's head:
        remember when (projections/replica.py), for the offline warning."""
        if self.upto is not None or self.offline is not None or self.log.backend == "sqlite" or not self.writable:
            return
        from projections.replica import note_synced

        note_synced(self.directory, max(self.main.checkpoints().values(), default=0), self._clock())

    def _refuse_older_log(self, pset: ProjectionSet) -> None:
        """Projections that have applied events the log no longer holds mean
        log.db was lost, emptied, restored from an older copy or lost its WAL.
        Catching up or replaying would then discard the only copy of those
        events' effects, so stop and say so."""
        if self.upto is not None:
            return
        applied = max(pset.checkpoints().values(), default=0)
        head = self.log.head()
        mark = pset.log_mark()
        if mark is not None and mark[0] <= head:
            row = self.log.conn.execute("SELECT id FROM events WHERE seq = ?", (mark[0],)).fetchone()
            if row is not None and row[0] != mark[1]:
                pset.close()
                raise LogMissing(
                    f"{self._log_directory / LOG_FILE} is not the log {pset.path.name} was built from"
                    f" (event {mark[0]} has another id): it was replaced by an older or another copy",
                    LOG_MISSING_FIX,
                )
        if applied > head:
            pset.close()
            what = "is empty" if head == 0 else f"ends at seq {head}"
            raise LogMissing(
                f"{self._log_directory / LOG_FILE} {what} but {pset.path.name} was built from {applied} events:"
                " the log was lost, emptied, or replaced by an older copy (or lost its -wal file)",
                LOG_MISSING_FIX,
            )
    def damaged(self) -> dict[str, str]:
        """Projection files SQLite finds damaged (quick_check), by file name.
        Opens each set; a file too damaged to open is reported too."""
        import apsw

        found: dict[str, str] = {}
        self.log  # noqa: B018 - opened first: damage to the log must never be blamed on a projection
        for attr, filename in (("main", PROJECTIONS_FILE), ("vectors", VECTORS_FILE)):
            try:
                rows = getattr(self, attr).conn.execute("PRAGMA quick_check(5)").fetchall()
            except (StoreCorrupt, apsw.CorruptError, apsw.NotADBError) as exc:
                if isinstance(exc, LogMissing):
                    raise
                found[filename] = str(exc)
                continue
            problems = [r[0] for r in rows if r[0] != "ok"]
            if problems:
                found[filename] = "; ".join(problems)
        return found

    def repair(self) -> list[str]:
        """Move damaged projection files aside and rebuild them from the log
        (projections hold nothing the log does not); the files repaired."""
        repaired = []
        for filename in self.damaged():
            attr = "main" if filename == PROJECTIONS_FILE else "vectors"
            handle = self.__dict__.pop(attr, None)
            if handle is not None:
                handle.close()
            path = self.directory / filename
            stamp = to_iso(self._clock()).replace(":", "").replace("-", "")
            aside = path.with_name(f"{filename}.corrupt-{stamp}")
            path.replace(aside)
            for suffix in ("-wal", "-shm"):
                path.with_name(filename + suffix).unlink(missing_ok=True)
            self.notices.append(f"{filename} was damaged; moved it to {aside.name} and rebuilt it from the log")
            getattr(self, attr).catch_up()
            repaired.append(filename)
        if PROJECTIONS_FILE in repaired or VECTORS_FILE in repaired:
            for cache in self.directory.glob("vectors-*.f32"):
                cache.unlink(missing_ok=True)
        return repaired

    @cached_property
    def log(self) -> EventLog:
        if backend_of(self._log_directory) is None:  # a local SQLite log (a PostgreSQL one cannot go missing here)
            path = self._log_directory / LOG_FILE
            if not path.exists() and self.upto is None:
                left = [name for name in (PROJECTIONS_FILE, VECTORS_FILE) if (self.directory / name).exists()]
                if left:  # never start a fresh, empty log beside projections built from a lost one
                    raise LogMissing(f"{path} is missing but {left[0]} was built from it", LOG_MISSING_FIX)
        return open_log(self._log_directory, clock=self._clock)

    @cached_property
    def main(self) -> ProjectionSet:
        from projections.graph import GraphProjector
        from projections.memories import MemoriesProjector
        from projections.queue import QueueProjector
        from projections.settings import SettingsProjector
        from projections.usage import UsageProjector

        from projections import bm25

        projectors = [MemoriesProjector(), GraphProjector(), SettingsProjector(), QueueProjector(), UsageProjector()]
        pset = self._open(PROJECTIONS_FILE, projectors)
        bm25.register(pset.conn)  # the capped keyword ranking's (projections/queries.py)
        return pset

    @cached_property
    def vectors(self) -> ProjectionSet:
        from projections.vectors import VectorsProjector

        return self._open(VECTORS_FILE, [VectorsProjector()])

    @property
    def sets(self) -> tuple[ProjectionSet, ProjectionSet]:
        return (self.main, self.vectors)

    def projection_names(self) -> list[str]:
        return [name for s in self.sets for name in s.names()]

    def catch_up(self, progress: Progress | None = None) -> int:
        return sum(s.catch_up(progress=progress, upto=self.upto) for s in self.sets)

    def replay(self, names: Sequence[str] | None = None, progress: Progress | None = None) -> int:
        known = self.projection_names()
        unknown = sorted(set(names or ()) - set(known))
        if unknown:
            raise BadInput(f"unknown projection {unknown[0]!r}; choose from {', '.join(known)}")
        applied = 0
        for s in self.sets:
            chosen = [n for n in s.names() if names is None or n in names]
            if chosen:
                applied += s.replay(chosen, progress=progress)
        return applied

    def checkpoints(self) -> dict[str, int]:
        return {**self.main.checkpoints(), **self.vectors.checkpoints()}

    def setting(self, name: str) -> str | None:
        row = self.main.conn.execute("SELECT value FROM settings WHERE setting=?", (name,)).fetchone()
        return row[0] if row else None

    def compact(self, min_wal_bytes: int = 0) -> None:
        """Checkpoint and truncate the WAL of every file this handle opened
        whose WAL holds at least `min_wal_bytes` (a drain passes
        events.db.WAL_COMPACT_BYTES: a checkpoint with fsync per small drain
        cost more than the next process's scan of a small WAL)."""
        from events.db import compact_wal

        for name in ("main", "vectors", "log"):
            handle = self.__dict__.get(name)
            if handle is None:
                continue
            if getattr(handle, "backend", "sqlite") != "sqlite":  # a log on a server has no WAL here
                continue
            wal = Path(f"{handle.path}-wal")
            if min_wal_bytes and (not wal.exists() or wal.stat().st_size < min_wal_bytes):
                continue
            compact_wal(handle.conn)

    def reclaim(self) -> list[str]:
        """Return the free pages of the projection files (`events.db.reclaim`:
        a VACUUM where a tenth of a file is free), after a replay; the names
        of the files rewritten. The log is append-only: it has none to return."""
        from events.db import reclaim

        done = []
        for name in ("main", "vectors"):
            handle = self.__dict__.get(name)
            if handle is not None and not handle.readonly and reclaim(handle.conn):
                done.append(Path(handle.path).name)
        return done

    @contextmanager
    def bulk_wal(self, pages: int = BULK_WAL_PAGES) -> Iterator[None]:
        """Checkpoint by size during a bulk pass (a drain, a replay): the WAL of
        each open SQLite file may grow to `pages` before SQLite copies it back,
        instead of every ~512 KiB, so a long drain pays a few checkpoints
        rather than one every few chunks. `compact` trims it afterwards."""
        from events.db import WAL_AUTOCHECKPOINT_PAGES

        handles = [self.__dict__.get(n) for n in ("main", "vectors", "log")]
        conns = [h.conn for h in handles if h is not None and getattr(h, "backend", "sqlite") == "sqlite"]
        for conn in conns:
            conn.wal_autocheckpoint(pages)
        try:
            yield
        finally:
            for conn in conns:
                conn.wal_autocheckpoint(WAL_AUTOCHECKPOINT_PAGES)

    def close(self) -> None:
        self.memo = {}  # dropped, not cleared: another handle on this store may share it (projections/pool.py)
        for name in ("main", "vectors", "log"):
            handle = self.__dict__.pop(name, None)
            if handle is not None:
                handle.close()
        if self._scratch is not None:
            self._scratch.close()
