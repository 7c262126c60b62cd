"""The drain's in-memory vector set: top-k by cosine over live rows, with the
last query's scores kept current as rows are added, replaced and removed."""

from __future__ import annotations

import numpy as np

from workers.vectors.vectorset import VectorSet


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


def _rows(n: int, dim: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    rows = rng.normal(size=(n, dim)).astype(np.float32)
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float16).astype(np.float32)


def test_a_row_scores_the_same_in_whole_gathered_groups_as_in_the_whole_matrix() -> None:
    """What prescoring relies on (workers/prescore.py): this BLAS gives a row
    the same product when whole GROUP-row groups are gathered (the partial
    last group last) as in a full scan, for any number of groups."""
    from workers.prescore import GROUP, exact

    rows, queries = _rows(40 * GROUP + 5, 256, 1), _rows(20, 256, 2)
    rng = np.random.default_rng(6)
    for used in (len(rows), len(rows) - 1, len(rows) - 3, 2 * GROUP, 7):
        groups = -(-used // GROUP)
        for q in queries:
            full = rows[:used] @ q
            for chosen in ({groups - 1}, {0}, set(rng.choice(groups, min(groups, 9)).tolist()) | {groups - 1}):
                at, values = exact(rows, used, q, chosen)
                assert np.array_equal(full[at], values) and len(at)


def test_prescored_queries_give_exactly_what_a_full_scan_gives() -> None:
    """A chunk's queries scored in one product, then rows added, replaced and
    removed between and within queries (as a drain does): every `top` equals
    the same set's without prescoring, scores and order bit for bit, also with
    near-ties and a k above EXACT_TOP (which scans everything)."""
    queries = np.concatenate([_rows(30, 256, 4)])
    near = queries[0] + np.random.default_rng(7).normal(scale=3e-4, size=(40, 256)).astype(np.float32)
    rows = np.concatenate([_rows(1000, 256, 3), near / np.linalg.norm(near, axis=1, keepdims=True), _rows(960, 256, 8)])
    queries = np.concatenate([queries, rows[[10, 500, 1999]]])  # a cluster within ~1e-6 of queries[0]; three exact matches
    queries[5] = rows[7]  # and one equal to a row that is removed below
    ids = [f"m{n}" for n in range(len(rows))]
    plain, fast = (VectorSet.of(256, ids, rows, set(ids)) for _ in range(2))
    fast.prescore(queries)
    extra = _rows(40, 256, 5)
    for n, q in enumerate(queries):
        for k, floor in ((5, 0.0), (7, 0.3), (20, -1.0), (40, -1.0)):
            assert plain.top(q, k, min_similarity=floor) == fast.top(q, k, min_similarity=floor)
        best = plain.top(q, 1)[0][0]
        for s in (plain, fast):  # what `_track` does between a fact's reconcile and its edges
            s.add(f"new{n}", extra[n])
            s.add(f"m{n * 3}", extra[-n - 1])  # a row rewritten in place
            s.remove(best)
        assert plain.top(q, 8) == fast.top(q, 8)
    assert fast._pre is not None and fast._pre.changed  # the rewritten rows were tracked


def test_equal_scores_come_in_row_order_with_or_without_a_prescore() -> None:
    """Rows with the same vector tie exactly: `top` orders them by row (the
    order they were added), and which of them make the first k does not
    depend on the selection algorithm or on a prescore."""
    rows = _rows(300, 256, 11)
    rows[[40, 7, 250, 120]] = rows[3]  # five copies of one vector
    ids = [f"m{n}" for n in range(len(rows))]
    plain, fast = (VectorSet.of(256, ids, rows, set(ids)) for _ in range(2))
    fast.prescore(rows[[3]])
    for s in (plain, fast):
        assert [i for i, _ in s.top(rows[3], 3)] == ["m3", "m7", "m40"]
        assert [i for i, _ in s.top(rows[3], 5)] == ["m3", "m7", "m40", "m120", "m250"]
    plain.remove("m7")
    assert [i for i, _ in plain.top(rows[3], 3)] == ["m3", "m40", "m120"]
