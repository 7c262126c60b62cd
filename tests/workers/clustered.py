"""Unit vectors in clusters, as memories' embeddings are: the rows the
drain's vector-set and index tests search (nearest neighbours that are not
all ties, the same rows for the same arguments)."""

from __future__ import annotations

import numpy as np


def clustered(n: int, dim: int, *, seed: int, clusters: int, spread: float) -> tuple[list[str], np.ndarray]:
    """(ids m00000..., `n` float32 unit rows of `dim` around `clusters` centres)."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((clusters, dim))
    rows = centres[rng.integers(0, clusters, n)] + spread * rng.standard_normal((n, dim))
    rows = (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)
    return [f"m{i:05d}" for i in range(n)], rows
