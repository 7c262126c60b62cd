"""Scale benchmark: memman at 10k, 100k and 1M memories, whole processes.

For each size it builds (or reuses) a store of synthetic agent memories
(tools/bench.py's generator) in a cache directory, then times what agents
and operators run, each command a fresh process, each group interleaved with
a bare `python -c pass` so every figure has its floor from the same minutes:

    recall (cold hybrid, --basic, --as-of), the prompt hook     MEMMAN_SERVER=off
    recall, recall --basic and the prompt hook via the warm server, its RSS
    remember
    drain/s at that size: a fresh batch of inputs imported and drained
    replay/s: `events replay` (for generated stores, the build's own replay)
    bytes per memory: every file of the store over its memories

Building: sizes up to --drain-max (10k) import and drain for real; larger
ones import the synthetic file, drain its first 200 inputs for real (binding
the embedder as a user's first drain does), derive the rest in bulk through
the events API (tools/scale_generate.py) and replay. A store is built once
per (size, seed, method) under --dir and reused by later runs (delete its
directory to rebuild); the timed remember/drain add a few hundred memories
to it each run, which the report counts.

    .venv/bin/python tools/scale_bench.py --dir /var/tmp/mm-scale                 # 10k, 100k
    .venv/bin/python tools/scale_bench.py --dir /var/tmp/mm-scale --sizes 1000000 --runs 7
    .venv/bin/python tools/scale_bench.py --dir /tmp/s --sizes 300 --runs 3 --drain-batch 50 --peer ~/peer/bin/memman

`--peer BIN` (optional) also times another memman executable, e.g. the
published 0.51.8 installed in its own venv (never in this one), with the
same queries against whatever store BIN is configured for: `BIN recall Q`
and `BIN remember TEXT` (override with --peer-recall / --peer-remember).
Markdown goes to stdout, progress to stderr, everything to --json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tools import bench  # noqa: E402
from tools.bench import MEMMAN, PYTHON, QUERIES, log, stats  # noqa: E402
from tools.scale_report import markdown  # noqa: E402

SEED_DRAIN = 200  # inputs a generated store drains for real first
SHIM = Path(__file__).resolve().parent.parent / "hooks" / "claude-code" / "memman-hook.sh"


def env_for(data_dir: Path | None, **extra: str) -> dict[str, str]:
    env = bench.child_env(data_dir)
    env["MEMMAN_AUTODRAIN"] = "0"  # no background drain competing with the timed commands
    env["MEMMAN_STORE"] = "default"  # the built store, wherever the benchmark runs (no project store from cwd)
    env.update(extra)
    return env


def run_json(argv: list[str], env: dict[str, str]) -> dict:
    return json.loads(bench.run(argv, env)[1])


Case = tuple[list[str], Callable[[int], bytes] | None]


def with_baseline(cases: dict[str, Case], baseline: str | None) -> dict[str, Case]:
    """`cases`, plus each one run from the `baseline` source tree (`name@base`)."""
    if not baseline:
        return cases
    return cases | {f"{name}@base": case for name, case in cases.items()}


def interleaved(cases: dict[str, Case], env: dict[str, str], runs: int, baseline: str | None = None) -> dict:
    """Each case `runs` times, round-robin with `python -c pass`; stats and
    x-floor. In argv, {q} is the run's query (rotating) and {i} its number;
    stdin, when given, is a function of the run's number. Cases named
    `...@base` run the code of the `baseline` tree (PYTHONPATH, same venv)."""
    cases = {"pass": ([str(PYTHON), "-c", "pass"], None), **with_baseline(cases, baseline)}
    base_env = {**env, "PYTHONPATH": baseline or ""}
    samples: dict[str, list[float]] = {name: [] for name in cases}
    cpu: dict[str, list[float]] = {name: [] for name in cases}
    for i in range(runs):
        for name, (template, stdin) in cases.items():
            argv = [a.replace("{q}", QUERIES[i % len(QUERIES)]).replace("{i}", str(i)) for a in template]
            run_env = base_env if name.endswith("@base") else env
            wall, used = timed_run(argv, run_env, stdin(i) if stdin else None)
            samples[name].append(wall)
            cpu[name].append(used)
    floor, cpu_floor = statistics.median(samples["pass"]), statistics.median(cpu["pass"])
    out = {
        name: {**stats(s), "x": round(statistics.median(s) / floor, 2),
               "cpu_ms": round(statistics.median(cpu[name]), 1),
               "cpu_x": round(statistics.median(cpu[name]) / cpu_floor, 2) if cpu_floor else None}
        for name, s in samples.items()
    }  # fmt: skip
    for name, s in out.items():
        log(f"  {name}: {s['median']:.1f} ms ({s['x']:.1f}x), cpu {s['cpu_ms']:.1f} ms ({s['cpu_x']}x)")
    return out


def timed_run(argv: list[str], env: dict[str, str], stdin: bytes | None) -> tuple[float, float]:
    """Wall and CPU (user + system, from wait4) milliseconds of one whole
    process; fails loudly. CPU time is less sensitive than wall time to a
    loaded machine."""
    wall, cpu, _ = timed_output(argv, env, stdin)
    return wall, cpu


def timed_json(argv: list[str], env: dict[str, str]) -> tuple[float, float, dict]:
    """Wall ms, CPU ms and the parsed JSON stdout of one whole process."""
    wall, cpu, out = timed_output(argv, env, None)
    return wall, cpu, json.loads(out)


def timed_output(argv: list[str], env: dict[str, str], stdin: bytes | None) -> tuple[float, float, bytes]:
    with tempfile.TemporaryFile() as err, tempfile.TemporaryFile() as out:
        started = time.perf_counter()
        proc = subprocess.Popen(argv, env=env, stdin=subprocess.PIPE, stdout=out, stderr=err)
        assert proc.stdin is not None
        try:
            proc.stdin.write(stdin or b"")
        except BrokenPipeError:  # the command did not read its stdin
            pass
        proc.stdin.close()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = (time.perf_counter() - started) * 1000
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            err.seek(0)
            raise SystemExit(f"scale_bench: {' '.join(argv)} exited {proc.returncode}: {err.read().decode(errors='replace')}")
        out.seek(0)
        return wall, (usage.ru_utime + usage.ru_stime) * 1000, out.read()


# ---------------------------------------------------------------- building


def build(n: int, workdir: Path, seed: int, method: str) -> dict:
    data = workdir / "data"
    if data.exists():
        shutil.rmtree(data)
    env = env_for(data)
    source = workdir / "memories.jsonl"
    bench.write_jsonl(source, n, seed)
    built: dict = {"size": n, "seed": seed, "method": method}
    if method == "drain":
        started = time.perf_counter()
        imported = run_json([str(MEMMAN), "import", str(source), "--json"], env)
        drained = run_json([str(MEMMAN), "scheduler", "drain", "--json"], env)["stores"][0]
        built["drain"] = {"processed": drained["processed"], "seconds": drained["seconds"],
                          "rate": round(drained["processed"] / drained["seconds"], 1) if drained["seconds"] else None}
        built["build_seconds"] = round(time.perf_counter() - started, 1)
        built["imported"] = imported["imported"]
        return built
    from tools.scale_generate import derive_in_bulk

    lines = source.read_text(encoding="utf-8").splitlines(keepends=True)
    head, rest = workdir / "head.jsonl", workdir / "rest.jsonl"
    head.write_text("".join(lines[:SEED_DRAIN]), encoding="utf-8")
    rest.write_text("".join(lines[SEED_DRAIN:]), encoding="utf-8")
    started = time.perf_counter()
    bench.run([str(MEMMAN), "import", str(head)], env)
    bench.run([str(MEMMAN), "scheduler", "drain"], env)
    fingerprint = run_json([str(MEMMAN), "status", "--json"], env)["embedder"]
    imported = run_json([str(MEMMAN), "import", str(rest), "--json"], env)
    log(f"imported {imported['imported']:,} inputs; deriving them in bulk")
    generated = derive_in_bulk(
        data / "stores" / "default" / "log.db", fingerprint, imported["first_seq"], imported["last_seq"], progress=log
    )
    log(f"generated: {generated}; replaying")
    _, cpu, replay = timed_json([str(MEMMAN), "events", "replay", "--json"], env)
    built.update(
        generated=generated,
        replay={"events": replay["events_applied"], "seconds": replay["seconds"],
                "rate": round(replay["events_applied"] / replay["seconds"], 1) if replay["seconds"] else None,
                "cpu_rate": round(replay["events_applied"] / (cpu / 1000), 1)},
        build_seconds=round(time.perf_counter() - started, 1),
        imported=imported["imported"] + SEED_DRAIN,
    )  # fmt: skip
    return built


def ensure_store(n: int, root: Path, seed: int, method: str) -> tuple[Path, dict]:
    workdir = root / f"n{n}-{method}"
    workdir.mkdir(parents=True, exist_ok=True)
    saved = workdir / "build.json"
    if saved.exists():
        built = json.loads(saved.read_text())
        if (built.get("size"), built.get("seed"), built.get("method")) == (n, seed, method):
            log(f"--- {n:,}: reusing the store in {workdir} (built in {built['build_seconds']} s)")
            return workdir, {**built, "reused": True}
    log(f"--- {n:,}: building ({method}) in {workdir}")
    built = build(n, workdir, seed, method)
    saved.write_text(json.dumps(built, indent=2))
    log(f"built in {built['build_seconds']} s")
    return workdir, built


# ---------------------------------------------------------------- measuring


def _hook(i: int) -> bytes:
    return json.dumps({"hook_event_name": "UserPromptSubmit", "session_id": "scale", "cwd": "/tmp",
                       "prompt": QUERIES[i % len(QUERIES)]}).encode()  # fmt: skip


def cold(env: dict[str, str], runs: int, as_of: str, baseline: str | None = None) -> dict:
    """Cold recall, --basic, --as-of and the hook, interleaved with the floor."""
    log("cold recall / --basic / --as-of / hook")
    out: dict = {}
    cases = {"recall": [], "recall_basic": ["--basic"], "recall_as_of": ["--as-of", as_of]}
    for q in range(len(QUERIES)):  # warm the page cache, once per query
        bench.run([str(MEMMAN), "recall", QUERIES[q]], env)
    samples = interleaved(
        {name: ([str(MEMMAN), "recall", "{q}", *extra], None) for name, extra in cases.items()}
        | {"hook": ([str(MEMMAN), "hook", "user-prompt-submit"], _hook)},
        env, runs, baseline,
    )  # fmt: skip
    out.update(samples)
    return out


def warm(env: dict[str, str], runs: int) -> dict:
    log("warm server: recall / --basic / hook")
    run_dir = bench.socket_dir("mms")
    server_env = {**env, "MEMMAN_SERVER": "auto", "XDG_RUNTIME_DIR": run_dir}
    try:
        bench.run([str(MEMMAN), "server", "start"], server_env)
        for i in range(3):
            bench.run([str(MEMMAN), "recall", QUERIES[i]], server_env)
            bench.run([str(MEMMAN), "hook", "user-prompt-submit"], server_env, _hook(i))
        out = interleaved(
            {
                "recall_warm": ([str(MEMMAN), "recall", "{q}"], None),
                "recall_basic_warm": ([str(MEMMAN), "recall", "--basic", "{q}"], None),
                "hook_warm": ([str(MEMMAN), "hook", "user-prompt-submit"], _hook),
                # what Claude Code runs per prompt: the installed shim (python -P -c, no console-script wrapper)
                "hook_shim_warm": (["sh", str(SHIM), "user-prompt-submit"], _hook),
                "remember_warm": ([str(MEMMAN), "remember", "Warm benchmark note {i}: the cache TTL is 5 minutes"], None),
            },
            {**server_env, "MEMMAN_PYTHON": str(PYTHON)}, runs,
        )  # fmt: skip
        state = run_json([str(MEMMAN), "server", "status", "--json"], server_env)
        if not state.get("running"):
            raise SystemExit(f"scale_bench: the warm server stopped: {state}")
        out["server_rss_mb"] = state.get("rss_mb")
        out["server_served"] = state.get("served")
    finally:
        subprocess.run([str(MEMMAN), "server", "stop"], env=server_env, capture_output=True)
        shutil.rmtree(run_dir, ignore_errors=True)
    return out


def drain_at_size(env: dict[str, str], workdir: Path, batch: int, seed: int, round_: int) -> dict:
    """Import `batch` fresh inputs into the big store and drain them: the per-input cost at this size."""
    path = workdir / f"drain-{round_}.jsonl"
    with path.open("w", encoding="utf-8") as f:
        for line in bench.synthetic(batch, seed + 1000 + round_):
            f.write(json.dumps(line) + "\n")
    run_json([str(MEMMAN), "import", str(path), "--json"], env)
    ms, cpu, out = timed_json([str(MEMMAN), "scheduler", "drain", "--json"], env)
    report = out["stores"][0]
    rate = round(report["processed"] / report["seconds"], 1) if report["seconds"] else None
    cpu_rate = round(report["processed"] / (cpu / 1000), 1) if cpu else None
    log(f"drain at size: {report['processed']} inputs in {report['seconds']} s ({rate}/s; {cpu_rate}/CPU-s)")
    return {"processed": report["processed"], "seconds": report["seconds"], "rate": rate, "wall_ms": round(ms, 1),
            "cpu_ms": round(cpu, 1), "cpu_rate": cpu_rate}  # fmt: skip


def store_facts(env: dict[str, str], data: Path) -> dict:
    status = run_json([str(MEMMAN), "status", "--json"], env)
    files = {p.name: p.stat().st_size for p in (data / "stores" / "default").iterdir() if p.is_file()}
    memories = sum(status["by_status"].values())
    total = sum(files.values())
    return {"memories": memories, "events": status["events"], "edges": status.get("edges"), "files": files,
            "bytes": total, "bytes_per_memory": round(total / memories) if memories else None}  # fmt: skip


def peer(binary: str, recall_tpl: str, remember_tpl: str, runs: int) -> dict:
    """The other executable's recall and remember, beside a floor of its own runs."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEMMAN_")}
    recall = [binary, *shlex.split(recall_tpl.replace("{query}", "{q}"))]
    remember = [binary, *shlex.split(remember_tpl.replace("{text}", "The peer benchmark note {i}"))]
    log(f"peer {binary}")
    return interleaved({"peer_recall": (recall, None), "peer_remember": (remember, None)}, env, runs)


