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
