"""The `edges` projection: the graph between memories.

Manual edges (`edge.linked`) always win over inferred ones with the same
(src, dst, type): an inferred edge never overwrites a manual one, and a
manual link replaces an inferred edge. A new edge policy (`store.configured`
edge_policy, written by `graph rebuild` right before the re-derived edges, in
one transaction) drops every inferred edge; manual edges survive. Edges touching forgotten or superseded
memories stay in the table; readers filter by the memories' status.

Readers query the `edges` view (src, dst, edge_type, weight, meta, manual,
seq: memory ids and type names); the rows behind it are integer-keyed
(`edge_rows`, see the schema's note), a third of the bytes.
"""

from __future__ import annotations

from functools import cached_property, singledispatchmethod

import apsw
import msgspec

from events.types import EdgeLinked, EdgesInferred, EdgeUnlinked, MemoryPurged, Recorded, StoreConfigured
from projections.base import bound_dispatch

EDGE_POLICY_SETTING = "edge_policy"

_SCHEMA = """
CREATE TABLE edge_nodes (n INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE);
CREATE TABLE edge_kinds (k INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE edge_metas (m INTEGER PRIMARY KEY, meta TEXT NOT NULL UNIQUE);
CREATE TABLE edge_rows (
    src    INTEGER NOT NULL,
    dst    INTEGER NOT NULL,
    kind   INTEGER NOT NULL,
    weight REAL    NOT NULL,
    meta   INTEGER NOT NULL,
    manual INTEGER NOT NULL,
    seq    INTEGER NOT NULL,
    PRIMARY KEY (src, dst, kind)
) WITHOUT ROWID;
CREATE INDEX edges_dst ON edge_rows(dst, kind);
CREATE VIEW edges (src, dst, edge_type, weight, meta, manual, seq) AS
    SELECT s.id, d.id, k.name, e.weight, m.meta, e.manual, e.seq
    FROM edge_rows e
    JOIN edge_nodes s ON s.n = e.src
    JOIN edge_nodes d ON d.n = e.dst
    JOIN edge_kinds k ON k.k = e.kind
    JOIN edge_metas m ON m.m = e.meta;
"""
# Version 4 (issue 16, compact storage): an edge row holds three small
# integers instead of two 26-character memory ids and a type name, in the
# table and again in its dst index (~175 -> ~60 bytes an edge, 15 edges a
# memory). Ids and types are numbered in `edge_nodes` / `edge_kinds` in the
# order the log first names them, so a replay numbers them the same. Readers
# keep reading `edges` (src, dst, edge_type, ...): a view that joins the
# numbers back to ids, each join one primary-key or unique-index probe, so
# `WHERE src IN (...)` and `WHERE dst IN (...)` still use the clustered key
# and the dst index.
# Version 5 (issue 16, compact storage, sixth pass): an edge's meta (JSON
# text: {"rel":"near"}, {"entity":"billing"}, {} ...) is a number of
# `edge_metas`, numbered like ids and types: ~15 bytes of text an edge
# become one or two, and a store has few distinct metas (the entity names,
# a few relations, the causal cues). A purge removes the metas no remaining
# edge uses, so no text of a purged memory's edges stays behind.
# No index on the type alone (version 3): readers reach edges from memories;
# only `graph` statistics group by type, a scan.

_N = "(SELECT n FROM edge_nodes WHERE id = ?)"
_K = "(SELECT k FROM edge_kinds WHERE name = ?)"


