"""What one warm server request costs the server, by store size and source tree.

The warm server (memman/server/) runs each request in its own process with
the store's handles kept open: what a served `recall` costs beyond the
client is the server's CPU for that request, and that is what grows with the
store (docs/scale.md, "Warm recall in the store's size"). This tool runs the
very function the server runs per request (`memman.server.daemon.execute`,
with a kept `StorePool`, after the server's own preload) in one process per
tree and store, and reports the CPU time per request: the median and the
10th percentile over `--rounds` passes of the ten benchmark queries, after
one warming pass, and the worker's peak RSS (the server's, as it would be
after those requests). `--baseline TREE` does the same from another source tree
(e.g. `git worktree add --detach /tmp/main-tree main`), alternating tree by
tree, so a before/after is taken in the same minutes. Stores are data dirs
(as `tools/scale_bench.py` caches them: `DIR/n100000-generate/data`); they
are only read, apart from the catch-up a recall does.

    .venv/bin/python tools/bench_warm_requests.py --data /var/tmp/mm-scale/n100000-generate/data
    .venv/bin/python tools/bench_warm_requests.py --data D10K --data D100K --baseline /tmp/main-tree --repeat 3
    .venv/bin/python tools/bench_warm_requests.py --data D100K --verb hook --json out.json
    .venv/bin/python tools/bench_warm_requests.py --data D100K --baseline /tmp/main-tree --baseline-data D100K-COPY --drain

`--drain` puts a remember and a drain by another process between the
warming pass and the timed requests, so the figures include the first
request after a drain and the peak RSS what re-reading the vectors then
costs. Trees whose vector caches differ in format should each get their own
copy of a store (`--baseline-data`), or each would rebuild the other's.

The figures are CPU milliseconds of the server process (`time.process_time`),
which a loaded machine inflates less than wall time; read them side by side.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script: tools.bench from this tree

from tools.bench import QUERIES  # noqa: E402

VERBS = ("recall", "basic", "hook")

# Runs inside the tree being measured (its own modules first on sys.path).
_WORKER = r"""
import json, os, sys, time
sys.path.insert(0, os.getcwd())
from memman.server.daemon import _preload, execute
from projections.pool import StorePool
data, verb, rounds, queries, drain = sys.argv[1], sys.argv[2], int(sys.argv[3]), json.loads(sys.argv[4]), sys.argv[5]
env = {k: v for k, v in os.environ.items() if not k.startswith("MEMMAN_")}
env.update(MEMMAN_DATA_DIR=data, MEMMAN_SERVER="off", MEMMAN_AUTODRAIN="0", MEMMAN_STORE="default")

def request(query):
    if verb == "hook":
        prompt = json.dumps({"hook_event_name": "UserPromptSubmit", "session_id": "bench", "cwd": "/tmp", "prompt": query})
        return ["hook", "user-prompt-submit"], prompt.encode()
    return (["recall", "--basic", query] if verb == "basic" else ["recall", query]), b""

pool = StorePool()
_preload()
for query in queries:  # warming: the first request opens the store and reads its caches
    argv, stdin = request(query)
    code, out, err = execute(argv, stdin, env, os.getcwd(), pool)
    if code != 0:
        sys.exit(f"{argv[0]} failed ({code}): {err.decode(errors='replace')[-500:]}")
if drain:  # a memory remembered and drained by another process, as between a user's prompts
    import subprocess
    cli = [sys.executable, "-m", "memman"]
    for args in (["remember", "The release train leaves on Thursdays after the freeze"], ["scheduler", "drain"]):
        subprocess.run([*cli, *args], env={**env, "PYTHONPATH": os.getcwd()}, cwd="/", check=True, capture_output=True)
times = []
for _ in range(rounds):
    for query in queries:
        argv, stdin = request(query)
        started = time.process_time()
        execute(argv, stdin, env, os.getcwd(), pool)
        times.append((time.process_time() - started) * 1000)
