"""An in-memory matrix of the active memories' vectors, kept current by the
drain as it decides, so each input is compared with everything before it
without re-reading the vectors table."""

from __future__ import annotations

import numpy as np


class VectorSet:
    def __init__(self, dim: int, capacity: int = 1024) -> None:
        self.dim = dim
        self._rows = np.zeros((max(capacity, 16), dim), dtype=np.float32)
        self._alive = np.zeros(len(self._rows), dtype=bool)
        self._ids: list[str] = []
        self._index: dict[str, int] = {}
        self._last: tuple[np.ndarray, np.ndarray] | None = None  # (query, its scores)

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

    def top(self, query: np.ndarray, k: int, *, min_similarity: float = -1.0) -> list[tuple[str, float]]:
        used = len(self._ids)
        if not used or not self._index:
            return []
        scores = self._scores(query)
        scores[~self._alive[:used]] = -np.inf
        k = min(k, len(self._index))
        best = np.argpartition(-scores, k - 1)[:k]
        best = best[np.argsort(-scores[best], kind="stable")]
        return [(self._ids[i], float(scores[i])) for i in best if scores[i] >= min_similarity]
