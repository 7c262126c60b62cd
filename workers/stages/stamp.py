"""When a connection's view of its database may have changed.

The drain reads the same rows for many facts of one chunk before the
chunk's events land (a word's holders, an entity's newest memories). What it
remembers is exact only while the database is unchanged: `stamp` is
(rows this connection changed, SQLite's data_version, which moves when another
connection commits), so a remembered answer is dropped as soon as either moves.
"""

from __future__ import annotations

import apsw


def stamp(conn: apsw.Connection) -> tuple[int, int]:
    return conn.total_changes(), conn.execute("PRAGMA data_version").fetchone()[0]
