"""The drain's in-memory vector set: top-k by cosine over live rows, with the
last query's scores kept current as rows are added, replaced and removed."""

from __future__ import annotations

import numpy as np

from workers.vectorset import VectorSet


def unit(*xs: float) -> np.ndarray:
    v = np.asarray(xs, dtype=np.float32)
    return v / np.linalg.norm(v)


def test_top_follows_adds_replacements_and_removals_between_identical_queries() -> None:
    s = VectorSet(3, capacity=16)
    s.add("a", unit(1, 0, 0))
    s.add("b", unit(0, 1, 0))
    q = unit(1, 0.1, 0)
    assert [i for i, _ in s.top(q, 2)] == ["a", "b"]
    s.add("c", unit(1, 0.05, 0))  # closer than a, added after the query was scored
    assert [i for i, _ in s.top(q, 2)] == ["c", "a"]
    s.add("a", unit(0, 0, 1))  # a replaced in place: now far
    assert [i for i, _ in s.top(q, 3)] == ["c", "b", "a"]
    s.remove("c")
    assert [i for i, _ in s.top(q, 3)] == ["b", "a"]
    assert s.top(q, 3, min_similarity=0.5) == []


def test_growing_past_capacity_keeps_scores_right() -> None:
    s = VectorSet(2, capacity=16)
    q = unit(1, 1)
    s.add("seed", unit(-1, 0))
    s.top(q, 1)
    for n in range(40):
        s.add(f"m{n}", unit(1, n / 40))
    got = s.top(q, 1)
    assert got[0][0] == "m39" and abs(got[0][1] - float(unit(1, 39 / 40) @ q)) < 1e-6
