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

    def remove(self, memory_id: str) -> None:
        row = self._index.pop(memory_id, None)
        if row is not None:
            self._alive[row] = False

    def get(self, memory_id: str) -> np.ndarray | None:
        row = self._index.get(memory_id)
        return None if row is None else self._rows[row]

    def top(self, query: np.ndarray, k: int, *, min_similarity: float = -1.0) -> list[tuple[str, float]]:
        used = len(self._ids)
        if not used or not self._index:
            return []
        scores = self._rows[:used] @ query
        scores[~self._alive[:used]] = -np.inf
        k = min(k, len(self._index))
        best = np.argpartition(-scores, k - 1)[:k]
        best = best[np.argsort(-scores[best], kind="stable")]
        return [(self._ids[i], float(scores[i])) for i in best if scores[i] >= min_similarity]
