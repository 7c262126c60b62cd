"""The `usage` projection: how often, and when last, recall returned each
memory, folded from `memory.accessed` events. It holds ids, counts and times
only (no content), and is what the retention policy reads as "use"
(memman/lifecycle/retention.py)."""

from __future__ import annotations

import apsw

from events.clock import to_iso
from events.types import MemoryAccessed, MemoryPurged, Recorded


class UsageProjector:
    name = "usage"
    version = 1
    tables = ("usage",)
    handles = frozenset({"memory.accessed", "memory.purged"})

    def create(self, conn: apsw.Connection) -> None:
        conn.execute(
            "CREATE TABLE usage (memory_id TEXT PRIMARY KEY, uses INTEGER NOT NULL, last_used_at TEXT NOT NULL)"
            " WITHOUT ROWID"
        )

    def drop(self, conn: apsw.Connection) -> None:
        conn.execute("DROP TABLE IF EXISTS usage")

    def apply(self, conn: apsw.Connection, rec: Recorded) -> None:
        if isinstance(rec.event, MemoryPurged):
            for memory_id in rec.event.purged:
                conn.execute("DELETE FROM usage WHERE memory_id=?", (memory_id,))
            return
        if not isinstance(rec.event, MemoryAccessed):
            return
        for access in rec.event.accesses:
            conn.execute(
                "INSERT INTO usage (memory_id, uses, last_used_at) VALUES (?, ?, ?)"
                " ON CONFLICT(memory_id) DO UPDATE SET uses = uses + excluded.uses,"
                " last_used_at = max(last_used_at, excluded.last_used_at)",
                (access.memory_id, access.count, to_iso(access.last_at)),
            )
