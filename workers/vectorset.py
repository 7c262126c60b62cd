"""An in-memory matrix of the active memories' vectors, kept current by the
drain as it decides, so each input is compared with everything before it
without re-reading the vectors table. Past `annindex.MIN_ROWS` rows the
drain attaches an HNSW index (workers/annindex.py): `top` then scores only
the index's candidates, exactly, with these float32 rows."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from workers.annindex import AnnIndex


class VectorSet:
    def __init__(self, dim: int, capacity: int = 1024) -> None:
        self.dim = dim
        self._rows = np.zeros((max(capacity, 16), dim), dtype=np.float32)
        self._alive = np.zeros(len(self._rows), dtype=bool)
        self._ids: list[str] = []
        self._index: dict[str, int] = {}
        self._last: tuple[np.ndarray, np.ndarray] | None = None  # (query, its scores)
        self.ann: AnnIndex | None = None
        self._by_key: dict[int, int] = {}  # ann key -> row, for live rows

    @classmethod
    def of(cls, dim: int, ids: list[str], rows: np.ndarray, keep: set[str], spare: int = 1024) -> VectorSet:
        """The rows of `ids` that are in `keep`, copied in one step (a drain
        at 100k memories must not add them one by one)."""
        mask = np.fromiter((i in keep for i in ids), dtype=bool, count=len(ids))
        chosen = [i for i, k in zip(ids, mask) if k]
        vectors = cls(dim, capacity=len(chosen) + spare)
        if chosen:
            vectors._rows[: len(chosen)] = rows[mask]
            vectors._alive[: len(chosen)] = True
        vectors._ids = chosen
        vectors._index = {memory_id: n for n, memory_id in enumerate(chosen)}
        return vectors

    def __len__(self) -> int:
        return len(self._index)

    def add(self, memory_id: str, vector: np.ndarray) -> None:
        row = self._index.get(memory_id)
        if row is None:
            row = len(self._ids)
            if row == len(self._rows):
                self._rows = np.concatenate([self._rows, np.zeros_like(self._rows)])
                self._alive = np.concatenate([self._alive, np.zeros_like(self._alive)])
            self._ids.append(memory_id)
            self._index[memory_id] = row
        self._rows[row] = vector
        self._alive[row] = True
        if self.ann is not None:
            from workers.annindex import key_of

            self.ann.put(memory_id, vector)
            self._by_key[key_of(memory_id)] = row
        if self._last is not None:
            query, scores = self._last
            if row >= len(scores):
                scores = np.concatenate([scores, np.zeros(row + 1 - len(scores), dtype=scores.dtype)])
            scores[row] = float(vector @ query)
            self._last = (query, scores)

    def remove(self, memory_id: str) -> None:
        row = self._index.pop(memory_id, None)
        if row is not None:
            self._alive[row] = False

    def get(self, memory_id: str) -> np.ndarray | None:
        row = self._index.get(memory_id)
        return None if row is None else self._rows[row]

    def _scores(self, query: np.ndarray) -> np.ndarray:
        """Similarities of `query` to every row. The last query's scores are
        kept current as rows are added (one dot product each), because
        reconciliation and semantic edges ask about the same fact's vector."""
        used = len(self._ids)
        if self._last is None or not np.array_equal(self._last[0], query):
            self._last = (query.copy(), self._rows[:used] @ query)
        return self._last[1][:used].copy()

    def attach(self, ann: AnnIndex) -> None:
        """Answer `top` through `ann` from now on, after adding to it every
        live row it lacks."""
        from workers.annindex import key_of

        live = list(self._index)
        rows = [self._index[m] for m in live]
        missing = ann.missing(live)
        ann.add_many([live[i] for i in missing], self._rows[[rows[i] for i in missing]])
        self._by_key = {key_of(m): row for m, row in zip(live, rows)}
        self.ann = ann
        self._last = None

    def _top_ann(self, query: np.ndarray, k: int, min_similarity: float) -> list[tuple[str, float]]:
        """The index's candidates that are live rows, rescored exactly; asks
        for more neighbours while too few of them are live."""
        from workers.annindex import OVERFETCH

        assert self.ann is not None
        want, count = min(k, len(self._index)), k + OVERFETCH
        while True:
            found = [self._by_key.get(key) for key in self.ann.search(query, count)]
            rows = [r for r in dict.fromkeys(found) if r is not None and self._alive[r]]
            if len(rows) >= want or count >= len(self.ann):
                break
            count *= 4
        if not rows:
            return []
        scores = self._rows[rows] @ query
        order = np.argsort(-scores, kind="stable")[:k]
        return [(self._ids[rows[i]], float(scores[i])) for i in order if scores[i] >= min_similarity]

    def top(self, query: np.ndarray, k: int, *, min_similarity: float = -1.0) -> list[tuple[str, float]]:
        used = len(self._ids)
        if not used or not self._index:
            return []
        if self.ann is not None:
            return self._top_ann(query, k, min_similarity)
        scores = self._scores(query)
        scores[~self._alive[:used]] = -np.inf
        k = min(k, len(self._index))
        best = np.argpartition(-scores, k - 1)[:k]
        best = best[np.argsort(-scores[best], kind="stable")]
        return [(self._ids[i], float(scores[i])) for i in best if scores[i] >= min_similarity]
