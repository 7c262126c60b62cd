"""Recall through the real CLI for questions that name a date, text in
non-space-delimited scripts (Chinese, Japanese, Korean), emoji, and entity
aliases: the cases issue 10 lists, each in a subprocess against a store
drained in the same module."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.conftest import Cli

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
