"""Vector candidates without reading every row, for large stores.

The exact scan (memman/recall/scan.py) reads every stored vector per query:
9 ms at 100k, ~90 ms and a gigabyte of mapped rows at 1M, which alone would
break issue 16's warm targets there (<= 4x, server RSS <= 1 GB). From
ANN_ROWS vectors on, when the drain's HNSW index over the active memories'
vectors is on disk (workers/vectors/annindex.py: the drain builds it past its own
MIN_ROWS and saves it every SAVE_AFTER added rows), recall asks that index
instead, memory-mapped, and scores exactly what it returns:

- The index holds the stored (uncentred) unit vectors; recall ranks by the
  centred cosine. For the centred query q, a row r scores r.q = |r - m| x
  (centred cosine) + m.q (m: the common component), so the index's order
  is the centred one weighted by each row's distance from m. Fetching
  OVERFETCH x the wanted candidates absorbs that: at 100k, the exact top 200
  by centred cosine were 99.6% of the index order's top 400 and 100% of its
  top 800 (30 queries; docs/scale.md).
- Every candidate is rescored exactly: its raw row, read from the flat
  cache, centred on the store's mean and re-normalised (float64) for this
  query only (memman/recall/scan.py computes the same cosines for every
  row below ANN_ROWS). Rows the saved index lacks (active memories
  embedded since its last save) are scored exactly too, always.
- The similarity distribution (the per-store floor, z-scores) comes from a
  fixed, evenly spread sample of SAMPLE_ROWS rows instead of all of them.
- Those rows (the sample, the candidates) are read with `pread`
  (`RowFile`), not through the mapping: a mapped read faults in its
  neighbours too, so the 8,192 sample rows spread over the 1 GB file at 1M
  made ~600 MB of it resident in the warm server, and each query's ~800
  candidates up to 50 MB more (docs/scale.md, "Server RSS at 1M"). The
  same bytes either way, so the same scores. The rows' index keys come
  from the flat cache too (projections/flatcache.py), not from hashing
  every id (~1 s at 1M) each time the server or a cold recall loads.
- Memories found another way (keyword, expansions) get their exact centred
  similarity on demand (`Scores.cosine`).

Without the index file (a store built by replay, not drained since; an
unreadable or stale index) recall scans exactly, as below ANN_ROWS.
"""

from __future__ import annotations

import os
import zlib
from pathlib import Path
from typing import TYPE_CHECKING

from projections.store import StoreDB

if TYPE_CHECKING:
    import numpy as np

ANN_ROWS = 50_000  # from this many vectors on, candidates come from the drain's index when it is there
OVERFETCH = 4  # neighbours asked of the index per candidate wanted
SAMPLE_ROWS = 8_192  # rows the similarity distribution is estimated from


class Neighbourhood:
    """The drain's saved index (memory-mapped) and what maps its answers
    onto rows of the flat cache: row positions sorted by the index's key
    for each memory id, and the active rows the index lacks."""

    def __init__(
        self, index: object, keys: np.ndarray, order: np.ndarray, unindexed: np.ndarray, sample: np.ndarray,
        mean: np.ndarray, row_keys: RowKeys, source: RowFile | memoryview,
    ) -> None:
        self.index = index
        self.source = source  # where the rows are read from: the cache file (pread), else the mapped rows
        self.row_keys = row_keys  # each row's key in row order, and the ids they were hashed from
        self.mean = mean  # the common component (float64), the same as the scan's
        self.keys = keys  # sorted hash keys of the cache's rows
        self.order = order  # row position of each sorted key
        self.unindexed = unindexed  # positions of active rows the index does not hold
        self.sample = sample  # the rows the distribution is estimated from, centred, copied
        # (8 MB: gathering them per query cost ~1 ms)

    def rows(self, positions: np.ndarray) -> np.ndarray:
        """The raw rows at `positions` (k x dim float32; float16 rows widened)."""
        import numpy as np

        if isinstance(self.source, RowFile):
            return self.source.rows(positions)
        return _matrix(self.source)[positions].astype(np.float32, copy=False)

    def positions(self, keys: np.ndarray) -> np.ndarray:
        """Row positions of `keys` (a key of no row is dropped)."""
        import numpy as np

        at = np.minimum(np.searchsorted(self.keys, keys), len(self.keys) - 1)
        return self.order[at[self.keys[at] == keys]]  # type: ignore[no-any-return]


