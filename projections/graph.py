"""The `edges` projection: the graph between memories.

Manual edges (`edge.linked`) always win over inferred ones with the same
(src, dst, type): an inferred edge never overwrites a manual one, and a
manual link replaces an inferred edge. A new edge policy (`store.configured`
edge_policy, written by `graph rebuild` right before the re-derived edges, in
one transaction) drops every inferred edge; manual edges survive. Edges touching forgotten or superseded
memories stay in the table; readers filter by the memories' status.
"""

from __future__ import annotations

from functools import cached_property, singledispatchmethod

import apsw
import msgspec

from events.types import EdgeLinked, EdgesInferred, EdgeUnlinked, MemoryPurged, Recorded, StoreConfigured

EDGE_POLICY_SETTING = "edge_policy"

_SCHEMA = """
CREATE TABLE edges (
    src       TEXT    NOT NULL,
    dst       TEXT    NOT NULL,
    edge_type TEXT    NOT NULL,
    weight    REAL    NOT NULL,
    meta      TEXT    NOT NULL DEFAULT '{}',
    manual    INTEGER NOT NULL,
    seq       INTEGER NOT NULL,
    PRIMARY KEY (src, dst, edge_type)
) WITHOUT ROWID;
CREATE INDEX edges_dst ON edges(dst, edge_type);
"""
# No index on edge_type alone (version 3): readers reach edges from memories
# (src by the primary key, dst by edges_dst); only `graph` statistics group by
# type, a scan. The index cost a third of the table's bytes (~1 KB a memory).


class GraphProjector:
    name = "graph"
    version = 3  # 3: no edges_type index
    tables = ("edges",)
    handles = frozenset({"edge.linked", "edge.unlinked", "edges.inferred", "store.configured", "memory.purged"})

    def __init__(self) -> None:
        self._encoder = msgspec.json.Encoder(order="sorted")

    def _meta(self, meta: dict[str, str]) -> str:
        return self._encoder.encode(meta).decode()

    def create(self, conn: apsw.Connection) -> None:
        conn.execute(_SCHEMA)

    def drop(self, conn: apsw.Connection) -> None:
        conn.execute("DROP TABLE IF EXISTS edges")

    def bulk_begin(self, conn: apsw.Connection) -> None:
        """A replay from the start: the dst index is built once at the end."""
        conn.execute("DROP INDEX IF EXISTS edges_dst")

    def bulk_end(self, conn: apsw.Connection) -> None:
        conn.execute("CREATE INDEX IF NOT EXISTS edges_dst ON edges(dst, edge_type)")

    @cached_property
    def _dispatch(self):  # type: ignore[no-untyped-def]
        """`_apply` bound once: singledispatchmethod builds a new wrapper on every
        attribute access (functools.update_wrapper), a replay's hottest overhead."""
        return self._apply

    def apply(self, conn: apsw.Connection, rec: Recorded) -> None:
        self._dispatch(rec.event, conn, rec)

    @singledispatchmethod
    def _apply(self, event: object, conn: apsw.Connection, rec: Recorded) -> None:
        """Events this projector does not know are ignored."""

    @_apply.register(MemoryPurged)
    def _purged(self, e: MemoryPurged, conn: apsw.Connection, rec: Recorded) -> None:
        for memory_id in e.purged:
            conn.execute("DELETE FROM edges WHERE src=? OR dst=?", (memory_id, memory_id))

    @_apply.register(EdgeLinked)
    def _linked(self, e: EdgeLinked, conn: apsw.Connection, rec: Recorded) -> None:
        conn.execute(
            "INSERT OR REPLACE INTO edges (src, dst, edge_type, weight, meta, manual, seq) VALUES (?,?,?,?,?,1,?)",
            (e.src, e.dst, e.edge_type, e.weight, self._meta(e.meta), rec.seq),
        )

    @_apply.register(EdgeUnlinked)
    def _unlinked(self, e: EdgeUnlinked, conn: apsw.Connection, rec: Recorded) -> None:
        conn.execute("DELETE FROM edges WHERE src=? AND dst=? AND edge_type=?", (e.src, e.dst, e.edge_type))

    @_apply.register(StoreConfigured)
    def _configured(self, e: StoreConfigured, conn: apsw.Connection, rec: Recorded) -> None:
        if e.setting == EDGE_POLICY_SETTING:
            conn.execute("DELETE FROM edges WHERE manual = 0")

    @_apply.register(EdgesInferred)
    def _inferred(self, e: EdgesInferred, conn: apsw.Connection, rec: Recorded) -> None:
        if not e.edges:
            return
        conn.executemany(  # one statement for the whole event: replay applies tens of thousands of edges
            "INSERT INTO edges (src, dst, edge_type, weight, meta, manual, seq) VALUES (?,?,?,?,?,0,?)"
            " ON CONFLICT (src, dst, edge_type) DO UPDATE SET weight=excluded.weight,"
            " meta=excluded.meta, seq=excluded.seq WHERE edges.manual = 0",
            [(x.src, x.dst, x.edge_type, x.weight, self._meta(x.meta), rec.seq) for x in e.edges],
        )
