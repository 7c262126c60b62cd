"""Whole-process benchmark of memman against synthetic stores.

For each size it writes a deterministic JSON Lines file of realistic agent
memories, imports it into a fresh data dir, drains it, and then times the
commands an agent runs, each in a fresh process (the console script
`.venv/bin/memman`, as an agent calls it):

    remember          one new memory                      target <= 40 ms
    recall --basic    keyword only, 10 rotating queries   target <= 60 ms
    recall            hybrid, the same queries            target <= 150 ms (at 10k)
    recall --as-of    hybrid, valid time mid-history      target < 1 s
    recall --known-at hybrid, transaction time            target < 1 s
    scheduler drain   the whole imported backlog, once    target >= 300 memories/s
    events replay     rebuild every projection            target >= 20k events/s

plus import throughput, store size on disk and the cold-process floor
(`python -c pass`, `import apsw, msgspec, click`), so readers can see what is
fixed cost. Progress goes to stderr; a Markdown table for README goes to stdout.

    .venv/bin/python tools/bench.py                        # 1k and 10k, 15 runs
    .venv/bin/python tools/bench.py --sizes 1000,10000,100000 --json bench.json
    .venv/bin/python tools/bench.py --sizes 1000 --runs 5 --keep /tmp/mm-bench
    .venv/bin/python tools/bench.py --keep /tmp/mm-bench --reuse    # re-time, no rebuild

The same seed gives the same memories, and a smaller size is a prefix of a
larger one. Measurements are medians of fresh processes on a shared machine:
read them as proportions, and re-run before relying on one.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
PYTHON = VENV_BIN / "python"
MEMMAN = VENV_BIN / "memman"
if str(ROOT) not in sys.path:  # run as a script: tools.* from this tree
    sys.path.insert(0, str(ROOT))

# The corpus and the report live beside this module; QUERIES and synthetic
# are imported from here by the other benchmarks too.
from tools.bench_corpus import QUERIES, remember_texts, synthetic, write_jsonl  # noqa: E402,F401
from tools.bench_report import markdown, store_mb  # noqa: E402

# ---------------------------------------------------------------- running

def compile_bytecode() -> None:
    """Measure what an installed wheel runs: compiled bytecode. Without it (an
    editable checkout under PYTHONDONTWRITEBYTECODE=1, as some agent shells
    set) every process recompiles memman's modules, ~16 ms per command."""
    import compileall

    for package in ("memman", "events", "projections", "workers"):
        compileall.compile_dir(str(ROOT / package), quiet=1)


