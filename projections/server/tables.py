"""What each server projection copies from the replica projection it mirrors.

A server projection holds no event -> row rules of its own: the replica's
projectors (projections/memories.py, graph.py, settings.py, vectors.py)
decide every row; a `Table` here only says which replica rows to copy and
how to put them into PostgreSQL. Which rows an event range changed comes
from the events themselves (`Event.memory_ids()`, the same list `events list
--memory` indexes), so a new event type needs nothing here either.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import apsw

from events.types import Recorded, StoreConfigured
from projections.server import schema

MIRROR_VERSION = 1  # bump when a server table's shape changes: every server projection is rebuilt

Row = tuple[object, ...]


def _in(ids: Sequence[str]) -> tuple[str, tuple[str]]:
    return "(SELECT value FROM json_each(?))", (json.dumps(list(ids)),)


class Table:
    """One server table mirroring one replica projection."""

    name = ""  # the replica projector's name: the checkpoint key on both sides
    source = "main"  # which replica file holds it (StoreDB.main or .vectors)
    replica_version = 0  # the replica projector's version, part of the server one
    table = ""
    columns: tuple[str, ...] = ()

    @property
    def version(self) -> int:
        return MIRROR_VERSION * 1000 + self.replica_version

    def handles(self) -> frozenset[str]:
        raise NotImplementedError

    def everything(self, rec: Recorded) -> bool:
        """Whether this event may have changed rows beyond its memory ids."""
        return False

    def rows(self, conn: apsw.Connection, ids: Sequence[str] | None) -> Iterable[Row]:
        """The replica's rows for `ids` (every row when None), as server rows."""
        raise NotImplementedError

    def delete(self, pg: Any, ids: Sequence[str] | None) -> None:
        raise NotImplementedError

    def finish(self, pg: Any, conn: apsw.Connection) -> None:
        """After the rows are in, inside the same transaction."""


class Memories(Table):
    name = "memories"
    table = "proj_memories"
    columns = schema.MEMORY_COLUMNS

    def __init__(self) -> None:
        from projections.memories import MemoriesProjector

        self._projector = MemoriesProjector
        self.replica_version = MemoriesProjector.version

    def handles(self) -> frozenset[str]:
        return self._projector.handles

    def rows(self, conn: apsw.Connection, ids: Sequence[str] | None) -> Iterable[Row]:
        sql = f"SELECT {', '.join(self.columns)} FROM memories"
        if ids is None:
            return conn.execute(sql)
        where, args = _in(ids)
        return conn.execute(f"{sql} WHERE id IN {where}", args)

    def delete(self, pg: Any, ids: Sequence[str] | None) -> None:
        if ids is None:
            pg.execute("DELETE FROM proj_memories")
        else:
            pg.execute("DELETE FROM proj_memories WHERE id = ANY(%s)", (list(ids),))


class Edges(Table):
    name = "graph"
    table = "proj_edges"
    columns = schema.EDGE_COLUMNS

    def __init__(self) -> None:
        from projections.graph import EDGE_POLICY_SETTING, GraphProjector

        self._projector = GraphProjector
        self._policy = EDGE_POLICY_SETTING
        self.replica_version = GraphProjector.version

    def handles(self) -> frozenset[str]:
        return self._projector.handles

    def everything(self, rec: Recorded) -> bool:
        """A new edge policy drops every inferred edge (projections/graph.py)."""
        return isinstance(rec.event, StoreConfigured) and rec.event.setting == self._policy

    def rows(self, conn: apsw.Connection, ids: Sequence[str] | None) -> Iterable[Row]:
        sql = f"SELECT {', '.join(self.columns)} FROM edges"
        if ids is None:
            return conn.execute(sql)
        where, args = _in(ids)
        return conn.execute(f"{sql} WHERE src IN {where} UNION {sql} WHERE dst IN {where}", args + args)

    def delete(self, pg: Any, ids: Sequence[str] | None) -> None:
        if ids is None:
            pg.execute("DELETE FROM proj_edges")
        else:
            pg.execute("DELETE FROM proj_edges WHERE src = ANY(%s) OR dst = ANY(%s)", (list(ids), list(ids)))


class Settings(Table):
    name = "settings"
    table = "proj_settings"
    columns = schema.SETTING_COLUMNS

    def __init__(self) -> None:
        from projections.settings import SettingsProjector

        self._projector = SettingsProjector
        self.replica_version = SettingsProjector.version

    def handles(self) -> frozenset[str]:
        return self._projector.handles

    def everything(self, rec: Recorded) -> bool:
        return True  # a handful of rows: copied whole whenever one changed

    def rows(self, conn: apsw.Connection, ids: Sequence[str] | None) -> Iterable[Row]:
        return conn.execute(f"SELECT {', '.join(self.columns)} FROM settings")

    def delete(self, pg: Any, ids: Sequence[str] | None) -> None:
        pg.execute("DELETE FROM proj_settings")


class Vectors(Table):
    name = "vectors"
    source = "vectors"
    table = "proj_vectors"
    columns = schema.VECTOR_COLUMNS

    def __init__(self, bound: str | None = None) -> None:
        from projections.vectors import VectorsProjector

        self._projector = VectorsProjector
        self.replica_version = VectorsProjector.version
        self.bound = bound  # the store's embedder fingerprint: the one with an HNSW index

    def handles(self) -> frozenset[str]:
        return self._projector.handles

    def rows(self, conn: apsw.Connection, ids: Sequence[str] | None) -> Iterable[Row]:
        from projections.vectors import decode_rows

        sql = "SELECT memory_id, fingerprint, dim, vec, seq FROM vectors"
        if ids is None:
            found = conn.execute(sql).fetchall()
        else:
            where, args = _in(ids)
            found = conn.execute(f"{sql} WHERE memory_id IN {where}", args).fetchall()
        for memory_id, fingerprint, dim, vec, seq in found:
            row = decode_rows([vec], dim)[0]
            yield (memory_id, fingerprint, dim, "[" + ",".join(map(str, row.tolist())) + "]", seq)

    def delete(self, pg: Any, ids: Sequence[str] | None) -> None:
        if ids is None:
            pg.execute("DELETE FROM proj_vectors")
        else:
            pg.execute("DELETE FROM proj_vectors WHERE memory_id = ANY(%s)", (list(ids),))

    def finish(self, pg: Any, conn: apsw.Connection) -> None:
        """The HNSW index for the bound fingerprint, built once it has vectors
        (built after a full copy, not row by row: several times faster)."""
        from projections.vectors import stamp

        current = stamp(conn, self.bound) if self.bound else None
        if current is not None:
            pg.execute(schema.hnsw_index(self.bound, current[0]))  # type: ignore[arg-type]


def tables(bound: str | None) -> list[Table]:
    """Every server projection; `bound` is the store's embedder fingerprint."""
    return [Memories(), Edges(), Settings(), Vectors(bound)]
