"""The subject asked about first (memman/recall/asked.py): among claims about
the same named thing that match the question equally well, one about another
subject never outranks one about the subject the question asks; everything
else keeps recall's order.

The unit tests build hits by hand (the rule reads only their text, entities
and keyword coverage); the last test asks the real CLI over a store where
twenty look-alike facts about other services all "use Postgres"."""

from __future__ import annotations

import json
from pathlib import Path

import msgspec

from memman.recall.asked import order, subject_words
from memman.results import RecallHit, RecallMeta, RecallResult, Signals
from memman.scope.service import merge
from tests.cli.conftest import Cli


def _hit(n: int, text: str, entities: list[str], keyword: float = 0.36) -> RecallHit:
    return RecallHit(
        id=f"M{n}", content=text, score=1.0 - n / 100, category="fact", importance=3, entities=entities,
        source="agent", created_at="", status="active", signals=Signals(keyword=keyword),
    )  # fmt: skip


def _ids(hits: list[RecallHit]) -> list[str]:
    return [h.id for h in hits]


def test_the_subject_is_read_before_the_first_verb_without_names_or_values() -> None:
    assert subject_words("The shipping health checker in canary uses Postgres 14", ["Postgres"]) == {
        "shipping", "health", "checker", "canary",
    }  # fmt: skip
    assert subject_words("We use Postgres 16 in staging and production", ["Postgres"]) == frozenset()
    assert subject_words("Dana: the billing job uses Postgres", ["Dana", "Postgres"]) == frozenset()
    assert subject_words("web1 listens on port 8080", []) == frozenset()


def test_a_claim_about_us_moves_above_look_alikes_about_other_subjects() -> None:
    hits = [
        _hit(1, "The shipping health checker in canary uses Postgres 14", ["Postgres"]),
        _hit(2, "The search metrics exporter in staging uses Postgres 16", ["Postgres"]),
        _hit(3, "We use Postgres 16 in staging and production", ["Postgres"]),
    ]
    # "Postgres" and "PostgreSQL" are one name (canonical aliases)
    assert _ids(order(hits, ["postgres", "version"], {"postgresql"})) == ["M3", "M1", "M2"]


def test_a_question_that_names_the_subject_keeps_that_subject_first() -> None:
    hits = [
        _hit(1, "We use Postgres 16 in staging and production", ["Postgres"]),
        _hit(2, "The shipping health checker in canary uses Postgres 14", ["Postgres"]),
        _hit(3, "The search metrics exporter in staging uses Postgres 16", ["Postgres"]),
    ]
    words = ["postgres", "version", "shipping", "health", "checker", "use"]
    # both "we" and the shipping health checker are asked subjects; the exporter is not
    assert _ids(order(hits, words, {"postgresql"})) == ["M1", "M2", "M3"]
    assert _ids(order(list(reversed(hits)), words, {"postgresql"})) == ["M2", "M1", "M3"]


def test_a_claim_that_says_less_of_the_query_does_not_jump() -> None:
    hits = [
        _hit(1, "The mobile release uses Postgres version 7", ["Postgres"], keyword=1.0),
        _hit(2, "We use Postgres 16", ["Postgres"], keyword=0.36),
    ]
    assert _ids(order(hits, ["postgres", "version"], {"postgresql"})) == ["M1", "M2"]


def test_only_claims_that_state_a_value_compete() -> None:
    # the answer reads its subject up to "numbered" (a rule, not a parser) and
    # states no value; the PR's number names the PR: nothing moves
    hits = [
        _hit(1, "Mei wants review comments as numbered lists, not prose.", ["Mei"]),
        _hit(2, "Mei reviewed PR #348.", ["Mei", "PR"]),
        _hit(3, "Mei: agreed, let's keep search as is for now.", ["Mei"]),
    ]
    assert _ids(order(hits, ["format", "feedback", "mei"], {"mei"})) == ["M1", "M2", "M3"]


def test_without_a_name_in_the_query_or_without_competing_claims_nothing_moves() -> None:
    hits = [
        _hit(1, "The shipping health checker in canary uses Postgres 14", ["Postgres"]),
        _hit(2, "Lunch is at noon", []),
        _hit(3, "We use Postgres 16", ["Postgres"]),
    ]
    assert _ids(order(hits, ["database", "version"], set())) == ["M1", "M2", "M3"]  # no name asked
    assert _ids(order(hits, ["redis"], {"redis"})) == ["M1", "M2", "M3"]  # no result names it
    # a result that names nothing the query names keeps its place
    assert _ids(order(hits, ["postgres"], {"postgresql"})) == ["M3", "M1", "M2"]


def test_merging_a_project_and_a_personal_answer_keeps_the_asked_subject_first() -> None:
    def answer(store: str, *hits: RecallHit) -> RecallResult:
        meta = RecallMeta(query="which Postgres version do we use", store=store, mode="hybrid", took_ms=1.0,
                          keyword_hits=1, vector_hits=1, pending=0, entities=["Postgres"])  # fmt: skip
        return RecallResult(results=[msgspec.structs.replace(h, store=store) for h in hits], meta=meta)

    personal = answer("default", _hit(1, "The shipping health checker in canary uses Postgres 14", ["Postgres"]))
    project = answer("proj", msgspec.structs.replace(_hit(2, "We use Postgres 16", ["Postgres"]), score=0.1))
    merged = merge([project, personal], limit=10, project="proj")
    assert _ids(merged.results) == ["M2", "M1"]


def test_recall_answers_a_question_about_us_before_twenty_look_alikes(tmp_path: Path) -> None:
    cli = Cli(tmp_path / "data")
    services = ["billing", "auth", "search", "shipping", "ledger"]
    parts = ["health checker", "metrics exporter", "queue consumer", "batch worker"]
    lines = [
        {"text": f"The {s} {p} in canary uses Postgres {14 + (i % 3)}", "at": "2026-02-20T12:00:00Z"}
        for i, (s, p) in enumerate((s, p) for s in services for p in parts)
    ]
    lines.append({"text": "We use Postgres 16 in staging and production", "at": "2026-03-06T16:00:00Z"})
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps(x) + "\n" for x in lines))
    cli.ok("import", str(source))
    cli.ok("scheduler", "drain")
    hits = cli.json("recall", "which Postgres version do we use")["results"]
    assert hits[0]["content"] == "We use Postgres 16 in staging and production", [h["content"] for h in hits]
    named = cli.json("recall", "which Postgres version does the ledger batch worker use")["results"]
    assert named[0]["content"].startswith("The ledger batch worker"), [h["content"] for h in named]
