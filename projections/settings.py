"""The `settings` projection: store-level settings recorded as `store.configured`
events (for example which embedder fingerprint the store is bound to)."""

from __future__ import annotations

import apsw

from events.types import Recorded, StoreConfigured


class SettingsProjector:
    name = "settings"
    version = 1
    tables = ("settings",)
    handles = frozenset({"store.configured"})

    def create(self, conn: apsw.Connection) -> None:
        conn.execute(
            "CREATE TABLE settings (setting TEXT PRIMARY KEY, value TEXT NOT NULL, seq INTEGER NOT NULL)"
        )

    def drop(self, conn: apsw.Connection) -> None:
        conn.execute("DROP TABLE IF EXISTS settings")

    def apply(self, conn: apsw.Connection, rec: Recorded) -> None:
        if isinstance(rec.event, StoreConfigured):
            conn.execute(
                "INSERT OR REPLACE INTO settings (setting, value, seq) VALUES (?,?,?)",
                (rec.event.setting, rec.event.value, rec.seq),
            )
