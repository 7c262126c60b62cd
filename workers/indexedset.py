"""The drain's vector set past the HNSW threshold: the index chooses the
candidates, and only their rows are read, from the flat cache, on demand.

Below `annindex.MIN_ROWS` the drain keeps every active vector in memory
(`workers.vectorset.VectorSet`): its exact scans need them all. Past it,
the in-memory set was only ever read for the index's candidates (a few
dozen rows per query) and for reconciliation's candidates, yet each drain
built it whole: the active ids read from SQLite (100k rows), 100 MB of rows
copied out of the flat cache, two 100k-entry dicts: ~0.3 s of a one-input
drain at 100k memories. This set instead keeps

- the flat cache open (`workers.cacherows.CacheRows`: its ids and keys, the
  rows read with `pread` when asked for),
- what the drain itself added (new and re-embedded memories) and removed,
- the memories that were not active when the drain began (superseded,
  forgotten, pending inputs: a few percent of a store), instead of every
  active id.

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

    from workers.annindex import AnnIndex
    from workers.cacherows import CacheRows


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

    def __len__(self) -> int:
        """A lower bound on the live rows (rows less inactive memories at the
        start, workers/drain.py `indexed_vectors`), at or above the index
        threshold: what `top` compares with k, which is far smaller."""
        return self._live

    def added_since_loaded(self) -> int:
        """What it holds beyond the flat cache it opened: rows added, ids removed."""
        return len(self._added) + len(self._removed)

    def forget_queries(self) -> None:
        """Nothing is remembered between queries."""

    def prescore(self, queries: np.ndarray) -> None:
        """Nothing to do: candidates come from the index (`VectorSet.prescore`
        is for the exact scan)."""

    def attach(self, ann: AnnIndex) -> None:
        """Answer `top` through `ann`, after adding to it, in row order, the
        active cache rows it lacks (what `VectorSet.attach` adds)."""
        import numpy as np

        base = self._base
        held = np.asarray(ann.index.contains(base.keys), dtype=bool)  # type: ignore[attr-defined]
        add = [p for p in np.flatnonzero(~held).tolist() if base.ids[p] not in self._inactive]
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
        return None if at is None else self._base.rows([at])[0]

    def top(self, query: np.ndarray, k: int, *, min_similarity: float = -1.0) -> list[tuple[str, float]]:
        """The index's candidates that are live, rescored exactly; asks for
        more neighbours while too few of them are live (`VectorSet._top_ann`)."""
        import numpy as np

        from workers.annindex import OVERFETCH

        assert self.ann is not None
        want, count = min(k, len(self)), k + OVERFETCH
        while True:
            ids = self._live_ids(self.ann.search(query, count))
            if len(ids) >= want or count >= len(self.ann):
                break
            count *= 4
        if not ids:
            return []
        scores = self._rows(ids) @ query
        order = np.argsort(-scores, kind="stable")[:k]
        return [(ids[i], float(scores[i])) for i in order if scores[i] >= min_similarity]

    def _live_ids(self, keys: list[int]) -> list[str]:
        """The live memories of `keys`, in their order, each once."""
        base, found = self._base, []
        positions = base.positions(keys)
        for key, at in zip(keys, positions.tolist()):
            memory_id = self._added_keys.get(key)
            if memory_id is None and at >= 0:
                memory_id = base.ids[at]
                self._at[memory_id] = at
            if memory_id is not None and self._is_live(memory_id):
                found.append(memory_id)
        return list(dict.fromkeys(found))

    def _is_live(self, memory_id: str) -> bool:
        if memory_id in self._added:
            return True
        return memory_id not in self._removed and memory_id not in self._inactive and self._position(memory_id) is not None

    def _rows(self, ids: list[str]) -> np.ndarray:
        """The live rows of `ids`, in order (float32, one new array)."""
        import numpy as np

        out = np.empty((len(ids), self.dim), dtype=np.float32)
        read = []
        for n, memory_id in enumerate(ids):
            row = self._added.get(memory_id)
            if row is None:
                read.append(n)
            else:
                out[n] = row
        if read:
            out[read] = self._base.rows([self._at[ids[n]] for n in read])
        return out

    def _position(self, memory_id: str) -> int | None:
        """The cache row of `memory_id`, None if it has none."""
        at = self._at.get(memory_id)
        if at is None:
            at = self._base.position(key_of(memory_id))
            if at is None or self._base.ids[at] != memory_id:
                return None
            self._at[memory_id] = at
        return at
