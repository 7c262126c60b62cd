"""Truth over time through the real CLI, on the scripted week of changes in
tools/truth_scenarios.py (the issue's phrasings included), imported with `--at`
beside 300 service facts about other subjects:

- "what is X now" ranks the current value first, every time;
- `--as-of` a past date returns the value valid then;
- `--known-at` answers exactly what a replay of the log up to then answers
  (the audit view, as `--as-of` used to compute it);
- replay and `events verify` hold afterwards.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest

from memman.recall import recall as hybrid_recall
from memman.recall import succession
from projections.store import StoreDB
from tests.cli.conftest import Cli
from tools.truth_scenarios import Scenario, service_facts, week

SCENARIOS = week()
FIRST_HALF = [s for s in SCENARIOS if s.name in ("ci", "timeout", "release", "python", "deploys")]


def _jsonl(path: Path, lines: list[dict]) -> Path:
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    return path


@pytest.fixture(scope="module")
def week_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Cli, str]:
    """The week imported in two batches, each drained: the first steps of every
    scenario (and the noise), then the changes. Returns the CLI and a time
    recorded between the batches."""
    root = tmp_path_factory.mktemp("week")
    cli = Cli(root / "data")
    noise = [{"text": t, "at": "2026-02-20T12:00:00Z"} for t in service_facts(300)]
    first = [{"text": s.steps[0].text, "at": s.steps[0].at} for s in SCENARIOS]
    cli.ok("import", str(_jsonl(root / "first.jsonl", noise + first)))
    cli.ok("scheduler", "drain")
    between = cli.events()[-1]["recorded_at"]
    later = [{"text": st.text, "at": st.at} for s in SCENARIOS for st in s.steps[1:]]
    cli.ok("import", str(_jsonl(root / "later.jsonl", later)))
    cli.ok("scheduler", "drain")
    return cli, between


def _rank(hits: list[dict], fragment: str) -> int | None:
    return next((i for i, h in enumerate(hits) if fragment in h["content"]), None)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_what_is_x_now_ranks_the_current_value_first(week_store: tuple[Cli, str], scenario: Scenario) -> None:
    cli, _ = week_store
    hits = cli.json("recall", scenario.question)["results"]
    current, stale = _rank(hits, scenario.current), _rank(hits, scenario.stale)
    assert current is not None, [h["content"] for h in hits]
    assert stale is None or current < stale, [h["content"] for h in hits]
    if stale is not None:  # a stale value still shown is marked as such
        assert hits[stale]["stale"] in ("superseded", "older"), hits[stale]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_as_of_a_past_date_returns_the_value_valid_then(week_store: tuple[Cli, str], scenario: Scenario) -> None:
    cli, _ = week_store
    out = cli.json("recall", scenario.question, "--as-of", scenario.past)
    assert out["meta"]["as_of"].startswith(scenario.past[:19])
    top = out["results"][0]
    assert scenario.past_value in top["content"], [h["content"] for h in out["results"]]
    assert all(h["occurred_at"][:19] <= scenario.past[:19] for h in out["results"])  # nothing from after then


def _replayed(cli: Cli, query: str, upto: int) -> list[tuple[str, str, str]]:
    """The reference for --known-at: the log replayed up to `upto` into scratch
    projections (exact, as `--as-of` used to compute it), then the same recall."""
    store = cli.data_dir / "stores" / "default"
    with tempfile.TemporaryDirectory() as tmp:
        past = StoreDB(Path(tmp), log_directory=store, upto=upto)
        try:
            past.catch_up()
            result = hybrid_recall(past, "default", query, limit=20)
            result = succession.finish(past.main.conn, result, now="9999", limit=10)
            return [(h.id, h.status, h.content) for h in result.results]
        finally:
            past.close()


@pytest.mark.parametrize("scenario", FIRST_HALF, ids=lambda s: s.name)
def test_known_at_answers_what_a_replay_up_to_then_answers(week_store: tuple[Cli, str], scenario: Scenario) -> None:
    cli, between = week_store
    out = cli.json("recall", scenario.question, "--known-at", between)
    upto = max(e["seq"] for e in cli.events() if e["recorded_at"] <= between)
    assert [(h["id"], h["status"], h["content"]) for h in out["results"]] == _replayed(cli, scenario.question, upto)
    # recorded by then: the first steps only, so the stale value is the answer
    assert scenario.stale in out["results"][0]["content"]
    assert out["meta"]["known_at"] is not None


def test_replay_and_verify_hold_after_the_week(week_store: tuple[Cli, str]) -> None:
    cli, _ = week_store
    before = {s.name: cli.json("recall", s.question)["results"] for s in SCENARIOS}
    assert cli.json("events", "verify")["ok"] is True
    cli.ok("events", "replay")
    assert cli.json("events", "verify")["ok"] is True
    after = {s.name: cli.json("recall", s.question)["results"] for s in SCENARIOS}
    assert {k: [h["id"] for h in v] for k, v in after.items()} == {k: [h["id"] for h in v] for k, v in before.items()}


def test_only_scenario_steps_were_superseded_never_a_service_fact(week_store: tuple[Cli, str]) -> None:
    cli, _ = week_store
    exported = [json.loads(x) for x in cli.ok("export", "--all").out.splitlines()]
    superseded = {m["text"] for m in exported if m["status"] == "superseded"}
    steps = {st.text for s in SCENARIOS for st in s.steps}
    assert superseded and superseded <= steps
    assert {m["text"] for m in exported if m["status"] == "active"} >= set(service_facts(300))
