"""Explicit chains and the edges of issue 11, through the real CLI:
`remember --replaces` (recorded in the command event, honoured by the drain,
the replaced memory never above its successor, `--history` shows the chain,
reversible with `restore`), `--until`, a swapped speaker kept, and `replace`
of a forgotten memory refused."""

from __future__ import annotations

import pytest

from tests.cli.conftest import BACKENDS, Cli, assert_error, on_backend


@pytest.fixture(params=BACKENDS)
def cli(request: pytest.FixtureRequest, cli: Cli) -> Cli:
    """Every scenario here on SQLite and on PostgreSQL (tests/cli/conftest.py on_backend)."""
    return on_backend(request, cli)


def _ids(hits: list[dict]) -> list[str]:
    return [h["id"] for h in hits]


def test_replaces_is_in_the_command_event_and_the_drain_supersedes_the_named_memory(cli: Cli) -> None:
    old = cli.remember("Builds run on the orchard runners")
    cli.ok("scheduler", "drain")
    new = cli.remember("Builds run on the quarry runners", "--replaces", old[-8:])
    (event,) = [e for e in cli.events("--type", "memory.remembered") if new[-8:] in e["summary"]]
    assert f"replaces {old[-8:]}" in event["summary"]
    # pending: both match, the successor ranks first and the replaced one is marked
    hits = cli.json("recall", "which runners do builds run on")["results"]
    assert _ids(hits)[:2] == [new, old]
    assert (hits[1]["stale"], hits[1]["superseded_by"]) == ("superseded", new)
    cli.ok("scheduler", "drain")
    assert _ids(cli.json("recall", "which runners do builds run on")["results"]) == [new]
    (decision,) = [e for e in cli.events("--type", "memory.reconciled") if new[-8:] in e["summary"].split()[0]]
    assert f"UPDATE {old[-8:]} (replaces {old} (remember --replaces))" in decision["summary"]


def test_history_shows_the_chain_newest_first_and_restore_undoes_the_supersession(cli: Cli) -> None:
    first = cli.remember("The status page is hosted on Statuspal", "--at", "2026-03-02T09:00:00Z")
    cli.ok("scheduler", "drain")
    second = cli.remember("The status page is hosted on Instatus", "--at", "2026-03-04T09:00:00Z", "--replaces", first)
    cli.ok("scheduler", "drain")
    third = cli.remember("The status page is hosted on Atlassian", "--at", "2026-03-06T09:00:00Z", "--replaces", second)
    cli.ok("scheduler", "drain")
    hits = cli.json("recall", "where is the status page hosted", "--history")["results"]
    assert _ids(hits) == [third, second, first]
    assert [h["stale"] for h in hits] == [None, "superseded", "superseded"]
    assert [h["valid_until"] for h in hits][1:] == ["2026-03-06T09:00:00.000000Z", "2026-03-04T09:00:00.000000Z"]
    lines = cli.ok("recall", "where is the status page hosted", "--history").out.splitlines()
    assert f"superseded by {third[-8:]}" in lines[1]
    # the decision is reversible: restore brings the superseded memory back
    cli.ok("restore", second)
    assert second in _ids(cli.json("recall", "where is the status page hosted")["results"])
    assert cli.json("events", "verify")["ok"] is True


def test_replaces_of_an_unknown_or_forgotten_memory_is_refused_and_nothing_is_recorded(cli: Cli) -> None:
    kept = cli.remember("The lunch order goes to Basil")
    before = len(cli.events())
    assert_error(cli("remember", "x", "--replaces", "NOSUCHMEMORY"), 3, contains=["unknown memory id 'NOSUCHMEMORY'"])
    cli.ok("forget", kept)
    before = len(cli.events())
    assert_error(
        cli("remember", "The lunch order goes to Thyme", "--replaces", kept),
        2,
        f"memory {kept} is forgotten, so nothing replaces it; 'memman restore {kept}' first",
    )
    assert len(cli.events()) == before


def test_replace_of_a_forgotten_memory_is_refused_and_it_stays_forgotten(cli: Cli) -> None:
    memory_id = cli.remember("The office wifi password rotates monthly")
    cli.ok("forget", memory_id)
    before = len(cli.events())
    assert_error(
        cli("replace", memory_id, "The office wifi password rotates weekly"),
        2,
        f"memory {memory_id} is forgotten; 'memman restore {memory_id}' first, then replace it",
    )
    assert len(cli.events()) == before
    assert cli.json("insights", "show", memory_id)["memory"]["status"] == "forgotten"


def test_until_ends_validity_as_of_then_and_marks_it_expired_now(cli: Cli) -> None:
    cli.remember("The code freeze is on for the payments repo", "--at", "2026-03-02T09:00:00Z", "--until", "2026-03-06T00:00:00Z")
    cli.ok("scheduler", "drain")
    during = cli.json("recall", "is the code freeze on", "--as-of", "2026-03-04T00:00:00Z")["results"]
    assert [h["valid_until"] for h in during] == ["2026-03-06T00:00:00.000000Z"]
    after = cli.json("recall", "is the code freeze on", "--as-of", "2026-03-07T00:00:00Z")
    # empty, and the hint says why: it had ended (not "try a later time", which would not help)
    assert after["results"] == [] and after["meta"]["hint"].startswith("no memory held at 2026-03-07")
    assert "had expired or been superseded by then; try an earlier time" in after["meta"]["hint"]
    (now,) = cli.json("recall", "is the code freeze on")["results"]
    assert now["stale"] == "expired"


def test_a_swapped_speaker_is_kept_as_a_second_memory(cli: Cli) -> None:
    a = cli.remember("Priya: That's awesome, Dana!")
    b = cli.remember("Dana: That's awesome, Priya!")
    cli.ok("scheduler", "drain")
    assert {cli.json("insights", "show", x)["memory"]["status"] for x in (a, b)} == {"active"}


def test_bad_time_flags_are_one_clear_line(cli: Cli) -> None:
    assert_error(cli("remember", "x", "--until", "soon"), 2, "bad time 'soon'; use ISO-8601, e.g. 2026-01-31T09:30:00Z")
    assert_error(
        cli("remember", "x", "--at", "2026-03-05T00:00:00Z", "--until", "2026-03-01T00:00:00Z"),
        2,
        "--until 2026-03-01T00:00:00+00:00 is not after the memory occurred; give a later time",
    )
    assert_error(cli("recall", "x", "--known-at", "then"), 2, "bad time 'then'; use ISO-8601, e.g. 2026-01-31T09:30:00Z")
    assert_error(cli("recall", "x", "--as-of", "2026-13-01"), 2, "bad time '2026-13-01'; use ISO-8601, e.g. 2026-01-31T09:30:00Z")
    assert cli.events() == []
