"""Two time axes in every output: `occurred_at` (valid time: when it was true
or said, `remember --at`) and `recorded_at` (transaction time: when memman
learned it), in recall text and --json, `insights show` and `log`."""

from __future__ import annotations

import json

import pytest

from tests.cli.conftest import BACKENDS, Cli, on_backend


@pytest.fixture(params=BACKENDS)
def cli(request: pytest.FixtureRequest, cli: Cli) -> Cli:
    """Every scenario here on SQLite and on PostgreSQL (tests/cli/conftest.py on_backend)."""
    return on_backend(request, cli)


def test_recall_json_gives_the_occurred_and_the_recorded_time_of_an_imported_memory(cli: Cli) -> None:
    memory_id = cli.remember("The nightly backup window opens at 02:00 UTC", "--at", "2026-03-02T09:00:00Z")
    cli.ok("scheduler", "drain")
    (hit,) = cli.json("recall", "when does the nightly backup window open")["results"]
    assert hit["id"] == memory_id
    assert hit["occurred_at"] == "2026-03-02T09:00:00.000000Z"
    # recorded now (the test machine's clock), so not the --at date; created_at is the same value
    assert hit["recorded_at"] == hit["created_at"] and not hit["recorded_at"].startswith("2026-03-02")
    assert (hit["valid_until"], hit["superseded_by"], hit["stale"]) == (None, None, None)


def test_recall_text_shows_the_occurred_date_and_the_recording_date_beside_it(cli: Cli) -> None:
    cli.remember("The nightly backup window opens at 02:00 UTC", "--at", "2026-03-02T09:00:00Z")
    cli.ok("scheduler", "drain")
    (line,) = cli.ok("recall", "nightly backup window").out.splitlines()
    recorded = cli.json("recall", "nightly backup window")["results"][0]["recorded_at"][:10]
    assert "  2026-03-02  " in line
    assert line.endswith(f"(recorded {recorded})")


def test_insights_show_and_log_name_both_axes(cli: Cli) -> None:
    memory_id = cli.remember("The nightly backup window opens at 02:00 UTC", "--at", "2026-03-02T09:00:00Z")
    shown = cli.ok("insights", "show", memory_id).out
    assert "occurred 2026-03-02T09:00:00.000000Z (valid time), recorded " in shown
    (first,) = [x for x in cli.ok("log").out.splitlines() if "memory.remembered" in x]
    assert first.endswith("(occurred 2026-03-02T09:00:00)")
    memory = cli.json("insights", "show", memory_id)["memory"]
    assert memory["occurred_at"].startswith("2026-03-02") and memory["recorded_at"] == memory["created_at"]


def test_known_at_shows_a_replaced_memory_as_it_read_then_and_combines_with_as_of(cli: Cli) -> None:
    memory_id = cli.remember("The staging bucket is named kestrel-drop", "--at", "2026-03-02T09:00:00Z")
    cli.ok("scheduler", "drain")
    then = cli.events()[-1]["recorded_at"]
    cli.ok("replace", memory_id, "The staging bucket is named kestrel-archive")
    cli.ok("scheduler", "drain")
    (now,) = cli.json("recall", "staging bucket kestrel")["results"]
    assert now["content"] == "The staging bucket is named kestrel-archive"
    (past,) = cli.json("recall", "staging bucket kestrel", "--known-at", then)["results"]
    assert (past["id"], past["content"]) == (memory_id, "The staging bucket is named kestrel-drop")
    both = cli.json("recall", "staging bucket kestrel", "--known-at", then, "--as-of", "2026-03-01T00:00:00Z")
    assert both["results"] == [] and both["meta"]["hint"].startswith("no memory was true at 2026-03-01")
    assert both["meta"]["as_of"].startswith("2026-03-01") and both["meta"]["known_at"] is not None


def test_an_import_carries_an_end_of_validity_and_an_export_gives_it_back(cli: Cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    source = tmp_path / "freeze.jsonl"
    source.write_text('{"text": "Code freeze on the payments repo", "at": "2026-03-01T00:00:00Z", "until": "2026-03-03T00:00:00Z"}\n')
    cli.ok("import", str(source))
    cli.ok("scheduler", "drain")
    (during,) = cli.json("recall", "payments code freeze", "--as-of", "2026-03-02T00:00:00Z")["results"]
    assert during["valid_until"] == "2026-03-03T00:00:00.000000Z" and during["stale"] is None
    (exported,) = [json.loads(x) for x in cli.ok("export").out.splitlines()]
    assert exported["until"] == "2026-03-03T00:00:00.000000Z"  # so an export imports with its validity
    # after it ended: empty, and the hint says it ended rather than "try a later time"
    after = cli.json("recall", "payments code freeze", "--as-of", "2026-03-04T00:00:00Z")
    assert after["results"] == []
    assert after["meta"]["hint"] == (
        "no memory held at 2026-03-04T00:00:00.000000Z: the 1 there were had expired or been superseded by then;"
        " try an earlier time"
    )
    # now: listed, marked expired (the freeze is over), as any ended memory is
    (now,) = cli.json("recall", "payments code freeze")["results"]
    assert now["stale"] == "expired"
