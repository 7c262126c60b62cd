"""Where recall's vector candidates spend their CPU on the index path.

From `memman.recall.ann.ANN_ROWS` vectors on, with the drain's HNSW index
saved, recall's vector candidates are the index's neighbours rescored
exactly (memman/recall/ann.py). This tool holds one store as the warm
server does (one process, the store's memo kept), runs a warming pass over
the ten benchmark queries, then times each step `ann.candidates` takes, and
the whole `vector_hits`, with `time.process_time` over `--passes` passes:
medians in CPU milliseconds (docs/scale.md, "The prompt hook and the vector
side at 1M"). The store is only read.

    .venv/bin/python tools/bench_vector_steps.py --data /var/tmp/mm-scale/n1000000-generate/data
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script: tools.bench from this tree

from tools.bench import QUERIES  # noqa: E402

STEPS = ("search", "positions", "rows", "rescore", "sample", "candidates", "vector_hits")


def _timed(fn: Callable[[], object]) -> tuple[float, object]:
    started = time.process_time()
    value = fn()
    return (time.process_time() - started) * 1000, value


def measure(data: Path, passes: int, ann_rows: int | None = None) -> dict[str, float] | None:
    """Median CPU ms per step, or None when the store takes no index path
    (`ann_rows`: from how many vectors on it does, instead of recall's)."""
    import numpy as np

    from memman.recall import ann, vector

    if ann_rows is not None:
        ann.ANN_ROWS = ann_rows  # this process only: a small store with an index takes the path a large one takes
    from memman.recall.scan import unit_difference
    from memman.recall.terms import query_terms
    from memman.service import Memman

    with Memman(data, store="default") as app:
        db = app.fresh_vectors()
        fingerprint = db.setting("embedder")
        rows = None if fingerprint is None else vector._flat(db, fingerprint)
        if rows is None or rows.rows is None or len(rows.ids) < ann.ANN_ROWS:
            return None
        near = ann.neighbourhood(db, fingerprint, rows.ids, rows.rows, rows.mean, vector._version(db, fingerprint))
        if near is None:
            return None
        times: dict[str, list[float]] = {step: [] for step in STEPS}
        for n in range(passes + 1):  # the first pass warms the index's pages and the store's memo
            for query in QUERIES:
                words = query_terms(db.main.conn, query)
                raw = vector._query_vector(db, query, fingerprint, words, True)
                q = unit_difference(raw or [], rows.mean)
                if q is None:
                    continue
                qf = np.asarray(q, dtype=np.float32)
                count = min(vector.CANDIDATES * 4 * ann.OVERFETCH, len(near.keys))
                step = {}
                step["search"], found = _timed(lambda: near.index.search(qf, count, threads=1))  # type: ignore[attr-defined]
                keys = np.asarray(found.keys, dtype=np.uint64)  # type: ignore[attr-defined]
                step["positions"], at = _timed(lambda: np.unique(np.concatenate([near.positions(keys), near.unindexed])))
                step["rows"], got = _timed(lambda: near.rows(at))  # type: ignore[arg-type]
                step["rescore"], _ = _timed(lambda: ann.centred(got, near.mean) @ qf.astype(np.float64))  # type: ignore[arg-type]
                step["sample"], _ = _timed(lambda: (near.sample @ qf).astype(np.float64))
                step["candidates"], _ = _timed(lambda: ann.candidates(near, q, vector.CANDIDATES * 4))
                step["vector_hits"], _ = _timed(
                    lambda: vector.vector_hits(db, query, fingerprint, words, category=None, source=None)
                )  # fmt: skip
                if n:
                    for name, ms in step.items():
                        times[name].append(ms)
        return {name: round(statistics.median(found), 3) for name, found in times.items() if found}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True, help="a data dir holding the store 'default'")
    parser.add_argument("--passes", type=int, default=5, help="timed passes over the ten queries [5]")
    parser.add_argument("--ann-rows", type=int, help="take the index path from this many vectors on [recall's ANN_ROWS]")
    args = parser.parse_args(argv)
    if args.passes < 1 or (args.ann_rows is not None and args.ann_rows < 1):
        parser.error("--passes and --ann-rows must be positive")
    if not (Path(args.data) / "stores" / "default").is_dir():
        parser.error(f"--data {args.data}: no store 'default' there")
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    found = measure(Path(args.data).resolve(), args.passes, args.ann_rows)
    if found is None:
        sys.exit(f"bench_vector_steps: {args.data}: recall takes no index path there (fewer vectors than ANN_ROWS, "
                 "or no saved HNSW index: the drain builds it); nothing to time")  # fmt: skip
    print("| step (CPU ms per recall, median) | " + args.data + " |")
    print("|---|---:|")
    for name, ms in found.items():
        print(f"| {name} | {ms} |")


if __name__ == "__main__":
    main()
