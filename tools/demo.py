"""`make demo`: a short end-to-end tour of memman on the built-in defaults.

Runs the real `memman` CLI against a throwaway data dir (or --data-dir DIR),
with no keys and no network, and prints each command before its output:
remember -> recall (pending) -> drain -> recall (keyword and paraphrase) ->
update by value -> forget/restore -> replay -> verify -> log.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

MEMMAN = [sys.executable, "-m", "memman"]


def run(env: dict[str, str], *args: str, show: bool = True) -> str:
    if show:
        print(f"\n$ memman {shlex.join(args)}")
    proc = subprocess.run([*MEMMAN, *args], capture_output=True, text=True, env=env)
    if show:
        sys.stdout.write(proc.stdout)
        sys.stdout.write(proc.stderr)
    if proc.returncode != 0:
        raise SystemExit(f"demo step failed (exit {proc.returncode}): memman {shlex.join(args)}")
    return proc.stdout


def tour(data_dir: Path) -> None:
    # The tour runs each drain itself to show its effect, so the automatic
    # background drain (which a remember would start) must not race it.
    env = {**os.environ, "MEMMAN_DATA_DIR": str(data_dir), "MEMMAN_AUTODRAIN": "0"}
    env.pop("MEMMAN_STORE", None)
    print(f"# data dir: {data_dir}")
    remember = lambda *a: json.loads(run(env, "remember", *a, "--json"))["id"]  # noqa: E731
    remember("Chose SQLite for the event log: zero dependencies, embeddable", "--cat", "decision", "--source", "user")
    remember("Alice prefers small pull requests, reviewed the same day", "--source", "user")
    remember("The API gateway timeout is 30s")
    remember("Deployments go through GitHub Actions on every merge to main")
    print("\n# Recall works at once, before the worker runs (marked pending):")
    run(env, "recall", "SQLite")
    print("\n# The background worker extracts facts and entities, reconciles, embeds and links:")
    run(env, "scheduler", "drain")
    run(env, "recall", "why did we pick sqlite")
    print("\n# A paraphrase with no keyword in common still finds the memory (local static embedder):")
    run(env, "recall", "how do we ship code to production", "--limit", "1")
    print("\n# A changed value supersedes the old memory, which stays in history:")
    remember("The API gateway timeout is 60s")
    run(env, "scheduler", "drain")
    run(env, "recall", "gateway timeout")
    print("\n# Forget is an event, so it can be undone:")
    alice = json.loads(run(env, "recall", "pull requests", "--json", show=False))["results"][0]["id"]
    run(env, "forget", alice, "--reason", "demo")
    run(env, "recall", "pull requests")
    run(env, "restore", alice)
    print("\n# Projections are rebuilt from the log with zero model calls, and verified:")
    run(env, "events", "replay")
    run(env, "events", "verify")
    run(env, "status")
    print("\n# The audit trail of one memory: input, extracted facts, decision, embedding, edges:")
    run(env, "log", "--memory", alice)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, help="keep the demo store here instead of a temp dir")
    args = parser.parse_args()
    if args.data_dir:
        tour(args.data_dir.resolve())
    else:
        with tempfile.TemporaryDirectory(prefix="memman-demo-") as tmp:
            tour(Path(tmp))
    print("\ndemo finished: every step ran offline on the built-in defaults.")


if __name__ == "__main__":
    main()
