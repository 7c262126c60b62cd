"""Drain, replay and storage costs as a store grows (issue 16, items 3 and 4).

For each size N it imports the first N synthetic memories of tools/bench.py
(same seed, same texts) into a fresh data dir with the real CLI, drains them
in this process, then imports and drains `--marginal` more: the marginal
drain is the per-input cost *at* size N, which is what must stay flat as a
store grows. Then it replays every projection and measures bytes on disk per
memory, by file and by table (SQLite's dbstat).

    .venv/bin/python tools/bench_drain.py --sizes 1000,10000
    .venv/bin/python tools/bench_drain.py --sizes 10000 --profile 25      # cProfile of the marginal drain
    .venv/bin/python tools/bench_drain.py --sizes 100000 --keep /tmp/mm-drain   # ~10 min at 300/s

CPU seconds are this process's user+system time (time.process_time), so a
shared machine's load shows in wall time far more than in CPU. Figures go to
stderr as they come and a JSON summary to stdout.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))

from bench import synthetic  # noqa: E402

MEMMAN = ROOT / ".venv" / "bin" / "memman"


def log(message: str) -> None:
    print(f"[bench_drain] {message}", file=sys.stderr, flush=True)


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEMMAN_")}
    env.update(MEMMAN_DATA_DIR=str(data_dir), MEMMAN_SERVER="off", OPENBLAS_NUM_THREADS="1")
    return env


def _import(lines: list[dict], data_dir: Path, workdir: Path) -> None:
    path = workdir / "batch.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    proc = subprocess.run([str(MEMMAN), "import", str(path)], env=_env(data_dir), capture_output=True)
    if proc.returncode:
        raise SystemExit(f"import failed: {proc.stderr.decode(errors='replace')}")


def _store_dir(data_dir: Path) -> Path:
    (directory,) = [p for p in (data_dir / "stores").iterdir() if p.is_dir()]
    return directory


def _drain(data_dir: Path, profile: int = 0) -> dict:
    from memman.operations.maintenance import drain_all

    profiler = cProfile.Profile() if profile else None
    cpu, wall = time.process_time(), time.perf_counter()
    if profiler:
        profiler.enable()
    (report,) = drain_all(data_dir)
    if profiler:
        profiler.disable()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    out = {
        "inputs": report.processed,
        "cpu_s": round(cpu, 3),
        "wall_s": round(wall, 3),
        "cpu_ms_per_input": round(cpu * 1000 / max(report.processed, 1), 3),
        "rate_per_s": round(report.processed / wall, 1) if wall else None,
    }
    if profiler:
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(profile)
        pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(profile)
        out["profile"] = text.getvalue()
    return out


def _replay(data_dir: Path) -> dict:
    from memman.operations.maintenance import replay
    from memman.service import Memman

    app = Memman(data_dir=data_dir)
    try:
        cpu, wall = time.process_time(), time.perf_counter()
        report = replay(app)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    finally:
        app.close()
    return {
        "events": report.events_applied,
        "wall_s": round(wall, 3),
        "cpu_s": round(cpu, 3),
        "events_per_s": round(report.events_applied / wall, 1) if wall else None,
    }


def bytes_by_table(directory: Path) -> dict[str, dict[str, int]]:
    """{file: {table or index: bytes}} from dbstat, plus the other files' sizes."""
    import apsw

    out: dict[str, dict[str, int]] = {}
    for path in sorted(directory.iterdir()):
        if path.suffix == ".db":
            conn = apsw.Connection(str(path), flags=apsw.SQLITE_OPEN_READONLY)
            rows = conn.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC").fetchall()
            conn.close()
            out[path.name] = {name: size for name, size in rows}
            out[path.name]["(file)"] = path.stat().st_size
        elif path.is_file():
            out.setdefault("(other files)", {})[path.name] = path.stat().st_size
    return out


def _build_index(data_dir: Path) -> float | None:
    """Build and save the drain's HNSW index if the store is past its
    threshold (workers/vectors/annindex.py) and none is saved: what the first drain
    past it does once, kept out of the per-input figures (a backlog drained
    in one pass starts below the threshold and never builds it). Returns the
    CPU seconds it took, None if nothing was built."""
    from projections.store import StoreDB
    from workers.vectors import annindex
    from workers.drain import bind_embedder, load_vectors, save_index

    db = StoreDB(_store_dir(data_dir))
    try:
        embedder = bind_embedder(db)
        cpu = time.process_time()
        vectors = load_vectors(db, embedder)
        if vectors.ann is None or vectors.ann.added < annindex.SAVE_AFTER:
            return None
        save_index(db, vectors, embedder.fingerprint.key)
        return round(time.process_time() - cpu, 3)
    finally:
        db.close()


