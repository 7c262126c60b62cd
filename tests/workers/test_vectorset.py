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


def test_a_set_built_in_one_step_equals_one_built_row_by_row() -> None:
    ids = ["a", "b", "c", "d"]
    rows = np.stack([unit(1, 0, 0), unit(0, 1, 0), unit(1, 1, 0), unit(0, 0, 1)])
    keep = {"a", "c", "d"}
    bulk = VectorSet.of(3, ids, rows, keep, spare=2)
    single = VectorSet(3)
    for memory_id, row in zip(ids, rows):
        if memory_id in keep:
            single.add(memory_id, row)
    q = unit(1, 0.5, 0.2)
    assert bulk.top(q, 4) == single.top(q, 4) and len(bulk) == 3
    assert bulk.get("b") is None and bulk.get("c") is not None
    for n in range(5):  # grows past its spare capacity like any other set
        bulk.add(f"n{n}", unit(0, 1, n))
    assert len(bulk) == 8 and bulk.top(unit(0, 1, 0), 1)[0][0] == "n0"
