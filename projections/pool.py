"""Store handles kept open across calls by one long-lived process.

A cold process opens a store's three SQLite files, reads, and closes them;
opening costs ~3 ms per file on this hardware (the pragmas, the schema, the
WAL index), about a third of a warm recall's own work at 10k. The warm
server (memman/server/) runs many calls in one process, so it lends each
call the handles the previous one gave back, with whatever derived state
they memoised (`StoreDB.memo`: the vector matrix, the embedder).

A kept handle is never staler than a fresh one would be:

- SQLite itself shows every committed write to the next statement of an
  open connection (no read transaction is left open between calls: a handle
  given back inside one is closed, not kept);
- a file deleted, renamed over or restored from a copy while kept (a
  replay after `rm projections.db`, a restored log.db) has another inode:
  the whole handle is closed and the next call opens the files anew, which
  re-runs every check an open makes (`StoreDB._refuse_older_log`);
- a log whose head went backwards (a copy written over the same inode) is
  treated the same way;
- handles a cold process would not share are never kept: a scratch view of
  a read-only store, a view up to a seq, a non-default clock, a log on
  PostgreSQL (its connection's life is the server's business, not ours).

Handles on one store share one memo. A prompt hook's recall runs in a
thread that may outlive its call (memman/integration/inject.py: past its
time budget the hook answers without it), so the next call finds the
store's handle still lent and opens another; with a memo of its own that
handle would load the store's vectors and index again, a second copy of
everything (at 1M memories, ~300 MB more and another 600 MB of mapped
index pages in the server's resident memory, and ~2 s). Shared, it reuses
what the first loaded: every entry is keyed by what it was derived from
(`StoreDB.kept`), whichever handle asks. The memo goes when the store's
files are replaced (like its handles) and when the store is evicted.

`StorePool.lending()` makes a pool the one `take` and `give` use for the
duration of a block (a context variable, so nothing outlives the block);
outside such a block `lender()` is None and every StoreDB is a cold one.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

from events.backends import LOG_FILE, backend_of
from events.clock import Clock, utc_now
from projections.store import PROJECTIONS_FILE, VECTORS_FILE, StoreDB

DEFAULT_KEPT = 8  # stores a server keeps open at once (the least recently used is closed)
_FILES = ("", LOG_FILE, PROJECTIONS_FILE, VECTORS_FILE)
_lender: ContextVar[StorePool | None] = ContextVar("memman_store_pool", default=None)

Identity = tuple[tuple[int, int] | None, ...]


def lender() -> StorePool | None:
    """The pool lending store handles to this call, if any."""
    return _lender.get()


class StorePool:
    def __init__(self, limit: int = DEFAULT_KEPT) -> None:
        self.limit = max(1, limit)
        self._kept: OrderedDict[Path, tuple[StoreDB, Identity, int]] = OrderedDict()
        self._lent: dict[int, Identity] = {}  # id(handle) -> its store's files when it was lent
        self._memos: dict[Path, tuple[Identity, dict[str, object]]] = {}  # the memo each store's handles share
        self._lock = threading.Lock()  # a hook's recall runs in a thread that may outlive its call
        self.opened = 0  # handles opened (not lent again): what `server status` reports as misses
        self.reused = 0

    @contextmanager
    def lending(self) -> Iterator[StorePool]:
        token = _lender.set(self)
        try:
            yield self
        finally:
            _lender.reset(token)

    def take(self, directory: Path, clock: Clock = utc_now) -> StoreDB:
        """A handle on the store in `directory`: the one kept from an earlier
        call when its files are still the same files, else a new one."""
        now = _identity(directory)  # before anything is opened: a file replaced later shows at `give`
        with self._lock:
            kept = self._kept.pop(directory, None)
        if kept is not None:
            db, identity, head = kept
            if clock is utc_now and now == identity and _head(db) >= head:
                db.notices.clear()
                self.reused += 1
                self._lend(db, now)
                return db
            db.close()
        self.opened += 1
        db = StoreDB(directory, clock=clock)
        if clock is utc_now:
            with self._lock:
                shared = self._memos.get(directory)
                if shared is None or shared[0] != now:
                    shared = self._memos[directory] = (now, db.memo)
            db.memo = shared[1]
        self._lend(db, now)
        return db

    def _lend(self, db: StoreDB, identity: Identity) -> None:
        with self._lock:
            self._lent[id(db)] = identity

    def give(self, db: StoreDB) -> None:
        """Keep `db` for the next call, or close it when it must not be reused:
        among others when the store's files changed while it was lent (a file
        opened during the call may be the old one or the new one)."""
        with self._lock:
            lent = self._lent.pop(id(db), None)
        identity = _identity(db.directory)
        head = _head(db) if lent == identity and _keepable(db) else -1
        if head < 0:
            db.close()
            return
        with self._lock:
            old = self._kept.pop(db.directory, None)
            self._kept[db.directory] = (db, identity, head)
            evicted = [self._kept.popitem(last=False)[1][0] for _ in range(len(self._kept) - self.limit)]
            for handle in evicted:
                self._memos.pop(handle.directory, None)
        for handle in ([old[0]] if old is not None else []) + evicted:  # two handles on one store in one call: the newer stays
            handle.close()

    def close(self) -> None:
        with self._lock:
            kept, self._kept = list(self._kept.values()), OrderedDict()
            self._memos.clear()
        for db, _, _ in kept:
            db.close()

    @property
    def kept(self) -> int:
        """How many stores are kept open now."""
        return len(self._kept)


def _keepable(db: StoreDB) -> bool:
    if not db.writable or db.upto is not None or db.clock is not utc_now or backend_of(db.directory) is not None:
        return False
    return not any(handle.conn.in_transaction for handle in db.open_handles())


def _head(db: StoreDB) -> int:
    """The log head as `db` sees it (0 when its log is not open); -1 when it cannot be read."""
    import apsw

    from events.errors import MemmanError

    if not db.is_open("log"):
        return 0
    try:
        return db.log.head()
    except (MemmanError, OSError, apsw.Error):
        return -1


def _identity(directory: Path) -> Identity:
    """(device, inode) of the store directory and of each of its files; None for a missing one."""
    found: list[tuple[int, int] | None] = []
    for name in _FILES:
        try:
            st = os.stat(os.path.join(directory, name) if name else directory)
        except OSError:
            found.append(None)
            continue
        found.append((st.st_dev, st.st_ino))
    return tuple(found)
