"""The subject reader's change patterns carry a first-letter lookahead
(`workers.stages.subject._led`) so the regex engine skips positions where no
alternative can start: they must match exactly what the plain alternation
matches (same spans, same groups), case folding included."""

from __future__ import annotations

import re

import pytest

from workers.stages import subject
from workers.stages.subject import read

SENTENCES = [
    "We switched CI from GitHub Actions to Buildkite.",
    "We MOVED the API from v1 onto v2, then",
    "Upgraded Postgres to 16",
    "UPGRADED the db TO 17; ok",
    "set our limit to 5 and cut the budget to 3k",
    "replaced Jenkins with Buildkite",
    "Using Y instead of X",
    "Dana is no longer on call, not anymore, any more",
    "From now on use k8s; going forward; from today",
    "ſwitched from a to b",  # long s folds to s under IGNORECASE
    "re-moved from a to b; X_no longer; noon; another",
    "The billing service timeout is 30s",
    "",
]

PLAIN = {
    "_FROM_TO": r"\b(?:switched|switching|moved|migrated|changed|upgraded|downgraded|went|transitioned|swapped|bumped"
    r"|raised|lowered|increased|decreased|reduced|cut|shifted|converted|ported)\b.*?\bfrom\s+(?P<old>.+?)\s+"
    r"(?:to|onto|into)\s+(?P<new>.+?)\s*(?:[.;,!]|$)",
    "_SUBJECT_TO": r"\b(?:upgraded|downgraded|bumped|raised|lowered|increased|decreased|reduced|changed|moved|switched"
    r"|set|cut)\s+(?:the\s+|our\s+)?(?P<subject>.+?)\s+to\s+(?P<new>.+?)\s*(?:[.;,!]|$)",
    "_NO_LONGER": r"\bno\s+longer\b|\bnot\s+anymore\b|\bany\s*more\b",
    "_FROM_NOW_ON": r"\bfrom\s+now\s+on\b|\bgoing\s+forward\b|\bfrom\s+today\b",
    "_CHANGE_GATE": r"\b(?:switched|switching|moved|migrated|changed|upgraded|downgraded|went|transitioned|swapped"
    r"|bumped|raised|lowered|increased|decreased|reduced|cut|shifted|converted|ported|replaced|instead|no|not|any|set"
    r"|from|going)",
}


@pytest.mark.parametrize("name", sorted(PLAIN))
def test_led_patterns_match_what_the_plain_alternations_match(name: str) -> None:
    plain = re.compile(PLAIN[name], re.IGNORECASE)
    led = getattr(subject, name)
    for text in SENTENCES:
        for start in range(len(text) + 1):
            a, b = plain.search(text, start), led.search(text, start)
            assert (a is None) == (b is None), (name, text, start)
            if a is not None and b is not None:
                assert (a.span(), a.groupdict()) == (b.span(), b.groupdict()), (name, text, start)


def test_a_change_is_still_read() -> None:
    reading = read("We switched CI from GitHub Actions to Buildkite.", ["CI", "GitHub Actions", "Buildkite"])
    assert reading.change is not None and reading.change.kind == "from-to"
    assert reading.change.old == ("github", "actions")
    assert read("Upgraded Postgres to 16", ["Postgres"]).change.kind == "subject-to"  # type: ignore[union-attr]
    assert read("The billing service timeout is 30s", []).change is None
