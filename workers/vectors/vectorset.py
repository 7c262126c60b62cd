"""An in-memory matrix of the active memories' vectors, kept current by the
drain as it decides, so each input is compared with everything before it
without re-reading the vectors table. Past `annindex.MIN_ROWS` rows the
drain attaches an HNSW index (workers/vectors/annindex.py): `top` then scores only
the index's candidates, exactly, with these float32 rows. Once such an index
is saved, later drains use workers/vectors/indexedset.py instead, which reads only
those candidates' rows from the flat cache and answers the same."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from workers.prescore import Prescored
from workers.prescore import scores as prescored_scores

if TYPE_CHECKING:
    from workers.vectors.annindex import AnnIndex

class VectorSet:
    def __init__(self, dim: int, capacity: int = 1024) -> None:
        self.dim = dim
        self._rows = np.zeros((max(capacity, 16), dim), dtype=np.float32)
        self._alive = np.zeros(len(self._rows), dtype=bool)
        self._ids: list[str] = []
        self._index: dict[str, int] = {}
        self._last: tuple[np.ndarray, np.ndarray] | None = None  # (query, its scores)
        self._floor = -np.inf  # rows of `_last` not scored exactly are below this (`_prescored`)
        self._patched: dict[int, float] = {}  # rows of `_last` scored one by one as they were added
        self._pre: Prescored | None = None  # the current chunk's queries (workers/prescore.py)
        self._max_norm: float | None = None  # of any row ever held, once a prescore needed it
        self.ann: AnnIndex | None = None
        self._by_key: dict[int, int] = {}  # ann key -> row, for live rows
        self._keys: np.ndarray | None = None  # the live rows' ann keys as loaded (`of`), until a row changes
        self._loaded = 0  # rows it was built with (`of`)

    @classmethod
    def of(
        cls, dim: int, ids: list[str], rows: np.ndarray, keep: set[str], spare: int = 1024, keys: np.ndarray | None = None
    ) -> VectorSet:
        """The rows of `ids` that are in `keep`, copied in one step (a drain
        at 100k memories must not add them one by one). `keys`: each row's
        ann key as the flat cache stores them (projections/flatcache.py),
        which `attach` then uses instead of hashing every id (~1 s at 1M)."""
        mask = np.fromiter((i in keep for i in ids), dtype=bool, count=len(ids))
        chosen = [i for i, k in zip(ids, mask) if k]
        vectors = cls(dim, capacity=len(chosen) + spare)
        if chosen:
            vectors._rows[: len(chosen)] = rows[mask]
            vectors._alive[: len(chosen)] = True
        vectors._ids = chosen
        vectors._loaded = len(chosen)
        vectors._index = {memory_id: n for n, memory_id in enumerate(chosen)}
        if keys is not None and len(keys) == len(ids):
            vectors._keys = keys[mask]
        return vectors

    def __len__(self) -> int:
        return len(self._index)

    def added_since_loaded(self) -> int:
        """Rows appended since it was built (new memories; retired rows stay in place)."""
        return len(self._ids) - self._loaded

    def forget_queries(self) -> None:
        """Drop what is remembered of the last query and chunk (before a new
        drain reuses the set: workers/vectors/kept.py)."""
        self._last, self._pre, self._patched, self._floor = None, None, {}, -np.inf

    def add(self, memory_id: str, vector: np.ndarray) -> None:
        self._keys = None
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
        if self._pre is not None and row < self._pre.used:
            self._pre.changed.add(row)
        if self._max_norm is not None:
            self._max_norm = max(self._max_norm, float(np.linalg.norm(vector)))
        if self.ann is not None:
            from workers.vectors.annindex import key_of

            self.ann.put(memory_id, vector)
            self._by_key[key_of(memory_id)] = row
        if self._last is not None:
            query, scores = self._last
            if row >= len(scores):
                scores = np.concatenate([scores, np.zeros(row + 1 - len(scores), dtype=scores.dtype)])
            scores[row] = self._patched[row] = float(vector @ query)
            self._last = (query, scores)

    def remove(self, memory_id: str) -> None:
        self._keys = None
        row = self._index.pop(memory_id, None)
        if row is not None:
            self._alive[row] = False

    def get(self, memory_id: str) -> np.ndarray | None:
        row = self._index.get(memory_id)
        return None if row is None else self._rows[row]

    def prescore(self, queries: np.ndarray) -> None:
        """Score a chunk's fact vectors against every row in one matrix
        product, so that each `top` of one of them scores exactly only the
        rows that can be among its best (`_prescored`); the results are the
        ones a full scan per query gives. Until the next call."""
        self._pre = None
        used = len(self._ids)
        if self.ann is None and used and len(queries):
            if self._max_norm is None:
                self._max_norm = float(np.linalg.norm(self._rows[:used], axis=1).max())
            self._pre = Prescored(np.ascontiguousarray(queries, dtype=np.float32), self._rows[:used], self._max_norm)

    def _scores(self, query: np.ndarray, k: int) -> np.ndarray:
        """Similarities of `query` to every row. The last query's scores are
        kept current as rows are added (one dot product each), because
        reconciliation and semantic edges ask about the same fact's vector."""
        used = len(self._ids)
        if self._last is None or not np.array_equal(self._last[0], query):
            self._patched = {}
            self._last = (query.copy(), self._prescored(query, k))
        return self._last[1][:used].copy()

    def _full(self) -> np.ndarray:
        """`_last`'s scores by a full scan, with the rows added since it as they were then."""
        assert self._last is not None
        query, _ = self._last
        scores = self._rows[: len(self._ids)] @ query
        for row, value in self._patched.items():
            scores[row] = value
        self._floor = -np.inf
        self._last = (query, scores)
        return scores.copy()

    def _prescored(self, query: np.ndarray, k: int) -> np.ndarray:
        """Every row's score, by a full scan or, for a query of the current
        chunk, exactly where it can matter (workers/prescore.py), which sets
        `_floor`: the rows scored otherwise score below it."""
        used = len(self._ids)
        pre = self._pre
        n = pre.index.get(query.tobytes()) if pre is not None and query.dtype == np.float32 else None
        if n is None:
            self._floor = -np.inf
            return self._rows[:used] @ query
        assert pre is not None
        scores, self._floor = prescored_scores(pre, n, self._rows, self._alive[:used], query, k)
        return scores

    def attach(self, ann: AnnIndex) -> None:
        """Answer `top` through `ann` from now on, after adding to it every
        live row it lacks."""
        from projections.vectorkeys import keys_of

        live = list(self._index)
        rows = [self._index[m] for m in live]
        keys = self._keys if self._keys is not None else keys_of(live)
        missing = ann.missing_keys(keys)
        ann.add_many([live[i] for i in missing], self._rows[[rows[i] for i in missing]], keys[missing])
        self._by_key = dict(zip(keys.tolist(), rows))
        self.ann = ann
        self._last = None
        self._pre = None

    def _top_ann(self, query: np.ndarray, k: int, min_similarity: float) -> list[tuple[str, float]]:
        """The index's candidates that are live rows, rescored exactly; asks
        for more neighbours while too few of them are live."""
        from workers.vectors.annindex import OVERFETCH

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
        scores = self._scores(query, k)
        k = min(k, len(self._index))
        best = self._best(scores, k, self._floor)
        if best is None:  # fewer than k live rows at or above the floor: one scored inexactly could be among them
            scores = self._full()
            best = self._best(scores, k, -np.inf)
            assert best is not None
        return [(self._ids[i], float(scores[i])) for i in best.tolist() if scores[i] >= min_similarity]

    def _best(self, scores: np.ndarray, k: int, floor: float) -> np.ndarray | None:
        """The k live rows of highest score, best first, ties by row order;
        only rows at or above `floor` are considered (the rows scored exactly
        after a prescore: a handful), None if fewer than k are."""
        alive = self._alive[: len(scores)]
        rows = np.flatnonzero(alive if floor == -np.inf else alive & (scores >= floor))
        if len(rows) < k:
            return None
        values = scores[rows]
        if len(rows) > 4 * k + 64:  # many (a full scan): keep those at or above the k-th best, its ties with it
            kth = values[np.argpartition(values, len(values) - k)[len(values) - k]]
            keep = values >= kth
            rows, values = rows[keep], values[keep]
        return rows[np.lexsort((rows, -values))[:k]]
