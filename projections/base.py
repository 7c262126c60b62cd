"""What a projector is.

A projector is a pure function of the log: it reads the event, its envelope
and its own tables, nothing else (no clock, no randomness, no network, no
config, no other projection's tables). The runner owns transactions and
checkpoints; a projector never commits.

Optional: `bulk_begin`/`bulk_end` (see runner.BULK_MIN_EVENTS) and
`cache_open(conn)`/`cache_close()`: between them a projector may keep in
memory what it read from its own tables (the runner reopens the cache
whenever another process may have written them; see ProjectionSet._caches).
"""

from __future__ import annotations

from typing import Protocol

import apsw

from events.types import Recorded


class Projector(Protocol):
    name: str  # the checkpoint key
    version: int  # bump to force a rebuild from the log
    handles: frozenset[str]  # event types it reads
    tables: tuple[str, ...]  # tables it owns, compared row for row by `events verify`

    def create(self, conn: apsw.Connection) -> None: ...

    def drop(self, conn: apsw.Connection) -> None: ...

    def apply(self, conn: apsw.Connection, rec: Recorded) -> None: ...
