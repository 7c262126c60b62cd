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

# Rows scored exactly together. A row's product with a query (OpenBLAS gemv)
# is the same number in any block starting at a multiple of BLOCK as in the
# whole matrix (tests/workers/test_vectorset.py checks it on this machine's BLAS).
BLOCK = 64
EXACT_TOP = 16  # rows near the top that a prescored query scores exactly (a `top` wants 5 to 5 + facts)


class Prescored:
    """A chunk's queries scored against the rows at once (one matrix product,
    cheap but not bit-equal to the per-query product) and the rows changed since."""

    def __init__(self, queries: np.ndarray, rows: np.ndarray) -> None:
        self.used = len(rows)
        self.approx = queries @ rows.T
        self.index = {q.tobytes(): n for n, q in enumerate(queries)}
        self.changed: set[int] = set()  # rows below `used` written since
        # Each product's rounding error is at most ~dim * 2**-24 * |q| |row|, so the two
        # differ by at most twice that; half the margin is four times as much.
        norms = np.linalg.norm(queries, axis=1) * (float(np.linalg.norm(rows, axis=1).max()) if len(rows) else 0.0)
        self.margins = 16 * queries.shape[1] * 2.0**-24 * np.maximum(norms, 1.0)


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
        self._pre: Prescored | None = None
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
        if self._pre is not None and row < self._pre.used:
            self._pre.changed.add(row)
        if self.ann is not None:
            from workers.annindex import key_of

            self.ann.put(memory_id, vector)
            self._by_key[key_of(memory_id)] = row
        if self._last is not None:
            query, scores = self._last
            if row >= len(scores):
                scores = np.concatenate([scores, np.zeros(row + 1 - len(scores), dtype=scores.dtype)])
            scores[row] = self._patched[row] = float(vector @ query)
            self._last = (query, scores)

    def remove(self, memory_id: str) -> None:
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
            self._pre = Prescored(np.ascontiguousarray(queries, dtype=np.float32), self._rows[:used])

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
        """Every row's score: exact (as a full scan) for the rows that can be
        among the best `EXACT_TOP` (or `k`) and for rows added or changed since
        `prescore`, the matrix product's for the rest, which sets `_floor`:
        their exact scores are all below it."""
        used = len(self._ids)
        pre = self._pre
        n = pre.index.get(query.tobytes()) if pre is not None and query.dtype == np.float32 else None
        if n is None:
            self._floor = -np.inf
            return self._rows[:used] @ query
        assert pre is not None
        scores = np.empty(used, dtype=np.float32)
        scores[: pre.used] = pre.approx[n]
        exact = {r // BLOCK for r in pre.changed} | set(range(pre.used // BLOCK, -(-used // BLOCK)))
        self._exact(scores, query, exact)
        live = np.where(self._alive[:used], scores, -np.inf)
        want = min(max(k, EXACT_TOP), used)
        kth = float(np.partition(live, used - want)[used - want])
        margin = float(pre.margins[n])
        near = {int(b) for b in np.unique(np.flatnonzero(live >= kth - margin) // BLOCK)}
        self._exact(scores, query, near - exact)
        self._floor = kth - margin / 2
        return scores

    def _exact(self, scores: np.ndarray, query: np.ndarray, blocks: set[int]) -> None:
        used = len(scores)
        for b in blocks:
            start, end = b * BLOCK, min((b + 1) * BLOCK, used)
            if start < end:
                scores[start:end] = self._rows[start:end] @ query

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
        self._pre = None

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
        scores = self._scores(query, k)
        scores[~self._alive[:used]] = -np.inf
        k = min(k, len(self._index))
        best = np.argpartition(-scores, k - 1)[:k]
        if float(scores[best].min()) < self._floor:  # a row scored inexactly could be among these: scan all
            scores = self._full()
            scores[~self._alive[:used]] = -np.inf
            best = np.argpartition(-scores, k - 1)[:k]
        best = best[np.argsort(-scores[best], kind="stable")]
        return [(self._ids[i], float(scores[i])) for i in best if scores[i] >= min_similarity]
