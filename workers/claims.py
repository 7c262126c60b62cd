"""Who derives which input, when several workers on several machines drain
one store whose log is in PostgreSQL.

Each worker reads the queue from its own local replica (the `work`
projection), then claims the inputs of a chunk in PostgreSQL with session
advisory locks (`pg_try_advisory_lock`): an input another worker holds is
skipped, not waited for. A claim lives as long as the worker's connection, so
a killed worker's claims are released by the server the moment its session
ends; nothing has to expire. Claims are held until the chunk's derived events
are committed, and an input that gained a derivation after the worker's
replica last caught up (another worker got there first, or failed it and set
a retry time) is dropped from the chunk: no input is derived twice, and the
unique (type, causation, stage) index refuses a duplicate should one slip by.

A SQLite store needs none of this (the data dir's drain lock already admits
one drain), so `claims_for` returns `LocalClaims`, which claims everything.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from events.log import EventLog

CLAIM_BASE = 0x6D6D << 40  # advisory lock keys: this base + input seq ("mm")


class Claims(Protocol):
    def claim(self, seqs: Sequence[int], seen: int) -> list[int]:
        """The subset of `seqs` this worker now owns, in order. `seen` is the
        log position the worker's queue reflects."""

    def release(self) -> None:
        """Give back every claim (after the chunk is committed)."""

    def close(self) -> None: ...


class LocalClaims:
    def claim(self, seqs: Sequence[int], seen: int) -> list[int]:
        return list(seqs)

    def release(self) -> None:
        pass

    def close(self) -> None:
        pass


class PgClaims:
    """Advisory-lock claims on the store's PostgreSQL server."""

    def __init__(self, log: EventLog) -> None:
        from events.backends.postgres import PgConnection, connect

        self.log = log
        self.conn = PgConnection(connect(log.dsn, where=log.path), log.path)  # type: ignore[attr-defined]
        # A worker has loaded psycopg (it claims and appends), so its reads (each
        # chunk's inputs, the replica's catch-up) use it too: ~6x faster than libpq via ctypes.
        log.bulk_reads()  # type: ignore[attr-defined]
        self.held: list[int] = []

    def claim(self, seqs: Sequence[int], seen: int) -> list[int]:
        if not seqs:
            return []
        rows = self.conn.execute(
            "SELECT s FROM unnest(?::bigint[]) AS s WHERE pg_try_advisory_lock(? + s)", (list(seqs), CLAIM_BASE)
        ).fetchall()
        got = {r[0] for r in rows}
        self.held.extend(got)
        touched = self._touched_since(sorted(got), seen)
        return [s for s in seqs if s in got and s not in touched]

    def _touched_since(self, seqs: list[int], seen: int) -> set[int]:
        """Inputs with a derivation recorded after position `seen`: another
        worker's work the local queue does not show yet."""
        if not seqs:
            return set()
        rows = self.log.conn.execute(
            "SELECT DISTINCT causation FROM events WHERE seq > ? AND causation = ANY(?::bigint[])", (seen, seqs)
        ).fetchall()
        return {r[0] for r in rows}

    def release(self) -> None:
        if self.held:
            self.conn.execute("SELECT pg_advisory_unlock(? + s) FROM unnest(?::bigint[]) AS s", (CLAIM_BASE, self.held))
            self.held = []

    def close(self) -> None:
        self.conn.close()


def claims_for(log: EventLog) -> Any:
    return PgClaims(log) if log.backend == "postgresql" else LocalClaims()
