"""A team on one PostgreSQL store: 8 writer processes remember while 2
workers on two "machines" (separate data dirs, each with its own local
replica) drain at the same time. Nothing is lost, nothing is derived twice,
and both replicas end identical. A killed worker's claims are released by the
server, so the other worker derives what it was holding."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path

from tests.cli.conftest import Cli, distinct_texts

WRITERS = 8
PER_WRITER = 15
PER_INPUT = ["facts.extracted", "memory.reconciled", "memory.embedded", "edges.inferred"]

_WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from memman.service import Memman
    with Memman(Path(sys.argv[1]), "team") as app:
        for text in sys.argv[2:]:
            app.remember(text)
    """
)

_WORKER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from memman.operations.maintenance import drain_all
    stop = Path(sys.argv[2])
    while True:
        last = stop.exists()  # one more pass after the writers are done
        for report in drain_all(Path(sys.argv[1])):
            print(report.processed, flush=True)
        if last:
            break
        time.sleep(0.05)
    """
)


def _spawn(script: str, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", script, *args], cwd=Path(__file__).parents[2],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_eight_writers_and_two_workers_lose_and_duplicate_nothing(pg_dsn: str, tmp_path: Path) -> None:
    machines = [tmp_path / "a", tmp_path / "b"]
    for data_dir in machines:
        Cli(data_dir).ok("store", "create", "team", "--backend", pg_dsn)
    texts = distinct_texts(WRITERS * PER_WRITER)
    done = tmp_path / "writers-done"
    workers = [_spawn(_WORKER, str(d), str(done)) for d in machines]
    writers = [
        _spawn(_WRITER, str(machines[n % 2]), *texts[n * PER_WRITER : (n + 1) * PER_WRITER]) for n in range(WRITERS)
    ]
    for proc in writers:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err.decode()
    done.touch()
    drained = []
    for proc in workers:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err.decode()
        drained.append(sum(int(n) for n in out.split()))

    events = Cli(machines[0]).events(store="team")
    inputs = [e for e in events if e["type"] == "memory.remembered"]
    assert len(inputs) == len(texts)
    exported = [json.loads(line)["text"] for line in Cli(machines[1]).ok("--store", "team", "export").out.splitlines()]
    assert sorted(exported) == sorted(texts)  # every write, once, as a memory on the other machine too
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    derived = Counter((e["type"], e["causation"]) for e in events if e["causation"] is not None)
    assert all(derived[(kind, e["seq"])] == 1 for e in inputs for kind in PER_INPUT)  # each stage once per input
    assert sum(drained) == len(texts)  # the two workers shared the inputs, none twice
    views = [Cli(d).json("--store", "team", "status") for d in machines]
    assert [v["by_status"] for v in views] == [{"active": len(texts)}] * 2
    assert [v["backlog"] for v in views] == [0, 0]


_HOLDER = textwrap.dedent(
    """
    import sys, time
    from events.backends.postgres import PostgresEventLog
    from workers.claims import PgClaims
    claims = PgClaims(PostgresEventLog(sys.argv[1]))
    print(claims.claim([1], 0), flush=True)
    time.sleep(600)
    """
)


def test_a_killed_workers_claim_is_released_by_the_server(pg_dsn: str, tmp_path: Path) -> None:
    cli = Cli(tmp_path / "a")
    cli.ok("store", "create", "team", "--backend", pg_dsn)
    cli.ok("--store", "team", "remember", "The build cache lives on host heron")
    holder = _spawn(_HOLDER, pg_dsn)
    assert holder.stdout is not None and holder.stdout.readline().strip() == b"[1]"  # it holds input #1
    assert cli.json("--store", "team", "scheduler", "drain")["stores"][0]["processed"] == 0  # skipped, not waited for
    holder.send_signal(signal.SIGKILL)
    holder.communicate(timeout=30)
    deadline = time.monotonic() + 60
    while (report := cli.json("--store", "team", "scheduler", "drain")["stores"][0])["processed"] == 0:
        assert time.monotonic() < deadline, "the dead worker's claim was never released"
        time.sleep(0.2)  # the server notices the closed socket at once; allow for a loaded machine
    assert (report["processed"], report["completed"]) == (1, 1)


def _commits(dsn: str) -> int:
    """Transactions the server has committed in this test's database (every
    autocommit read is one, and so is every append)."""
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SELECT pg_stat_clear_snapshot()")
        row = conn.execute("SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()").fetchone()
    return int(row[0])


def test_a_worker_talks_to_the_server_per_chunk_not_per_input(pg_dsn: str, tmp_path: Path) -> None:
    """A chunk of inputs is claimed, read, appended and caught up in about
    ten round trips (docs/postgres.md, 'What a chunk costs'): a drain of 300
    inputs (3 chunks) commits far fewer transactions than it has inputs
    (every autocommit read is one, a chunk's append is one; 58 here: the
    drain's start and about a dozen per chunk). A read per input would
    commit 300 more."""
    cli = Cli(tmp_path / "a")
    cli.ok("store", "create", "team", "--backend", pg_dsn)
    lines = tmp_path / "inputs.jsonl"
    lines.write_text("".join(json.dumps({"text": t}) + "\n" for t in distinct_texts(300)), encoding="utf-8")
    cli.ok("--store", "team", "import", str(lines))
    before = _commits(pg_dsn)
    report = cli.json("--store", "team", "scheduler", "drain")["stores"][0]
    spent = _commits(pg_dsn) - before
    assert (report["processed"], report["completed"]) == (300, 300)
    assert 3 <= spent < 100, spent  # one transaction per input would be 300 or more
