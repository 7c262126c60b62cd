"""A PostgreSQL store while its server is unreachable (a laptop on a plane):
`recall` answers from this machine's local replica with one warning line on
stderr saying how stale it may be; every write (and every read that needs
the log itself) fails in one line, exit 6, and nothing is lost or doubled
when the server is back. The server here is a real one of this module's own,
stopped and started for real (tests/postgres_server.py), so the session's
shared server is never disturbed."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.conftest import Cli, assert_error
from tests.postgres_server import PgServer, started_server

WARNING = re.compile(
    r"^memman: warning: cannot reach the PostgreSQL log at postgresql://\S+: answered from this machine's replica,"
    r" last in step with the server \d+ (s|min) ago \(\S+Z, event #(\d+)\); writes fail until it is back$"
)


@pytest.fixture(scope="module")
def own_server() -> Iterator[PgServer]:
    with started_server("memman-pgo-") as server:
        yield server


@pytest.fixture
def down(own_server: PgServer) -> Iterator[PgServer]:
    """The server, which the test may pause; running again afterwards whatever happened."""
    try:
        yield own_server
    finally:
        own_server.resume()


def _ids(cli: Cli, query: str, *args: str) -> list[str]:
    return [h["id"] for h in cli.json("--store", "team", "recall", query, *args)["results"]]


def test_recall_answers_from_the_replica_while_the_server_is_down_and_writes_lose_nothing(
    cli: Cli, down: PgServer
) -> None:
    cli.ok("store", "create", "team", "--backend", down.create_database())
    first = cli.json("--store", "team", "remember", "The staging database lives on host sparrow")["id"]
    cli.ok("--store", "team", "remember", "Deploys happen on Tuesday afternoons")
    cli.ok("--store", "team", "scheduler", "drain")
    online = _ids(cli, "staging database")
    online_basic = _ids(cli, "staging database", "--basic")
    assert online[0] == first and online_basic[0] == first
    head = len(cli.events(store="team"))

    down.pause()
    for args, expected in ((("--json",), online), (("--basic", "--json"), online_basic)):
        answer = cli("--store", "team", "recall", "staging database", *args)
        assert answer.code == 0, answer
        assert [h["id"] for h in answer.json()["results"]] == expected  # the same answer as online
        lines = answer.err.splitlines()
        assert len(lines) == 1 and (match := WARNING.match(lines[0])), answer.err
        assert int(match.group(2)) == head  # the replica held the whole log
    text = cli("--store", "team", "recall", "deploys")
    assert text.code == 0 and "Tuesday" in text.out and "answered from this machine's replica" in text.err

    for args in (
        ("remember", "Written while the server is down"),
        ("forget", first),
        ("scheduler", "drain"),
        ("status",),
        ("recall", "staging", "--known-at", "2020-01-01"),  # transaction time is read from the log itself
    ):
        assert_error(
            cli("--store", "team", *args), 6,
            contains=["cannot reach the PostgreSQL log at postgresql://", "is the server up? (nothing was written)"],
        )  # fmt: skip

    down.resume()
    back = cli("--store", "team", "recall", "staging database", "--json")
    assert back.code == 0 and back.err == "" and [h["id"] for h in back.json()["results"]] == online
    assert len(cli.events(store="team")) == head  # the refused writes left nothing behind
    later = cli.json("--store", "team", "remember", "Written once the server is back")["id"]
    assert [e["type"] for e in cli.events(store="team")][head:] == ["memory.remembered"]
    assert _ids(cli, "written once the server is back", "--basic") == [later]


def test_a_machine_without_a_replica_yet_cannot_answer_offline(cli: Cli, down: PgServer, tmp_path: Path) -> None:
    dsn = down.create_database()
    cli.ok("store", "create", "team", "--backend", dsn)
    cli.ok("--store", "team", "remember", "The kiosk fleet runs Debian")
    laptop = Cli(tmp_path / "laptop2")
    laptop.ok("store", "create", "team", "--backend", dsn)  # joined, but never read: no replica to answer from
    down.pause()
    assert_error(laptop("--store", "team", "recall", "kiosk"), 6, contains=["cannot reach the PostgreSQL log"])


def test_the_warning_names_the_last_event_held_when_no_sync_was_noted(cli: Cli, down: PgServer) -> None:
    cli.ok("store", "create", "team", "--backend", down.create_database())
    cli.ok("--store", "team", "remember", "The release train leaves on Thursdays")
    assert cli.json("--store", "team", "recall", "release train")["results"]
    (cli.data_dir / "stores" / "team" / "replica.synced").unlink()  # e.g. a store that could not be written then
    down.pause()
    answer = cli("--store", "team", "recall", "release train", "--json")
    assert answer.code == 0 and answer.json()["results"]
    assert re.fullmatch(
        r"memman: warning: cannot reach the PostgreSQL log at \S+: answered from this machine's replica,"
        r" holding the log up to event #1, recorded \d+ (s|min) ago; writes fail until it is back\n",
        answer.err,
    ), answer.err
