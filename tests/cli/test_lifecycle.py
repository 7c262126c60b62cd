"""The retention lifecycle through the real CLI: effective importance decays
with idleness and grows with use (changing the order of otherwise comparable
memories), replay reproduces the ranking, protection blocks gc and the rule
reconciler, candidates/gc/restore round-trip, and the scheduler runs gc on
its cadence and `status` reports it.

A store is aged by writing its history in-process with an injected clock
(as if those remembers had happened 200 days ago), then read and changed by
the CLI in subprocesses at the real time."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from memman.maintenance import drain_all
from memman.service import Memman
from tests.cli.conftest import BACKENDS, Cli, assert_error, on_backend


@pytest.fixture(params=BACKENDS)
def cli(request: pytest.FixtureRequest, cli: Cli) -> Cli:
    """Every scenario here on SQLite and on PostgreSQL (tests/cli/conftest.py on_backend)."""
    return on_backend(request, cli)


QUERY = "widget cache ttl"
SHORT = "Widget cache TTL is five minutes, says Priya"  # matches the query best by keyword
LONG = "The reporting service widget cache TTL is five minutes during business hours"
# Idle 400 days: decay 0.3 + 0.7 x 0.5^(400/90) = 0.33, so importance 3 ranks as
# ~1.0 (score x 0.80), enough to drop one place (the next rank's prior is 0.83).
IDLE = datetime.now(timezone.utc) - timedelta(days=400)


def _at(moment: datetime):  # type: ignore[no-untyped-def]
    return lambda: moment


def _build(data_dir: Path, short_at: datetime | None) -> dict[str, str]:
    """SHORT remembered first (at `short_at`, default now), LONG second, now; drained now."""
    ids = {}
    with Memman(data_dir, clock=_at(short_at) if short_at else datetime.now) as app:
        ids["short"] = app.remember(SHORT).id
    with Memman(data_dir) as app:
        ids["long"] = app.remember(LONG).id
    drain_all(data_dir)
    return ids


def _order(cli: Cli) -> list[str]:
    return [h["id"] for h in cli.json("recall", QUERY)["results"]]


def test_decay_and_use_change_the_order_and_replay_reproduces_it(tmp_path: Path) -> None:
    fresh = Cli(tmp_path / "fresh")
    ids = _build(fresh.data_dir, None)
    assert _order(fresh) == [ids["short"], ids["long"]]  # both fresh: the better keyword match wins

    aged = Cli(tmp_path / "aged")
    ids = _build(aged.data_dir, IDLE)
    assert _order(aged) == [ids["long"], ids["short"]]  # idle 400 days: SHORT decayed below LONG
    hit = {h["id"]: h for h in aged.json("recall", QUERY)["results"]}
    assert hit[ids["short"]]["score"] < hit[ids["long"]]["score"]

    for _ in range(3):  # an agent keeps using SHORT (a query only it answers)
        assert [h["id"] for h in aged.json("recall", "priya", "--basic")["results"]] == [ids["short"]]
    aged.ok("scheduler", "drain")  # folds the uses into the log as memory.accessed
    accessed = aged.events("--type", "memory.accessed")
    assert len(accessed) == 1 and accessed[0]["actor"] == "worker"
    boosted = _order(aged)
    assert boosted == [ids["short"], ids["long"]]  # used again: no longer idle, and boosted

    aged.ok("events", "replay")
    assert _order(aged) == boosted
    report = aged.json("events", "verify")
    assert report["ok"], report


def test_protect_blocks_gc_and_the_rule_reconciler(cli: Cli) -> None:
    old = cli.remember("The API timeout is 30s")
    cli.ok("scheduler", "drain")
    assert cli.json("insights", "protect", old[-8:])["action"] == "protected"
    new = cli.remember("The API timeout is 60s")
    cli.ok("scheduler", "drain")
    shown = cli.json("insights", "show", old)["memory"]
    assert (shown["status"], shown["protected"]) == ("active", True)
    assert cli.json("insights", "show", new)["memory"]["status"] == "active"  # added beside it, not over it
    cli.ok("config", "set", "retention.min_age_days", "0")
    cli.ok("config", "set", "retention.gc_below", "10")  # everything unprotected is a candidate now
    found = cli.json("insights", "candidates")
    assert [c["id"] for c in found["candidates"]] == [new]
    assert found["immune"] == {"protected": 1}

    cli.ok("insights", "unprotect", old)
    control = cli.remember("The API timeout is 90s")
    cli.ok("scheduler", "drain")  # unprotected: the rule reconciler may supersede it now
    statuses = {m: cli.json("insights", "show", m)["memory"]["status"] for m in (old, new, control)}
    assert statuses[control] == "active"
    assert "superseded" in (statuses[old], statuses[new])


def _aged_store(data_dir: Path) -> dict[str, str]:
    """Memories learnt 400 days ago, idle since: a gc under the default policy
    (gc_below 0.75, half-life 90 days, floor 0.3) retires importance 1 (0.33)
    and 2 (0.66), not 3 (0.99), nor the immune."""
    ids = {}
    with Memman(data_dir, clock=_at(IDLE)) as app:
        ids["low"] = app.remember("The old kiosk printer used paper rolls", importance=1).id
        ids["two"] = app.remember("The hallway lamp bulb was warm white", importance=2).id
        ids["normal"] = app.remember("The staging database runs Postgres 16", importance=3).id
        ids["top"] = app.remember("Backups live in the eu-west-1 bucket", importance=5).id
        ids["pinned"] = app.remember("The legacy fax number still forwards", importance=1).id
        ids["decision"] = app.remember(
            "Chose weekly releases because QA needs a full day", category="decision", importance=1
        ).id
    drain_all(data_dir, clock=_at(IDLE + timedelta(minutes=1)))
    with Memman(data_dir) as app:
        app.protect(ids["pinned"])
    return ids


def test_candidates_gc_and_restore_round_trip(cli: Cli) -> None:
    ids = _aged_store(cli.data_dir)
    found = cli.json("insights", "candidates")
    assert [c["id"] for c in found["candidates"]] == [ids["low"], ids["two"]]
    low = found["candidates"][0]
    assert low["figures"]["importance"] == 1 and low["figures"]["uses"] == 0
    assert 399 < low["figures"]["idle_days"] < 401
    assert low["reason"].startswith("effective importance 0.")
    assert found["immune"] == {"decision with a rationale": 1, "importance 5": 1, "protected": 1}
    assert cli.json("insights", "candidates", "--limit", "1")["total"] == 2

    before = len(cli.events())
    dry = cli.json("gc", "--dry-run")
    assert [c["id"] for c in dry["retired"]] == [ids["low"], ids["two"]] and dry["dry_run"]
    assert len(cli.events()) == before  # a dry run writes nothing

    done = cli.json("gc")
    assert [c["id"] for c in done["retired"]] == [ids["low"], ids["two"]]
    forgotten = cli.events("--type", "memory.forgotten")
    assert [e["actor"] for e in forgotten] == ["cli", "cli"]
    assert all(e["summary"].split(" ", 2)[2].startswith("gc: effective importance") for e in forgotten)
    assert cli.json("insights", "show", ids["low"])["memory"]["status"] == "forgotten"
    assert cli.json("recall", "kiosk printer paper")["results"] == []

    cli.ok("restore", ids["low"])
    assert [h["id"] for h in cli.json("recall", "kiosk printer paper")["results"]] == [ids["low"]]
    cli.ok("scheduler", "drain")  # folds the restore's use
    assert [c["id"] for c in cli.json("insights", "candidates")["candidates"]] == []  # restored = used: not again at once


def test_the_scheduler_runs_gc_on_its_cadence_and_status_reports_it(cli: Cli) -> None:
    ids = _aged_store(cli.data_dir)
    status = cli.json("status")["retention"]
    assert status["last_gc"] is None and status["candidates"] == 2 and status["protected"] == 1
    cli.ok("scheduler", "drain")  # the first event is 400 days old: a 24 h cadence is due
    forgotten = cli.events("--type", "memory.forgotten")
    assert sorted(e["summary"][:8] for e in forgotten) == sorted(ids[k][-8:] for k in ("low", "two"))
    assert {e["actor"] for e in forgotten} == {"gc"}
    status = cli.json("status")["retention"]
    assert status["last_gc"]["retired"] == 2 and status["candidates"] == 0
    assert status["next_gc"] > status["last_gc"]["at"]
    assert "retention: 1 protected, 0 gc candidates; gc last" in cli.ok("status").out
    cli.ok("scheduler", "drain")  # not due again for 24 h
    assert len(cli.events("--type", "memory.forgotten")) == 2


def test_a_changed_policy_is_recorded_and_ranking_follows_it(cli: Cli) -> None:
    cli.remember("The build cache lives on the NAS")
    cli.ok("config", "set", "retention.half_life_days", "7")
    assert cli.json("status")["retention"]["configured_differs"] is True
    cli.ok("scheduler", "drain")
    [recorded] = [e for e in cli.events("--type", "store.configured") if "retention.policy" in e["summary"]]
    assert '"half_life_days":7.0' in recorded["summary"]
    assert cli.json("status")["retention"]["configured_differs"] is False


def test_lifecycle_commands_reject_bad_input_with_one_line(cli: Cli) -> None:
    memory = cli.remember("The CDN purges at midnight")
    unknown = "01ZZZZZZZZZZZZZZZZZZZZZZZZ"
    head = len(cli.events())
    assert_error(cli("insights", "protect", unknown), 3, contains=[f"unknown memory id '{unknown}'"])
    assert_error(cli("insights", "unprotect", memory), 2, f"memory {memory} is not protected; nothing to undo")
    cli.ok("insights", "protect", memory)
    assert_error(
        cli("insights", "protect", memory),
        2,
        f"memory {memory} is already protected; 'memman insights unprotect {memory}' undoes it",
    )
    assert_error(cli("insights", "protect"), 2, "Missing argument 'MEMORY_ID'. (see 'memman insights protect --help')")
    assert_error(
        cli("insights", "candidates", "--limit", "0"),
        2,
        "Invalid value for '--limit': 0 is not in the range 1<=x<=100000. (see 'memman insights candidates --help')",
    )
    assert_error(cli("gc", "--now"), 2, "No such option '--now'. (see 'memman gc --help')")
    assert_error(cli("gc", "extra"), 2, "Got unexpected extra argument (extra) (see 'memman gc --help')")
    assert_error(cli("--store", "nope", "gc"), 3, "unknown store 'nope'; create it with 'memman store create nope'")
    assert_error(
        cli("config", "set", "retention.half_life_days", "0"),
        2,
        "bad value for retention.half_life_days: Expected `float` > 0.0 - at `$.half_life_days`",
    )
    assert_error(cli("config", "set", "retention.floor", "1.5"), 2, contains=["bad value for retention.floor"])
    assert len(cli.events()) == head + 1  # only the one protect landed
    cli.ok("insights", "unprotect", memory)
    cli.ok("forget", memory)
    assert_error(
        cli("insights", "protect", memory), 2, f"memory {memory} is forgotten; 'memman restore {memory}' first, then protect it"
    )


def _accessed(data_dir: Path) -> list[dict[str, int]]:
    """Uses per memory in each folded memory.accessed event, oldest first (read from the log)."""
    with Memman(data_dir) as app:
        return [{a.memory_id: a.count for a in r.event.accesses} for r in app.db.log.read(types=["memory.accessed"])]


def test_the_prompt_hook_counts_as_used_only_what_it_injected_and_replay_keeps_the_ranking(cli: Cli) -> None:
    port = cli.remember("The staging database listens on port 5433", "--cat", "fact")
    for text in ("The staging database is backed up nightly to the NAS", "The staging database runs Postgres 16",
                 "Database migrations on staging run at noon", "Which port the staging proxy uses is in the wiki"):
        cli.remember(text)
    cli.ok("scheduler", "drain")
    cli.ok("config", "set", "recall.inject_limit", "1")
    cli.ok("config", "set", "recall.inject_budget_ms", "60000")  # a loaded machine must not turn this into the reminder
    prompt = "which port does the staging database use?"
    offered = [h["id"] for h in cli.json("recall", prompt)["results"]]
    assert port in offered and len(offered) > 1  # the hook's recall returns these too: counting them all was the bug
    cli.ok("scheduler", "drain")
    assert _accessed(cli.data_dir)[-1] == {m: 1 for m in offered}  # a CLI recall returned them all: all used

    hook = json.dumps({"hook_event_name": "UserPromptSubmit", "prompt": prompt, "session_id": "s1"})
    proc = subprocess.run([sys.executable, "-m", "memman", "hook", "user-prompt-submit"], input=hook.encode(),
                          capture_output=True, env=cli.env(), timeout=120)
    assert proc.returncode == 0 and b"Traceback" not in proc.stderr, proc
    context = json.loads(proc.stdout)["hookSpecificOutput"]["additionalContext"]
    injected = re.findall(r'<memory id="([0-9A-Z]+)"', context)
    assert injected == [port], context
    cli.ok("scheduler", "drain")
    uses = _accessed(cli.data_dir)
    assert len(uses) == 2 and uses[-1] == {port: 1}  # only the injected memory counts as used

    ranking = [(h["id"], h["score"]) for h in cli.json("recall", "staging database")["results"]]
    cli.ok("events", "replay")
    assert [(h["id"], h["score"]) for h in cli.json("recall", "staging database")["results"]] == ranking


def test_memories_younger_than_min_age_are_immune_until_they_are_not(cli: Cli) -> None:
    """Immunity by age (issue 14, item 2): importance 1, idle, below the gc
    line, and still never retired while younger than retention.min_age_days."""
    with Memman(cli.data_dir, clock=_at(datetime.now(timezone.utc) - timedelta(days=10))) as app:
        young = app.remember("The temp badge for the fire drill is blue", importance=1).id
    drain_all(cli.data_dir)
    cli.ok("config", "set", "retention.gc_below", "10")  # any memory not immune is a candidate
    found = cli.json("insights", "candidates")
    assert found["candidates"] == [] and found["immune"] == {"younger than 30 days": 1}, found
    assert cli.json("gc")["retired"] == []
    cli.ok("config", "set", "retention.min_age_days", "7")
    assert [c["id"] for c in cli.json("insights", "candidates")["candidates"]] == [young]


def test_the_agent_guide_says_why_secrets_are_never_stored(cli: Cli) -> None:
    guide = cli.ok("guide").out
    assert "secrets of any" in guide and "memory outlives the session" in guide.replace("\n", " ")
    assert "--redact" in guide and "<private>...</private>" in guide
