"""An approximate nearest-neighbour index (usearch HNSW) the drain keeps over
its vector set once a store is large, saved beside the flat cache.

Why: the drain compares every new fact with every active memory twice
(reconciliation candidates, semantic edges). An exact numpy scan costs
~0.45 ms at 10k x 256 float32 rows but 10-14 ms at 100k, so it made the
drain's per-input cost grow with the store. An HNSW query costs ~0.5 ms at
any size; an add ~1-2 ms on this hardware, so below `MIN_ROWS` the exact
scan is cheaper and stays (docs/measured-costs.md).

    vectors-<fingerprint hash>.hnsw       the usearch index (float16 vectors)
    vectors-<fingerprint hash>.hnsw.json  what it copies: fingerprint, dim,
                                          the vector set's rewritten_seq

Keys are 63 bits of a hash of the memory id (projections/vectorkeys.py),
so the index outlives the positions of rows in any file; the flat cache
stores each row's key beside it. Candidates are rescored exactly with the
drain's float32 rows (`VectorSet`), so HNSW only chooses whom to score;
`OVERFETCH` extra neighbours absorb rows that are no longer active.

The index is a cache of the vectors projection (itself built from the log):
missing, unreadable, of another dimension, or older than the last re-embed
or purge (`rewritten_seq`), it is rebuilt from the rows; otherwise only the
rows it lacks are added. A drain saves it when it added `SAVE_AFTER` rows or
more, so a small drain writes nothing and the next one adds what is missing.
Recall quality against the exact scan: tests/workers/test_annindex.py (top-5
recall >= 0.95 on clustered vectors, the figure documented in
docs/measured-costs.md).
"""

from __future__ import annotations

import base64
import json
import os
import zlib
from pathlib import Path
from typing import TYPE_CHECKING

from projections.vectorkeys import key_of

if TYPE_CHECKING:
    import numpy as np

MIN_ROWS = 30_000  # below this the exact scan is cheaper than HNSW adds
SAVE_AFTER = 128  # re-adding k unsaved rows costs ~k x 1.5 ms; saving 100k rows ~0.2 s
OVERFETCH = 16
CONNECTIVITY, EXPANSION_ADD, EXPANSION_SEARCH = 16, 128, 64



