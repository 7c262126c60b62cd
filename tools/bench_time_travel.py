"""Time travel, measured: `recall --as-of` and `recall --known-at` latency,
whole process, at any store size, beside plain `recall` and a bare
`python -c pass` timed in the same run.

Stores hold tools/bench.py's synthetic agent memories (same generator and seed,
so a smaller store is a prefix of a larger one). Two ways to build one:

    --build drain   `memman import` + `memman scheduler drain`: the real path,
                    what tools/bench.py does (minutes at 10k on 2 cores).
    --build log     the log a drain would have written, appended through the
                    events API (events/log/ `EventLog.append_many`), then
                    `memman events replay` builds every projection. Per memory:
                    memory.remembered (occurred at its `at`), facts.extracted
                    (one fact, the rule extractor's entities), memory.reconciled
                    (ADD; every UPDATE_EVERY-th memory an UPDATE of an earlier
                    memory of the same template, so status and validity have
                    history), memory.embedded (the static embedder, batched),
                    edges.inferred (none: recall reads no edges by default). The
                    log is written in chunks, a remember chunk then its
                    derivations, with a clock one second apart per chunk, so the
                    middle of the log is a store half drained. This is how a
                    100k store is built here: draining 100k takes most of an hour
                    on 2 cores (docs/measured-costs.md), writing the log and
                    replaying it a few minutes.

Timed, each a fresh `.venv/bin/memman` process, questions rotating:
`python -c pass`, `recall`, `recall --as-of` (the median `at` of the store's
history: valid time), `recall --known-at` (the recorded time of the log's
middle event: transaction time), and both together. Medians of wall time and
of the process's CPU time (user + system): on a shared, loaded machine the
wall time is mostly waiting for a core, the CPU time is the work.

    .venv/bin/python tools/bench_time_travel.py --sizes 1000,10000
    .venv/bin/python tools/bench_time_travel.py --sizes 100000 --build log --keep /tmp/tt
    .venv/bin/python tools/bench_time_travel.py --sizes 100000 --keep /tmp/tt --reuse   # re-time only

Figures go to docs/time.md and the README.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tools.bench import MEMMAN, PYTHON, QUERIES, child_env, log, run, stats, synthetic, timed_child  # noqa: E402

CHUNK = 2000  # memories per remember chunk (and its derivations)
UPDATE_EVERY = 25  # every 25th memory supersedes an earlier one
STORE = "default"


class _Clock:
    """The log's clock: one second per chunk, from a fixed start."""

    def __init__(self) -> None:
        self.now = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def tick(self) -> None:
        self.now += timedelta(seconds=1)


def _parse(at: str) -> datetime:
    return datetime.strptime(at, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)


def _derived(lines: list[dict], ids: list[str], seqs: list[int], earlier: dict[str, str], embedder) -> Iterator:  # type: ignore[no-untyped-def]
    """The events a drain writes for one chunk of remembered inputs. `earlier`
    maps a text's first two words to the last memory that began with them: the
    one an UPDATE supersedes."""
    from events.log import NewEvent
    from events.types import Decision, Fact, FactsExtracted, MemoryEmbedded, MemoryReconciled, Provenance, Vector
    from events.types import EdgesInferred
    from projections.vectors import encode
    from workers.stages.extract import extract_entities

    matrix = embedder.embed([line["text"] for line in lines])
    fp = embedder.fingerprint
    rules = Provenance(implementation="rules", version="2")
    for n, (line, memory_id, seq) in enumerate(zip(lines, ids, seqs, strict=True)):
        fact = Fact(memory_id=memory_id, text=line["text"], category=line.get("cat", "general"),
                    importance=line.get("imp", 3), entities=line.get("entities") or extract_entities(line["text"]))  # fmt: skip
        template = " ".join(line["text"].split()[:2])
        target = earlier.get(template) if seq % UPDATE_EVERY == 0 else None
        decision = Decision(memory_id=memory_id, action="UPDATE" if target else "ADD", target=target,
                            reason="generated" if target else "")  # fmt: skip
        earlier[template] = memory_id
        yield NewEvent(event=FactsExtracted(input_id=memory_id, facts=[fact], provenance=rules), actor="drain",
                       causation=seq, stage="extract")  # fmt: skip
        yield NewEvent(event=MemoryReconciled(input_id=memory_id, decisions=[decision], provenance=rules),
                       actor="drain", causation=seq, stage="reconcile")  # fmt: skip
        vector = Vector(memory_id=memory_id, data=encode(matrix[n]))
        yield NewEvent(event=MemoryEmbedded(fingerprint=fp.key, dim=fp.dim, vectors=[vector],
                                            provenance=Provenance(implementation=fp.provider, model=fp.model,
                                                                  fingerprint=fp.key)),
                       actor="drain", causation=seq, stage=f"embed:{fp.key}")  # fmt: skip
        yield NewEvent(event=EdgesInferred(edges=[], provenance=rules, input_id=memory_id), actor="drain",
                       causation=seq, stage="edges")  # fmt: skip