def neighbourhood(
    db: StoreDB, fingerprint: str, ids: list[str], rows: memoryview, mean: list[float], version: object
) -> Neighbourhood | None:
    """The store's Neighbourhood for the flat cache (`ids`, `rows`, their
    common component `mean`), kept with the store handle while `version`
    holds, or None: no usable index. After a drain appended rows to the
    cache, the keys of the rows it held before are reused (hashing 1M ids
    costs ~2 s): only the new rows' are computed."""
    held = db.memo.get(f"ann:{fingerprint}")
    before = held[1].row_keys if isinstance(held, tuple) and isinstance(held[1], Neighbourhood) else None
    del held
    return db.kept(f"ann:{fingerprint}", version, lambda: _load(db, fingerprint, ids, rows, mean, before))


class RowFile:
    """The flat cache file, open, for reading rows with `pread`: only when
    it holds exactly the ids recall mapped (its header's id checksum is
    theirs), so a rewrite since (another inode, other rows) is never read."""

    def __init__(self, fd: int, header: dict) -> None:  # type: ignore[type-arg]
        import weakref

        self.fd, self.header = fd, header
        weakref.finalize(self, os.close, fd)

    @classmethod
    def open(cls, path: Path, fingerprint: str, ids: list[str]) -> RowFile | None:
        from projections import flatcache

        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            return None
        header = flatcache.header_at(fd, fingerprint)
        if header is None or header.get("count") != len(ids) or header.get("ids_crc32") != zlib.crc32("\n".join(ids).encode("ascii")):
            os.close(fd)
            return None
        return cls(fd, header)

    def keys(self) -> np.ndarray | None:
        """Every row's index key, as the cache stores them (None if damaged)."""
        from projections import flatcache

        raw = flatcache.keys_at(self.fd, self.header)
        return None if raw is None else flatcache.as_keys(raw)

    def rows(self, positions: np.ndarray) -> np.ndarray:
        import numpy as np

        from projections import flatcache

        raw = flatcache.rows_at(self.fd, self.header, [int(p) for p in positions])
        if raw is None:  # the file shrank under us: damaged; non-finite scores send recall to the checked scan
            return np.full((len(positions), self.header["dim"]), np.nan, dtype=np.float32)
        return flatcache.as_rows(raw, self.header)  # float16 rows (a large store) widened exactly


class RowKeys:
    """The index keys of a list of ids, in its order."""

    def __init__(self, ids: list[str], keys: np.ndarray) -> None:
        self.ids, self.keys = ids, keys

    @classmethod
    def of(cls, ids: list[str], before: RowKeys | None) -> RowKeys:
        """Keys for `ids`, reusing `before`'s when its ids are a prefix of these."""
        import numpy as np

        from projections.vectorkeys import keys_of

        done = before is not None and len(before.ids) <= len(ids) and ids[: len(before.ids)] == before.ids
        head = before.keys if done and before is not None else np.zeros(0, dtype=np.uint64)
        rest = ids[len(head) :]
        return cls(ids, np.concatenate([head, keys_of(rest)]))


def _matrix(rows: memoryview) -> np.ndarray:
    """The mapped rows as stored: float32 ("f"), or float16 (their bits, "H")."""
    import numpy as np

    return np.frombuffer(rows.cast("B"), dtype="<f4" if rows.format == "f" else "<f2").reshape(rows.shape)


