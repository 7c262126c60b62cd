"""What recall costs on a read-only store (NanoClaw's shared global store, a
read-only bind mount), next to the same recall on the writable store and a
bare `python -c pass`, all cold processes, medians.

A read-only store is read through a scratch copy (projections/store.py,
`StoreDB.read_only_view`). Two states are timed, because they cost
differently: the store fully drained (nothing to catch up), and the store
with one memory remembered after the last drain (pending work).

The read-only runs happen inside a private mount namespace (`unshare -m`, a
read-only bind mount of the data dir over itself), so it needs root in a
namespace-capable container or a user namespace; the writable runs use the
same files outside it.

    .venv/bin/python tools/bench_readonly.py                    # 1k and 10k, 9 runs
    .venv/bin/python tools/bench_readonly.py --sizes 1000 --runs 5 --keep /tmp/mm-ro
    .venv/bin/python tools/bench_readonly.py --source /tmp/old-checkout  # time another checkout's code

Bigger stores: `--sizes 100000` works the same way (the build takes minutes).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tools.bench import PYTHON, QUERIES, build, child_env, log, run, stats  # noqa: E402

SCRATCH_GLOB = "memman-readonly-*"


def _env(data_dir: Path, source: str | None) -> dict[str, str]:
    env = child_env(data_dir)
    env["MEMMAN_AUTODRAIN"] = "0"
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # the warm-up run writes bytecode: time what an install runs
    if source:
        env["PYTHONPATH"] = source  # shadows the editable install: time that checkout's code
    return env


def _cases(data_dir: Path) -> dict[str, list[str]]:
    return {
        "python -c pass": [str(PYTHON), "-c", "pass"],
        "recall": [str(PYTHON), "-m", "memman", "--data-dir", str(data_dir), "recall", "{query}", "--json"],
    }


def inner(data_dir: Path, runs: int, out: Path) -> None:
    """Inside the namespace: the store is mounted read-only here."""
    env = _env(data_dir, os.environ.get("BENCH_SOURCE"))
    probe = data_dir / "stores" / "default" / ".probe"
    try:
        probe.touch()
    except OSError:
        pass  # read-only, as it should be
    else:
        probe.unlink()
        raise SystemExit("bench: the store is writable inside the namespace; the mount did not take")
    out.write_text(json.dumps(_time(data_dir, env, runs)))


def _time(data_dir: Path, env: dict[str, str], runs: int) -> dict[str, list[float]]:
    cases = _cases(data_dir)
    samples: dict[str, list[float]] = {name: [] for name in cases}
    for argv in cases.values():  # warm the page cache
        run([a.replace("{query}", QUERIES[0]) for a in argv], env)
    for i in range(runs):  # interleaved, so drift in machine load hits all alike
        for name, argv in cases.items():
            ms, _ = run([a.replace("{query}", QUERIES[i % len(QUERIES)]) for a in argv], env)
            samples[name].append(ms)
    return samples


def read_only(data_dir: Path, runs: int, source: str | None) -> dict[str, list[float]]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "samples.json"
        me = shlex.join([str(PYTHON), __file__, "--inner", str(data_dir), "--runs", str(runs), "--out", str(out)])
        d = shlex.quote(str(data_dir))
        script = f"mount --bind {d} {d} && mount -o remount,ro,bind {d} {d} && exec {me}"
        env = {**os.environ, **({"BENCH_SOURCE": source} if source else {})}
        proc = subprocess.run(["unshare", "-m", "sh", "-c", script], env=env, capture_output=True)
        if proc.returncode != 0:
            raise SystemExit(f"bench: the read-only run failed: {proc.stderr.decode(errors='replace')}")
        return json.loads(out.read_text())


def measure(n: int, workdir: Path, runs: int, source: str | None) -> dict[str, object]:
    workdir.mkdir(parents=True, exist_ok=True)
    data_dir = workdir / "data"
    env = _env(data_dir, source)
    build(n, workdir, 42, env)
    sizes = {p.name: p.stat().st_size for p in (data_dir / "stores" / "default").iterdir() if p.is_file()}
    result: dict[str, object] = {"size": n, "store_mb": round(sum(sizes.values()) / 1e6, 1)}
    for state in ("drained", "one pending"):
        if state == "one pending":
            run([str(PYTHON), "-m", "memman", "remember", "The kiosk fleet reboots at 04:00 on Sundays"], env)
        writable = _time(data_dir, env, runs)
        ro = read_only(data_dir, runs, source)
        floor = stats(writable["python -c pass"] + ro["python -c pass"])["median"]
        row = {
            "python -c pass": floor,
            "recall writable": stats(writable["recall"])["median"],
            "recall read-only": stats(ro["recall"])["median"],
        }
        row["read-only / writable"] = round(row["recall read-only"] / row["recall writable"], 2)
        row["read-only / python -c pass"] = round(row["recall read-only"] / floor, 1)
        result[state] = row
        log(f"{n:,} {state}: {row}")
    return result


def table(results: list[dict[str, object]]) -> str:
    lines = ["| memories | store | state | python -c pass | recall, writable | recall, read-only | ratio |",
             "|---:|---:|---|---:|---:|---:|---:|"]
    for r in results:
        for state in ("drained", "one pending"):
            row = r[state]
            assert isinstance(row, dict)
            lines.append(
                f"| {r['size']:,} | {r['store_mb']} MB | {state} | {row['python -c pass']:.0f} ms |"
                f" {row['recall writable']:.0f} ms | {row['recall read-only']:.0f} ms | x{row['read-only / writable']} |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--keep", type=Path, help="work here (kept) instead of a temporary directory")
    parser.add_argument("--source", help="a checkout whose code the memman processes run (PYTHONPATH)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--inner", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inner:
        os.chdir(args.inner)
        inner(args.inner, args.runs, args.out)
        return
    if shutil.which("unshare") is None:
        raise SystemExit("bench: needs unshare (util-linux) and the right to mount in a namespace")
    base = args.keep or Path(tempfile.mkdtemp(prefix="mm-ro-bench-"))
    base.mkdir(parents=True, exist_ok=True)
    os.chdir(base)  # `python -m memman` puts the cwd first on sys.path: never the checkout's, so --source holds
    try:
        results = [measure(int(n), base / str(n), args.runs, args.source) for n in args.sizes.split(",")]
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    print(table(results))


if __name__ == "__main__":
    main()
