"""The vector channel's arithmetic without numpy: a cold `recall` would
spend ~50 ms importing numpy (a third of its process at 10k memories, docs/
scale.md) to run one matrix-vector product that takes under a millisecond.

The rows come memory-mapped from the flat vector cache
(`projections.vectors.flat_view`) as a 2-D float32 memoryview, and
simsimd (one small C extension: imports in ~1 ms, no numpy) takes the dot
products. The cache holds the stored rows as they are; they are centred
at query time (`centred_similarities`), so a drain appends rows and never
rewrites the ones there because the store's mean moved. Its float32 kernels accumulate in higher precision than a float32
BLAS, so scores agree with numpy's to ~1e-7; the recall benchmark's figures
are unchanged (docs/scale.md). Everything else here is a few thousand float
operations in plain Python.

A large store is different (issue 16: a warm recall nearly flat in the
store's size): at 100k rows, turning 100k similarities into a Python list
and walking it for the floor, the moments and the ranking cost ~15 ms, more
than the dot products. From NUMPY_ROWS rows on, the similarities stay a
float64 numpy array over simsimd's own output (the same values) and
`moments`, `finite` and `ranked_above` run in numpy, with the same results
(`ranked_above`: a partition, then the same order, ties in index order).
numpy is imported then (the warm server has it loaded already); below
NUMPY_ROWS a cold recall still never imports it.
"""

from __future__ import annotations

import math
from array import array

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "NUMPY_ROWS", "Scales", "centred_similarities", "finite", "moments", "ranked_above", "scales", "similarities",
    "unit_difference",
]

NUMPY_ROWS = 20_000  # from this many rows on, the similarities stay a numpy array

Values = Sequence[float]  # a list, or a 1-D float64 numpy array from NUMPY_ROWS rows on


def similarities(rows: memoryview, query: list[float]) -> Values:
    """The dot product of every row of `rows` (n x dim float32) with `query`:
    a list, or from NUMPY_ROWS rows on a float64 numpy array."""
    import simsimd

    q = array("f", query)
    found = memoryview(simsimd.cdist(rows, memoryview(q).cast("B").cast("f", (1, len(q))), metric="dot"))
    flat = found.cast("B").cast(found.format)
    if len(flat) < NUMPY_ROWS:
        return flat.tolist()
    import numpy as np

    return np.frombuffer(flat, dtype=np.float64 if found.format == "d" else np.float32).astype(np.float64, copy=False)


Scales = Sequence[float]  # 1 / |r - m| per row: an array("d"), or a float64 numpy array from NUMPY_ROWS rows on


def _dots(rows: memoryview, vector: list[float], metric: str = "dot") -> memoryview:
    """`metric` ("dot", or "euclidean": the distance) between every row of
    `rows` and `vector`, float64, flat."""
    import simsimd

    q = array("f", vector)
    found = memoryview(simsimd.cdist(rows, memoryview(q).cast("B").cast("f", (1, len(q))), metric=metric))
    return found.cast("B").cast(found.format)


def scales(rows: memoryview, mean: list[float]) -> Scales:
    """1 / |r - m| for every row r of `rows` (0 where r == m): one pass over
    the rows (simsimd's distance kernel), none of them rewritten. What
    centring a row costs, kept by the warm server while the rows and the
    mean stay the same (memman/recall/vector.py)."""
    distances = _dots(rows, mean, "euclidean")
    if len(distances) < NUMPY_ROWS:
        return array("d", [1.0 / d if d > 0 else 0.0 for d in distances.tolist()])
    import numpy as np

    found = np.frombuffer(distances, dtype=np.float64)
    out = np.zeros(len(found), dtype=np.float64)
    np.divide(1.0, found, out=out, where=found > 0)
    return out


def centred_similarities(rows: memoryview, query: list[float], mean: list[float], scale: Scales) -> Values:
    """The centred cosine of every row r of `rows` with the centred unit
    query q' = (q - m) / |q - m|, without centring the rows:

        (r - m).q' / |r - m|  =  (r.q' - m.q') x scale(r)

    (`scale`: `scales(rows, mean)`). A list, or from NUMPY_ROWS rows on a
    float64 numpy array; equal to the dot products with rows centred and
    re-normalised beforehand to float rounding (tests/memman/test_recall_scan.py)."""
    import simsimd

    mq = math.fsum(m * x for m, x in zip(mean, query))
    dots = _dots(rows, query)
    if not isinstance(scale, array):
        import numpy as np

        return (np.frombuffer(dots, dtype=np.float64) - mq) * scale  # type: ignore[no-any-return]
    return memoryview(simsimd.fma(dots, scale, scale, alpha=1.0, beta=-mq)).tolist()  # type: ignore[no-any-return]


def finite(values: Values) -> bool:
    """No NaN nor infinity among `values`."""
    if isinstance(values, list):
        return math.isfinite(sum(values))
    import numpy as np

    return bool(np.isfinite(values).all())


def unit_difference(vector: list[float], minus: list[float]) -> list[float] | None:
    """(vector - minus) / |vector - minus|, or None when that is zero."""
    moved = [v - m for v, m in zip(vector, minus)] if minus else list(vector)
    norm = math.sqrt(math.fsum(x * x for x in moved))
    return [x / norm for x in moved] if norm > 0 else None


def moments(values: Values) -> tuple[float, float]:
    """(mean, population standard deviation) of `values` (not empty)."""
    if not isinstance(values, list):
        return _np_moments(values)
    import simsimd

    centre = math.fsum(values) / len(values)
    squares = simsimd.sqeuclidean(array("d", values), array("d", (centre,)) * len(values))
    return centre, math.sqrt(squares / len(values))


def ranked_above(values: Values, floor: float, limit: int) -> list[int]:
    """Indexes of the `limit` largest values that are >= `floor`, largest
    first; equal values keep their index order."""
    if not isinstance(values, list):
        return _np_ranked_above(values, floor, limit)
    above = [i for i, v in enumerate(values) if v >= floor]
    above.sort(key=values.__getitem__, reverse=True)
    return above[:limit]


def _np_moments(values: np.ndarray) -> tuple[float, float]:
    centre = float(values.mean())
    return centre, float(math.sqrt(float(((values - centre) ** 2).mean())))


def _np_ranked_above(values: np.ndarray, floor: float, limit: int) -> list[int]:
    """`ranked_above` over an array: the values above both the floor and the
    limit-th largest, then sorted by value (descending) and index."""
    import numpy as np

    if limit <= 0:
        return []
    above = np.flatnonzero(values >= floor)
    if len(above) > limit:
        kept = values[above]
        kth = np.partition(kept, len(kept) - limit)[len(kept) - limit]
        above = above[kept >= kth]
    order = np.lexsort((above, -values[above]))
    return [int(i) for i in above[order[:limit]]]