def measure(n: int, workdir: Path, built: dict, args: argparse.Namespace, round_: int) -> dict:
    data = workdir / "data"
    env = env_for(data)
    result: dict = {"size": n, "build": built}
    as_of = bench._middle_at(workdir / "memories.jsonl")
    result["cold"] = cold(env, args.runs, as_of, args.baseline)
    if built["method"] == "drain" or args.replay:
        _, cpu, replay = timed_json([str(MEMMAN), "events", "replay", "--json"], env)
        result["replay"] = {"events": replay["events_applied"], "seconds": replay["seconds"],
                            "rate": round(replay["events_applied"] / replay["seconds"], 1) if replay["seconds"] else None,
                            "cpu_rate": round(replay["events_applied"] / (cpu / 1000), 1)}  # fmt: skip
    else:
        result["replay"] = built["replay"]
    log(f"replay: {result['replay']}")
    result["drain"] = drain_at_size(env, workdir, args.drain_batch, args.seed, round_)
    result["warm"] = warm(env, args.runs)  # after the drain: its remembers are not part of the drained batch
    log("remember")
    result["remember"] = interleaved(
        {"remember": ([str(MEMMAN), "remember", f"Scale benchmark note {round_}-{{i}}: the cache TTL is 5 minutes"], None)},
        env, args.runs, args.baseline,
    )  # fmt: skip
    result["store"] = store_facts(env, data)
    log(f"store: {result['store']['memories']:,} memories, {result['store']['bytes_per_memory']:,} bytes each")
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", required=True, help="where stores are built and cached (reused by later runs)")
    parser.add_argument("--sizes", default="10000,100000", help="comma-separated store sizes [10000,100000]")
    parser.add_argument("--runs", type=int, default=11, help="fresh processes per timed command [11]")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--drain-max", type=int, default=10_000, help="sizes up to this are drained for real [10000]")
    parser.add_argument("--drain-batch", type=int, default=300, help="inputs drained at each size [300]")
    parser.add_argument("--replay", action="store_true", help="also time a replay of generated stores (the build did one)")
    parser.add_argument("--json", dest="json_path", help="write every measurement here")
    parser.add_argument(
        "--baseline", metavar="TREE",
        help="also time the cold commands and remember from another source tree (e.g. `git worktree add TREE main`)",
    )  # fmt: skip
    parser.add_argument("--peer", help="another memman executable to time beside ours (optional)")
    parser.add_argument("--peer-recall", default="recall {query}", help="the peer's recall arguments [recall {query}]")
    parser.add_argument("--peer-remember", default="remember {text}", help="the peer's remember arguments")
    args = parser.parse_args(argv)
    try:
        sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        parser.error(f"--sizes must be comma-separated integers, not {args.sizes!r}")
    if not sizes or min(sizes) < 1 or args.runs < 1 or args.drain_batch < 1:
        parser.error("--sizes, --runs and --drain-batch must be positive")
    if args.baseline and not (Path(args.baseline) / "memman" / "entry.py").is_file():
        parser.error(f"--baseline {args.baseline}: not a memman source tree (no memman/entry.py)")
    if args.peer and shutil.which(args.peer) is None:
        parser.error(f"--peer {args.peer}: no such executable")
    if not MEMMAN.exists():
        parser.error(f"{MEMMAN} is missing; run 'make venv' first")
    bench.compile_bytecode()
    if args.baseline:
        import compileall

        for package in ("memman", "events", "projections", "workers"):
            compileall.compile_dir(str(Path(args.baseline) / package), quiet=1)
    root = Path(args.dir)
    meta = {
        "runs": args.runs, "drain_batch": args.drain_batch, "cpus": os.cpu_count(), "python": platform.python_version(),
        "commit": subprocess.run(["git", "describe", "--always", "--dirty"], cwd=bench.ROOT, capture_output=True, text=True).stdout.strip(),
        "load_before": round(os.getloadavg()[0], 1), "date": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "peer": args.peer,
    }  # fmt: skip
    results = []
    for n in sizes:
        method = "drain" if n <= args.drain_max else "generate"
        workdir, built = ensure_store(n, root, args.seed, method)
        rounds = workdir / "rounds"
        round_ = int(rounds.read_text()) + 1 if rounds.exists() else 1
        rounds.write_text(str(round_))
        result = measure(n, workdir, built, args, round_)
        if args.peer:
            result["peer"] = peer(args.peer, args.peer_recall, args.peer_remember, args.runs)
        results.append(result)
        if args.json_path:
            Path(args.json_path).write_text(json.dumps({"meta": meta, "results": results}, indent=2))
    meta["load_after"] = round(os.getloadavg()[0], 1)
    if args.json_path:
        Path(args.json_path).write_text(json.dumps({"meta": meta, "results": results}, indent=2))
    print(markdown(results, meta))


if __name__ == "__main__":
    main()
