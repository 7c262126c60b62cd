"""Cold whole-process hybrid `recall` against a bare `python -c pass`, run by
run in turn, wall and CPU time, on a store tools/bench.py built:

    .venv/bin/python tools/bench.py --sizes 10000 --keep /tmp/mm-bench      # build once
    .venv/bin/python -m tools.recall_bench.cold /tmp/mm-bench/n10000/data --runs 21

tools/bench.py times the floor first and the commands minutes later, so on a
shared machine whose load changes in between its ratio says little. Here
each recall follows a `python -c pass`, so a load change hits both alike, and
CPU time (user + system of the child) is reported beside wall time: it moves
far less with the load than wall time does. Each recall is a fresh process
through `.venv/bin/memman` with MEMMAN_SERVER=off (the cold path) and
OPENBLAS_NUM_THREADS=1, rotating tools/bench.py's queries. A command that
fails stops the run with one line: the command, its exit code and the last
line it wrote to stderr (tools/bench.py: timed_child).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PYTHON = ROOT / ".venv" / "bin" / "python"
MEMMAN = ROOT / ".venv" / "bin" / "memman"


def measure(data_dir: Path, runs: int) -> dict[str, float]:
    from tools.bench import QUERIES, timed_child

    env = {**os.environ, "MEMMAN_SERVER": "off", "OPENBLAS_NUM_THREADS": "1", "MEMMAN_DATA_DIR": str(data_dir)}
    for query in QUERIES[:2]:  # warm the page cache and the bytecode cache, as bench.py does
        timed_child([str(MEMMAN), "recall", query], env)
    floor: list[tuple[float, float]] = []
    recall: list[tuple[float, float]] = []
    for n in range(runs):
        floor.append(timed_child([str(PYTHON), "-c", "pass"], env))
        recall.append(timed_child([str(MEMMAN), "recall", QUERIES[n % len(QUERIES)]], env))
    out = {
        "floor_wall_ms": statistics.median(w for w, _ in floor),
        "floor_cpu_ms": statistics.median(c for _, c in floor),
        "recall_wall_ms": statistics.median(w for w, _ in recall),
        "recall_cpu_ms": statistics.median(c for _, c in recall),
        "load": os.getloadavg()[0],
    }
    out["wall_ratio"] = out["recall_wall_ms"] / out["floor_wall_ms"]
    out["cpu_ratio"] = out["recall_cpu_ms"] / out["floor_cpu_ms"]
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("data_dir", type=Path, help="a data dir tools/bench.py built (DIR/n10000/data)")
    p.add_argument("--runs", type=int, default=21)
    args = p.parse_args(argv)
    if args.runs < 1:
        print("cold: error: --runs must be at least 1", file=sys.stderr)
        return 2
    if not (args.data_dir / "stores").is_dir():
        print(f"cold: error: {args.data_dir} holds no memman store; build one with tools/bench.py --keep", file=sys.stderr)
        return 2
    r = measure(args.data_dir, args.runs)
    print(
        f"python -c pass: {r['floor_wall_ms']:.1f} ms wall, {r['floor_cpu_ms']:.1f} ms CPU; "
        f"recall (hybrid, cold): {r['recall_wall_ms']:.1f} ms wall, {r['recall_cpu_ms']:.1f} ms CPU; "
        f"ratio {r['wall_ratio']:.1f}x wall, {r['cpu_ratio']:.1f}x CPU (medians of {args.runs}; load {r['load']:.1f})"
    )
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
