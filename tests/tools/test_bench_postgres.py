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
    assert set(report["floor"]) == {"python -c pass", "python -c 'import psycopg'"}