def build_log(n: int, workdir: Path, seed: int) -> dict:
    """Write the log of `n` drained memories through the events API, then replay it."""
    from events.ids import UlidFactory
    from events.log import EventLog, NewEvent
    from events.types import MemoryRemembered, StoreConfigured
    from workers.embedders.static import StaticEmbedder

    store = workdir / "data" / "stores" / STORE
    store.mkdir(parents=True)
    clock, ids, embedder = _Clock(), UlidFactory(), StaticEmbedder.load()
    event_log = EventLog(store / "log.db", clock=clock)
    started = time.perf_counter()
    event_log.append(StoreConfigured(setting="embedder", value=embedder.fingerprint.key), actor="drain")
    lines = list(synthetic(n, seed))
    earlier: dict[str, str] = {}
    for start in range(0, n, CHUNK):
        chunk = lines[start : start + CHUNK]
        clock.tick()
        minted = [ids.mint(clock()) for _ in chunk]
        remembered = event_log.append_many([
            NewEvent(event=MemoryRemembered(memory_id=i, text=x["text"], category=x.get("cat", "general"),
                                            importance=x.get("imp", 3), entities=x.get("entities", []),
                                            source=x.get("source", "agent")),
                     actor="import", occurred_at=_parse(x["at"]))
            for i, x in zip(minted, chunk, strict=True)
        ])  # fmt: skip
        clock.tick()
        event_log.append_many(list(_derived(chunk, minted, [r.seq for r in remembered], earlier, embedder)))
    events = event_log.count()
    event_log.close()
    written = time.perf_counter() - started
    log(f"log: {events:,} events for {n:,} memories written in {written:.1f} s")
    ms, out = run([str(MEMMAN), "events", "replay", "--json"], child_env(workdir / "data"))
    log(f"replay: {json.loads(out)['events_applied']:,} events in {ms / 1000:.1f} s")
    _history(workdir, lines)
    return {"size": n, "seed": seed, "build": "log", "events": events, "write_s": round(written, 1), "replay_ms": round(ms)}


def build_drain(n: int, workdir: Path, seed: int) -> dict:
    """`memman import` then `memman scheduler drain`, as an agent's store is built."""
    lines = list(synthetic(n, seed))
    source = workdir / "memories.jsonl"
    source.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines), encoding="utf-8")
    env = child_env(workdir / "data")
    imported, _ = run([str(MEMMAN), "import", str(source)], env)
    drained, _ = run([str(MEMMAN), "scheduler", "drain"], env)
    log(f"import {imported / 1000:.1f} s, drain {drained / 1000:.1f} s")
    _history(workdir, lines)
    return {"size": n, "seed": seed, "build": "drain", "import_ms": round(imported), "drain_ms": round(drained)}


