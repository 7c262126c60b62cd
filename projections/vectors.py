"""The `vectors` projection: every stored embedding, keyed by memory and
embedder fingerprint, in its own database file with its own checkpoint.

Vectors arrive only through `memory.embedded` events, so rebuilding this
projection never calls a provider. Several fingerprints may coexist (during an
embedder swap); readers select the store's bound fingerprint. `vector_sets`
keeps, per fingerprint, a count and the seq of the last change: the stamp that
tells a reader whether its flat copy (see `matrix`) is current.

Why a table plus a flat file, and not a usearch index: recall runs in a fresh
process per prompt, and importing usearch costs ~150 ms on this hardware
(docs/measured-costs.md) while an exact numpy scan of 10k x 256 float32 rows costs well
under 1 ms. Reading 10k blobs row by row costs ~30 ms, so readers scan a flat
float32 file (`vectors-<fingerprint hash>.f32`, projections/flatcache.py).
When its stamp is stale it is brought up to date: the rows added since are
appended in place (a drain of a few inputs writes a few rows, not the whole
file), or, after a re-embedding or a purge changed rows it holds
(`rewritten_seq`), it is rebuilt from the table. It is a cache, safe to
delete at any time.

One cache, centred at query time (issue 16). Recall ranks by the centred
cosine (memman/recall/vector.py). It used to keep a second file beside
this one, every row centred and re-normalised (`.c32`), which each drain
rewrote whole because every new row moves the mean (~66 ms of CPU at 10k,
a gigabyte written at 1M) and a warm server rebuilt with numpy when it
found it stale. Now this file keeps the rows as stored and their column
sums (in its header, updated as rows are appended; `mean_of`), and
readers centre at query time: for the centred unit query q' = (q - m) /
|q - m|, (r - m).q' / |r - m| = (r.q' - m.q') / |r - m|, with |r - m|^2 =
|r|^2 - 2 r.m + |m|^2 (memman/recall/scan.py: two more passes over the
rows per cold query, once per vector set in the warm server; per
candidate only on the index path, memman/recall/ann.py). Float32 rows,
not float16: the cold path's only numpy-free kernel (simsimd) rounds a
float16 dot product to float16 (~2e-4 at a cosine of 0.3, measured),
which would move scores, numpy's float16 products have no BLAS path, and
importing numpy is what the cold path avoids; widened float16 values are
exact in float32, so the cache holds exactly what the table holds. 1 KB a
memory at 256-d, where the two files took 2 KB. From flatcache.HALF_ROWS
rows on (where recall reads only the index's candidates' rows) the cache
keeps the float16 values themselves, widened as they are read: 512 bytes a
memory, the same numbers (projections/flatcache.py).

How a vector is stored (issue 16, compact storage): `memory.embedded` events
written since then carry each vector as little-endian float16 (`encode`),
half the float32 bytes, in the log and in this table alike; older events
carry float32 and are read as they are. A stored vector says which it is by
its length (dim x 2 or dim x 4 bytes), so no event field changed and a log
with both kinds replays exactly. The drain rounds a new vector to float16
*before* it uses it (`as_stored`), so what it compared, what the log keeps
and what a replay or a later recall reads are the same numbers. Readers
widen to float32 (`decode_rows`): the flat cache stays float32, because
numpy's float16 matrix products have no BLAS path (10x slower). Rounding
moves a unit vector's cosines by ~1e-4 (float16 keeps 11 significant bits).

The cache carries CRC-32s of its id list and of its rows. Readers always
check the ids' (cheap); the rows' (~2 ms per MB) is checked by `events
verify`, `doctor` and by recall when a score comes out non-finite, which is
what flipped bytes in a float usually produce. A cache that fails a check is
rebuilt from the table, never trusted.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import apsw

from events.errors import StoreCorrupt
from events.types import MemoryEmbedded, MemoryPurged, Recorded
from projections import flatcache

if TYPE_CHECKING:
    import numpy as np


class VectorsProjector:
    name = "vectors"
    # 3: vector_sets.rewritten_seq (the flat cache may append only past it);
    # 4: rows keyed by their set's number (`_SCHEMA`)
    version = 4
    tables = ("vector_rows", "vector_sets")
    handles = frozenset({"memory.embedded", "memory.purged"})

    def create(self, conn: apsw.Connection) -> None:
        conn.execute(_SCHEMA)

    def drop(self, conn: apsw.Connection) -> None:
        """This version's objects, and the `vectors` table of versions up to 3
        (a version bump drops and replays: the migration of an older store)."""
        row = conn.execute("SELECT type FROM sqlite_master WHERE name = 'vectors'").fetchone()
        if row is not None:
            conn.execute(f"DROP {'VIEW' if row[0] == 'view' else 'TABLE'} vectors")
        conn.execute("DROP TABLE IF EXISTS vector_rows; DROP TABLE IF EXISTS vector_sets;")

    def apply(self, conn: apsw.Connection, rec: Recorded) -> None:
        e = rec.event
        if isinstance(e, MemoryPurged):
            _purged(conn, e, rec.seq)
            return
        if not isinstance(e, MemoryEmbedded) or not e.vectors:
            return
        row = conn.execute("SELECT n, count, rewritten_seq FROM vector_sets WHERE fingerprint=?", (e.fingerprint,)).fetchone()
        if row is None:  # a new set: numbered in the order the log first names it, so a replay numbers it the same
            conn.execute(
                "INSERT INTO vector_sets (fingerprint, dim, count, last_seq, rewritten_seq) VALUES (?,?,0,?,0)",
                (e.fingerprint, e.dim, rec.seq),
            )
            row = (conn.last_insert_rowid(), 0, 0)
        vset, count, rewritten_seq = row
        for v in e.vectors:  # insert, or re-embed in place (the row keeps its id, so its place in the cache)
            conn.execute(
                "INSERT OR IGNORE INTO vector_rows (vset, memory_id, vec, seq) VALUES (?,?,?,?)",
                (vset, v.memory_id, v.data, rec.seq),
            )
            if conn.changes():
                count += 1  # kept incrementally: recounting every event made a replay quadratic
            else:
                rewritten_seq = rec.seq
                conn.execute(
                    "UPDATE vector_rows SET vec=?, seq=? WHERE vset=? AND memory_id=?", (v.data, rec.seq, vset, v.memory_id)
                )
        conn.execute(
            "UPDATE vector_sets SET dim=?, count=?, last_seq=?, rewritten_seq=? WHERE n=?",
            (e.dim, count, rec.seq, rewritten_seq, vset),
        )


# Version 4 (issue 16, compact storage, sixth pass): a row names its set by
# number (`vector_sets.n`, assigned in the order the log first names a
# fingerprint) instead of repeating the ~45-character fingerprint and the
# dimension in the row and again in the unique index (~150 bytes a memory
# at 100k). Readers that select by fingerprint read the `vectors` view,
# which has the columns of the table it replaced; the flat cache's reads
# (`_rows`) go to the rows directly.
_SCHEMA = """
CREATE TABLE vector_sets (
    n INTEGER PRIMARY KEY, fingerprint TEXT NOT NULL UNIQUE, dim INTEGER NOT NULL, count INTEGER NOT NULL,
    last_seq INTEGER NOT NULL, rewritten_seq INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE vector_rows (
    id INTEGER PRIMARY KEY, vset INTEGER NOT NULL, memory_id TEXT NOT NULL, vec BLOB NOT NULL, seq INTEGER NOT NULL,
    UNIQUE (vset, memory_id)
);
CREATE VIEW vectors (id, memory_id, fingerprint, dim, vec, seq) AS
    SELECT r.id, r.memory_id, s.fingerprint, s.dim, r.vec, r.seq FROM vector_rows r JOIN vector_sets s ON s.n = r.vset;
"""


def _purged(conn: apsw.Connection, e: MemoryPurged, seq: int) -> None:
    """Erasure: the purged memories' vectors go; each set's count and stamp
    move, so recall's flat cache is rebuilt without them."""
    for memory_id in e.purged:
        for (vset,) in conn.execute("SELECT vset FROM vector_rows WHERE memory_id=?", (memory_id,)).fetchall():
            conn.execute("DELETE FROM vector_rows WHERE memory_id=? AND vset=?", (memory_id, vset))
            conn.execute(
                "UPDATE vector_sets SET count = count - 1, last_seq = ?, rewritten_seq = ? WHERE n=?", (seq, seq, vset)
            )


STORED = "<f2"  # how new vectors are stored: little-endian float16


def as_stored(rows: np.ndarray) -> np.ndarray:
    """`rows` (float32) rounded exactly as storing them rounds them."""
    import numpy as np

    return np.asarray(rows, dtype=np.float32).astype(STORED).astype(np.float32)


def encode(row: np.ndarray) -> bytes:
    """One vector's stored bytes (little-endian float16)."""
    return row.astype(STORED).tobytes()


def decode_rows(blobs: list[bytes], dim: int) -> np.ndarray:
    """Stored vectors (float16 or, written before, float32: told apart by
    length) as float32 rows, in order."""
    import numpy as np

    kinds = {dim * 2: STORED, dim * 4: "<f4"}
    sizes = {len(b) for b in blobs}
    if not sizes <= kinds.keys():
        bad = min(sizes - kinds.keys())
        raise StoreCorrupt(
            f"a stored {dim}-d vector has {bad} bytes (neither float16 nor float32);"
            " run 'memman events verify', then 'memman events replay --projection vectors'"
        )
    if not blobs:
        return np.zeros((0, dim), dtype=np.float32)
    if len(sizes) == 1:  # one kind (the usual case): one conversion for all rows
        return np.frombuffer(b"".join(blobs), dtype=kinds[sizes.pop()]).reshape(len(blobs), dim).astype(np.float32)
    return np.vstack([np.frombuffer(b, dtype=kinds[len(b)]) for b in blobs]).astype(np.float32)


def _cache_path(directory: Path, fingerprint: str, suffix: str = "f32") -> Path:
    from events.digests import sha256_hex

    digest = sha256_hex(fingerprint.encode())[:16]
    return directory / f"vectors-{digest}.{suffix}"


OLD_CACHES = ("c32",)  # the centred copy of format 3: no longer written, removed when the cache is rebuilt


def cache_identity(directory: Path, fingerprint: str) -> tuple[int, int, int] | None:
    """(inode, size, mtime) of the flat cache file, None when it is missing:
    with `stamp`, what a reader that keeps the mapped rows (the warm server)
    checks before reusing them (an appended, rebuilt or repaired file)."""
    import os

    try:
        st = os.stat(_cache_path(directory, fingerprint))
    except OSError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def stamp(conn: apsw.Connection, fingerprint: str) -> tuple[int, int, int, int] | None:
    """(dim, count, last_seq, rewritten_seq) of the vectors under `fingerprint`, or None."""
    row = conn.execute(
        "SELECT dim, count, last_seq, rewritten_seq FROM vector_sets WHERE fingerprint=?", (fingerprint,)
    ).fetchone()
    return None if row is None else (row[0], row[1], row[2], row[3])


def matrix(
    conn: apsw.Connection, directory: Path, fingerprint: str, *, verify: bool = False
) -> tuple[list[str], np.ndarray]:
    """(memory ids, float32 rows) of every vector under `fingerprint`, from the
    flat cache when its stamp (and, with `verify`, its rows' checksum) matches;
    else the rows added since are appended to it (when nothing was re-embedded
    or purged since), or it is rebuilt from the table."""
    ids, rows, _ = flat(conn, directory, fingerprint, verify=verify)
    return ids, rows


def flat(
    conn: apsw.Connection, directory: Path, fingerprint: str, *, verify: bool = False
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """`matrix` and the store's common component (`mean_of` its column sums)."""
    import numpy as np

    current = stamp(conn, fingerprint)
    if current is None:
        return [], np.zeros((0, 0), dtype=np.float32), np.zeros(0, dtype=np.float32)
    path = _cache_path(directory, fingerprint)
    found = flatcache.read(path, fingerprint, current, verify=verify)
    if found is None:
        _update(conn, path, fingerprint, current, verify=verify)
        found = flatcache.read(path, fingerprint, current)
    if found is not None:  # float16 rows (a large set) widened: float32 for every caller, the same values
        ids, rows, total = found[0], np.asarray(found[1], dtype=np.float32), flatcache.sums(found[2])
    else:  # a read-only store: no cache file, the rows from the table
        ids, rows, _ = _rows(conn, fingerprint, current[0])
        total = rows.sum(axis=0, dtype="<f8").tolist() if len(ids) else None
    return ids, rows, np.asarray(mean_of(total or [0.0] * current[0], len(ids)), dtype=np.float32)


def refresh(conn: apsw.Connection, directory: Path, fingerprint: str) -> None:
    """Bring the flat cache up to date if its stamp is stale, reading nothing
    back: what a drain does after its pass (the new rows appended), so the
    next recall finds it current and imports no numpy."""
    current = stamp(conn, fingerprint)
    if current is None:
        return
    path = _cache_path(directory, fingerprint)
    header = flatcache.read_header(path, fingerprint)
    if header is None or tuple(header.get("stamp", ())) != tuple(current):
        _update(conn, path, fingerprint, current, verify=False)


def _update(conn: apsw.Connection, path: Path, fingerprint: str, current: flatcache.Stamp, *, verify: bool) -> None:
    """Bring the cache file to `current`: append the rows added since (when
    its stamp is older and nothing was re-embedded or purged since), else
    rewrite it from the table (best effort: a read-only store has none)."""
    dim = current[0]
    header = flatcache.read_header(path, fingerprint)
    if header is not None and isinstance(header.get("max_id"), int) and tuple(header.get("stamp", ())) != tuple(current):
        ids, rows, max_id = _rows(conn, fingerprint, dim, after=header["max_id"])
        if flatcache.append(path, fingerprint, current, ids, rows, max_id=max_id, verify=verify):
            return
    ids, rows, max_id = _rows(conn, fingerprint, dim)
    for suffix in OLD_CACHES:
        _cache_path(path.parent, fingerprint, suffix).unlink(missing_ok=True)
    flatcache.write(path, fingerprint, current, ids, rows, max_id=max_id)


def _rows(conn: apsw.Connection, fingerprint: str, dim: int, after: int = 0) -> tuple[list[str], np.ndarray, int]:
    """(memory ids, rows, the last row id) of the vectors with row id > `after`, in row order."""
    found = conn.execute(
        "SELECT id, memory_id, vec FROM vector_rows WHERE vset = (SELECT n FROM vector_sets WHERE fingerprint=?)"
        " AND id > ? ORDER BY id",
        (fingerprint, after),
    ).fetchall()
    ids = [r[1] for r in found]
    rows = decode_rows([r[2] for r in found], dim)
    return ids, rows, found[-1][0] if found else after


def flat_view(
    conn: apsw.Connection, directory: Path, fingerprint: str, *, verify: bool = False
) -> tuple[list[str], memoryview | None, list[float]]:
    """`flat` without numpy when the cache is current: (memory ids, the rows
    as a 2-D memoryview, the common component), or ([], None, [])
    for no vectors. When the cache is missing, stale or damaged, `flat`
    appends to it or rebuilds it (numpy is imported for that one call: after
    a drain that did not refresh it, or once per new store). The rows are
    float32 (format "f"), or from flatcache.HALF_ROWS rows on float16 bits
    (format "H"), which `flatcache.widen` turns into float32 values."""
    current = stamp(conn, fingerprint)
    if current is None or current[1] == 0:
        return [], None, []
    path = _cache_path(directory, fingerprint)
    cached = flatcache.view(path, fingerprint, current, verify=verify)
    if cached is None:
        ids, rows, mean = flat(conn, directory, fingerprint, verify=verify)
        cached = flatcache.view(path, fingerprint, current)
        if cached is None:  # a read-only store: no cache file to map, answer from memory
            if not ids:
                return [], None, []
            return ids, memoryview(rows.astype("<f4")).cast("B").cast("f", rows.shape), mean.tolist()
    ids, rows, total = cached
    return ids, rows, mean_of(total, len(ids))


CENTER_PRIOR = 20.0


def mean_of(sums: object, n: int) -> list[float]:
    """The store's common component from its vectors' column sums: their
    mean, shrunk towards zero while the store is small (sum / (n +
    CENTER_PRIOR), so one or two memories are not centred onto nothing),
    rounded to float32 as every reader uses it."""
    from array import array

    values = list(sums)  # type: ignore[call-overload]
    return array("f", (v / (n + CENTER_PRIOR) for v in values)).tolist()


def centered(
    conn: apsw.Connection, directory: Path, fingerprint: str, *, verify: bool = False
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(memory ids, rows with the store's common component removed and
    re-normalised, that common component), computed with numpy from `flat`.

    A store whose memories mostly say "Dana: ..." has a mean that is mostly
    "Dana"; removing it leaves what each memory says beyond what every
    memory says. Nothing keeps this matrix: recall centres at query time
    (memman/recall/scan.py `centred_similarities`, the same cosines without
    rewriting n rows each time the mean moves); this is the definition they
    are tested against, and what the "centering" ablation compares."""
    import numpy as np

    ids, rows, mean = flat(conn, directory, fingerprint, verify=verify)
    if not ids:
        return [], np.zeros((0, rows.shape[1] if rows.ndim == 2 else 0), dtype=np.float32), mean
    out = np.asarray(rows, dtype=np.float32) - mean
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    np.divide(out, norms, out=out, where=norms > 0)
    return ids, out, mean


def cache_problem(conn: apsw.Connection, directory: Path, fingerprint: str) -> str | None:
    """What is wrong with the flat cache of `fingerprint`, if it exists: a
    stale stamp or a checksum that does not match (damaged on disk)."""
    path = _cache_path(directory, fingerprint)
    current = stamp(conn, fingerprint)
    if current is None or not path.exists():
        return None
    if flatcache.read(path, fingerprint, current, verify=True) is None:
        return f"flat vector cache {path.name} is stale or damaged (checksum)"
    return None
