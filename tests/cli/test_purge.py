"""`memman purge` through the real CLI: after a purge no file under the data
dir (log, WAL, projections, vectors and their caches) holds the text as
bytes, `events verify` still proves the log, a content-free tombstone says
who, when, why and which ids, and a replay gives the same store minus the
purged memories. Every bad invocation is one line and changes nothing."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.cli.conftest import BACKENDS, Cli, assert_error, log_holding, on_backend

SECRET = "Nightingale"
TEXTS = [
    "Project Nightingale has a budget of four million euros",
    "The kiosk fleet runs Debian on every terminal",
    "Grace owns the billing runbooks and their alerts",
]


@pytest.fixture(params=BACKENDS)
def cli(request: pytest.FixtureRequest, cli: Cli) -> Cli:
    """Every scenario on SQLite and on PostgreSQL: there the log's rows are
    rewritten in the server's table (checked in SQL) and the local replica's
    files are rebuilt (checked as bytes)."""
    return on_backend(request, cli)


def _holding(data_dir: Path, needle: str) -> list[str]:
    wanted = (needle.encode(), needle.casefold().encode())
    return sorted(
        str(p.relative_to(data_dir)) for p in data_dir.rglob("*") if p.is_file() and any(w in p.read_bytes() for w in wanted)
    )


def _memories(cli: Cli) -> dict[str, tuple[str, str]]:
    rows = [json.loads(line) for line in cli.ok("export", "--all").out.splitlines()]
    return {r["id"]: (r["text"], r["status"]) for r in rows}


def _seed(cli: Cli) -> list[str]:
    ids = [cli.remember(t) for t in TEXTS]
    cli.ok("scheduler", "drain")
    cli.ok("recall", "nightingale budget")  # through every recall path: keyword, vectors, use records
    cli.ok("insights", "protect", ids[0])
    cli.ok("scheduler", "drain")
    assert _holding(cli.data_dir, SECRET)  # the text is in the log and projections before
    assert log_holding(cli, SECRET) > 0 or not (cli.data_dir / "stores" / "default" / "backend.dsn").exists()
    return ids


def test_purge_leaves_no_trace_and_replay_gives_the_store_minus_the_memory(cli: Cli) -> None:
    ids = _seed(cli)
    before = _memories(cli)
    report = cli.json("purge", ids[0], "--yes", "--reason", "user asked to delete it")
    assert report["purged"] == [ids[0]] and report["remaining"] == [] and report["rewritten"] >= 4
    assert _holding(cli.data_dir, SECRET) == [] and log_holding(cli, SECRET) == 0
    assert cli.json("events", "verify")["ok"]

    [tomb] = cli.events("--type", "memory.purged")
    assert ids[0][-8:] in tomb["summary"] and "user asked to delete it" in tomb["summary"]
    assert cli.json("recall", "nightingale budget")["results"] == []
    after = _memories(cli)
    assert after == {k: v for k, v in before.items() if k != ids[0]}
    assert cli.json("status")["vectors"] == len(TEXTS) - 1

    cli.ok("events", "replay")
    assert _memories(cli) == after
    assert cli.json("events", "verify")["ok"]
    assert_error(cli("insights", "show", ids[0]), 3, contains=[f"unknown memory id '{ids[0]}'"])


def test_purge_match_reaches_every_memory_holding_the_text(cli: Cli) -> None:
    ids = _seed(cli)  # ids[0] is protected
    other = cli.remember("Nightingale reviews happen every Monday")
    cli.ok("scheduler", "drain")
    head = len(cli.events())
    assert_error(cli("purge", "--match", "NIGHTINGALE", "--yes"), 2,
                 f"protected memories {ids[0]} contain 'NIGHTINGALE'; a protected memory is purged only by naming it:"
                 f" 'memman purge {ids[0]}' (or unprotect it first); nothing was changed")
    assert len(cli.events()) == head and SECRET in _memories(cli)[other][0]
    cli.ok("insights", "unprotect", ids[0])
    report = cli.json("purge", "--match", "NIGHTINGALE", "--yes")
    assert sorted(report["purged"]) == sorted([ids[0], other])
    assert _holding(cli.data_dir, SECRET) == [] and log_holding(cli, SECRET) == 0
    assert set(_memories(cli)) == set(ids[1:])
    assert cli.json("events", "verify")["ok"]


def test_a_pending_memory_is_purged_from_the_queue_too(cli: Cli) -> None:
    kept = cli.remember(TEXTS[1])
    memory = cli.remember(TEXTS[0])  # never drained
    cli.json("purge", memory, "--yes")
    [store] = cli.json("scheduler", "drain")["stores"]
    assert store["processed"] == 1  # only the other input: the purged one left the queue
    assert _holding(cli.data_dir, SECRET) == [] and log_holding(cli, SECRET) == 0
    assert list(_memories(cli)) == [kept]


def _on_a_terminal(cli: Cli, answer: bytes, *args: str) -> tuple[int, bytes]:
    leader, follower = os.openpty()
    try:
        proc = subprocess.Popen(cli.argv(*args), stdin=follower, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=cli.env())
        os.write(leader, answer)
        _, err = proc.communicate(timeout=120)
    finally:
        os.close(leader)
        os.close(follower)
    return proc.returncode, err


def test_purge_asks_first_on_a_terminal(cli: Cli) -> None:
    ids = _seed(cli)
    code, err = _on_a_terminal(cli, b"n\n", "purge", ids[0])
    assert code == 1 and b"purge not confirmed; nothing changed" in err and b"Project Nightingale" in err
    assert ids[0] in _memories(cli)
    code, _ = _on_a_terminal(cli, b"y\n", "purge", ids[0])
    assert code == 0 and ids[0] not in _memories(cli)
    assert _holding(cli.data_dir, SECRET) == [] and log_holding(cli, SECRET) == 0


def test_purge_rejects_bad_input_with_one_line_and_changes_nothing(cli: Cli) -> None:
    ids = _seed(cli)
    head = len(cli.events())
    unknown = "01ZZZZZZZZZZZZZZZZZZZZZZZZ"
    assert_error(cli("purge"), 2, "name the memories to purge: IDs, or --match TEXT (not both)")
    assert_error(cli("purge", ids[1], "--match", "kiosk", "--yes"), 2, "name the memories to purge: IDs, or --match TEXT (not both)")
    assert_error(cli("purge", unknown, "--yes"), 3, contains=[f"unknown memory id '{unknown}'"])
    assert_error(cli("purge", "--match", "ab", "--yes"), 2, "--match needs at least 3 characters, got 'ab'")
    assert_error(cli("purge", "--match", "zeppelin", "--yes"), 3, "no memory in store 'default' contains 'zeppelin'; nothing to purge")
    assert_error(cli("purge", ids[1]), 2, "purge destroys 1 memories for good; confirm on a terminal or pass --yes")
    assert_error(cli("purge", "--bogus"), 2, "No such option '--bogus'. (see 'memman purge --help')")
    assert_error(cli("--store", "nope", "purge", ids[1], "--yes"), 3, "unknown store 'nope'; create it with 'memman store create nope'")
    assert len(cli.events()) == head
    assert SECRET in _memories(cli)[ids[0]][0]


def test_a_protected_memory_is_purged_only_by_naming_it_and_gc_never_takes_it(cli: Cli) -> None:
    """Protection guards against automatic and implicit removal (gc, the
    reconcilers, --match, a shared input), not against the user naming it:
    purge ID is the explicit way, and it works on a protected memory."""
    ids = _seed(cli)  # ids[0] is protected
    cli.ok("config", "set", "retention.min_age_days", "0")
    cli.ok("config", "set", "retention.gc_below", "10")  # every unprotected memory is a gc candidate
    candidates = cli.json("insights", "candidates")
    assert ids[0] not in [c["id"] for c in candidates["candidates"]] and candidates["immune"] == {"protected": 1}
    report = cli.json("purge", ids[0], "--yes")
    assert report["purged"] == [ids[0]] and _holding(cli.data_dir, SECRET) == []
    retired = [c["id"] for c in cli.json("gc")["retired"]]
    assert sorted(retired) == sorted(ids[1:])  # gc after a purge: the purged memory is simply gone
    assert cli.json("insights", "candidates")["immune"] == {}
    assert cli.json("events", "verify")["ok"]


def test_purging_a_memory_whose_input_holds_a_protected_one_names_it_and_changes_nothing(cli: Cli) -> None:
    first = cli.remember("The API timeout is 30s. The staging database listens on port 5433.")
    cli.ok("scheduler", "drain")
    split = [m for m in _memories(cli) if m != first]
    assert len(split) == 1  # the rule extractor drew a second memory from the same input
    cli.ok("insights", "protect", split[0])
    head = len(cli.events())
    assert_error(cli("purge", first, "--yes"), 2,
                 f"protected memories {split[0]} share an input text with the memories named; a protected memory"
                 f" is purged only by naming it: 'memman purge {split[0]}' (or unprotect it first); nothing was changed")
    assert len(cli.events()) == head
    assert sorted(cli.json("purge", first, split[0], "--yes")["purged"]) == sorted([first, split[0]])
    assert _holding(cli.data_dir, "port 5433") == []
