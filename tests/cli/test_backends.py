"""The same CLI scenarios pass whichever backend holds the log: a store
created on SQLite (the default) and one created on PostgreSQL (the session's
embedded server) behave alike through remember, recall, forget/restore,
drain, replay, verify, log and status. For PostgreSQL the projections are a
local SQLite replica that tails the shared log (docs/postgres.md)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.conftest import Cli, Result, assert_error, log_holding


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "sqlite":
        return "sqlite"
    return request.getfixturevalue("pg_dsn")


@pytest.fixture
def team(cli: Cli, backend: str) -> Cli:
    """A store `team` on the backend, in use."""
    cli.ok("store", "create", "team", "--backend", backend)
    cli.ok("store", "use", "team")
    return cli


def _ids(cli: Cli, query: str, *args: str) -> list[str]:
    return [h["id"] for h in cli.json("recall", query, *args)["results"]]


def test_remember_recall_forget_restore_drain(team: Cli) -> None:
    cli = team
    first = cli.remember("The staging database lives on host sparrow")
    second = cli.remember("Deploys happen on Tuesday afternoons")
    hits = cli.json("recall", "staging database")["results"]
    assert [(h["id"], h["status"]) for h in hits] == [(first, "pending")]  # read-your-own-writes
    drained = cli.json("scheduler", "drain")["stores"][0]
    assert (drained["store"], drained["processed"], drained["completed"]) == ("team", 2, 2)
    assert _ids(cli, "staging database")[0] == first
    assert _ids(cli, "deploys Tuesday")[0] == second
    before_forget = cli.events()[-1]["recorded_at"]
    cli.ok("forget", first, "--reason", "moved")
    assert first not in _ids(cli, "staging database")
    assert before_forget  # (recall --as-of/--known-at semantics are tested in tests/cli/test_time_axes.py)
    cli.ok("restore", first)
    assert _ids(cli, "staging database")[0] == first
    assert cli.json("scheduler", "drain")["stores"][0]["processed"] == 0  # nothing derived twice


def test_replay_verify_log_and_status(team: Cli, backend: str, data_dir: Path) -> None:
    cli = team
    memory_id = cli.remember("The cache flush runs at midnight")
    cli.ok("scheduler", "drain")
    events = cli.events()
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    lines = cli.ok("log", "--memory", memory_id).out.splitlines()
    assert "memory.remembered" in lines[0] and any("edges.inferred" in line for line in lines)
    before = cli.json("recall", "cache flush")["results"]
    assert cli.json("events", "replay")["events_applied"] == len(events)
    assert cli.json("recall", "cache flush")["results"] == before
    report = cli.json("events", "verify")
    assert (report["ok"], report["log_problems"], report["differences"]) == (True, [], [])
    status = cli.json("status")
    assert (status["events"], status["log_head"], status["replica_lag"]) == (len(events), len(events), 0)
    if backend == "sqlite":
        assert status["backend"] == "sqlite"
        assert (data_dir / "stores" / "team" / "log.db").exists()
    else:
        assert status["backend"] == backend.replace("postgres:@", "postgres:***@")  # even an empty password
        assert not (data_dir / "stores" / "team" / "log.db").exists()
        assert "log on postgresql://" in cli.ok("status").out


def test_a_second_machine_joins_the_postgres_store_and_sees_everything(cli: Cli, pg_dsn: str, tmp_path: Path) -> None:
    cli.ok("store", "create", "team", "--backend", pg_dsn)
    memory_id = cli.json("--store", "team", "remember", "Release notes live in the wiki")["id"]
    other = Cli(tmp_path / "laptop2")
    other.ok("store", "create", "team", "--backend", pg_dsn)  # joining is creating with the same URL
    lagging = other.json("--store", "team", "status")
    assert (lagging["replica_lag"], lagging["events"]) == (1, 1)  # its replica was one event behind
    assert [h["id"] for h in other.json("--store", "team", "recall", "release notes")["results"]] == [memory_id]
    other.ok("--store", "team", "scheduler", "drain")
    assert [h["status"] for h in cli.json("--store", "team", "recall", "release notes")["results"]] == ["active"]


def test_the_postgres_url_is_kept_owner_only_and_never_printed(cli: Cli, pg_dsn: str, data_dir: Path) -> None:
    secret_dsn = pg_dsn.replace("postgres:@", "postgres:hunter2@")  # trust auth ignores the password
    out = cli.ok("store", "create", "team", "--backend", secret_dsn).out
    assert "hunter2" not in out and "***" in out
    recorded = data_dir / "stores" / "team" / "backend.dsn"
    assert recorded.read_text().strip() == secret_dsn
    assert stat.S_IMODE(os.stat(recorded).st_mode) == 0o600
    status = cli.json("--store", "team", "status")
    assert "hunter2" not in str(status) and status["backend"].startswith("postgresql://postgres:***@")


@pytest.mark.parametrize(
    ("backend", "message"),
    [
        ("mysql://db/x", "backend must be 'sqlite' or a postgresql:// URL"),
        ("postgresql://me:pw@host:notaport/db", "malformed PostgreSQL URL postgresql://me:***@host:notaport/db"),
        ("postgresql://me@host", "the PostgreSQL URL postgresql://me@host names no database: add /DBNAME"),
    ],
)
def test_a_bad_backend_is_refused_and_no_store_is_left(cli: Cli, data_dir: Path, backend: str, message: str) -> None:
    assert_error(cli("store", "create", "team", "--backend", backend), 2, message)
    assert not (data_dir / "stores" / "team").exists()


def test_an_unreachable_server_is_one_line_exit_6_and_no_store_is_left(cli: Cli, data_dir: Path, tmp_path: Path) -> None:
    dsn = f"postgresql://me:pw@/db?host={tmp_path}&port=1&connect_timeout=2"
    text = assert_error(cli("store", "create", "team", "--backend", dsn), 6)
    assert "cannot reach the PostgreSQL log" in text and "pw" not in text
    assert not (data_dir / "stores" / "team").exists()


def test_graph_rebuild_embed_status_and_doctor_work_on_either_backend(team: Cli) -> None:
    cli = team
    cli.remember("The outage was caused by the cache flush")
    cli.remember("The cache flush runs at midnight")
    cli.ok("scheduler", "drain")
    edges = cli.json("status")["edges"]
    assert cli("graph", "rebuild").code == 0  # (progress goes to stderr)
    assert cli.json("status")["edges"] == edges  # same policy, same graph
    assert cli.json("embed", "status")["store"] == "team"
    checks = {(c["name"], c["store"]): c["status"] for c in cli.json("doctor")["checks"]}
    assert checks[("log", "team")] == "pass" and checks[("projections", "team")] == "pass"


def test_a_purge_on_one_machine_reaches_the_other_machines_replica(cli: Cli, pg_dsn: str, tmp_path: Path) -> None:
    cli.ok("store", "create", "team", "--backend", pg_dsn)
    secret = cli.json("--store", "team", "remember", "Project Kestrelwing has a budget of four million euros")["id"]
    kept = cli.json("--store", "team", "remember", "The kiosk fleet runs Debian on every terminal")["id"]
    cli.ok("--store", "team", "scheduler", "drain")
    other = Cli(tmp_path / "laptop2")
    other.ok("store", "create", "team", "--backend", pg_dsn)
    assert [h["id"] for h in other.json("--store", "team", "recall", "kestrelwing budget")["results"]] == [secret]
    replica = other.data_dir / "stores" / "team"
    assert any(b"Kestrelwing" in p.read_bytes() for p in replica.iterdir() if p.is_file())

    assert cli.json("--store", "team", "purge", secret, "--yes")["remaining"] == []
    assert log_holding(cli, "Kestrelwing", store="team") == 0  # rewritten in the server's table

    seen = other("--store", "team", "recall", "kestrelwing budget", "--json")  # catching up, it rebuilds
    assert seen.code == 0 and seen.json()["results"] == []
    assert "a purge was recorded in the shared log: rebuilt" in seen.err
    assert not any(b"Kestrelwing" in p.read_bytes() for p in replica.iterdir() if p.is_file())
    assert [h["id"] for h in other.json("--store", "team", "recall", "kiosk fleet debian")["results"]] == [kept]
    assert other.json("--store", "team", "events", "verify")["ok"]


def test_remember_with_an_id_is_idempotent_on_either_backend(team: Cli) -> None:
    first = team.json("remember", "The VPN gateway moved to host wren", "--id", "note-17")
    again = team.json("remember", "The VPN gateway moved to host wren", "--id", "note-17")
    assert again["id"] == first["id"] and again.get("already") is True
    assert len(team.events("--type", "memory.remembered")) == 1


def _without_psycopg(cli: Cli, *args: str) -> Result:
    """The CLI in an interpreter where psycopg cannot be imported (memman installed without the extra)."""
    code = "import sys; sys.modules['psycopg'] = None; sys.argv[0] = 'memman'; from memman.entry import main; main()"
    proc = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, env=cli.env(), timeout=120, cwd=cli.data_dir.parent
    )
    return Result(proc.returncode, proc.stdout.decode(), proc.stderr.decode())


def test_without_the_driver_a_postgres_store_is_one_line_naming_the_extra(cli: Cli, pg_dsn: str, data_dir: Path) -> None:
    message = "a PostgreSQL backend needs the driver: pip install 'memman[postgres]'"
    assert_error(_without_psycopg(cli, "store", "create", "team", "--backend", pg_dsn), 2, message)
    assert not (data_dir / "stores" / "team").exists()
    cli.ok("store", "create", "team", "--backend", pg_dsn)
    cli.ok("--store", "team", "remember", "Kept while the driver is missing")
    assert_error(_without_psycopg(cli, "--store", "team", "remember", "Lost?"), 2, message)
    assert_error(_without_psycopg(cli, "--store", "team", "recall", "kept"), 2, message)
    assert len(cli.events(store="team")) == 1


def test_a_store_whose_server_went_away_fails_in_one_line_and_loses_nothing(cli: Cli, pg_dsn: str, tmp_path: Path) -> None:
    cli.ok("store", "create", "team", "--backend", pg_dsn)
    cli.ok("--store", "team", "remember", "Written while the server was up")
    recorded = cli.data_dir / "stores" / "team" / "backend.dsn"
    recorded.write_text(f"postgresql://me:hunter2@/db?host={tmp_path}&port=1&connect_timeout=2\n")  # nothing listens
    for args in (("remember", "Written while it is down"), ("recall", "written"), ("scheduler", "drain"), ("status",)):
        text = assert_error(cli("--store", "team", *args), 6, contains=["cannot reach the PostgreSQL log at postgresql://me:***@"])
        assert "hunter2" not in text
    recorded.write_text(pg_dsn + "\n")
    assert [e["type"] for e in cli.events(store="team")] == ["memory.remembered"]


def test_migrate_to_an_unreachable_server_changes_nothing(cli: Cli, data_dir: Path, tmp_path: Path) -> None:
    cli.remember("Stays on SQLite")
    before = cli.events()
    dsn = f"postgresql://me:hunter2@/db?host={tmp_path}&port=1&connect_timeout=2"
    text = assert_error(cli("migrate", "--to", dsn), 6, contains=["cannot reach the PostgreSQL log"])
    assert "hunter2" not in text
    assert cli.json("status")["backend"] == "sqlite" and cli.events() == before
    assert not (data_dir / "stores" / "default" / "backend.dsn").exists()


def test_creating_an_existing_store_on_another_backend_is_refused(cli: Cli, pg_dsn: str) -> None:
    cli.ok("store", "create", "team")
    cli.ok("--store", "team", "remember", "On SQLite")
    text = assert_error(cli("store", "create", "team", "--backend", pg_dsn), 2)
    assert "team" in text
    assert cli.json("--store", "team", "status")["backend"] == "sqlite"


def test_a_postgres_log_found_damaged_refuses_writes_until_verify_finds_it_sound(cli: Cli, pg_dsn: str) -> None:
    import psycopg

    cli.ok("store", "create", "team", "--backend", pg_dsn)
    cli.ok("--store", "team", "remember", "The build farm runs on host osprey")
    with psycopg.connect(pg_dsn, autocommit=True) as conn:  # someone with the rights tampers with the server's rows
        conn.execute("ALTER TABLE events DISABLE TRIGGER events_no_update")
        conn.execute("UPDATE events SET actor = 'mallory' WHERE seq = 1")
    assert cli("--store", "team", "events", "verify").code == 5
    for write in (("remember", "one more into a damaged log"), ("import", "-")):
        assert_error(cli("--store", "team", *write, input='{"text": "an imported line"}\n'), 5,
                     contains=["was found damaged (append-only trigger events_no_update is missing)",
                               "nothing was written", "restored from a backup"])  # fmt: skip
    with psycopg.connect(pg_dsn, autocommit=True) as conn:  # restored
        conn.execute("UPDATE events SET actor = 'cli' WHERE seq = 1")
        conn.execute("ALTER TABLE events ENABLE TRIGGER events_no_update")
    cli.ok("--store", "team", "events", "verify")
    cli.ok("--store", "team", "remember", "Written after the restore")
    assert len(cli.events(store="team")) == 2
