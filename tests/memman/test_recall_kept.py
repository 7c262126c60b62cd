"""Recall on handles a StorePool lends (the warm server's way) answers as a
fresh handle does, and reuses what it derived: the mapped flat cache, the
rows' centring scales and the id -> row map are built once per vector set,
not per call."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from memman.scope.service import Scoped
from projections.pool import StorePool


def _cli(data_dir: Path, *args: str) -> None:
    env = {**os.environ, "MEMMAN_DATA_DIR": str(data_dir), "MEMMAN_SERVER": "off"}
    subprocess.run([sys.executable, "-m", "memman", *args], env=env, check=True, capture_output=True, timeout=120)


def _recall(data_dir: Path, query: str) -> list[tuple[str, float]]:
    with Scoped.at(data_dir, None, None) as scoped:
        result = scoped.recall(query, note_use=False)
    return [(h.id, h.score) for h in result.results]


def test_kept_handles_answer_as_fresh_ones_and_keep_the_matrix(data_dir: Path) -> None:
    for text in ("The CI pipeline runs on Buildkite", "Chose SQLite for the store: zero dependencies",
                 "Deploys go out on Tuesdays after the freeze"):  # fmt: skip
        _cli(data_dir, "remember", text)
    _cli(data_dir, "scheduler", "drain")
    cold = [_recall(data_dir, q) for q in ("buildkite pipeline", "when do we deploy")]
    pool = StorePool()
    with pool.lending():
        warm = [_recall(data_dir, q) for q in ("buildkite pipeline", "when do we deploy")]
        db = pool.take(data_dir / "stores" / "default")
        (key,) = [k for k in db.memo if k.startswith("flat:")]
        flat = db.memo[key][1]  # type: ignore[index]
        position, scale = flat.position, flat._scale
        pool.give(db)
        assert position == {memory_id: row for row, memory_id in enumerate(flat.ids)}  # filled in place, once
        assert scale is not None and len(scale) == len(flat.ids)
        again = _recall(data_dir, "buildkite pipeline")
        db = pool.take(data_dir / "stores" / "default")
        assert db.memo[key][1] is flat and flat.position is position and flat._scale is scale  # type: ignore[index]
        pool.give(db)
    pool.close()
    assert warm == cold and again == cold[0]
    assert (pool.opened, pool.reused) == (1, 4)
