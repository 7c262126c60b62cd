"""The server projections' tables in a PostgreSQL store's database.

Each table mirrors a replica projection (projections/memories.py, graph.py,
settings.py, vectors.py) row for row, under the column names readers use
(the `edges` view's, not the integer-keyed rows behind it), plus what only
PostgreSQL offers: a generated `tsvector` with a GIN index on memories, and
an HNSW index (pgvector, cosine) over the bound fingerprint's vectors.
`proj_checkpoints` holds one row per projection: the seq its rows reflect
and the version of the mirror that wrote them (a version change rebuilds).

Times stay ISO text as in the replica (recall compares them as strings), and
JSON stays text, so a server row and a replica row compare equal.
"""

from __future__ import annotations

from events.digests import sha256_hex

# `english` is FTS5's `porter unicode61` nearest relative: stemmed words,
# stop words dropped (FTS5 keeps them; they weigh little in either).
TEXT_CONFIG = "english"

CHECKPOINTS = """
CREATE TABLE IF NOT EXISTS proj_checkpoints (
    name    text    PRIMARY KEY,
    seq     bigint  NOT NULL,
    version integer NOT NULL
)
"""

MEMORIES = f"""
CREATE TABLE IF NOT EXISTS proj_memories (
    id            text    COLLATE "C" PRIMARY KEY,
    content       text    NOT NULL,
    category      text    NOT NULL,
    importance    integer NOT NULL,
    entities      text    NOT NULL,
    keywords      text    NOT NULL,
    source        text    NOT NULL,
    meta          text    NOT NULL,
    forgotten     integer NOT NULL,
    forget_reason text    NOT NULL,
    protected     integer NOT NULL,
    superseded_by text,
    derived       integer NOT NULL,
    status        text    NOT NULL,
    created_at    text    COLLATE "C" NOT NULL,
    updated_at    text    COLLATE "C" NOT NULL,
    occurred_at   text    COLLATE "C" NOT NULL,
    input_seq     bigint  NOT NULL,
    derived_seq   bigint,
    derived_by    text,
    valid_until   text    COLLATE "C",
    superseded_at text    COLLATE "C",
    replaces      text,
    tsv tsvector GENERATED ALWAYS AS (
        to_tsvector('{TEXT_CONFIG}', content || ' ' || keywords || ' ' || entities)) STORED
);
CREATE INDEX IF NOT EXISTS proj_memories_tsv ON proj_memories USING gin (tsv);
CREATE INDEX IF NOT EXISTS proj_memories_status ON proj_memories (status, category, source);
CREATE INDEX IF NOT EXISTS proj_memories_occurred ON proj_memories (occurred_at)
"""
MEMORY_COLUMNS = (
    "id", "content", "category", "importance", "entities", "keywords", "source", "meta", "forgotten",
    "forget_reason", "protected", "superseded_by", "derived", "status", "created_at", "updated_at",
    "occurred_at", "input_seq", "derived_seq", "derived_by", "valid_until", "superseded_at", "replaces",
)  # fmt: skip

EDGES = """
CREATE TABLE IF NOT EXISTS proj_edges (
    src       text    COLLATE "C" NOT NULL,
    dst       text    COLLATE "C" NOT NULL,
    edge_type text    COLLATE "C" NOT NULL,
    weight    double precision NOT NULL,
    meta      text    NOT NULL,
    manual    integer NOT NULL,
    seq       bigint  NOT NULL,
    PRIMARY KEY (src, dst, edge_type)
);
CREATE INDEX IF NOT EXISTS proj_edges_dst ON proj_edges (dst)
"""
EDGE_COLUMNS = ("src", "dst", "edge_type", "weight", "meta", "manual", "seq")

SETTINGS = """
CREATE TABLE IF NOT EXISTS proj_settings (
    setting text   PRIMARY KEY,
    value   text   NOT NULL,
    seq     bigint NOT NULL
)
"""
SETTING_COLUMNS = ("setting", "value", "seq")

# One table for every fingerprint (an embedder swap keeps two side by side);
# the column has no fixed dimension, so the HNSW index is a partial
# expression index per fingerprint (`hnsw_index`), as pgvector documents.
VECTORS = """
CREATE EXTENSION IF NOT EXISTS vector;
CREATE TABLE IF NOT EXISTS proj_vectors (
    memory_id   text    COLLATE "C" NOT NULL,
    fingerprint text    COLLATE "C" NOT NULL,
    dim         integer NOT NULL,
    embedding   vector  NOT NULL,
    seq         bigint  NOT NULL,
    -- a stable 1/64 of the memories: the sample a server read scores its candidates against (view.py)
    bucket      integer GENERATED ALWAYS AS (('x' || substr(md5(memory_id), 1, 4))::bit(16)::integer % 64) STORED,
    PRIMARY KEY (fingerprint, memory_id)
);
CREATE INDEX IF NOT EXISTS proj_vectors_memory ON proj_vectors (memory_id);
CREATE INDEX IF NOT EXISTS proj_vectors_bucket ON proj_vectors (fingerprint, bucket, memory_id)
"""
VECTOR_COLUMNS = ("memory_id", "fingerprint", "dim", "embedding", "seq")

DROP = {
    "memories": "DROP TABLE IF EXISTS proj_memories",
    "graph": "DROP TABLE IF EXISTS proj_edges",
    "settings": "DROP TABLE IF EXISTS proj_settings",
    "vectors": "DROP TABLE IF EXISTS proj_vectors",
}
CREATE = {"memories": MEMORIES, "graph": EDGES, "settings": SETTINGS, "vectors": VECTORS}


def hnsw_name(fingerprint: str) -> str:
    return "proj_vectors_hnsw_" + sha256_hex(fingerprint.encode())[:16]


def hnsw_index(fingerprint: str, dim: int) -> str:
    """The HNSW (cosine) index over one fingerprint's vectors; `dim` is an
    int and the fingerprint is quoted, as DDL takes no parameters."""
    quoted = "'" + fingerprint.replace("'", "''") + "'"
    return (
        f"CREATE INDEX IF NOT EXISTS {hnsw_name(fingerprint)} ON proj_vectors"
        f" USING hnsw ((embedding::vector({int(dim)})) vector_cosine_ops) WHERE fingerprint = {quoted}"
    )