class GraphProjector:
    name = "graph"
    version = 5  # 3: no edges_type index; 4: integer-keyed rows behind the `edges` view; 5: metas numbered
    tables = ("edge_rows", "edge_nodes", "edge_kinds", "edge_metas")
    handles = frozenset({"edge.linked", "edge.unlinked", "edges.inferred", "store.configured", "memory.purged"})

    def __init__(self) -> None:
        self._encoder = msgspec.json.Encoder(order="sorted")
        # {memory id: n} and {type: k} while the runner lets this projector keep
        # them (`cache_open`); None otherwise, where every lookup reads the tables.
        self._nodes: Numbers | None = None
        self._kinds: Numbers | None = None
        self._metas: Numbers | None = None

    _staging = False  # inferred edges go to edge_stage (set by cache_open)

    def cache_open(self, conn: apsw.Connection) -> None:
        """The runner's catch-up may keep numbers in memory from here until
        `cache_close`: it calls this again whenever another process may have
        written these tables in between (ProjectionSet._caches). The only
        deletion (a purge) forgets what it deletes, so what is kept is exact."""
        self._nodes, self._kinds = Numbers(conn, "edge_nodes", "id"), Numbers(conn, "edge_kinds", "name")
        self._metas = Numbers(conn, "edge_metas", "meta")
        # Stage while the runner's bulk mode is on for this projection (its
        # "bulk:graph" checkpoint row, projections/runner.py); otherwise move
        # in whatever a replay staged and did not flush (it stopped after
        # another process's bulk_end had ended bulk mode).
        self._staging = conn.execute("SELECT 1 FROM checkpoints WHERE name = ?", ("bulk:" + self.name,)).fetchone() is not None
        if not self._staging:
            _flush(conn)

    def cache_close(self) -> None:
        self._nodes = self._kinds = self._metas = None
        self._staging = False

    def _meta(self, meta: dict[str, str]) -> str:
        return self._encoder.encode(meta).decode()

    def create(self, conn: apsw.Connection) -> None:
        conn.execute(_SCHEMA)

    def drop(self, conn: apsw.Connection) -> None:
        """This version's objects, and the `edges` table of versions up to 3
        (a version bump drops and replays: the migration of an older store)."""
        row = conn.execute("SELECT type FROM sqlite_master WHERE name = 'edges'").fetchone()
        if row is not None:
            conn.execute(f"DROP {'VIEW' if row[0] == 'view' else 'TABLE'} edges")
        conn.execute(
            "DROP TABLE IF EXISTS edge_rows; DROP TABLE IF EXISTS edge_nodes; DROP TABLE IF EXISTS edge_kinds;"
            " DROP TABLE IF EXISTS edge_metas; DROP TABLE IF EXISTS edge_stage"
        )

    def bulk_begin(self, conn: apsw.Connection) -> None:
        """A replay from the start: the dst index is built once at the end,
        and inferred edges are staged (see `_STAGE`)."""
        conn.execute("DROP INDEX IF EXISTS edges_dst")
        conn.execute(_STAGE)

    def bulk_end(self, conn: apsw.Connection) -> None:
        """Move the staged edges into place and build the dst index
        (idempotent; another process may run it while a replay goes on:
        the stage table stays, so that replay keeps staging into it and
        flushes again at its own end)."""
        _flush(conn)
        conn.execute("CREATE INDEX IF NOT EXISTS edges_dst ON edge_rows(dst, kind)")

    @cached_property
    def _dispatch(self):  # type: ignore[no-untyped-def]
        """`_apply` bound once, registered classes looked up in a dict
        (projections/base.py: bound_dispatch): a replay's hottest overhead."""
        return bound_dispatch(self)

    def apply(self, conn: apsw.Connection, rec: Recorded) -> None:
        self._dispatch(rec.event, conn, rec)

    @singledispatchmethod
    def _apply(self, event: object, conn: apsw.Connection, rec: Recorded) -> None:
        """Events this projector does not know are ignored."""

    @_apply.register(MemoryPurged)
    def _purged(self, e: MemoryPurged, conn: apsw.Connection, rec: Recorded) -> None:
        self._unstage(conn)
        metas: set[int] = set()
        for memory_id in e.purged:
            row = conn.execute("SELECT n FROM edge_nodes WHERE id = ?", (memory_id,)).fetchone()
            if row is not None:
                metas.update(
                    m for (m,) in conn.execute("DELETE FROM edge_rows WHERE src = ?1 OR dst = ?1 RETURNING meta", (row[0],))
                )
                conn.execute("DELETE FROM edge_nodes WHERE n = ?", (row[0],))
            if self._nodes is not None:
                self._nodes.forget(memory_id)
        for m in sorted(metas):  # the metas no edge uses any more (a scan each: purges are rare)
            if conn.execute("SELECT 1 FROM edge_rows WHERE meta = ? LIMIT 1", (m,)).fetchone() is None:
                for (meta,) in conn.execute("DELETE FROM edge_metas WHERE m = ? RETURNING meta", (m,)).fetchall():
                    if self._metas is not None:
                        self._metas.forget(meta)

    @_apply.register(EdgeLinked)
    def _linked(self, e: EdgeLinked, conn: apsw.Connection, rec: Recorded) -> None:
        self._unstage(conn)
        nodes = _numbered(conn, "edge_nodes", "id", "n", [e.src, e.dst], self._nodes)
        kinds = _numbered(conn, "edge_kinds", "name", "k", [e.edge_type], self._kinds)
        meta = self._meta(e.meta)
        metas = _numbered(conn, "edge_metas", "meta", "m", [meta], self._metas)
        conn.execute(
            "INSERT OR REPLACE INTO edge_rows (src, dst, kind, weight, meta, manual, seq) VALUES (?,?,?,?,?,1,?)",
            (nodes[e.src], nodes[e.dst], kinds[e.edge_type], e.weight, metas[meta], rec.seq),
        )

    @_apply.register(EdgeUnlinked)
    def _unlinked(self, e: EdgeUnlinked, conn: apsw.Connection, rec: Recorded) -> None:
        self._unstage(conn)
        conn.execute(
            f"DELETE FROM edge_rows WHERE src = {_N} AND dst = {_N} AND kind = {_K}", (e.src, e.dst, e.edge_type)
        )

    @_apply.register(StoreConfigured)
    def _configured(self, e: StoreConfigured, conn: apsw.Connection, rec: Recorded) -> None:
        self._unstage(conn)
        if e.setting == EDGE_POLICY_SETTING:
            conn.execute("DELETE FROM edge_rows WHERE manual = 0")

    def _unstage(self, conn: apsw.Connection) -> None:
        """Before any other change to the edges: the staged ones in place."""
        if self._staging:
            _flush(conn)

    @_apply.register(EdgesInferred)
    def _inferred(self, e: EdgesInferred, conn: apsw.Connection, rec: Recorded) -> None:
        if not e.edges:
            return
        nodes = _numbered(conn, "edge_nodes", "id", "n", [i for x in e.edges for i in (x.src, x.dst)], self._nodes)
        kinds = _numbered(conn, "edge_kinds", "name", "k", [x.edge_type for x in e.edges], self._kinds)
        encode, seq = self._encoder.encode, rec.seq  # bound once: ~15 edges an event
        texts = [encode(x.meta).decode() if x.meta else "{}" for x in e.edges]
        metas = _numbered(conn, "edge_metas", "meta", "m", texts, self._metas)
        conn.executemany(  # one statement for the whole event: replay applies tens of thousands of edges
            _STAGED if self._staging else _UPSERT,
            [
                (nodes[x.src], nodes[x.dst], kinds[x.edge_type], x.weight, metas[t], seq)
                for x, t in zip(e.edges, texts, strict=True)
            ],
        )


