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
    table = ""
    columns: tuple[str, ...] = ()

    def __init__(self, projector: type) -> None:
        self._projector = projector  # the replica projector mirrored: its version and the events it handles
        self.replica_version: int = projector.version  # type: ignore[attr-defined]

    @property
    def version(self) -> int:
        return MIRROR_VERSION * 1000 + self.replica_version

    def handles(self) -> frozenset[str]:
        return self._projector.handles  # type: ignore[attr-defined,no-any-return]

    def everything(self, rec: Recorded) -> bool:
        """Whether this event may have changed rows beyond its memory ids."""
        return False

    replica_table = ""  # the replica's table (or view) the rows come from
    key = ""  # its memory id column, the same name on the server
    replica_columns: tuple[str, ...] = ()  # where the replica's names differ from `columns`

    def rows(self, conn: apsw.Connection, ids: Sequence[str] | None) -> Iterable[Row]:
        """The replica's rows for `ids` (every row when None), as server rows."""
        sql = f"SELECT {', '.join(self.replica_columns or self.columns)} FROM {self.replica_table}"
        if ids is None:
            return conn.execute(sql)
        where, args = _in(ids)
        return conn.execute(f"{sql} WHERE {self.key} IN {where}", args)

    def delete(self, pg: Any, ids: Sequence[str] | None) -> None:
        """Remove the server rows of `ids` (every row when None)."""
        if ids is None:
            pg.execute(f"DELETE FROM {self.table}")
        else:
            pg.execute(f"DELETE FROM {self.table} WHERE {self.key} = ANY(%s)", (list(ids),))

    def finish(self, pg: Any, conn: apsw.Connection) -> None:
        """After the rows are in, inside the same transaction."""


class Memories(Table):
    name = "memories"
    table = "proj_memories"
    columns = schema.MEMORY_COLUMNS
    replica_table = "memories"
    key = "id"

    def __init__(self) -> None:
        from projections.memories import MemoriesProjector

        super().__init__(MemoriesProjector)


class Edges(Table):
    name = "graph"
    table = "proj_edges"
    columns = schema.EDGE_COLUMNS

    def __init__(self) -> None:
        from projections.graph import EDGE_POLICY_SETTING, GraphProjector

        super().__init__(GraphProjector)
        self._policy = EDGE_POLICY_SETTING

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
    replica_table = "settings"
    key = "setting"

    def __init__(self) -> None:
        from projections.settings import SettingsProjector

        super().__init__(SettingsProjector)

    def everything(self, rec: Recorded) -> bool:
        return True  # a handful of rows: copied whole whenever one changed


class Vectors(Table):
    name = "vectors"
    source = "vectors"
    table = "proj_vectors"
    columns = schema.VECTOR_COLUMNS
    replica_table = "vectors"
    key = "memory_id"
    replica_columns = ("memory_id", "fingerprint", "dim", "vec", "seq")

    def __init__(self, bound: str | None = None) -> None:
        from projections.vectors import VectorsProjector

        super().__init__(VectorsProjector)
        self.bound = bound  # the store's embedder fingerprint: the one with an HNSW index

    def rows(self, conn: apsw.Connection, ids: Sequence[str] | None) -> Iterable[Row]:
        """As stored (float16 or float32 bytes), widened to pgvector's text form."""
        from projections.vectors import decode_rows

        for memory_id, fingerprint, dim, vec, seq in list(super().rows(conn, ids)):
            row = decode_rows([vec], dim)[0]  # type: ignore[list-item]
            yield (memory_id, fingerprint, dim, "[" + ",".join(map(str, row.tolist())) + "]", seq)

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
