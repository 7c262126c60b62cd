"""tools/bench_drain.py keeps the one-time build of the drain's vector index
out of its per-input figures: past the index's threshold it builds and saves
the index once, untimed, so a marginal drain measures the steady state."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.tools.runner import ROOT, drained_store

TEXTS = [f"Service {n} listens on port {8000 + n} in region r{n % 3}" for n in range(40)]


def test_the_index_is_built_once_past_the_threshold_and_never_below(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(ROOT / "tools"))
    import bench_drain

    from workers.vectors import annindex

    data = tmp_path / "data"
    drained_store(data, TEXTS)
    assert bench_drain._build_index(data) is None  # 40 memories: below the threshold, nothing to build
    monkeypatch.setattr(annindex, "MIN_ROWS", 10)
    monkeypatch.setattr(annindex, "SAVE_AFTER", 10)
    built = bench_drain._build_index(data)
    assert built is not None and built >= 0
    (store,) = (data / "stores").iterdir()
    assert [p.suffix for p in store.iterdir() if p.name.endswith(".hnsw")] == [".hnsw"]
    assert bench_drain._build_index(data) is None  # saved: the next drain loads it, nothing to build
    sys.modules.pop("bench_drain", None)