def child_env(data_dir: Path | None) -> dict[str, str]:
    """Cold processes by default: MEMMAN_SERVER=off, so every row but the
    warm ones measures a process that imports and works alone."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEMMAN_")}
    env["OPENBLAS_NUM_THREADS"] = "1"
    env["MEMMAN_SERVER"] = "off"
    if data_dir is not None:
        env["MEMMAN_DATA_DIR"] = str(data_dir)
    return env


def run(argv: list[str], env: dict[str, str], stdin: bytes | None = None) -> tuple[float, bytes]:
    """Wall milliseconds of one whole process, and its stdout; fails loudly."""
    started = time.perf_counter()
    proc = subprocess.run(argv, env=env, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    ms = (time.perf_counter() - started) * 1000
    if proc.returncode != 0:
        raise SystemExit(f"bench: {' '.join(argv)} exited {proc.returncode}: {proc.stderr.decode(errors='replace')}")
    return ms, proc.stdout


def timed_child(argv: list[str], env: dict[str, str] | None = None, cwd: Path | None = None) -> tuple[float, float]:
    """Wall and CPU (user + system) milliseconds of one whole process; exits
    with one line if it fails: the command, its exit code and the last line
    of its stderr (memman's one-line error, or a traceback's exception). On
    a loaded machine wall time measures the queue for the CPU as much as the
    work; CPU time does not."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.run(argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = (time.perf_counter() - started) * 1000
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        said = proc.stderr.decode(errors="replace").strip().splitlines() or ["(nothing on stderr)"]
        raise SystemExit(f"bench: {' '.join(argv[:4])} exited {proc.returncode}: {said[-1][-600:]}")
    return wall, (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000


def stats(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p90 = statistics.quantiles(ordered, n=10, method="inclusive")[8] if len(ordered) > 1 else ordered[0]
    return {
        "median": round(statistics.median(ordered), 2),
        "min": round(ordered[0], 2),
        "p90": round(p90, 2),
        "n": len(ordered),
    }


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def floor(runs: int) -> dict[str, dict[str, float]]:
    env = child_env(None)
    cases = {
        "python -c pass": [str(PYTHON), "-c", "pass"],
        "python -c 'import apsw, msgspec'": [str(PYTHON), "-c", "import apsw, msgspec"],
        "python -c 'import apsw, msgspec, click'": [str(PYTHON), "-c", "import apsw, msgspec, click"],
        "python -c 'import numpy'": [str(PYTHON), "-c", "import numpy"],
        "memman --version": [str(MEMMAN), "--version"],
        "python -m memman --version": [str(PYTHON), "-m", "memman", "--version"],
    }
    for argv in cases.values():  # warm the page cache
        run(argv, env)
    samples: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(runs):  # interleaved, so drift in machine load hits all alike
        for name, argv in cases.items():
            samples[name].append(run(argv, env)[0])
    out = {name: stats(s) for name, s in samples.items()}
    for name, s in out.items():
        log(f"floor {name}: {s['median']:.1f} ms")
    return out


def store_bytes(data_dir: Path) -> dict[str, int]:
    sizes: dict[str, int] = {}
    for path in sorted((data_dir / "stores").glob("*/*")):
        if path.is_file():
            sizes[path.name] = sizes.get(path.name, 0) + path.stat().st_size
    return sizes


def build(n: int, workdir: Path, seed: int, env: dict[str, str]) -> dict:
    """Write the synthetic file, import it into a fresh data dir and drain it
    (both timed, once); saved to workdir/build.json for --reuse."""
    data_dir = Path(env["MEMMAN_DATA_DIR"])
    if data_dir.exists():
        shutil.rmtree(data_dir)
    mm = [str(MEMMAN)]
    built: dict[str, object] = {"size": n, "seed": seed}
    source = workdir / "memories.jsonl"
    distinct = write_jsonl(source, n, seed)
    built["distinct_texts"] = distinct
    log(f"wrote {source} ({distinct:,} distinct texts of {n:,})")

    ms, out = run([*mm, "import", str(source), "--json"], env)
    report = json.loads(out)
    built["import"] = {
        "imported": report["imported"],
        "seconds": report["seconds"],
        "wall_ms": round(ms, 1),
        "rate": round(report["imported"] / report["seconds"], 1) if report["seconds"] else None,
        "wall_rate": round(report["imported"] / (ms / 1000), 1),
    }
    log(f"import: {report['imported']:,} in {ms / 1000:.2f}s wall ({built['import']['wall_rate']:,.0f}/s)")

    log("drain: running (one pass over the whole backlog)")
    ms, out = run([*mm, "scheduler", "drain", "--json"], env)
    (drained,) = json.loads(out)["stores"]
    built["drain"] = {
        **drained,
        "wall_ms": round(ms, 1),
        "rate": round(drained["processed"] / drained["seconds"], 1) if drained["seconds"] else None,
        "wall_rate": round(drained["processed"] / (ms / 1000), 1),
        "load_after": round(os.getloadavg()[0], 2),
    }
    log(f"drain: {drained['processed']:,} inputs in {ms / 1000:.2f}s wall ({built['drain']['wall_rate']:,.0f}/s),"
        f" {drained['failed']} failed, {drained['remaining']} remaining")

    built["drained_at"] = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    _, out = run([*mm, "status", "--json"], env)
    status = json.loads(out)
    built["status"] = {k: status[k] for k in ("events", "by_status", "vectors", "edges", "bytes", "embedder")}
    built["disk_bytes"] = store_bytes(data_dir)
    log(f"store: {status['events']:,} events, {status['by_status']}, {store_mb(built, True):.1f} MB + {store_mb(built, False):.1f} MB WAL")
    (workdir / "build.json").write_text(json.dumps(built, indent=2))
    return built


def _middle_at(source: Path) -> str:
    """The median `at` of an import file: a date inside the imported history."""
    times = sorted(json.loads(line)["at"] for line in source.read_text(encoding="utf-8").splitlines() if line.strip())
    return times[len(times) // 2]


def bench_size(
    n: int, workdir: Path, runs: int, replay_runs: int, seed: int, *, compare_launchers: bool, reuse: bool
) -> dict:
    log(f"--- {n:,} memories in {workdir}")
    workdir.mkdir(parents=True, exist_ok=True)
    env = child_env(workdir / "data")
    mm = [str(MEMMAN)]
    saved = workdir / "build.json"
    previous = json.loads(saved.read_text()) if reuse and saved.exists() else None
    if previous and previous.get("size") == n and previous.get("seed") == seed:
        log(f"reusing the store built earlier (import and drain figures from {saved})")
        result: dict = {**previous, "reused": True}
    else:
        result = build(n, workdir, seed, env)

    result["query_hits"] = _query_hits(mm, env)

    # --as-of the middle of the imported history (valid time) and --known-at
    # the end of the drain (transaction time): both answered through the
    # projections' validity intervals and status history (memman/recall/timeline.py).
    as_of = _middle_at(workdir / "memories.jsonl")
    known_at = result.get("drained_at") or datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    timed = (("recall_basic", ["--basic"]), ("recall", []), ("recall_as_of", ["--as-of", as_of]),
             ("recall_known_at", ["--known-at", known_at]))  # fmt: skip
    for key, extra in timed:
        samples = [run([*mm, "recall", QUERIES[i % len(QUERIES)], *extra], env)[0] for i in range(runs)]
        result[key] = stats(samples)
        log(f"{key}: median {result[key]['median']:.1f} ms")

    result.update(bench_hot_path(mm, env, runs))

    result["replay"] = _replay(mm, env, replay_runs)

    # remember last: each run adds a pending input, which would otherwise make
    # the next recall pay to catch its projection up.
    texts = remember_texts(seed)
    result["remember"] = stats([run([*mm, "remember", next(texts)], env)[0] for _ in range(runs)])
    log(f"remember: median {result['remember']['median']:.1f} ms")
    if compare_launchers:
        launchers: dict[str, list[float]] = {"memman": [], "python -m memman": []}
        for _ in range(runs):
            launchers["memman"].append(run([*mm, "remember", next(texts)], env)[0])
            launchers["python -m memman"].append(run([str(PYTHON), "-m", "memman", "remember", next(texts)], env)[0])
        result["remember_by_launcher"] = {name: stats(s) for name, s in launchers.items()}
        log("remember by launcher: " + ", ".join(f"{k} {v['median']:.1f} ms" for k, v in result["remember_by_launcher"].items()))
    return result


def _query_hits(mm: list[str], env: dict[str, str]) -> dict[str, dict[str, int]]:
    """Hits per query (untimed; also warms the page cache for both modes)."""
    hits: dict[str, dict[str, int]] = {}
    for q in QUERIES:
        counts = {}
        for mode, extra in (("basic", ["--basic"]), ("hybrid", [])):
            _, out = run([*mm, "recall", q, *extra, "--json"], env)
            meta = json.loads(out)
            counts[mode] = len(meta["results"])
            counts[f"{mode}_in_process_ms"] = meta["meta"]["took_ms"]
        hits[q] = counts
    misses = [q for q, c in hits.items() if not c["hybrid"]]
    log(f"queries: {sum(1 for c in hits.values() if c['basic'])}/{len(QUERIES)} hit by keyword,"
        f" {len(QUERIES) - len(misses)}/{len(QUERIES)} by hybrid")
    return hits


def _replay(mm: list[str], env: dict[str, str], replay_runs: int) -> dict:
    """`events replay`, `replay_runs` times: wall time and the in-process rate."""
    samples, rates, applied = [], [], 0
    for _ in range(replay_runs):
        ms, out = run([*mm, "events", "replay", "--json"], env)
        report = json.loads(out)
        applied = report["events_applied"]
        samples.append(ms)
        rates.append(report["events_applied"] / report["seconds"] if report["seconds"] else 0.0)
    replay = {
        "events_applied": applied,
        "wall_ms": stats(samples),
        "rate": stats(rates),
        "wall_rate": round(applied / (statistics.median(samples) / 1000), 1),
    }
    log(f"replay: {applied:,} events, {replay['rate']['median']:,.0f}/s in process,"
        f" {replay['wall_ms']['median']:.0f} ms wall")
    return replay


def _hook_payload(i: int) -> bytes:
    return json.dumps(
        {"hook_event_name": "UserPromptSubmit", "session_id": "bench", "cwd": "/tmp", "prompt": QUERIES[i % len(QUERIES)]}
    ).encode()


def socket_dir(prefix: str) -> str:
    """A short, private directory for a warm server's socket: under /tmp
    itself, not TMPDIR. A Unix socket's path cannot pass 107 bytes, which a
    test's TMPDIR (/tmp/pytest-of-USER/pytest-1000/test_.../tmp/...) does
    once pytest's counter reaches four digits: the server cannot bind."""
    return tempfile.mkdtemp(prefix=prefix, dir="/tmp" if os.path.isdir("/tmp") else None)


def bench_hot_path(mm: list[str], env: dict[str, str], runs: int) -> dict:
    """The prompt hook cold, then recall and the hook through the warm server
    (memman/server/), interleaved so load drift hits both alike."""
    hook = [*mm, "hook", "user-prompt-submit"]
    out: dict = {"hook": stats([run(hook, env, _hook_payload(i))[0] for i in range(runs)])}
    log(f"hook user-prompt-submit (cold): median {out['hook']['median']:.1f} ms")
    run_dir = socket_dir("mmb")
    warm = {**env, "MEMMAN_SERVER": "auto", "XDG_RUNTIME_DIR": run_dir}
    try:
        run([*mm, "server", "start"], warm)
        for i in range(3):  # first requests load lazily imported modules
            run([*mm, "recall", QUERIES[i]], warm)
            run(hook, warm, _hook_payload(i))
        samples: dict[str, list[float]] = {"recall_warm": [], "recall_basic_warm": [], "hook_warm": []}
        for i in range(runs):
            samples["recall_warm"].append(run([*mm, "recall", QUERIES[i % len(QUERIES)]], warm)[0])
            samples["recall_basic_warm"].append(run([*mm, "recall", QUERIES[i % len(QUERIES)], "--basic"], warm)[0])
            samples["hook_warm"].append(run(hook, warm, _hook_payload(i))[0])
        _, status = run([*mm, "server", "status", "--json"], warm)
        state = json.loads(status)
        if not state["running"] or state["served"] < 3 * runs:
            raise SystemExit(f"bench: the warm server did not answer every request: {state}")
        out["server_rss_mb"] = state["rss_mb"]
    finally:
        subprocess.run([*mm, "server", "stop"], env=warm, capture_output=True)
        shutil.rmtree(run_dir, ignore_errors=True)
    for key, s in samples.items():
        out[key] = stats(s)
        log(f"{key}: median {out[key]['median']:.1f} ms")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000", help="comma-separated store sizes [1000,10000]")
    parser.add_argument("--runs", type=int, default=15, help="fresh processes per timed command [15]")
    parser.add_argument("--replay-runs", type=int, default=3, help="runs of 'events replay' per size [3]")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--json", dest="json_path", metavar="FILE", help="also write every measurement as JSON")
    parser.add_argument("--keep", metavar="DIR", help="build stores under DIR and keep them (default: a temp dir)")
    parser.add_argument(
        "--reuse", action="store_true", help="with --keep: reuse stores built by an earlier run (skip import and drain)"
    )
    args = parser.parse_args()
    compile_bytecode()
    if args.reuse and not args.keep:
        parser.error("--reuse needs --keep DIR")
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    if not MEMMAN.exists():
        raise SystemExit(f"bench: {MEMMAN} is missing; run 'make venv' first")

    meta = {
        "launcher": ".venv/bin/memman",
        "runs": args.runs,
        "replay_runs": args.replay_runs,
        "seed": args.seed,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "memman": run([str(MEMMAN), "--version"], child_env(None))[1].decode().split()[-1],
        "commit": subprocess.run(
            ["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip(),
        "load_before": [round(x, 2) for x in os.getloadavg()],
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": platform.platform(),
    }
    root = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="memman-bench-"))
    try:
        floor_stats = floor(args.runs)
        results = []
        for i, n in enumerate(sizes):
            results.append(
                bench_size(
                    n, root / f"n{n}", args.runs, args.replay_runs, args.seed, compare_launchers=i == 0, reuse=args.reuse
                )
            )
            if args.json_path:  # written after every size, so a long run leaves partial results
                Path(args.json_path).write_text(json.dumps({"meta": meta, "floor": floor_stats, "results": results}, indent=2))
        meta["load_after"] = [round(x, 2) for x in os.getloadavg()]
        if args.json_path:
            Path(args.json_path).write_text(json.dumps({"meta": meta, "floor": floor_stats, "results": results}, indent=2))
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    print(markdown(results, floor_stats, meta))


if __name__ == "__main__":
    main()