def _catch_up(data_dir: Path) -> None:
    """Bring a reused store's projections (and flat cache) up to this code's versions, untimed."""
    from projections.store import StoreDB
    from projections.vectors import matrix

    db = StoreDB(_store_dir(data_dir))
    try:
        db.catch_up()
        for (fingerprint,) in db.vectors.conn.execute("SELECT fingerprint FROM vector_sets").fetchall():
            matrix(db.vectors.conn, db.directory, fingerprint)
    finally:
        db.close()


def bench_size(n: int, marginal: int, workdir: Path, profile: int, seed: int, reuse: bool = False) -> dict:
    workdir.mkdir(parents=True, exist_ok=True)
    data_dir, snapshot = workdir / "data", workdir / "after-backlog"
    if data_dir.exists():
        shutil.rmtree(data_dir)
    lines = list(synthetic(n + marginal, seed))
    if reuse and snapshot.exists():
        shutil.copytree(snapshot, data_dir)
        _catch_up(data_dir)
        if (index := _build_index(data_dir)) is not None:  # a snapshot taken before the tool built it
            log(f"{n:,}: built the drain's vector index in {index} s CPU (untimed)")
        backlog = json.loads((workdir / "backlog.json").read_text())
        log(f"{n:,}: reusing the store drained earlier ({backlog})")
    else:
        log(f"--- {n:,}: importing")
        _import(lines[:n], data_dir, workdir)
        log(f"{n:,}: draining the backlog")
        backlog = _drain(data_dir)
        log(f"{n:,}: backlog {backlog}")
        if (index := _build_index(data_dir)) is not None:
            backlog["index_build_cpu_s"] = index
            log(f"{n:,}: built the drain's vector index once, {index} s CPU (not in the per-input figures)")
        if snapshot.exists():
            shutil.rmtree(snapshot)
        shutil.copytree(data_dir, snapshot)
        (workdir / "backlog.json").write_text(json.dumps(backlog))
    _import(lines[n:], data_dir, workdir)
    at_n = _drain(data_dir, profile)
    log(f"{n:,}: marginal {marginal} at size {n:,}: " + json.dumps({k: v for k, v in at_n.items() if k != "profile"}))
    if profile:
        print(at_n.pop("profile"), file=sys.stderr)
    _import([{**lines[0], "text": lines[0]["text"] + " (one more)"}], data_dir, workdir)
    one = _drain(data_dir)
    log(f"{n:,}: one input drained in {one['wall_s'] * 1000:.0f} ms wall, {one['cpu_s'] * 1000:.0f} ms CPU")
    replayed = _replay(data_dir)
    log(f"{n:,}: replay {replayed}")
    directory = _store_dir(data_dir)
    tables = bytes_by_table(directory)
    total = sum(v for f in tables.values() for k, v in f.items() if k == "(file)" or f is tables.get("(other files)"))
    memories = n + marginal + 1
    log(f"{n:,}: {total / memories:,.0f} bytes per input on disk")
    return {
        "size": n,
        "backlog": backlog,
        "marginal": at_n,
        "one_input": one,
        "replay": replayed,
        "bytes": tables,
        "bytes_per_input": round(total / memories),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--marginal", type=int, default=500, help="inputs drained at each size [500]")
    parser.add_argument("--profile", type=int, default=0, help="print the top N cProfile rows of the marginal drain")
    parser.add_argument("--keep", type=Path, help="build under this directory and keep it")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--reuse", action="store_true", help="with --keep: start from the store drained by an earlier run")
    parser.add_argument("--ann-min", type=int, help="rows from which the drain uses its HNSW index [workers/vectors/annindex.py]")
    args = parser.parse_args()
    os.environ["OPENBLAS_NUM_THREADS"] = "1"
    if args.ann_min is not None:
        from workers.vectors import annindex

        annindex.MIN_ROWS = args.ann_min  # this process drains: the threshold it reads
    root = args.keep or Path(tempfile.mkdtemp(prefix="memman-bench-drain-"))
    results = []
    try:
        for n in (int(s) for s in args.sizes.split(",")):
            results.append(bench_size(n, args.marginal, root / f"n{n}", args.profile, args.seed, args.reuse))
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    print(json.dumps({"measured_at": stamp, "load": os.getloadavg()[0], "results": results}, indent=2))


if __name__ == "__main__":
    main()