# An inferred edge replaces an inferred one of the same (src, dst, kind), never a manual one.
_UPSERT = (
    "INSERT INTO edge_rows (src, dst, kind, weight, meta, manual, seq) VALUES (?,?,?,?,?,0,?)"
    " ON CONFLICT (src, dst, kind) DO UPDATE SET weight=excluded.weight,"
    " meta=excluded.meta, seq=excluded.seq WHERE edge_rows.manual = 0"
)
# Staging (bulk mode: a replay from the start). An inferred edge names an
# older memory as its src, so each upsert above lands on a random page of
# edge_rows (clustered by src): at 100k, 1.6M upserts were the replay's
# largest single cost, and at 1M the table is ~10x the page cache. Staged,
# the rows are appended in log order to a plain table and moved into place
# by one sorted upsert (`_flush`): keys in order, and for one key the staged
# rows in log order, so the last one wins as it would have applied by
# itself. Any other change to the edges (a link, an unlink, a new edge
# policy, a purge) flushes first, so every statement sees the table it would
# have seen: the result is the same rows.
_STAGE = (
    "CREATE TABLE IF NOT EXISTS edge_stage (src INTEGER NOT NULL, dst INTEGER NOT NULL, kind INTEGER NOT NULL,"
    " weight REAL NOT NULL, meta INTEGER NOT NULL, seq INTEGER NOT NULL)"
)
_STAGED = "INSERT INTO edge_stage (src, dst, kind, weight, meta, seq) VALUES (?,?,?,?,?,?)"


