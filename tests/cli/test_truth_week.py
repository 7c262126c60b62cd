"""Truth over time through the real CLI, on the scripted week of changes in
tools/truth_scenarios.py (the issue's phrasings included), imported with `--at`
beside 300 service facts about other subjects.

The week is applied case by case: first the noise and every scenario's first
memory, then each scenario's changes, each case imported and drained on its
own. After EVERY case:

- `events verify` holds, and `events replay` gives back every projection row,
  every vector and every FTS posting exactly as the drain built them (so the
  rest of the week runs on a replayed store);
- the store as it stood then is kept, to check `--known-at` against it.

Then, on the finished week:

- "what is X now" ranks the current value first, every time;
- `--as-of` a past date returns the value valid then, first;
- `--known-at` the end of any case is that case's store exactly (every memory
  that existed, with the status, text and successor it had; none that did
  not), and its answers are drawn from it (docs/time.md says why the ranking
  over that store is today's and not a replay's);
- only scenario memories were ever superseded.
"""

from __future__ import annotations

import json
from pathlib import Path

import apsw
import msgspec
import pytest

from memman.timeline import travel
from tests.cli.conftest import Cli
from tests.memman.test_replay import snapshot
from tools.truth_scenarios import Scenario, service_facts, week

SCENARIOS = week()
CASES = ["first", *(s.name for s in SCENARIOS)]  # the first steps, then each scenario's changes
STATE = "id, status, content, superseded_by, superseded_at, occurred_at, created_at, valid_until"


class Case(msgspec.Struct, frozen=True):
    name: str
    upto: int  # the last seq of the log when the case was done
    at: str  # its recorded_at: `--known-at` this time is the store as the case left it
    verified: bool
    replay_differs: list[str]  # projection tables (or the FTS index) a replay did not give back exactly
    state: dict[str, tuple]  # memory id -> (STATE columns) as the case left it


class Week(msgspec.Struct):
    cli: Cli
    store: Path
    cases: dict[str, Case]


def _case(cli: Cli, store: Path, name: str, lines: list[dict]) -> Case:
    source = cli.data_dir.parent / f"{name}.jsonl"
    source.write_text("".join(json.dumps(x) + "\n" for x in lines))
    cli.ok("import", str(source))
    cli.ok("scheduler", "drain")
    built = snapshot(store)
    verified = cli.json("events", "verify")["ok"] is True
    cli.ok("events", "replay")
    replayed = snapshot(store)
    log = apsw.Connection(str(store / "log.db"), flags=apsw.SQLITE_OPEN_READONLY)
    upto, at = log.execute("SELECT max(seq), max(recorded_at) FROM events").fetchone()
    log.close()
    return Case(
        name=name, upto=upto, at=at, verified=verified,
        replay_differs=sorted(k for k in built.keys() | replayed.keys() if built.get(k) != replayed.get(k)),
        state=_state(store, None),
    )  # fmt: skip


def _state(store: Path, upto: int | None) -> dict[str, tuple]:
    """Every memory's state in the projections, as of `upto` (the --known-at view) or now."""
    conn = apsw.Connection(str(store / "projections.db"))
    try:
        with travel(conn, as_of=None, upto=upto):
            return {row[0]: tuple(row) for row in conn.execute(f"SELECT {STATE} FROM memories")}
    finally:
        conn.close()


@pytest.fixture(scope="module")
def week_store(tmp_path_factory: pytest.TempPathFactory) -> Week:
    root = tmp_path_factory.mktemp("week")
    cli = Cli(root / "data")
    store = cli.data_dir / "stores" / "default"
    noise = [{"text": t, "at": "2026-02-20T12:00:00Z"} for t in service_facts(300)]
    cases = {"first": _case(cli, store, "first", noise + [{"text": s.steps[0].text, "at": s.steps[0].at} for s in SCENARIOS])}
    for s in SCENARIOS:
        cases[s.name] = _case(cli, store, s.name, [{"text": st.text, "at": st.at} for st in s.steps[1:]])
    return Week(cli=cli, store=store, cases=cases)


@pytest.mark.parametrize("name", CASES)
def test_verify_and_replay_hold_after_every_case(week_store: Week, name: str) -> None:
    case = week_store.cases[name]
    assert case.verified
    assert case.replay_differs == []


@pytest.mark.parametrize("name", CASES)
def test_known_at_the_end_of_a_case_is_the_store_as_that_case_left_it(week_store: Week, name: str) -> None:
    case = week_store.cases[name]
    assert _state(week_store.store, case.upto) == case.state


def _rank(hits: list[dict], fragment: str) -> int | None:
    return next((i for i, h in enumerate(hits) if fragment in h["content"]), None)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_what_is_x_now_ranks_the_current_value_first(week_store: Week, scenario: Scenario) -> None:
    hits = week_store.cli.json("recall", scenario.question)["results"]
    assert scenario.current in hits[0]["content"], [h["content"] for h in hits]
    stale = _rank(hits, scenario.stale)
    if stale is not None:  # a stale value still shown is marked as such
        assert hits[stale]["stale"] in ("superseded", "older"), hits[stale]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_as_of_a_past_date_returns_the_value_valid_then(week_store: Week, scenario: Scenario) -> None:
    out = week_store.cli.json("recall", scenario.question, "--as-of", scenario.past)
    assert out["meta"]["as_of"].startswith(scenario.past[:19])
    top = out["results"][0]
    assert scenario.past_value in top["content"], [h["content"] for h in out["results"]]
    assert all(h["occurred_at"][:19] <= scenario.past[:19] for h in out["results"])  # nothing from after then


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_known_at_answers_from_the_store_as_it_was_before_and_after_the_change(
    week_store: Week, scenario: Scenario
) -> None:
    before = week_store.cases[CASES[CASES.index(scenario.name) - 1]]
    after = week_store.cases[scenario.name]
    for case, expected in ((before, scenario.stale), (after, scenario.current)):
        out = week_store.cli.json("recall", scenario.question, "--known-at", case.at)
        assert out["meta"]["known_at"] is not None
        assert expected in out["results"][0]["content"], (case.name, [h["content"] for h in out["results"]])
        # every answer existed then, eligible (active or pending), with the status and text it had then
        then = case.state
        assert all(h["id"] in then and then[h["id"]][1:3] == (h["status"], h["content"]) for h in out["results"])
        assert all(h["status"] in ("active", "pending") for h in out["results"])


def test_only_scenario_steps_were_superseded_never_a_service_fact(week_store: Week) -> None:
    exported = [json.loads(x) for x in week_store.cli.ok("export", "--all").out.splitlines()]
    superseded = {m["text"] for m in exported if m["status"] == "superseded"}
    steps = {st.text for s in SCENARIOS for st in s.steps}
    assert superseded and superseded <= steps
    assert {m["text"] for m in exported if m["status"] == "active"} >= set(service_facts(300))
