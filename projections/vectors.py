"""The `vectors` projection: every stored embedding, keyed by memory and
embedder fingerprint, in its own database file with its own checkpoint.

Vectors arrive only through `memory.embedded` events, so rebuilding this
projection never calls a provider. Several fingerprints may coexist (during an
embedder swap); readers select the store's bound fingerprint.

Why a SQLite table and not a usearch file: recall runs in a fresh process per
prompt, and importing usearch costs ~150 ms on this hardware (PERF_NOTES)
while an exact numpy scan of 10k x 256 float32 rows costs well under 1 ms.
The table is the durable, transactional index; an approximate index for very
large stores can be layered on top of it without changing the events.
"""

from __future__ import annotations

import apsw

from events.types import MemoryEmbedded, Recorded


class VectorsProjector:
    name = "vectors"
    version = 1
    tables = ("vectors",)
    handles = frozenset({"memory.embedded"})

    def create(self, conn: apsw.Connection) -> None:
        conn.execute(
            "CREATE TABLE vectors ("
            " memory_id TEXT NOT NULL, fingerprint TEXT NOT NULL, dim INTEGER NOT NULL,"
            " vec BLOB NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (fingerprint, memory_id)) WITHOUT ROWID"
        )

    def drop(self, conn: apsw.Connection) -> None:
        conn.execute("DROP TABLE IF EXISTS vectors")

    def apply(self, conn: apsw.Connection, rec: Recorded) -> None:
        e = rec.event
        if not isinstance(e, MemoryEmbedded):
            return
        for v in e.vectors:
            conn.execute(
                "INSERT OR REPLACE INTO vectors (memory_id, fingerprint, dim, vec, seq) VALUES (?,?,?,?,?)",
                (v.memory_id, e.fingerprint, e.dim, v.data, rec.seq),
            )
