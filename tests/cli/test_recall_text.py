"""Recall through the real CLI for questions that name a date, text in
non-space-delimited scripts (Chinese, Japanese, Korean), emoji, and entity
aliases: the cases issue 10 lists, each in a subprocess against a store
drained in the same module."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.conftest import Cli, distinct_texts

DATED = [
    ("2024-02-01T10:00:00Z", "We discussed the hiring plan for the data team"),
    ("2024-02-04T10:00:00Z", "We discussed the hiring plan for the support team"),
    ("2024-02-09T10:00:00Z", "We discussed the hiring plan for the sales team"),
]


@pytest.fixture(scope="module")
def dated(tmp_path_factory: pytest.TempPathFactory) -> Cli:
    cli = Cli(tmp_path_factory.mktemp("dated") / "data")
    for at, text in DATED:
        cli.remember(text, "--at", at)
    for n in range(8):
        cli.remember(f"We discussed the hiring plan again, round {chr(97 + n)}")  # recent, same words
    cli.ok("scheduler", "drain")
    return cli


def test_a_question_naming_a_day_finds_that_days_memory(dated: Cli) -> None:
    out = dated.json("recall", "what did we discuss about hiring on 4 February 2024")
    top = out["results"][0]
    assert top["content"] == DATED[1][1]
    assert top["signals"]["date"] == 1.0
    assert out["meta"]["window"] == {
        "start": "2024-02-04T00:00:00.000000Z", "end": "2024-02-05T00:00:00.000000Z", "phrases": ["on 4 February 2024"],
    }  # fmt: skip
    line = dated.ok("recall", "what did we discuss about hiring on 4 February 2024").out.splitlines()[0]
    assert line.split()[2] == "2024-02-04"  # the day it occurred


def test_as_of_is_today_for_relative_dates(dated: Cli) -> None:
    out = dated.json("recall", "hiring plan two days ago", "--as-of", "2026-12-30T12:00:00Z")
    assert out["meta"]["window"]["start"] == "2026-12-28T00:00:00.000000Z"


SCRIPTS = {
    "zh": "我们决定使用数据库来存储事件日志，因为它支持事务",
    "ja": "明日の会議でテスト結果を共有します",
    "de": "Die Datenbank läuft auf dem Server im Keller",
    "ko": "우리는 데이터베이스를 백업했습니다",
    "emoji": "The deploy went fine 🚀 after the hotfix",
    "thumbs": "Dana liked the new logo 👍🏽",
    "en": "The weekly report goes out on Fridays",
}


@pytest.fixture(scope="module")
def scripts(tmp_path_factory: pytest.TempPathFactory) -> tuple[Cli, dict[str, str]]:
    cli = Cli(tmp_path_factory.mktemp("scripts") / "data")
    ids = {name: cli.remember(text) for name, text in SCRIPTS.items()}
    cli.ok("scheduler", "drain")
    return cli, ids


def _ids(cli: Cli, query: str, *args: str) -> list[str]:
    return [h["id"] for h in cli.json("recall", query, *args)["results"]]


@pytest.mark.parametrize("mode", [(), ("--basic",)])
def test_a_chinese_word_inside_a_sentence_is_found(scripts: tuple[Cli, dict[str, str]], mode: tuple[str, ...]) -> None:
    cli, ids = scripts
    assert _ids(cli, "数据库", *mode) == [ids["zh"]]
    assert _ids(cli, "数据库在哪里", *mode)[0] == ids["zh"]  # a longer question holding the word
    assert _ids(cli, "数据", *mode) == [ids["zh"]]  # two characters: below a trigram, found by LIKE
    line = cli.ok("recall", "数据库", *mode).out.splitlines()[0]
    assert line.endswith(SCRIPTS["zh"])


def test_japanese_finds_the_japanese_memory_and_not_the_german_one(scripts: tuple[Cli, dict[str, str]]) -> None:
    cli, ids = scripts
    found = _ids(cli, "テスト")
    assert found == [ids["ja"]]
    assert ids["de"] not in found


def test_korean_with_a_particle_attached_is_found(scripts: tuple[Cli, dict[str, str]]) -> None:
    cli, ids = scripts
    assert _ids(cli, "데이터베이스") == [ids["ko"]]  # the memory says 데이터베이스를


def test_emoji_find_the_memories_holding_them(scripts: tuple[Cli, dict[str, str]]) -> None:
    cli, ids = scripts
    assert _ids(cli, "🚀") == [ids["emoji"]]
    assert _ids(cli, "🚀", "--basic") == [ids["emoji"]]
    assert _ids(cli, "👍🏽") == [ids["thumbs"]]  # with its skin tone
    assert _ids(cli, "deploy 🚀")[0] == ids["emoji"]  # words and emoji together
    assert _ids(cli, "🦄") == []  # an emoji no memory holds finds nothing


def test_latin_queries_are_unchanged(scripts: tuple[Cli, dict[str, str]]) -> None:
    cli, ids = scripts
    assert _ids(cli, "weekly report")[0] == ids["en"]


ALIASED = {
    "decision": "We chose PostgreSQL for the ledger because it has transactional DDL and JSONB",
    "pool": "The Postgres connection pool for the reporting jobs holds twenty sessions",
    "vacuum": "Autovacuum on the Postgres replica runs every night after the backups",
    "index": "Postgres query plans for the search page use the trigram index",
    "k8s": "Every service is deployed to Kubernetes through one Helm chart",
    "js": "The browser extension is written in plain JavaScript without a bundler",
    "mongo": "Session documents live in MongoDB with a TTL index of one day",
}


@pytest.fixture(scope="module")
def aliased(tmp_path_factory: pytest.TempPathFactory) -> tuple[Cli, dict[str, str]]:
    cli = Cli(tmp_path_factory.mktemp("aliases") / "data")
    ids = {name: cli.remember(text, *(("--cat", "decision") if name == "decision" else ())) for name, text in ALIASED.items()}
    for text in distinct_texts(6):  # so that Postgres is not in half the store (too common to link by)
        cli.remember(text)
    cli.ok("scheduler", "drain")
    return cli, ids


def test_why_did_we_choose_postgres_ranks_the_postgresql_decision_first(aliased: tuple[Cli, dict[str, str]]) -> None:
    cli, ids = aliased
    for query in ("why did we choose Postgres", "why did we choose postgres", "why PostgreSQL"):
        out = cli.json("recall", query)
        assert out["results"][0]["id"] == ids["decision"], query
    assert cli.json("recall", "why did we choose Postgres")["results"][0]["signals"]["entity"] == 1.0


def test_a_memory_naming_the_entity_by_an_alias_gets_the_entity_signal(aliased: tuple[Cli, dict[str, str]]) -> None:
    """The query's entity is canonical ("postgresql"); a memory that says
    "Postgres" names the same entity, so its entity signal is full too (it
    compared the canonical name with the stored spelling, and was 0)."""
    cli, ids = aliased
    out = cli.json("recall", "PostgreSQL connection pool sessions")
    top = out["results"][0]
    assert top["id"] == ids["pool"]
    assert top["signals"]["entity"] == 1.0
    named = [h for h in out["results"] if h["id"] in (ids["vacuum"], ids["index"])]
    assert named and all(h["signals"]["entity"] == 1.0 for h in named)


@pytest.mark.parametrize(
    ("query", "name"),
    [("k8s helm chart", "k8s"), ("JS browser extension", "js"), ("Mongo session documents", "mongo")],
)
def test_an_alias_finds_the_memory_that_uses_the_other_name(
    aliased: tuple[Cli, dict[str, str]], query: str, name: str
) -> None:
    cli, ids = aliased
    assert _ids(cli, query, "--basic")[0] == ids[name]  # by keyword alone
    assert _ids(cli, query)[0] == ids[name]


def test_the_entity_graph_links_memories_naming_one_entity_by_different_aliases(
    aliased: tuple[Cli, dict[str, str]],
) -> None:
    cli, ids = aliased
    related = cli.json("graph", "related", ids["decision"], "--edge", "entity")["related"]
    by_entity = {item["id"] for item in related}
    assert {ids["pool"], ids["vacuum"], ids["index"]} <= by_entity  # they say Postgres, it says PostgreSQL
