"""What a `scheduler drain` of one input costs on a large store, and what
recall's flat vector caches cost on disk, by source tree (issue 16).

A drain pays fixed costs per run beside its per-input work: loading the
vectors, and bringing recall's flat vector cache up to date. Before the
query-time centring (projections/vectors.py) that meant rewriting a
centred copy of every row (`.c32`) on every run, since every new row moves
the store's mean; now the new rows are appended. This tool measures it as
a user meets it: on a private copy of a data dir per tree (the original is
never written), one warming drain (an old store's caches and projections are
rebuilt once there), then `--runs` times: `remember` one text, then time
`scheduler drain` (CPU of the child process and wall), then a cold `recall`
(CPU: the first after a drain, which must not rebuild anything), each
beside a bare `python -c pass` in the same minutes. Trees alternate run by run, so a
before/after shares the machine's load. It reports medians and the caches'
bytes per memory (`vectors-*.f32`, and `.c32` where a tree writes it).

    .venv/bin/python tools/bench_vector_cache.py --data /var/tmp/mm-scale/n10000-drain/data
    git archive main | tar -x -C /tmp/base   # a tree to compare with
    .venv/bin/python tools/bench_vector_cache.py --data D10K --baseline /tmp/base --runs 9 --json out.json

Each tree runs as `python -m memman` with its own directory first on
PYTHONPATH and this interpreter (the trees must share dependencies), on the
data dir's store `default`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script: tools.bench from this tree

from tools.bench import QUERIES, timed_child  # noqa: E402


def _env(tree: Path, data: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEMMAN_")}
    env.update(MEMMAN_DATA_DIR=str(data), MEMMAN_STORE="default", MEMMAN_SERVER="off", MEMMAN_AUTODRAIN="0",
               OPENBLAS_NUM_THREADS="1", PYTHONPATH=str(tree), PYTHONDONTWRITEBYTECODE="1")  # fmt: skip
    return env


def cache_bytes(data: Path) -> dict[str, int]:
    found: dict[str, int] = {}
    for path in (data / "stores").glob("default/vectors-*.*"):
        if path.suffix in (".f32", ".c32"):
            found[path.suffix[1:]] = found.get(path.suffix[1:], 0) + path.stat().st_size
    return found


def memories(data: Path) -> int:
    """Vectors the flat cache holds (its header's count), either format."""
    for path in (data / "stores").glob("default/vectors-*.f32"):
        with path.open("rb") as f:
            head = f.read(1 << 16)
        try:
            return int(json.loads(head.split(b"\n")[1])["count"])
        except (ValueError, KeyError, IndexError):
            continue
    return 0


def run(trees: dict[str, Path], source: Path, runs: int, workdir: Path) -> dict[str, dict]:  # type: ignore[type-arg]
    copies = {}
    for name, tree in trees.items():
        copies[name] = workdir / name
        shutil.copytree(source, copies[name], symlinks=True)
        print(f"[bench_vector_cache] {name}: warming drain", file=sys.stderr, flush=True)
        memman = [sys.executable, "-m", "memman"]
        timed_child([*memman, "remember", f"Warm-up note for the {name} tree"], _env(tree, copies[name]), workdir)
        timed_child([*memman, "scheduler", "drain"], _env(tree, copies[name]), workdir)
    drains: dict[str, list[tuple[float, float]]] = {name: [] for name in trees}
    recalls: dict[str, list[float]] = {name: [] for name in trees}
    bare: list[float] = []
    memman = [sys.executable, "-m", "memman"]
    for n in range(runs):
        for name, tree in trees.items():
            env = _env(tree, copies[name])
            timed_child([*memman, "remember", f"Run {n}: the {name} deploy moved to Thursday"], env, workdir)
            drains[name].append(timed_child([*memman, "scheduler", "drain"], env, workdir))
            bare.append(timed_child([sys.executable, "-c", "pass"])[1])
            recalls[name].append(timed_child([*memman, "recall", QUERIES[n % len(QUERIES)]], env, workdir)[1])
        print(f"[bench_vector_cache] run {n + 1}/{runs}", file=sys.stderr, flush=True)
    out = {}
    for name, tree in trees.items():
        count = memories(copies[name])
        sizes = cache_bytes(copies[name])
        out[name] = {
            "drain_cpu_ms": round(statistics.median(c for _, c in drains[name]), 1),
            "drain_wall_ms": round(statistics.median(w for w, _ in drains[name]), 1),
            "cold_recall_cpu_ms": round(statistics.median(recalls[name]), 1),
            "memories": count,
            "cache_bytes": sizes,
            "cache_bytes_per_memory": round(sum(sizes.values()) / count, 1) if count else None,
        }
    out["bare"] = {"cpu_ms": round(statistics.median(bare), 1)}
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True, type=Path, help="a data dir to copy (never written)")
    parser.add_argument("--baseline", type=Path, metavar="TREE", help="another source tree, measured the same way")
    parser.add_argument("--runs", type=int, default=7, help="one-input drains per tree [7]")
    parser.add_argument("--workdir", type=Path, help="where the copies go [a temporary directory, removed after]")
    parser.add_argument("--json", dest="json_path", help="write the figures here")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be positive")
    if not (args.data / "stores" / "default").is_dir():
        parser.error(f"--data {args.data}: no store 'default' there")
    trees = {"this": ROOT, **({"baseline": args.baseline.resolve()} if args.baseline else {})}
    keep = args.workdir is not None
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench-vector-cache-"))
    try:
        found = run(trees, args.data, args.runs, workdir)
    finally:
        if not keep:
            shutil.rmtree(workdir, ignore_errors=True)
    print("| tree | drain of one input, CPU ms | wall ms | cold recall after it, CPU ms | flat caches, bytes per memory |")
    print("|---|---:|---:|---:|---:|")
    for name in trees:
        row = found[name]
        print(f"| {name} | {row['drain_cpu_ms']} | {row['drain_wall_ms']} | {row['cold_recall_cpu_ms']} "
              f"| {row['cache_bytes_per_memory']} |")
    print(f"\nbare `python -c pass`: {found['bare']['cpu_ms']} ms CPU")
    if args.json_path:
        Path(args.json_path).write_text(json.dumps(found, indent=2) + "\n")


if __name__ == "__main__":
    main()