import resource
print(json.dumps({"cpu_ms": times, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def measure(tree: Path, data: Path, verb: str, rounds: int, drain: bool = False) -> tuple[list[float], float]:
    proc = subprocess.run(
        [sys.executable, "-c", _WORKER, str(data), verb, str(rounds), json.dumps(QUERIES), "drain" if drain else ""],
        cwd=tree, capture_output=True, text=True, env={**os.environ, "OPENBLAS_NUM_THREADS": "1"},
    )  # fmt: skip
    if proc.returncode != 0:
        raise SystemExit(f"{tree}: {proc.stderr.strip()[-800:]}")
    found = json.loads(proc.stdout.strip().splitlines()[-1])
    return list(found["cpu_ms"]), float(found["rss_mb"])


def summary(times: list[float], rss: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    return {"median": round(statistics.median(ordered), 1), "p10": round(ordered[len(ordered) // 10], 1),
            "max": round(ordered[-1], 1), "n": len(ordered), "peak_rss_mb": round(max(rss), 1)}  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", action="append", required=True, help="a data dir holding the store 'default' (repeatable)")
    parser.add_argument("--verb", choices=VERBS, default="recall", help="what each request runs [recall]")
    parser.add_argument("--rounds", type=int, default=3, help="passes over the ten queries per measurement [3]")
    parser.add_argument("--repeat", type=int, default=1, help="measurements per tree and store, alternating trees [1]")
    parser.add_argument("--baseline", metavar="TREE", help="another source tree to measure the same way")
    parser.add_argument("--baseline-data", action="append", default=[], metavar="DATA",
                        help="the baseline's own copy of each --data, in order (trees whose caches differ must not share one)")
    parser.add_argument("--drain", action="store_true",
                        help="after the warming pass, remember one memory and drain it in another process (the timed "
                             "requests then include the first one after a drain; the peak RSS, its reload)")
    parser.add_argument("--json", dest="json_path", help="write the figures here")
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.repeat < 1:
        parser.error("--rounds and --repeat must be positive")
    for data in args.data:
        if not (Path(data) / "stores" / "default").is_dir():
            parser.error(f"--data {data}: no store 'default' there")
    if args.baseline and not (Path(args.baseline) / "memman" / "server" / "daemon.py").is_file():
        parser.error(f"--baseline {args.baseline}: not a memman source tree with a warm server")
    if args.baseline_data and (not args.baseline or len(args.baseline_data) != len(args.data)):
        parser.error("--baseline-data needs --baseline and one copy per --data")
    trees = {"this tree": ROOT, **({"baseline": Path(args.baseline)} if args.baseline else {})}
    copies = dict(zip(args.data, args.baseline_data))
    found: dict[str, dict[str, list[float]]] = {}
    peaks: dict[str, dict[str, list[float]]] = {}
    for data in args.data:
        for _ in range(args.repeat):
            for name, tree in trees.items():
                store = copies.get(data, data) if name == "baseline" else data
                times, rss = measure(tree, Path(store).resolve(), args.verb, args.rounds, args.drain)
                found.setdefault(data, {}).setdefault(name, []).extend(times)
                peaks.setdefault(data, {}).setdefault(name, []).append(rss)
    figures = {data: {name: summary(times, peaks[data][name]) for name, times in by_tree.items()} for data, by_tree in found.items()}
    if args.json_path:
        Path(args.json_path).write_text(json.dumps({"verb": args.verb, "figures": figures}, indent=2))
    print(f"| store ({args.verb}: server CPU ms per request, median (p10, max); peak RSS) | " + " | ".join(trees) + " |")
    print("|---|" + "---:|" * len(trees))
    for data, by_tree in figures.items():
        cells = [f"{by_tree[n]['median']} ({by_tree[n]['p10']}, {by_tree[n]['max']}); {by_tree[n]['peak_rss_mb']:.0f} MB"
                 for n in trees]  # fmt: skip
        print(f"| {data} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