def centred(rows: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """`rows` (k x dim) centred on `mean` and re-normalised, float64 (a zero
    row stays zero): the rows the scan's scores are the cosines with."""
    import numpy as np

    out = np.asarray(rows, dtype=np.float64) - mean
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    np.divide(out, norms, out=out, where=norms > 0)
    return out


def _load(
    db: StoreDB, fingerprint: str, ids: list[str], rows: memoryview, mean: list[float], before: RowKeys | None = None
) -> Neighbourhood | None:
    import numpy as np

    from projections.vectors import _cache_path, stamp
    from workers.vectors.annindex import AnnIndex

    current = stamp(db.vectors.conn, fingerprint)
    if current is None:
        return None
    ann = AnnIndex.load(_cache_path(db.directory, fingerprint, "hnsw"), fingerprint, current[0], current[3], view=True)
    if ann is None:
        return None
    source = RowFile.open(_cache_path(db.directory, fingerprint), fingerprint, ids)
    stored = None if source is None else source.keys()
    row_keys = RowKeys(ids, stored) if stored is not None else RowKeys.of(ids, before)
    keys = row_keys.keys
    order = np.argsort(keys)  # keys are unique (one row per id): any sort gives this order; quicksort is 3x stable's speed at 1M
    lacking = ann.lacking(len(ids))  # recorded by the drain that saved it
    if lacking is None:  # an index saved before the drain recorded it: ask it about every row
        lacking = np.flatnonzero(~np.asarray(ann.index.contains(keys), dtype=bool))  # type: ignore[attr-defined]
    active = _active(db, [ids[i] for i in lacking])
    unindexed = np.array([i for i in lacking if ids[i] in active], dtype=np.int64)
    sample = np.unique(np.linspace(0, len(ids) - 1, min(SAMPLE_ROWS, len(ids))).astype(np.int64))
    m = np.asarray(mean, dtype=np.float64)
    near = Neighbourhood(ann.index, keys[order], order, unindexed, np.zeros(0), m, row_keys, source or rows)
    near.sample = centred(near.rows(sample), m).astype(np.float32)
    return near


def active_sql(count: int) -> str:
    """Which of `count` ids are active memories, read by id. `+status`: on
    `status = 'active'` SQLite's planner (no ANALYZE statistics) took the
    `memories_status` index and walked every active row (9 s for 50 ids at
    1M, once per vector-set version); the unary `+` keeps it on the id."""
    return f"SELECT id FROM memories WHERE id IN ({','.join('?' * count)}) AND +status = 'active'"


def _active(db: StoreDB, ids: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        found.update(r[0] for r in db.main.conn.execute(active_sql(len(chunk)), tuple(chunk)))
    return found


def candidates(
    near: Neighbourhood, query: list[float], want: int
) -> tuple[np.ndarray, np.ndarray, float, float]:
    """(row positions, their exact centred similarities, the distribution's
    mean and standard deviation from the sample) for `query` (centred)."""
    import numpy as np

    q = np.asarray(query, dtype=np.float32)
    count = min(want * OVERFETCH, len(near.keys))
    found = near.index.search(q, count, threads=1)  # type: ignore[attr-defined]
    keys = np.sort(np.asarray(found.keys, dtype=np.uint64))  # sorted, the binary searches walk 1M keys in order: ~0.3 ms less at 1M
    positions = np.unique(np.concatenate([near.positions(keys), near.unindexed]))  # the same set, in row order either way
    scores = centred(near.rows(positions), near.mean) @ q.astype(np.float64)
    sampled = (near.sample @ q).astype(np.float64)
    return positions, scores, float(sampled.mean()), float(sampled.std())


def similarity_of(near: Neighbourhood, query: list[float], ids: list[str], wanted: list[str]) -> dict[str, float]:
    """The exact centred similarity of each memory of `wanted` that has a row."""
    import numpy as np

    from projections.vectorkeys import keys_of

    if not wanted:
        return {}
    q = np.asarray(query, dtype=np.float32)
    keys = keys_of(wanted)
    at = np.minimum(np.searchsorted(near.keys, keys), len(near.keys) - 1)
    found = {m: int(near.order[n]) for m, n, k in zip(wanted, at, keys) if near.keys[n] == k and ids[int(near.order[n])] == m}
    if not found:
        return {}
    scores = centred(near.rows(np.array(list(found.values()), dtype=np.int64)), near.mean) @ q.astype(np.float64)
    return {m: float(s) for m, s in zip(found, scores)}
