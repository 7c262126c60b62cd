"""The drain's vector set past the HNSW threshold: the index chooses the
candidates, and only their rows are read, from the flat cache, on demand.

Below `annindex.MIN_ROWS` the drain keeps every active vector in memory
(`workers.vectors.vectorset.VectorSet`): its exact scans need them all. Past it,
the in-memory set was only ever read for the index's candidates (a few
dozen rows per query) and for reconciliation's candidates, yet each drain
built it whole: the active ids read from SQLite (100k rows), 100 MB of rows
copied out of the flat cache, two 100k-entry dicts: ~0.3 s of a one-input
drain at 100k memories. This set instead keeps

- the flat cache open (`workers.vectors.cacherows.CacheRows`: its ids and keys, the
  rows read with `pread` when asked for),
- what the drain itself added (new and re-embedded memories) and removed,
- the memories that were not active when the drain began (superseded,
  forgotten, pending inputs: fewer than the active ones, a third of the
  synthetic 100k store), instead of every active id.

It answers exactly what `VectorSet` answers with the same index attached:
a row is live when it is active and the drain has not removed it, or the
drain added it; the same rows are added to the index in the same order;
candidates are rescored with the same float32 rows in the same order, so
the same scores and ties (tests/workers/test_indexedset.py). A cache row
whose memory is not among the inactive ones is active: every row is a
memory's (vectors come from the embeddings of memories the drain derived
or a swap re-embedded, and a purge removes the row and the memory in one
event), and the drain's own changes reach this set by `remove` and `add`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from projections.vectorkeys import key_of

if TYPE_CHECKING:
    import numpy as np

    from workers.vectors.annindex import AnnIndex
    from workers.vectors.cacherows import CacheRows


class IndexedVectorSet:
    def __init__(self, dim: int, base: CacheRows, inactive: set[str], live: int) -> None:
        self.dim = dim
        self.ann: AnnIndex | None = None
        self._base = base
        self._inactive = inactive  # memories not active when the drain began
        self._added: dict[str, np.ndarray] = {}  # live rows the drain added (or re-embedded), float32
        self._added_keys: dict[int, str] = {}  # the index key of every id ever added
        self._removed: set[str] = set()  # ids the drain retired (until added again)
        self._at: dict[str, int] = {}  # a cache row's memory: its row position, once looked up
        self._live = live  # at least this many live rows (`__len__`)
        self._read: dict[int, np.ndarray] = {}  # cache rows read so far (reconciliation and edges ask for the same)

    def __len__(self) -> int:
        """A lower bound on the live rows (rows less inactive memories at the
        start, workers/drain.py `indexed_vectors`), at or above the index
        threshold: what `top` compares with k, which is far smaller."""
        return self._live

    def added_since_loaded(self) -> int:
        """What it holds beyond the flat cache it opened: rows added, ids removed."""
        return len(self._added) + len(self._removed)

    def forget_queries(self) -> None:
        """Drop the rows read so far (a kept set between drains: workers/vectors/kept.py)."""
        self._read = {}

    def prescore(self, queries: np.ndarray) -> None:
        """Nothing to do: candidates come from the index (`VectorSet.prescore`
        is for the exact scan)."""

    def attach(self, ann: AnnIndex) -> None:
        """Answer `top` through `ann`, after adding to it, in row order, the
        active cache rows it lacks (what `VectorSet.attach` adds)."""
        base = self._base
        add = [p for p in ann.missing_keys(base.keys) if base.ids[p] not in self._inactive]
        ann.add_many([base.ids[p] for p in add], base.rows(add), base.keys[add])
        self.ann = ann

    def add(self, memory_id: str, vector: np.ndarray) -> None:
        import numpy as np

        if not self._is_live(memory_id):
            self._live += 1
        self._added[memory_id] = np.array(vector, dtype=np.float32)
        self._added_keys[key_of(memory_id)] = memory_id
        self._removed.discard(memory_id)
        if self.ann is not None:
            self.ann.put(memory_id, vector)

    def remove(self, memory_id: str) -> None:
        if self._is_live(memory_id):
            self._live -= 1
        self._added.pop(memory_id, None)
        self._removed.add(memory_id)

    def get(self, memory_id: str) -> np.ndarray | None:
        row = self._added.get(memory_id)
        if row is not None or not self._is_live(memory_id):
            return row
        at = self._position(memory_id)
        return None if at is None else self._row(at)

    def top(self, query: np.ndarray, k: int, *, min_similarity: float = -1.0) -> list[tuple[str, float]]:
        """The index's candidates that are live, rescored exactly; asks for
        more neighbours while too few of them are live (`VectorSet._top_ann`)."""
        import numpy as np

        from workers.vectors.annindex import OVERFETCH

        assert self.ann is not None
        want, count = min(k, len(self)), k + OVERFETCH
        while True:
            found = self._live_rows(self.ann.search(query, count))
            if len(found) >= want or count >= len(self.ann):
                break
            count *= 4
        if not found:
            return []
        ids = list(found)
        scores = self._rows(found) @ query
        order = np.argsort(-scores, kind="stable")[:k]
        return [(ids[i], float(scores[i])) for i in order if scores[i] >= min_similarity]

    def _live_rows(self, keys: list[int]) -> dict[str, int]:
        """The live memories of `keys`, in their order, each once: id -> its
        cache row, or -1 for a row the drain added (`_added`)."""
        base, added, removed, inactive = self._base, self._added, self._removed, self._inactive
        found: dict[str, int] = {}
        for key, at in zip(keys, base.positions(keys).tolist()):
            memory_id = self._added_keys.get(key)
            if memory_id is not None:
                if memory_id in added:
                    found.setdefault(memory_id, -1)
            elif at >= 0:
                memory_id = base.ids[at]
                if memory_id not in removed and memory_id not in inactive:
                    found.setdefault(memory_id, at)
        return found

    def _is_live(self, memory_id: str) -> bool:
        if memory_id in self._added:
            return True
        return memory_id not in self._removed and memory_id not in self._inactive and self._position(memory_id) is not None

    def _rows(self, found: dict[str, int]) -> np.ndarray:
        """The rows of `found` (`_live_rows`), in order (float32, one new array)."""
        import numpy as np

        out = np.empty((len(found), self.dim), dtype=np.float32)
        missing = [at for at in found.values() if at >= 0 and at not in self._read]
        if missing:
            self._read.update(zip(missing, self._base.rows(missing)))
        for n, (memory_id, at) in enumerate(found.items()):
            out[n] = self._added[memory_id] if at < 0 else self._read[at]
        return out

    def _row(self, at: int) -> np.ndarray:
        row = self._read.get(at)
        if row is None:
            row = self._read[at] = self._base.rows([at])[0]
        return row

    def _position(self, memory_id: str) -> int | None:
        """The cache row of `memory_id`, None if it has none."""
        at = self._at.get(memory_id)
        if at is None:
            at = self._base.position(key_of(memory_id))
            if at is None or self._base.ids[at] != memory_id:
                return None
            self._at[memory_id] = at
        return at
