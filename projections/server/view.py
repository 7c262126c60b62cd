"""A recall's view of the server projections: the memories one question can
reach, read from PostgreSQL into a scratch store, so recall's own pipeline
(signals, fusion and calibration, expansions, as-of, succession) ranks them
unchanged (`postgres.reads = server`, docs/postgres.md).

What is read, in a handful of statements through libpq (no psycopg):
- keyword candidates: the full-text index (`tsv @@` the OR of the query's
  words, ordered by `ts_rank_cd`), KEYWORD_CANDIDATES of them;
- vector candidates: the HNSW index over the bound fingerprint (cosine),
  VECTOR_CANDIDATES of them, for the query vector the caller computed;
- one graph hop: the edges touching those candidates, and the memories at
  their other ends;
- when the question names a period ("last March"), that period's keyword
  matches and its newest WINDOW_SCAN memories, which recall's date step
  weighs;
- a stable sample of the store (SAMPLE memories of bucket 0, 1/64 of the
  store: projections/server/schema.py) with their vectors, so the vector
  channel's centring, z-scores and floor and the keyword channel's word
  weights are measured against more than the candidates themselves;
- those memories' rows, vectors and successors, and the store's settings.

Recall then runs over that scratch store. What it cannot see: memories
reached only by an expansion that walks the whole store (a second graph
hop, a session neighbour or a shared rare word outside the candidates), and
use counts (retention boosts); word weights and the vector distribution are
estimated from the sample. tools/recall_bench measures what that costs.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from events.clock import Clock, utc_now
from events.db import immediate
from events.errors import BadInput
from projections.queries import MAX_QUERY_TERMS, terms
from projections.queries import _filters as memory_filters
from projections.server.schema import MEMORY_COLUMNS, TEXT_CONFIG
from projections.store import StoreDB

KEYWORD_CANDIDATES = 100
VECTOR_CANDIDATES = 100
HOP_EDGES = 500
SAMPLE = 256
WINDOW_SCAN = 500  # memories of a named period, newest first (memman/recall/window.py SCAN)
_NO_PROJECTIONS = (
    "store {store!r} has no server projections in {where} yet: run 'memman events replay --server' on a machine"
    " with a replica (or a worker: 'memman scheduler drain'), or read the local replica"
    " ('memman config set postgres.reads replica --for-store {store}')"
)
_WRITTEN = [c for c in MEMORY_COLUMNS if c != "status"]  # status is generated in the scratch store


class ServerView:
    """A scratch store filled from the server projections (close it after use)."""

    def __init__(self, dsn: str, store: str, *, clock: Clock = utc_now) -> None:
        import tempfile

        from events.backends.postgres import PostgresEventLog

        self.log = PostgresEventLog(dsn, clock=clock, readonly=True)
        self.pg: Any = self.log.conn
        self.directory = Path(tempfile.mkdtemp(prefix="memman-server-read-", dir=_scratch_root()))
        try:
            self.pg.execute("SET client_min_messages = warning")  # no NOTICE lines on stderr (a query of stop words only)
            if not self.pg.execute("SELECT to_regclass('proj_checkpoints') IS NOT NULL").fetchone()[0]:
                raise BadInput(_NO_PROJECTIONS.format(store=store, where=self.log.path))
            self.db = StoreDB(self.directory, clock=clock)
            settings = self.pg.execute("SELECT setting, value, seq FROM proj_settings").fetchall()
            with immediate(self.db.main.conn):
                self.db.main.conn.executemany("INSERT INTO settings (setting, value, seq) VALUES (?,?,?)", settings)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        db = self.__dict__.get("db")
        if db is not None:
            db.close()
        self.log.close()
        import shutil

        shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> ServerView:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def lag(self) -> int:
        """How many events the slowest server projection is behind the log's head."""
        row = self.pg.execute(
            "SELECT (SELECT coalesce(max(seq), 0) FROM events) - min(CASE WHEN version < 0 THEN 0 ELSE seq END)"
            " FROM proj_checkpoints"
        ).fetchone()
        return int(row[0] or 0)

    def fill(
        self, text: str, vector: Sequence[float] | None, fingerprint: str | None, *,
        category: str | None, source: str | None, as_of: str | None, hop: bool,
        window: tuple[str, str] | None = None,
    ) -> StoreDB:
        """Read the candidates for a question into the scratch store; returns
        it. `window` ([start, end) ISO times): the period the question names,
        whose memories recall's date step weighs (memman/recall/window.py)."""
        where, args = _filters(category, source, as_of)
        found = self._keyword(text, where, args)
        if window is not None:
            inside, inside_args = _filters(category, source, as_of, window)
            found += self._keyword(text, inside, inside_args)
            found += [r[0] for r in self.pg.execute(
                f"SELECT id FROM proj_memories m WHERE {inside} ORDER BY occurred_at DESC, id LIMIT {WINDOW_SCAN}",
                inside_args,
            ).fetchall()]  # fmt: skip
        dim = self._dim(fingerprint) if fingerprint else None
        sample: list[str] = []
        if fingerprint and dim:
            sample = [r[0] for r in self.pg.execute(
                f"SELECT memory_id FROM proj_vectors WHERE fingerprint = {_literal(fingerprint)} AND bucket = 0"
                f" ORDER BY memory_id LIMIT {SAMPLE}"
            ).fetchall()]  # fmt: skip
            if vector is not None:
                found += self._nearest(vector, fingerprint, dim)
        edges = self._edges(found) if hop and found else []
        wanted = list(dict.fromkeys([*found, *(x for e in edges for x in e[:2]), *sample]))
        rows = self._rows(wanted)
        more = {x for r in rows for x in (r[11], r[22]) if x} - set(wanted)  # successors and replaced ones
        rows += self._rows(sorted(more))
        vectors = self._vectors([r[0] for r in rows], fingerprint, dim) if fingerprint and dim else []
        self._store(rows, edges, vectors, fingerprint, dim)
        return self.db

    def _keyword(self, text: str, where: str, args: list[object]) -> list[str]:
        words = terms(text)[:MAX_QUERY_TERMS]
        if not words:
            return []
        query = " || ".join([f"plainto_tsquery('{TEXT_CONFIG}', ?)"] * len(words))
        return [r[0] for r in self.pg.execute(
            f"SELECT id FROM proj_memories m, (SELECT {query} AS q) AS w WHERE tsv @@ q AND {where}"
            f" ORDER BY ts_rank_cd(tsv, q) DESC, id LIMIT {KEYWORD_CANDIDATES}",
            [*words, *args],
        ).fetchall()]  # fmt: skip

    def _dim(self, fingerprint: str) -> int | None:
        row = self.pg.execute(
            f"SELECT dim FROM proj_vectors WHERE fingerprint = {_literal(fingerprint)} LIMIT 1"
        ).fetchone()
        return None if row is None else int(row[0])

    def _nearest(self, vector: Sequence[float], fingerprint: str, dim: int) -> list[str]:
        """The HNSW index's nearest memories by cosine (the literal fingerprint
        and dimension match the partial index's predicate and expression)."""
        if len(vector) != dim:
            return []
        self.pg.execute(f"SET hnsw.ef_search = {max(40, VECTOR_CANDIDATES)}")
        return [r[0] for r in self.pg.execute(
            f"SELECT memory_id FROM proj_vectors WHERE fingerprint = {_literal(fingerprint)}"
            f" ORDER BY embedding::vector({dim}) <=> ?::vector({dim}) LIMIT {VECTOR_CANDIDATES}",
            [_vector_text(vector)],
        ).fetchall()]  # fmt: skip

    def _edges(self, ids: list[str]) -> list[tuple[Any, ...]]:
        return self._json_rows(
            ("src", "dst", "edge_type", "weight", "meta", "manual", "seq"),
            "(SELECT * FROM proj_edges WHERE src = ANY(?) OR dst = ANY(?)"
            f" ORDER BY weight DESC, src, dst, edge_type LIMIT {HOP_EDGES}) AS e",
            [ids, ids],
        )

    def _rows(self, ids: list[str]) -> list[tuple[Any, ...]]:
        if not ids:
            return []
        return self._json_rows(MEMORY_COLUMNS, "proj_memories WHERE id = ANY(?)", [ids])

    def _json_rows(self, columns: Sequence[str], source: str, args: list[object]) -> list[tuple[Any, ...]]:
        """Rows as one JSON value built by the server: libpq through ctypes
        costs ~10 us per value it hands over, so a few hundred rows of 23
        columns cost 100+ ms one by one, and a few ms as one document."""
        import msgspec

        (doc,) = self.pg.execute(
            f"SELECT coalesce(json_agg(json_build_array({', '.join(columns)})), '[]') FROM {source}", args
        ).fetchone()
        return [tuple(r) for r in msgspec.json.decode(doc)]

    def _vectors(self, ids: list[str], fingerprint: str, dim: int) -> list[tuple[str, bytes, int]]:
        """Each vector in pgvector's binary form (`vector_send`: two int16,
        then big-endian float4), turned into the little-endian float32 bytes
        the vectors projection stores: 5x cheaper than parsing its text."""
        found = self.pg.execute(
            f"SELECT memory_id, vector_send(embedding), seq FROM proj_vectors WHERE fingerprint = {_literal(fingerprint)}"
            " AND memory_id = ANY(?) AND dim = ?",
            [ids, dim],
        ).fetchall()
        big, little = struct.Struct(f">{dim}f"), struct.Struct(f"<{dim}f")
        return [(i, little.pack(*big.unpack_from(raw, 4)), seq) for i, raw, seq in found]

    def _store(
        self, rows: list[tuple[Any, ...]], edges: list[tuple[Any, ...]], vectors: list[tuple[str, bytes, int]],
        fingerprint: str | None, dim: int | None,
    ) -> None:
        status = MEMORY_COLUMNS.index("status")
        main = self.db.main.conn
        with immediate(main):
            main.executemany(
                f"INSERT OR IGNORE INTO memories ({', '.join(_WRITTEN)}) VALUES ({','.join('?' * len(_WRITTEN))})",
                [r[:status] + r[status + 1 :] for r in rows],
            )
            main.executemany("INSERT OR IGNORE INTO edge_nodes (id) VALUES (?)", [(x,) for e in edges for x in e[:2]])
            main.executemany("INSERT OR IGNORE INTO edge_kinds (name) VALUES (?)", [(e[2],) for e in edges])
            main.executemany("INSERT OR IGNORE INTO edge_metas (meta) VALUES (?)", [(e[4],) for e in edges])
            main.executemany(
                "INSERT OR IGNORE INTO edge_rows (src, dst, kind, weight, meta, manual, seq) VALUES ("
                "(SELECT n FROM edge_nodes WHERE id=?), (SELECT n FROM edge_nodes WHERE id=?),"
                " (SELECT k FROM edge_kinds WHERE name=?), ?, (SELECT m FROM edge_metas WHERE meta=?), ?, ?)",
                [(src, dst, kind, float(weight), meta, manual, seq) for src, dst, kind, weight, meta, manual, seq in edges],
            )
        if vectors and fingerprint and dim:
            conn = self.db.vectors.conn
            with immediate(conn):
                conn.execute(
                    "INSERT INTO vector_sets (fingerprint, dim, count, last_seq, rewritten_seq) VALUES (?,?,?,?,0)",
                    (fingerprint, dim, len(vectors), max(seq for _, _, seq in vectors)),
                )
                vset = conn.last_insert_rowid()
                conn.executemany(
                    "INSERT INTO vector_rows (vset, memory_id, vec, seq) VALUES (?,?,?,?)",
                    [(vset, i, blob, seq) for i, blob, seq in vectors],
                )


def _filters(
    category: str | None, source: str | None, as_of: str | None, occurred: tuple[str, str] | None = None
) -> tuple[str, list[object]]:
    """What a candidate may be (over proj_memories as `m`, as on a replica):
    active or pending now; at --as-of, anything not forgotten that had
    occurred by then (the scratch store's time travel decides the rest)."""
    statuses = ("active", "pending") if as_of is None else ("active", "pending", "superseded")
    where, args = memory_filters(statuses, category, source, (), occurred)
    if as_of is not None:
        where.append("m.occurred_at <= ?")
        args.append(as_of)
    return " AND ".join(where), args


def _scratch_root() -> str | None:
    """Memory-backed /dev/shm where there is one (the scratch store's WAL
    setup and commits cost no disk syncs there), else the temp dir."""
    import os

    shm = "/dev/shm"
    return shm if os.path.isdir(shm) and os.access(shm, os.W_OK) else None


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _vector_text(vector: Sequence[float]) -> str:
    return "[" + ",".join(repr(float(x)) for x in vector) + "]"