class AnnIndex:
    """An HNSW index over unit vectors (inner product), keyed by memory id."""

    def __init__(self, dim: int, index: object | None = None) -> None:
        _usearch_after_simsimd()
        from usearch.index import Index

        self.dim = dim
        self.index = index or Index(
            ndim=dim, metric="ip", dtype="f16", connectivity=CONNECTIVITY,
            expansion_add=EXPANSION_ADD, expansion_search=EXPANSION_SEARCH,
        )
        self.added = 0  # rows added since it was loaded or built
        self.stamp: dict[str, object] = {}  # what its saved stamp said, when it was loaded

    def __len__(self) -> int:
        return len(self.index)  # type: ignore[arg-type]

    def missing(self, memory_ids: list[str]) -> list[int]:
        """Positions in `memory_ids` of the ids the index does not hold."""
        import numpy as np

        if not memory_ids:
            return []
        return self.missing_keys(np.fromiter((key_of(m) for m in memory_ids), dtype=np.uint64, count=len(memory_ids)))

    def missing_keys(self, keys: np.ndarray) -> list[int]:
        """Positions in `keys` of the keys the index does not hold."""
        import numpy as np

        if not len(keys):
            return []
        held = np.asarray(self.index.contains(keys))  # type: ignore[attr-defined]
        return [int(i) for i in np.flatnonzero(~held)]

    def add_many(self, memory_ids: list[str], rows: np.ndarray, keys: np.ndarray | None = None) -> None:
        """Add rows under their ids' keys (`keys`, when the caller has them already)."""
        import numpy as np

        if not memory_ids:
            return
        if keys is None:
            keys = np.fromiter((key_of(m) for m in memory_ids), dtype=np.uint64, count=len(memory_ids))
        self.index.add(keys, np.ascontiguousarray(rows, dtype=np.float32), threads=1)  # type: ignore[attr-defined]
        self.added += len(memory_ids)

    def put(self, memory_id: str, vector: np.ndarray) -> None:
        """Add or replace one memory's vector."""
        key = key_of(memory_id)
        if self.index.contains(key):  # type: ignore[attr-defined]
            self.index.remove(key)  # type: ignore[attr-defined]
        self.index.add(key, vector, threads=1)  # type: ignore[attr-defined]
        self.added += 1

    def search(self, query: np.ndarray, count: int) -> list[int]:
        """Keys of up to `count` approximate nearest neighbours."""
        count = min(count, len(self))
        if count <= 0:
            return []
        found = self.index.search(query, count, threads=1)  # type: ignore[attr-defined]
        return [int(k) for k in found.keys]

    # ------------------------------------------------------------ on disk

    def save(self, path: Path, fingerprint: str, rewritten_seq: int, rows: np.ndarray | None = None) -> None:
        """Write the index and its stamp (temporary files, then renames);
        best effort, as for the flat cache: a read-only store just rebuilds.
        `rows`: the flat cache's row keys (in row order), when it is current;
        the stamp then records which of those rows the index lacks, so a
        reader (memman/recall/ann.py) learns it without asking the index
        about every key (`lacking`)."""
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        meta = _meta_path(path)
        try:
            meta.unlink(missing_ok=True)  # the stamp goes first: an index without one is never trusted
            self.index.save(str(tmp))  # type: ignore[attr-defined]
            os.chmod(tmp, 0o600)
            tmp.replace(path)
            stamp = {"fingerprint": fingerprint, "dim": self.dim, "rewritten_seq": rewritten_seq, "count": len(self)}
            if rows is not None:
                stamp |= self._coverage(rows)
            meta_tmp = meta.with_name(f"{meta.name}.{os.getpid()}.tmp")
            meta_tmp.write_text(json.dumps(stamp))
            meta_tmp.replace(meta)
            self.added = 0
        except OSError:
            tmp.unlink(missing_ok=True)

    def _coverage(self, rows: np.ndarray) -> dict[str, object]:
        """The stamp's record of which flat-cache rows the index lacks:
        `rows` (how many rows were checked) and `lacking` (the positions
        below it the index does not hold: base64 of little-endian uint32)."""
        import numpy as np

        held = np.asarray(self.index.contains(rows), dtype=bool) if len(rows) else np.zeros(0, dtype=bool)  # type: ignore[attr-defined]
        lacking = np.flatnonzero(~held).astype("<u4").tobytes()
        return {"rows": len(rows), "lacking": base64.b64encode(lacking).decode("ascii"), "lacking_crc32": zlib.crc32(lacking)}

    def lacking(self, count: int) -> np.ndarray | None:
        """Positions among the flat cache's first `count` rows that this
        saved index does not hold, from its stamp: the rows it was checked
        against that it lacked, and every row appended since. None when the
        stamp does not say (an index saved before it did, or a cache that
        has fewer rows than it was checked against): ask the index."""
        import numpy as np

        covered = self.stamp.get("rows")
        if not isinstance(covered, int) or covered > count:
            return None
        try:
            raw = base64.b64decode(self.stamp["lacking"], validate=True)
        except (KeyError, TypeError, ValueError):
            return None
        if len(raw) % 4 or zlib.crc32(raw) != self.stamp.get("lacking_crc32"):
            return None
        below = np.frombuffer(raw, dtype="<u4").astype(np.int64)
        return np.concatenate([below, np.arange(covered, count, dtype=np.int64)])

    @classmethod
    def load(cls, path: Path, fingerprint: str, dim: int, rewritten_seq: int, *, view: bool = False) -> AnnIndex | None:
        """The saved index if it copies this vector set (else None: rebuild);
        `view` maps the file instead of reading it (read-only: recall's use,
        memman/recall/ann.py)."""
        _usearch_after_simsimd()
        from usearch.index import Index

        try:
            stamp = json.loads(_meta_path(path).read_text())
            if stamp != {**stamp, "fingerprint": fingerprint, "dim": dim, "rewritten_seq": rewritten_seq}:
                return None
            index = Index.restore(str(path), view=view)
        except (OSError, ValueError, RuntimeError):  # missing, partial or damaged: rebuilt from the rows
            return None
        if index is None or index.ndim != dim or len(index) != stamp.get("count"):
            return None
        loaded = cls(dim, index)
        loaded.stamp = stamp
        return loaded


def flat_keys(directory: Path, fingerprint: str, current: tuple[int, ...]) -> np.ndarray | None:
    """The flat cache's row keys when the cache copies `current` (else None)."""
    from projections import flatcache
    from projections.vectors import _cache_path

    path = _cache_path(directory, fingerprint)
    header = flatcache.read_header(path, fingerprint)
    if header is None or tuple(header.get("stamp", ())) != tuple(current):
        return None
    raw = flatcache.key_bytes(path, header)
    return None if raw is None else flatcache.as_keys(raw)


def _usearch_after_simsimd() -> None:
    """Load simsimd before usearch. usearch's extension carries its own build
    of simsimd's kernels; loaded first, it leaves the simsimd module that
    recall's scan uses (memman/recall/scan.py) failing every call with
    "Input tensors must have matching datatypes" for the rest of the process
    (a warm server that read an index, a process that drained and then
    recalled). Loaded second, both work (tests/memman/test_recall_scan.py)."""
    import simsimd  # noqa: F401


def _meta_path(path: Path) -> Path:
    return path.with_name(path.name + ".json")
