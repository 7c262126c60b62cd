"""The vector channel's arithmetic without numpy (memman/recall/scan.py)
gives what numpy gives, to float32 rounding: the same similarities, mean and
standard deviation, and the same ranking, ties in index order."""

from __future__ import annotations

import statistics
import subprocess
import sys

import numpy as np
import pytest

from memman.recall import scan
from memman.recall.scan import centred_similarities, moments, ranked_above, scales, similarities, unit_difference


def test_similarities_equal_a_float32_matrix_product() -> None:
    rng = np.random.default_rng(7)
    rows = rng.standard_normal((500, 256)).astype("<f4")
    query = rng.standard_normal(256)
    found = similarities(memoryview(rows), query.tolist())
    assert len(found) == 500 and all(isinstance(x, float) for x in found)
    assert np.allclose(found, rows @ query.astype(np.float32), rtol=1e-5, atol=1e-5)


def test_similarities_of_a_memory_mapped_read_only_view(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import mmap

    rows = np.arange(12, dtype="<f4").reshape(3, 4)
    path = tmp_path / "rows"
    path.write_bytes(rows.tobytes())
    with path.open("rb") as f:
        view = memoryview(mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)).cast("f", (3, 4))
    assert similarities(view, [1.0, 0.0, 0.0, 1.0]) == [3.0, 11.0, 19.0]


@pytest.mark.parametrize("numpy_rows", [scan.NUMPY_ROWS, 100])  # the list path, and the numpy array path
def test_centring_at_query_time_equals_the_centred_rows_cosines(numpy_rows: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """What recall scores with now (raw rows, centred per query) against what
    it scored before (a centred, re-normalised copy of every row, the `.c32`
    cache): the same cosines to float tolerance."""
    monkeypatch.setattr(scan, "NUMPY_ROWS", numpy_rows)
    rng = np.random.default_rng(11)
    raw = rng.standard_normal((600, 256)) + 2.0 * rng.standard_normal(256)  # a strong common component
    rows = (raw / np.linalg.norm(raw, axis=1, keepdims=True)).astype("<f2").astype("<f4")  # stored as float16
    mean = (rows.mean(axis=0) * (600 / 620)).astype(np.float32)
    centred = rows - mean
    centred /= np.linalg.norm(centred, axis=1, keepdims=True)
    old_cache = centred.astype("<f4")  # what the centred copy held
    for _ in range(5):
        query = unit_difference(rng.standard_normal(256).tolist(), mean.tolist())
        assert query is not None
        before = similarities(memoryview(old_cache), query)
        after = centred_similarities(memoryview(rows), query, mean.tolist(), scales(memoryview(rows), mean.tolist()))
        assert isinstance(after, list) == (numpy_rows > 600)
        assert np.allclose(after, before, rtol=0, atol=2e-6)
        assert ranked_above(after, 0.05, 50) == ranked_above(before, 0.05, 50)


def test_a_row_equal_to_the_mean_scores_zero() -> None:
    rows = np.array([[0.5, 0.5], [1.0, 0.0]], dtype="<f4")
    found = centred_similarities(memoryview(rows), [0.0, 1.0], [0.5, 0.5], scales(memoryview(rows), [0.5, 0.5]))
    assert found[0] == 0.0 and found[1] == pytest.approx(-(0.5**0.5), abs=1e-7)


def test_moments_are_the_mean_and_population_deviation() -> None:
    values = [0.1, -0.2, 0.35, 0.0, 0.9, -0.4]
    centre, spread = moments(values)
    assert centre == pytest.approx(statistics.fmean(values), abs=1e-12)
    assert spread == pytest.approx(statistics.pstdev(values), abs=1e-12)
    assert moments([0.5, 0.5]) == (0.5, 0.0)


def test_ranking_keeps_the_best_above_the_floor_ties_in_index_order() -> None:
    values = [0.2, 0.9, 0.5, 0.9, -1.0, 0.5, 0.1]
    assert ranked_above(values, 0.15, 10) == [1, 3, 2, 5, 0]
    assert ranked_above(values, 0.15, 3) == [1, 3, 2]
    assert ranked_above(values, 2.0, 3) == []
    assert ranked_above([float("-inf"), 0.3], -1.0, 5) == [1]


def test_unit_difference() -> None:
    assert unit_difference([3.0, 4.0], []) == [0.6, 0.8]
    assert unit_difference([4.0, 4.0], [1.0, 0.0]) == [0.6, 0.8]
    assert unit_difference([1.0, 1.0], [1.0, 1.0]) is None


def test_the_scan_imports_no_numpy() -> None:
    code = (
        "import sys\nfrom array import array\nfrom memman.recall.scan import similarities, moments\n"
        "rows = memoryview(array('f', [1.0, 2.0, 3.0, 4.0])).cast('B').cast('f', (2, 2))\n"
        "print(similarities(rows, [1.0, 1.0]), moments([1.0, 3.0]), 'numpy' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[3.0, 7.0] (2.0, 1.0) False"


# A large store (NUMPY_ROWS rows and more): the similarities stay a numpy
# array, and the floor, the moments and the ranking come out as for a list.


def test_from_numpy_rows_on_similarities_stay_an_array_of_the_same_values() -> None:
    from memman.recall import scan

    rng = np.random.default_rng(11)
    rows = rng.standard_normal((scan.NUMPY_ROWS, 16)).astype("<f4")
    query = rng.standard_normal(16).tolist()
    found = similarities(memoryview(rows), query)
    small = similarities(memoryview(rows[:100]), query)
    assert isinstance(found, np.ndarray) and found.dtype == np.float64 and isinstance(small, list)
    assert found[:100].tolist() == small  # simsimd's own values, not a float32 product
    assert scan.finite(found) and scan.finite(small)
    found[7] = np.nan
    assert not scan.finite(found)


def test_array_moments_and_ranking_equal_the_lists() -> None:
    from memman.recall import scan

    rng = np.random.default_rng(5)
    values = np.round(rng.standard_normal(5000), 2)  # rounded: many ties, at the cut too
    values[[3, 40]] = -np.inf
    listed = values.tolist()
    finite = values[np.isfinite(values)]
    centre, spread = moments(finite)
    assert (centre, spread) == pytest.approx(moments(finite.tolist()), abs=1e-12)
    for floor, limit in [(0.5, 200), (-10.0, 50), (2.0, 5000), (9.0, 10), (0.0, 1), (0.5, 0)]:
        assert ranked_above(values, floor, limit) == ranked_above(listed, floor, limit)
    assert all(isinstance(i, int) for i in ranked_above(values, 0.5, 10))


def test_the_scan_works_after_the_drains_index_loaded_usearch() -> None:
    # usearch carries its own simsimd kernels: imported first, it broke every simsimd call
    code = (
        "from array import array\nfrom workers.vectors.annindex import AnnIndex\nAnnIndex(4)\n"
        "from memman.recall.scan import similarities\n"
        "rows = memoryview(array('f', [1.0, 2.0, 3.0, 4.0])).cast('B').cast('f', (2, 2))\n"
        "print(similarities(rows, [1.0, 1.0]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[3.0, 7.0]"
