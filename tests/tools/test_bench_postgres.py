"""tools/bench_postgres.py --generated at a tiny size, against the session's
server: the store is built through the events API into PostgreSQL, a second
data dir catches up from zero, and every figure the docs quote is reported."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_tiny_generated_postgres_store_is_built_joined_and_timed(tmp_path: Path, pg_server) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "pg.json"
    subprocess.run(
        [sys.executable, str(ROOT / "tools" / "bench_postgres.py"), "--generated", "--sizes", "260", "--runs", "1",
         "--drain-size", "0", "--dsn", pg_server.admin_dsn, "--json", str(out)],
        check=True, capture_output=True, timeout=900,
    )  # fmt: skip
    report = json.loads(out.read_text())["sizes"]["260"]
    build = report["build"]["postgresql"]
    assert build["memories"] == 260 and build["generated"]["inputs"] == 60  # 260 - the 200 drained for real
    assert build["events"] > 4 * 260  # the input and its derivations, for every memory
    assert build["join"]["first_status_ms"] > 0 and build["bytes"]["replica"] > 0
    assert build["bytes"]["server"]["log_tables"] > 0
    assert set(report["postgresql"]) == {"remember", "recall", "recall_basic", "recall_warm"}
    assert set(report["server_reads"]) == {"remember", "recall", "recall_basic"}  # no replica, no warm server
    assert report["build"]["server_reads"]["rows"]["memories"] >= 260
    assert set(report["floor"]) == {"python -c pass", "python -c 'import psycopg'"}


def test_the_drain_workers_bench_reports_each_worker_and_the_sqlite_reference(tmp_path: Path, pg_server) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "drain.json"
    subprocess.run(
        [sys.executable, str(ROOT / "tools" / "bench_postgres.py"), "--drain-only", "--drain-size", "120",
         "--workers", "1,2", "--dsn", pg_server.admin_dsn, "--json", str(out)],
        check=True, capture_output=True, timeout=900,
    )  # fmt: skip
    report = json.loads(out.read_text())
    assert report["sizes"] == {}
    sqlite, one, two = report["drain"]
    assert sqlite["backend"] == "sqlite" and sqlite["processed"] == [120]
    assert (one["workers"], one["processed"]) == (1, [120])
    assert two["workers"] == 2 and len(two["processed"]) == 2 and sum(two["processed"]) == 120  # none twice
    for run in (sqlite, one, two):
        assert run["inputs"] == 120 and run["rate"] > 0 and run["cpu_rate"] > 0
        assert len(run["worker_cpu_s"]) == len(run["worker_seconds"]) == run["workers"]
    assert two["server_cpu_s"] is None  # a server given by --dsn: its CPU is not this bench's to read
    assert report["lock"]["n"] == 200
