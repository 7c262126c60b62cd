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
float32 file (`vectors-<fingerprint hash>.f32`), rebuilt from the table
whenever its stamp is stale; it is a cache, safe to delete at any time.

The cache carries CRC-32s of its id list and of its rows. Readers always
check the ids' (cheap); the rows' (~2 ms per MB) is checked by `events
verify`, `doctor` and by recall when a score comes out non-finite, which is
what flipped bytes in a float usually produce. A cache that fails a check is
rebuilt from the table, never trusted.
"""

from __future__ import annotations

import hashlib
import json
import os
import zlib
from pathlib import Path
from typing import TYPE_CHECKING

import apsw

from events.types import MemoryEmbedded, Recorded

if TYPE_CHECKING:
    import numpy as np

_MAGIC = b"MEMMANVEC2\n"  # 2: with checksums
_ALIGN = 64


class VectorsProjector:
    name = "vectors"
    version = 2
    tables = ("vectors", "vector_sets")
    handles = frozenset({"memory.embedded"})

    def create(self, conn: apsw.Connection) -> None:
        conn.execute(
            "CREATE TABLE vectors ("
            " id INTEGER PRIMARY KEY, memory_id TEXT NOT NULL, fingerprint TEXT NOT NULL,"
            " dim INTEGER NOT NULL, vec BLOB NOT NULL, seq INTEGER NOT NULL,"
            " UNIQUE (fingerprint, memory_id));"
            "CREATE TABLE vector_sets ("
            " fingerprint TEXT PRIMARY KEY, dim INTEGER NOT NULL, count INTEGER NOT NULL, last_seq INTEGER NOT NULL)"
        )

    def drop(self, conn: apsw.Connection) -> None:
        conn.execute("DROP TABLE IF EXISTS vectors; DROP TABLE IF EXISTS vector_sets;")

    def apply(self, conn: apsw.Connection, rec: Recorded) -> None:
        e = rec.event
        if not isinstance(e, MemoryEmbedded) or not e.vectors:
            return
        added = 0
        for v in e.vectors:  # insert, or re-embed in place (the row keeps its id, so its place in the cache)
            conn.execute(
                "INSERT OR IGNORE INTO vectors (memory_id, fingerprint, dim, vec, seq) VALUES (?,?,?,?,?)",
                (v.memory_id, e.fingerprint, e.dim, v.data, rec.seq),
            )
            if conn.changes():
                added += 1
            else:
                conn.execute(
                    "UPDATE vectors SET dim=?, vec=?, seq=? WHERE fingerprint=? AND memory_id=?",
                    (e.dim, v.data, rec.seq, e.fingerprint, v.memory_id),
                )
        # kept incrementally: recounting every event made a replay quadratic
        row = conn.execute("SELECT count FROM vector_sets WHERE fingerprint=?", (e.fingerprint,)).fetchone()
        count = (row[0] if row else 0) + added
        conn.execute(
            "INSERT OR REPLACE INTO vector_sets (fingerprint, dim, count, last_seq) VALUES (?,?,?,?)",
            (e.fingerprint, e.dim, count, rec.seq),
        )


def _cache_path(directory: Path, fingerprint: str, suffix: str = "f32") -> Path:
    digest = hashlib.sha256(fingerprint.encode()).hexdigest()[:16]
    return directory / f"vectors-{digest}.{suffix}"


def stamp(conn: apsw.Connection, fingerprint: str) -> tuple[int, int, int] | None:
    """(dim, count, last_seq) of the vectors under `fingerprint`, or None."""
    row = conn.execute(
        "SELECT dim, count, last_seq FROM vector_sets WHERE fingerprint=?", (fingerprint,)
    ).fetchone()
    return None if row is None else (row[0], row[1], row[2])


def matrix(
    conn: apsw.Connection, directory: Path, fingerprint: str, *, verify: bool = False
) -> tuple[list[str], np.ndarray]:
    """(memory ids, float32 rows) of every vector under `fingerprint`, from the
    flat cache when its stamp (and, with `verify`, its rows' checksum) matches,
    else rebuilt from the table and re-cached."""
    import numpy as np

    current = stamp(conn, fingerprint)
    if current is None:
        return [], np.zeros((0, 0), dtype=np.float32)
    path = _cache_path(directory, fingerprint)
    cached = _read(path, fingerprint, current, verify=verify)
    if cached is not None:
        return cached
    ids: list[str] = []
    blobs: list[bytes] = []
    for memory_id, vec in conn.execute(
        "SELECT memory_id, vec FROM vectors WHERE fingerprint=? ORDER BY id", (fingerprint,)
    ):
        ids.append(memory_id)
        blobs.append(vec)
    dim = current[0]
    rows = np.frombuffer(b"".join(blobs), dtype="<f4").reshape(len(ids), dim)
    _write(path, fingerprint, current, ids, rows)
    return ids, rows


def centered(
    conn: apsw.Connection, directory: Path, fingerprint: str, *, verify: bool = False
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(memory ids, rows with the store's common component removed and
    re-normalised, that common component): derived from `matrix`, cached
    beside it under the same stamp.

    The common component is the mean of the stored vectors, shrunk towards
    zero while the store is small (mean x n / (n + CENTER_PRIOR)), so one or
    two memories are not centred onto nothing. A store whose memories mostly
    say "Dana: ..." has a mean that is mostly "Dana"; removing it leaves what
    each memory says beyond what every memory says. `verify` checks both
    caches' checksums (and rebuilds what is damaged)."""
    import numpy as np

    current = stamp(conn, fingerprint)
    if current is None:
        empty = np.zeros((0, 0), dtype=np.float32)
        return [], empty, np.zeros(0, dtype=np.float32)
    path = _cache_path(directory, fingerprint, "c32")
    cached = _read(path, fingerprint, current, extra=1, verify=verify)
    if cached is not None:
        return cached[0], cached[1][:-1], np.asarray(cached[1][-1])
    ids, rows = matrix(conn, directory, fingerprint, verify=verify)
    mean = common_component(np.asarray(rows, dtype=np.float32))
    out = np.asarray(rows, dtype=np.float32) - mean
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    np.divide(out, norms, out=out, where=norms > 0)
    _write(path, fingerprint, current, ids, np.vstack([out, mean[None, :]]))
    return ids, out, mean


CENTER_PRIOR = 20.0


def common_component(rows: np.ndarray) -> np.ndarray:
    import numpy as np

    if not len(rows):
        return np.zeros(rows.shape[1] if rows.ndim == 2 else 0, dtype=np.float32)
    n = len(rows)
    return (rows.mean(axis=0) * (n / (n + CENTER_PRIOR))).astype(np.float32)


def cache_problem(conn: apsw.Connection, directory: Path, fingerprint: str) -> str | None:
    """What is wrong with the flat cache of `fingerprint`, if it exists: a
    stale stamp or a checksum that does not match (damaged on disk)."""
    path = _cache_path(directory, fingerprint)
    current = stamp(conn, fingerprint)
    if current is None or not path.exists():
        return None
    if _read(path, fingerprint, current, verify=True) is None:
        return f"flat vector cache {path.name} is stale or damaged (checksum)"
    return None


def _read(
    path: Path, fingerprint: str, current: tuple[int, int, int], extra: int = 0, *, verify: bool = False
) -> tuple[list[str], np.ndarray] | None:
    import numpy as np

    try:
        with path.open("rb") as f:
            if f.readline() != _MAGIC:
                return None
            header = json.loads(f.readline())
            if header.get("fingerprint") != fingerprint or tuple(header.get("stamp", ())) != current:
                return None
            raw_ids = f.read(header["ids_bytes"])
            if zlib.crc32(raw_ids) != header["ids_crc32"]:
                return None
            ids = raw_ids.decode("ascii").split("\n") if header["count"] else []
        dim, count = current[0], current[1]
        if len(ids) != count:
            return None
        rows = np.memmap(path, dtype="<f4", mode="r", offset=header["offset"], shape=(count + extra, dim))
        if verify and zlib.crc32(rows) != header["rows_crc32"]:
            return None
        return ids, rows
    except (OSError, ValueError, KeyError, TypeError, UnicodeDecodeError):
        return None  # missing, partial, damaged or foreign: rebuild it


def _write(path: Path, fingerprint: str, current: tuple[int, int, int], ids: list[str], rows: np.ndarray) -> None:
    id_bytes = "\n".join(ids).encode("ascii")
    data = rows.astype("<f4", copy=False).tobytes()
    header = {
        "fingerprint": fingerprint, "stamp": list(current), "count": len(ids), "ids_bytes": len(id_bytes),
        "ids_crc32": zlib.crc32(id_bytes), "rows_crc32": zlib.crc32(data),
    }
    # the offset depends on the header's own length: settle it in two passes
    offset = 0
    for _ in range(2):
        header["offset"] = offset
        head = _MAGIC + json.dumps(header).encode() + b"\n" + id_bytes
        offset = -(-len(head) // _ALIGN) * _ALIGN
    header["offset"] = offset
    head = _MAGIC + json.dumps(header).encode() + b"\n" + id_bytes
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as f:
            f.write(head.ljust(offset, b"\0"))
            f.write(data)
        tmp.replace(path)
    except OSError:
        tmp.unlink(missing_ok=True)  # a read-only store still answers, just without the cache
