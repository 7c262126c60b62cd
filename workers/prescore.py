"""A drain chunk's fact vectors scored against every row at once.

Reconciliation and semantic edges ask, per fact, for the best rows of the
drain's vector set (workers/vectors/vectorset.py). A full scan per fact is one gemv
over every row (0.5 ms at 10k). The chunk's vectors are known before any of
them is asked about, so one matrix product (gemm) scores them all at a tenth
of the cost. Its numbers are not bit-equal to the per-fact gemv, though, and
the derived events record similarities, so they must be: each query then
recomputes exactly, with gemv, only the rows that can be among its best (those
within a rounding margin of the k-th best) and the rows added or rewritten
since; every other row is certainly below them.

Exactness rests on one property of the BLAS, checked by
tests/workers/test_vectorset.py: a row's gemv product is the same number when
the matrix is the rows gathered in whole GROUP-row groups (aligned to
multiples of GROUP, the last, possibly partial, group last) as in the full
matrix.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

GROUP = 16
EXACT_TOP = 16  # rows near the top scored exactly (a `top` wants 5 to 5 + the input's facts)


class Prescored:
    """A chunk's queries scored against the first `used` rows in one product,
    and which of those rows were written since."""

    def __init__(self, queries: np.ndarray, rows: np.ndarray, max_norm: float) -> None:
        self.used = len(rows)
        self.approx = queries @ rows.T
        self.index = {q.tobytes(): n for n, q in enumerate(queries)}
        self.changed: set[int] = set()
        # Either product's rounding error is at most ~dim * 2**-24 * |q| * |row|, so
        # they differ by at most twice that; half the margin is four times as much.
        bound = np.maximum(np.linalg.norm(queries, axis=1) * max_norm, 1.0)
        self.margins = 16 * queries.shape[1] * 2.0**-24 * bound


def exact(rows: np.ndarray, used: int, query: np.ndarray, groups: Iterable[int]) -> tuple[np.ndarray, np.ndarray]:
    """(row numbers, their products with `query`) for the rows of `groups`
    (GROUP-row groups of rows[:used]), the same numbers `rows[:used] @ query` gives."""
    chosen = np.array(sorted(groups), dtype=np.int64)  # the partial last group, if chosen, comes last
    if not len(chosen):
        return chosen, np.zeros(0, dtype=np.float32)
    at = (chosen[:, None] * GROUP + np.arange(GROUP)).ravel()
    at = at[at < used]
    return at, rows[at] @ query


def scores(
    pre: Prescored, n: int, rows: np.ndarray, alive: np.ndarray, query: np.ndarray, k: int
) -> tuple[np.ndarray, float]:
    """Query `n`'s score for each of rows[:len(alive)], and a floor: the rows
    not scored exactly score below it (exactly, too).

    Any threshold T on the product's numbers keeps that promise: a row left
    to the product is one it scored (not added or rewritten since) below
    T - margin, so its exact score is below T - margin / 2, the floor. T is
    the product's `want`-th best, dead and rewritten rows included (they
    only make it higher); the caller falls back to a full scan in the rare
    case that fewer than k live rows then reach the floor. One gather and
    one gemv over the chosen groups."""
    used = len(alive)
    approx = pre.approx[n]
    want = min(max(k, EXACT_TOP), pre.used)
    margin = float(pre.margins[n])
    kth = float(np.partition(approx, pre.used - want)[pre.used - want]) if want else -np.inf
    groups = {r // GROUP for r in pre.changed} | set(range(pre.used // GROUP, -(-used // GROUP)))
    groups.update((np.flatnonzero(approx >= kth - margin) // GROUP).tolist())
    out = np.empty(used, dtype=np.float32)
    out[: pre.used] = approx
    at, values = exact(rows, used, query, groups)
    out[at] = values
    return out, kth - margin / 2
