"""`memman migrate` moves a store's log between SQLite and PostgreSQL and back:
the store keeps its name, recall answers the same, `events verify` is clean on
each side, the content hash is equal, a re-run copies nothing, a partial copy
resumes, a foreign target is refused and nothing calls a provider."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

import pytest

from events.backends.copy import content_hash, copy_log
from events.backends.postgres import PostgresEventLog
from events.log import EventLog
from tests.cli.conftest import Cli, assert_error, distinct_texts

QUERIES = ["kor service logs", "mel gardens", "pat"]


def _seeded(cli: Cli, count: int = 12) -> None:
    ids = [cli.remember(text) for text in distinct_texts(count)]
    cli.ok("scheduler", "drain")
    cli.ok("forget", ids[0])


def _answers(cli: Cli) -> list[list[tuple[str, str]]]:
    return [[(h["id"], h["status"]) for h in cli.json("recall", q, "--limit", "20")["results"]] for q in QUERIES]


def test_a_store_round_trips_sqlite_postgres_sqlite(cli: Cli, pg_dsn: str, data_dir: Path) -> None:
    _seeded(cli)
    events, answers = cli.events(), _answers(cli)
    store = data_dir / "stores" / "default"
    digest = content_hash(EventLog(store / "log.db"))

    up = cli.json("migrate", "--to", pg_dsn, env={"OPENAI_BASE_URL": "http://127.0.0.1:9/"})  # no provider reachable
    assert (up["events"], up["copied"], up["switched"], up["content_hash"]) == (len(events), len(events), True, digest)
    assert cli.json("status")["backend"].startswith("postgresql://")
    assert not (store / "log.db").exists() and list(store.glob("log.db.before-postgresql-*"))
    assert cli.events() == events and _answers(cli) == answers
    assert cli.json("events", "verify")["ok"] is True
    later = cli.remember("Written after the move to PostgreSQL")

    down = cli.json("migrate", "--to", "sqlite")
    assert (down["events"], down["copied"]) == (len(events) + 1, len(events) + 1)
    assert cli.json("status")["backend"] == "sqlite"
    assert cli.events()[:-1] == events
    assert [sorted(h for h in a if h[0] != later) for a in _answers(cli)] == [sorted(a) for a in answers]  # beside the new one (its scores may reorder)
    assert cli.json("recall", "written after the move")["results"][0]["id"] == later
    assert cli.json("events", "verify")["ok"] is True
    pg, lite = PostgresEventLog(pg_dsn), EventLog(store / "log.db")
    try:
        assert content_hash(pg) == content_hash(lite) == down["content_hash"]
    finally:
        pg.close()


def test_a_dry_run_changes_nothing_and_a_rerun_copies_nothing(cli: Cli, pg_dsn: str, data_dir: Path) -> None:
    _seeded(cli, 4)
    count = len(cli.events())
    dry = cli.json("migrate", "--to", pg_dsn, "--dry-run")
    assert (dry["events"], dry["copied"], dry["switched"]) == (count, count, False)
    assert cli.json("status")["backend"] == "sqlite"
    log = PostgresEventLog(pg_dsn, readonly=True)
    assert log.conn.execute("SELECT to_regclass('events')").fetchone()[0] is None  # not even the schema
    log.close()
    cli.ok("migrate", "--to", pg_dsn)
    assert_error(cli("migrate", "--to", pg_dsn), 2, contains=["is already on postgresql://"])
    lite = EventLog(next((data_dir / "stores" / "default").glob("log.db.before-postgresql-*")))
    pg = PostgresEventLog(pg_dsn)
    assert copy_log(lite, pg) == 0  # the copy itself is idempotent
    pg.close()


def test_a_partial_copy_resumes_where_it_stopped(cli: Cli, pg_dsn: str, data_dir: Path) -> None:
    """What a kill leaves behind: committed batches up to some seq."""
    _seeded(cli, 6)
    total = len(cli.events())
    pg = PostgresEventLog(pg_dsn)
    assert copy_log(EventLog(data_dir / "stores" / "default" / "log.db"), pg, upto=7) == 7
    pg.close()
    report = cli.json("migrate", "--to", pg_dsn)
    assert (report["events"], report["copied"]) == (total, total - 7)
    assert cli.json("events", "verify")["ok"] is True


def test_a_target_holding_another_log_is_refused(cli: Cli, pg_dsn: str, tmp_path: Path) -> None:
    other = Cli(tmp_path / "other")
    other.ok("store", "create", "x", "--backend", pg_dsn)
    other.ok("--store", "x", "remember", "Someone else's memory")
    cli.remember("Mine")
    assert_error(cli("migrate", "--to", pg_dsn), 2, contains=["already holds a different event log"])
    assert cli.json("status")["backend"] == "sqlite"


def test_the_old_sqlite_log_refuses_writes_after_the_switch(cli: Cli, pg_dsn: str, data_dir: Path) -> None:
    cli.remember("Before the move")
    cli.ok("migrate", "--to", pg_dsn)
    old = EventLog(next((data_dir / "stores" / "default").glob("log.db.before-postgresql-*")))
    from events.errors import LogError
    from events.types import MemoryRemembered

    with pytest.raises(LogError, match="moved to PostgreSQL"):
        old.append(MemoryRemembered(memory_id="X", text="lost?"))  # type: ignore[arg-type]


def test_migrate_bad_input(cli: Cli, data_dir: Path, pg_dsn: str) -> None:
    assert_error(cli("migrate"), 2, contains=["--to"])
    assert_error(cli("migrate", "--to", "mysql://x/y"), 2, "backend must be 'sqlite' or a postgresql:// URL")
    assert_error(cli("migrate", "--store", "nope", "--to", "sqlite"), 3, contains=["unknown store 'nope'"])
    cli.remember("Something")
    assert_error(cli("migrate", "--to", "sqlite"), 2, "store 'default' is already on sqlite")
    fd = os.open(data_dir / "drain.lock", os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        assert_error(cli("migrate", "--to", pg_dsn), 4, contains=["another drain is running"])
    finally:
        os.close(fd)
    assert cli.json("status")["backend"] == "sqlite"
