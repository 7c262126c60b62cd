"""What recall costs on a read-only store (NanoClaw's shared global store, a
read-only bind mount), next to the same recall on the writable store and a
bare `python -c pass`: cold processes, medians, every case interleaved so
drift in the machine's load hits all alike.

A read-only store is read through a scratch copy (projections/scratch.py).
Three read-only figures matter:

    recall, read-only                       the log unchanged since the last read
    recall, read-only, first after a write  the host has just remembered something

Inside a private mount namespace (`unshare -m`) the data dir is bind-mounted
read-only at a second path (the reader's view) while the original stays
writable (the host), so the host can write between reads. Needs root in a
namespace-capable container (or a user namespace that allows mounts).

    .venv/bin/python tools/bench_readonly.py                    # 1k and 10k, 9 rounds
    .venv/bin/python tools/bench_readonly.py --sizes 1000 --runs 5 --keep /tmp/mm-ro
    .venv/bin/python tools/bench_readonly.py --baseline /tmp/old-checkout  # that code too, same stores

Bigger stores: `--sizes 100000` works the same way (the build takes many minutes).
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

CASES = ("python -c pass", "recall, writable", "recall, read-only", "recall, read-only, first after a write")


def _env(data_dir: Path, source: str | None) -> dict[str, str]:
    env = child_env(data_dir)
    env["MEMMAN_AUTODRAIN"] = "0"
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # the warm-up run writes bytecode: time what an install runs
    if source:
        env["PYTHONPATH"] = source  # shadows the editable install: time that checkout's code
    return env


def _recall(data_dir: Path, query: str) -> list[str]:
    return [str(PYTHON), "-m", "memman", "--data-dir", str(data_dir), "recall", query, "--json"]


def inner(data_dir: Path, view: Path, runs: int, out: Path) -> None:
    """Inside the namespace: `view` is the data dir mounted read-only, `data_dir`
    the same files writable (the host)."""
    env = _env(data_dir, os.environ.get("BENCH_SOURCE"))
    env["TMPDIR"] = str(out.parent)  # the scratch copies go away with the run
    probe = view / "stores" / "default" / ".probe"
    try:
        probe.touch()
    except OSError:
        pass  # read-only, as it should be
    else:
        probe.unlink()
        raise SystemExit("bench: the view is writable inside the namespace; the mount did not take")
    samples: dict[str, list[float]] = {name: [] for name in CASES}
    run(_recall(data_dir, QUERIES[0]), env)  # warm the page cache and the bytecode, make the first copy
    run(_recall(view, QUERIES[0]), env)
    for i in range(runs):
        query = QUERIES[i % len(QUERIES)]
        samples["python -c pass"].append(run([str(PYTHON), "-c", "pass"], env)[0])
        samples["recall, writable"].append(run(_recall(data_dir, query), env)[0])
        samples["recall, read-only"].append(run(_recall(view, query), env)[0])
        host = [str(PYTHON), "-m", "memman", "--data-dir", str(data_dir), "remember", f"The kiosk {i} reboots at 04:00"]
        run(host, env)
        samples["recall, read-only, first after a write"].append(run(_recall(view, query), env)[0])
    out.write_text(json.dumps(samples))


def measure(n: int, workdir: Path, runs: int, sources: list[str | None]) -> list[dict[str, object]]:
    """One store of `n` memories, timed under each code version in `sources`
    (None: this checkout) in turn."""
    workdir.mkdir(parents=True, exist_ok=True)
    data_dir = workdir / "data"
    build(n, workdir, 42, _env(data_dir, None))
    sizes = {p.name: p.stat().st_size for p in (data_dir / "stores" / "default").iterdir() if p.is_file()}
    view = workdir / "view"
    view.mkdir()
    results = []
    for source in sources:
        samples = _in_namespace(data_dir, view, workdir, runs, source)
        row = {name: stats(samples[name])["median"] for name in CASES}
        log(f"{n:,} ({source or 'this checkout'}): {row}")
        results.append({"size": n, "code": source or "this checkout",
                        "store_mb": round(sum(sizes.values()) / 1e6, 1), "medians_ms": row, "samples": samples})
    return results


def _in_namespace(data_dir: Path, view: Path, workdir: Path, runs: int, source: str | None) -> dict[str, list[float]]:
    out = Path(tempfile.mkdtemp(prefix="tmp-", dir=workdir)) / "samples.json"
    me = shlex.join([str(PYTHON), __file__, "--inner", str(data_dir), "--view", str(view),
                     "--runs", str(runs), "--out", str(out)])
    d, v = shlex.quote(str(data_dir)), shlex.quote(str(view))
    script = f"mount --bind {d} {v} && mount -o remount,ro,bind {v} && exec {me}"
    env = {**os.environ, **({"BENCH_SOURCE": source} if source else {})}
    proc = subprocess.run(["unshare", "-m", "sh", "-c", script], env=env, capture_output=True)
    if proc.returncode != 0:
        raise SystemExit(f"bench: the read-only run failed: {proc.stderr.decode(errors='replace')}")
    samples = json.loads(out.read_text())
    shutil.rmtree(out.parent, ignore_errors=True)  # the scratch copies made under it
    return samples


def table(results: list[dict[str, object]]) -> str:
    lines = ["| memories | store | code | " + " | ".join(CASES) + " |", "|---:|---:|---|" + "---:|" * len(CASES)]
    for r in results:
        row = r["medians_ms"]
        assert isinstance(row, dict)
        cells = " | ".join(f"{row[c]:.0f} ms" for c in CASES)
        lines.append(f"| {r['size']:,} | {r['store_mb']} MB | {r['code']} | {cells} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--runs", type=int, default=9, help="interleaved rounds per size")
    parser.add_argument("--keep", type=Path, help="work here (kept) instead of a temporary directory")
    parser.add_argument("--baseline", help="also time this checkout's code (PYTHONPATH), first, on the same stores")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--inner", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--view", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inner:
        os.chdir(args.out.parent)  # `python -m` puts the cwd first on sys.path: never the checkout
        inner(args.inner, args.view, args.runs, args.out)
        return
    if shutil.which("unshare") is None:
        raise SystemExit("bench: needs unshare (util-linux) and the right to mount in a namespace")
    base = args.keep or Path(tempfile.mkdtemp(prefix="mm-ro-bench-"))
    base.mkdir(parents=True, exist_ok=True)
    os.chdir(base)  # `python -m memman` puts the cwd first on sys.path: never the checkout's, so --source holds
    try:
        sources = [args.baseline, None] if args.baseline else [None]
        results = [r for n in args.sizes.split(",") for r in measure(int(n), base / str(n), args.runs, sources)]
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    print(table(results))


if __name__ == "__main__":
    main()