def _history(workdir: Path, lines: list[dict]) -> None:
    times = sorted(x["at"] for x in lines)
    (workdir / "history.json").write_text(json.dumps({"middle_at": times[len(times) // 2]}))


def _middle_recorded(workdir: Path) -> str:
    import apsw

    conn = apsw.Connection(str(workdir / "data" / "stores" / STORE / "log.db"), flags=apsw.SQLITE_OPEN_READONLY)
    try:
        (head,) = conn.execute("SELECT max(seq) FROM events").fetchone()
        (at,) = conn.execute("SELECT recorded_at FROM events WHERE seq = ?", (head // 2,)).fetchone()
        return str(at)
    finally:
        conn.close()


def time_size(workdir: Path, runs: int) -> dict:
    env = child_env(workdir / "data")
    as_of = json.loads((workdir / "history.json").read_text())["middle_at"]
    known_at = _middle_recorded(workdir)
    rows = {
        "python -c pass": lambda i: [str(PYTHON), "-c", "pass"],
        "recall": lambda i: [str(MEMMAN), "recall", QUERIES[i % len(QUERIES)]],
        "recall --as-of": lambda i: [str(MEMMAN), "recall", QUERIES[i % len(QUERIES)], "--as-of", as_of],
        "recall --known-at": lambda i: [str(MEMMAN), "recall", QUERIES[i % len(QUERIES)], "--known-at", known_at],
        "recall --as-of --known-at": lambda i: [str(MEMMAN), "recall", QUERIES[i % len(QUERIES)], "--as-of", as_of,
                                                 "--known-at", known_at],
    }  # fmt: skip
    load = os.getloadavg()[0]
    for argv in rows.values():  # warm the page cache once
        run(argv(0), env)
    samples: dict[str, list[float]] = {name: [] for name in rows}
    cpu: dict[str, list[float]] = {name: [] for name in rows}
    for i in range(runs):  # interleaved, so drift in machine load hits every row alike
        for name, argv in rows.items():
            wall, used = timed_child(argv(i), env)
            samples[name].append(wall)
            cpu[name].append(used)
    out = {name: stats(s) for name, s in samples.items()}
    out_cpu = {name: stats(s) for name, s in cpu.items()}
    bare = out["python -c pass"]["median"]
    for name, s in out.items():
        log(f"{name}: median {s['median']:.1f} ms wall ({s['median'] / bare:.1f}x python -c pass),"
            f" {out_cpu[name]['median']:.1f} ms CPU")
    hits = json.loads(run([str(MEMMAN), "recall", QUERIES[0], "--as-of", as_of, "--json"], env)[1])
    return {"as_of": as_of, "known_at": known_at, "timings": out, "cpu": out_cpu, "as_of_results": len(hits["results"]),
            "load_before_after": [round(load, 1), round(os.getloadavg()[0], 1)]}


def markdown(results: list[dict]) -> str:
    """Wall medians (CPU medians in brackets), and the ratios that survive a loaded machine."""
    head = ("| store | built by | `python -c pass` | `recall` | `--as-of` | `--known-at` | both"
            " | as-of / recall | known-at / recall | load |")  # fmt: skip
    out = [head, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    rows = ("python -c pass", "recall", "recall --as-of", "recall --known-at", "recall --as-of --known-at")
    for r in results:
        t = {k: v["median"] for k, v in r["timings"].items()}
        c = {k: v["median"] for k, v in r.get("cpu", {}).items()}
        cells = " | ".join(f"{t[k]:,.0f} ms" + (f" ({c[k]:,.0f})" if k in c else "") for k in rows)
        load = "/".join(str(x) for x in r.get("load_before_after", []))
        out.append(
            f"| {r['size']:,} | {r['build']} | {cells} | {t['recall --as-of'] / t['recall']:.2f}"
            f" | {t['recall --known-at'] / t['recall']:.2f} | {load} |"
        )
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--build", choices=("drain", "log"), default="drain")
    parser.add_argument("--runs", type=int, default=9, help="fresh processes per timed row [9]")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--keep", metavar="DIR", help="build under DIR and keep the stores")
    parser.add_argument("--reuse", action="store_true", help="with --keep: time the stores built earlier")
    parser.add_argument("--json", dest="json_path", metavar="FILE")
    args = parser.parse_args()
    root = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="memman-tt-"))
    results = []
    try:
        for n in [int(x) for x in args.sizes.split(",") if x.strip()]:
            workdir = root / f"{args.build}-{n}"
            saved = workdir / "build.json"
            if args.reuse and saved.exists():
                built = json.loads(saved.read_text())
            else:
                shutil.rmtree(workdir, ignore_errors=True)
                workdir.mkdir(parents=True)
                log(f"--- building {n:,} memories ({args.build}) in {workdir}")
                built = (build_log if args.build == "log" else build_drain)(n, workdir, args.seed)
                saved.write_text(json.dumps(built))
            results.append({**built, **time_size(workdir, args.runs)})
        table = markdown(results)
        print(table)
        if args.json_path:
            Path(args.json_path).write_text(json.dumps({"results": results, "table": table}, indent=2))
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
