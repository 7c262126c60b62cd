"""Round-trip a drained store SQLite -> PostgreSQL -> SQLite and check it.

Builds a store of N synthetic memories (tools/bench.py's corpus: import, then
drain), records the answers to tools/bench.py's queries (hybrid and keyword),
migrates it to PostgreSQL, re-asks, migrates it back, re-asks, and checks at
each step: the answers identical, `events verify` clean, the event count and
content hash equal. Times each migrate. Exits 1 on any difference.

    .venv/bin/python tools/migrate_roundtrip.py                 # 10k memories, embedded server
    .venv/bin/python tools/migrate_roundtrip.py --size 1000
    .venv/bin/python tools/migrate_roundtrip.py --dsn postgresql://me@db/empty_database
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tools")]

import bench  # noqa: E402
from bench_postgres import Server  # noqa: E402


def ask(env: dict[str, str]) -> list[list[str]]:
    answers = []
    for query in bench.QUERIES:
        for extra in ([], ["--basic"]):
            _, out = bench.run([str(bench.MEMMAN), "recall", query, "--limit", "20", "--json", *extra], env)
            answers.append([hit["id"] for hit in json.loads(out)["results"]])
    return answers


def step(env: dict[str, str], *args: str) -> dict:
    ms, out = bench.run([str(bench.MEMMAN), *args, "--json"], env)
    return {**json.loads(out), "wall_ms": round(ms)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--dsn", default=None)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    server = Server(args.dsn)
    failures: list[str] = []
    try:
        with tempfile.TemporaryDirectory(prefix="memman-mig-") as tmp:
            env = {**bench.child_env(Path(tmp) / "data"), "MEMMAN_STORE": "default"}  # not a checkout's project store
            corpus = Path(tmp) / "corpus.jsonl"
            bench.write_jsonl(corpus, args.size, args.seed)
            step(env, "import", str(corpus))
            step(env, "scheduler", "drain")
            before, status = ask(env), step(env, "status")
            dsn = args.dsn or server.database()
            report: dict = {"size": args.size, "events": status["events"]}
            for label, target in (("to_postgresql", dsn), ("to_sqlite", "sqlite")):
                moved = step(env, "migrate", "--to", target)
                verify = step(env, "events", "verify")
                now = ask(env)
                report[label] = {k: moved[k] for k in ("events", "copied", "content_hash", "seconds", "wall_ms")}
                report[label]["verify_ok"] = verify["ok"]
                report[label]["same_answers"] = now == before
                if not verify["ok"] or now != before or moved["events"] != status["events"]:
                    failures.append(f"{label}: verify {verify['ok']}, answers same {now == before}")
            if report["to_postgresql"]["content_hash"] != report["to_sqlite"]["content_hash"]:
                failures.append("content hashes differ between the two directions")
            bench.log(json.dumps(report))
            print(json.dumps(report, indent=2))
    finally:
        server.stop()
    if failures:
        raise SystemExit("migrate round trip FAILED: " + "; ".join(failures))


if __name__ == "__main__":
    main()
