"""The vector channel's arithmetic without numpy: a cold `recall` would
spend ~50 ms importing numpy (a third of its process at 10k memories, docs/
scale.md) to run one matrix-vector product that takes under a millisecond.

The rows come memory-mapped from the centred flat cache
(`projections.vectors.centered_view`) as a 2-D float32 memoryview, and
simsimd (one small C extension: imports in ~1 ms, no numpy) takes the dot
products. Its float32 kernels accumulate in higher precision than a float32
BLAS, so scores agree with numpy's to ~1e-7; the recall benchmark's figures
are unchanged (docs/scale.md). Everything else here is a few thousand float
operations in plain Python.
"""

from __future__ import annotations

import math
from array import array

__all__ = ["moments", "ranked_above", "similarities", "unit_difference"]


def similarities(rows: memoryview, query: list[float]) -> list[float]:
    """The dot product of every row of `rows` (n x dim float32) with `query`."""
    import simsimd

    q = array("f", query)
    found = memoryview(simsimd.cdist(rows, memoryview(q).cast("B").cast("f", (1, len(q))), metric="dot"))
    return found.cast("B").cast(found.format).tolist()


def unit_difference(vector: list[float], minus: list[float]) -> list[float] | None:
    """(vector - minus) / |vector - minus|, or None when that is zero."""
    moved = [v - m for v, m in zip(vector, minus)] if minus else list(vector)
    norm = math.sqrt(math.fsum(x * x for x in moved))
    return [x / norm for x in moved] if norm > 0 else None


def moments(values: list[float]) -> tuple[float, float]:
    """(mean, population standard deviation) of `values` (not empty)."""
    import simsimd

    centre = math.fsum(values) / len(values)
    squares = simsimd.sqeuclidean(array("d", values), array("d", (centre,)) * len(values))
    return centre, math.sqrt(squares / len(values))


def ranked_above(values: list[float], floor: float, limit: int) -> list[int]:
    """Indexes of the `limit` largest values that are >= `floor`, largest
    first; equal values keep their index order."""
    above = [i for i, v in enumerate(values) if v >= floor]
    above.sort(key=values.__getitem__, reverse=True)
    return above[:limit]
