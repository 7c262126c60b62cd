"""A machine that reads a PostgreSQL store's server projections
(`--reads server`: an ephemeral CI runner, a fresh laptop) keeps no local
replica: its recall answers from PostgreSQL, as fresh as the projections
another machine's worker keeps. Two data dirs ("machines") on one real
server: a worker with a replica, and a reader without one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.conftest import Cli, assert_error
from tests.postgres_server import PgServer, started_server

STORE = ("--store", "team")


def machine(root: Path) -> Cli:
    """A CLI on a data dir of its own (another machine)."""
    root.mkdir(parents=True)
    return Cli(root / "data")


@pytest.fixture
def machines(tmp_path: Path, pg_dsn: str) -> tuple[Cli, Cli]:
    """(worker, reader) joined to one store: the worker with a local replica, the reader with server reads."""
    worker, reader = machine(tmp_path / "worker"), machine(tmp_path / "reader")
    worker.ok("store", "create", "team", "--backend", pg_dsn)
    created = reader.json("store", "create", "team", "--backend", pg_dsn, "--reads", "server")
    assert created["reads"] == "server"
    return worker, reader


def _ids(cli: Cli, query: str, *args: str) -> list[str]:
    return [h["id"] for h in cli.json(*STORE, "recall", query, *args)["results"]]


def test_remember_drain_recall_forget_with_no_local_replica(machines: tuple[Cli, Cli]) -> None:
    worker, reader = machines
    sparrow = reader.json(*STORE, "remember", "The staging database lives on host sparrow")["id"]
    reader.ok(*STORE, "remember", "Deploys happen on Tuesday afternoons")
    assert _ids(reader, "staging database") == []  # nobody has drained: the server projections are behind
    worker.ok(*STORE, "scheduler", "drain")  # the worker's pass advances the server projections
    hybrid = reader.json(*STORE, "recall", "staging database")
    assert [h["id"] for h in hybrid["results"]][:1] == [sparrow] and hybrid["meta"]["mode"] == "hybrid"
    assert hybrid["meta"]["vector_hits"] >= 1  # the HNSW channel found it too
    assert _ids(reader, "staging database", "--basic")[:1] == [sparrow]
    assert _ids(reader, "staging database")[:1] == _ids(worker, "staging database")[:1]  # as the replica answers
    assert _ids(reader, "staging database", "--min-score", "0.99") == []
    store_dir = reader.data_dir / "stores" / "team"
    assert not (store_dir / "projections.db").exists() and not (store_dir / "vectors.db").exists()
    worker.ok(*STORE, "forget", sparrow)
    worker.ok(*STORE, "scheduler", "drain")
    assert sparrow not in _ids(reader, "staging database")
    lag = worker.json(*STORE, "status")["server_lag"]
    assert lag == {"memories": 0, "graph": 0, "settings": 0, "vectors": 0}
    reader.ok(*STORE, "remember", "Not drained yet: the pager rota moved")
    mine = reader.json(*STORE, "status")  # from the server projections, building no replica
    assert mine["server_lag"] == {"memories": 1, "graph": 1, "settings": 1, "vectors": 1}
    assert mine["by_status"] == {"active": 1, "forgotten": 1} and mine["vectors"] >= 2 and mine["bytes"] == {}
    assert "reads the server projections (no local replica)" in reader.ok(*STORE, "status").out
    assert not (store_dir / "projections.db").exists()


def test_the_automatic_drain_leaves_a_server_reads_store_to_the_workers(machines: tuple[Cli, Cli]) -> None:
    """What a remember starts in the background (`scheduler drain --background`)
    would build the replica server reads exist to avoid: it skips the store."""
    worker, reader = machines
    reader.ok(*STORE, "remember", "The build cache lives on host wren")
    ran = reader("scheduler", "drain", "--background")
    assert ran.code == 0 and "server reads only" in ran.out, ran
    assert not (reader.data_dir / "stores" / "team" / "projections.db").exists()
    worker.ok(*STORE, "scheduler", "drain")
    assert _ids(reader, "build cache host")


def test_the_prompt_hook_injects_from_the_server(machines: tuple[Cli, Cli]) -> None:
    worker, reader = machines
    kept = reader.json(*STORE, "remember", "The cache TTL is 5 minutes")["id"]
    worker.ok(*STORE, "scheduler", "drain")
    reader.ok("config", "set", "recall.inject_budget_ms", "60000")  # a cold process on a loaded test machine
    prompt = '{"hook_event_name": "UserPromptSubmit", "session_id": "s1", "cwd": "/tmp", "prompt": "what is the cache TTL"}'
    answer = reader.ok("--store", "team", "hook", "user-prompt-submit", input=prompt).json()
    assert f'<memory id="{kept}"' in answer["hookSpecificOutput"]["additionalContext"]


def test_as_of_and_filters_answer_from_the_server(machines: tuple[Cli, Cli]) -> None:
    worker, reader = machines
    tuesday = reader.json(*STORE, "remember", "Deploys happen on Tuesdays", "--at", "2026-01-05T09:00:00Z")["id"]
    friday = reader.json(
        *STORE, "remember", "Deploys happen on Fridays now", "--at", "2026-06-01T09:00:00Z", "--replaces", tuesday
    )["id"]
    reader.ok(*STORE, "remember", "We decided on PostgreSQL for the team store", "--cat", "decision")
    worker.ok(*STORE, "scheduler", "drain")
    now = reader.json(*STORE, "recall", "when do deploys happen")["results"]
    assert now[0]["id"] == friday and [h["status"] for h in now if h["id"] == tuesday] in ([], ["superseded"])
    assert [h["id"] for h in now] == _ids(worker, "when do deploys happen")  # as the replica answers
    then = _ids(reader, "when do deploys happen", "--as-of", "2026-03-01T00:00:00Z")
    assert then[:1] == [tuesday] and friday not in then
    assert then == _ids(worker, "when do deploys happen", "--as-of", "2026-03-01T00:00:00Z")
    assert _ids(reader, "team store", "--cat", "decision") and not _ids(reader, "team store", "--cat", "preference")


def test_replay_server_rebuilds_them_and_the_reader_answers(machines: tuple[Cli, Cli]) -> None:
    worker, reader = machines
    kept = reader.json(*STORE, "remember", "The release train leaves every second Monday")["id"]
    worker.ok(*STORE, "scheduler", "drain")
    report = worker.json(*STORE, "events", "replay", "--server")
    assert report["seq"] == len(worker.events(store="team")) and report["rows"]["memories"] == 1
    assert _ids(reader, "release train")[:1] == [kept]


def test_bad_input(machines: tuple[Cli, Cli], cli: Cli) -> None:
    worker, reader = machines
    assert_error(
        reader(*STORE, "recall", "anything", "--known-at", "2026-01-01T00:00:00Z"), 2,
        contains=["--known-at is not answered from server reads"],
    )
    assert_error(reader("store", "create", "x", "--reads", "bogus"), 2, contains=["'--reads'", "'bogus'"])
    assert_error(reader("store", "create", "y", "--reads", "server"), 2, contains=["needs a store on PostgreSQL"])
    assert not (reader.data_dir / "stores" / "y").exists()
    assert_error(reader("config", "set", "postgres.reads", "sideways"), 2, contains=["postgres.reads"])
    cli.ok("remember", "a local note")
    assert_error(cli("events", "replay", "--server"), 2, contains=["needs a store on PostgreSQL"])


def test_a_store_without_server_projections_says_how_to_build_them(tmp_path: Path, pg_dsn: str) -> None:
    worker, reader = machine(tmp_path / "w"), machine(tmp_path / "r")
    worker.ok("store", "create", "team", "--backend", pg_dsn)
    reader.ok("store", "create", "team", "--backend", pg_dsn)
    reader.ok("config", "set", "postgres.reads", "server", "--for-store", "team")
    assert_error(reader(*STORE, "recall", "anything"), 2, contains=["has no server projections", "events replay --server"])
    worker.ok(*STORE, "remember", "The cache is warmed at dawn")
    worker.ok(*STORE, "scheduler", "drain")
    worker.ok(*STORE, "events", "replay", "--server")
    assert reader.json(*STORE, "recall", "cache warmed")["results"]


@pytest.fixture(scope="module")
def own_server() -> Iterator[PgServer]:
    with started_server("memman-pgs-") as server:
        yield server


def test_server_down_fails_in_one_line_and_loses_nothing(tmp_path: Path, own_server: PgServer) -> None:
    dsn = own_server.create_database()
    worker, reader = machine(tmp_path / "w"), machine(tmp_path / "r")
    worker.ok("store", "create", "team", "--backend", dsn)
    reader.ok("store", "create", "team", "--backend", dsn, "--reads", "server")
    kept = reader.json(*STORE, "remember", "The on-call rota lives in the wiki")["id"]
    worker.ok(*STORE, "scheduler", "drain")
    own_server.pause()
    try:
        for args in ((), ("--basic",)):
            assert_error(reader(*STORE, "recall", "on-call rota", *args), 6, contains=["cannot reach the PostgreSQL log"])
        assert_error(reader(*STORE, "remember", "written while down"), 6, contains=["nothing was written"])
    finally:
        own_server.resume()
    assert _ids(reader, "on-call rota")[:1] == [kept]
    assert not reader.data_dir.joinpath("stores", "team", "projections.db").exists()