def _flush(conn: apsw.Connection) -> None:
    """Move staged inferred edges into edge_rows (see `_STAGE`); nothing
    without a stage table or rows in it."""
    if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'edge_stage'").fetchone() is None:
        return
    if conn.execute("SELECT 1 FROM edge_stage LIMIT 1").fetchone() is None:
        return
    conn.execute(
        "INSERT INTO edge_rows (src, dst, kind, weight, meta, manual, seq)"
        " SELECT src, dst, kind, weight, meta, 0, seq FROM edge_stage WHERE true ORDER BY src, dst, kind, rowid"
        " ON CONFLICT (src, dst, kind) DO UPDATE SET weight=excluded.weight,"
        " meta=excluded.meta, seq=excluded.seq WHERE edge_rows.manual = 0"
    )
    conn.execute("DELETE FROM edge_stage")


class Numbers:
    """{name: number} of one numbering table, kept by a catch-up. If the table
    was empty when it was opened, every number there is was assigned through
    it, so a name it does not hold is new and is inserted without a lookup
    (a replay from the start)."""

    def __init__(self, conn: apsw.Connection, table: str, name: str) -> None:
        self.known: dict[str, int] = {}
        self.complete = conn.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone() is None
        self._table, self._name = table, name

    def forget(self, name: str) -> None:
        self.known.pop(name, None)

    def add(self, conn: apsw.Connection, new: list[str]) -> None:
        for w in new:
            conn.execute(f"INSERT INTO {self._table} ({self._name}) VALUES (?)", (w,))
            self.known[w] = conn.last_insert_rowid()


def _numbered(
    conn: apsw.Connection, table: str, name: str, number: str, named: list[str], cache: Numbers | None
) -> dict[str, int]:
    """{name: number} of those named, numbering the new ones in the order the
    log names them (so a replay numbers them as the live store did): one lookup
    per distinct name not kept in `cache`, instead of a subquery per edge end,
    and an insert only for what is new (usually the memory the event is about)."""
    wanted = list(dict.fromkeys(named))
    if cache is None:
        return _known(conn, table, name, number, wanted)
    missing = [w for w in wanted if w not in cache.known]
    if missing and cache.complete:
        cache.add(conn, missing)
    elif missing:
        cache.known.update(_known(conn, table, name, number, missing))
    return cache.known


def _known(conn: apsw.Connection, table: str, name: str, number: str, wanted: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for start in range(0, len(wanted), 500):  # well under SQLite's limit on bound variables
        chunk = wanted[start : start + 500]
        marks = ",".join("?" * len(chunk))
        found.update(conn.execute(f"SELECT {name}, {number} FROM {table} WHERE {name} IN ({marks})", chunk).fetchall())
    new = [w for w in wanted if w not in found]
    for w in new:
        conn.execute(f"INSERT INTO {table} ({name}) VALUES (?)", (w,))
        found[w] = conn.last_insert_rowid()
    return found


def counts_by_type(conn: apsw.Connection, *, inferred_only: bool = False) -> dict[str, int]:
    """{edge type: edges}, read from the integer rows (a scan of the view
    would join every edge back to its ids)."""
    where = " WHERE e.manual = 0" if inferred_only else ""
    return dict(
        conn.execute(
            f"SELECT k.name, count(*) FROM edge_rows e JOIN edge_kinds k ON k.k = e.kind{where} GROUP BY e.kind"
        ).fetchall()
    )


def count(conn: apsw.Connection, *, manual: bool | None = None) -> int:
    where = "" if manual is None else f" WHERE manual = {int(manual)}"
    return int(conn.execute(f"SELECT count(*) FROM edge_rows{where}").fetchone()[0])


# The memory ids at either end of some edge, as a subquery.
LINKED_IDS = "SELECT id FROM edge_nodes WHERE n IN (SELECT src FROM edge_rows UNION SELECT dst FROM edge_rows)"
