"""The offline capture rules are a strict gate: precision over recall. Every
durable statement below is kept (as said, minus a leading "remember that"),
and not one sentence of ordinary session chatter, requests, questions,
progress or transient instructions gets through."""

from __future__ import annotations

import pytest

from workers.stages.capture import RuleCapturer, durable, turns

KEPT = [
    ("I prefer tabs over spaces in Go code.", "I prefer tabs over spaces in Go code.", "preference"),
    ("We strongly prefer small pull requests with one change each.", None, "preference"),
    ("Always run the linter before pushing to main.", None, "preference"),
    ("Never force-push to the release branches.", None, "preference"),
    ("From now on, use pnpm instead of npm in this repository.", None, "preference"),
    ("Going forward we use UTC timestamps in every log line.", None, "preference"),
    ("We never deploy on Fridays because support is thin on weekends.", None, "preference"),
    ("We decided to pin Python to 3.11 because the ONNX wheels lag behind.", None, "decision"),
    ("We chose PostgreSQL over MySQL for the billing service.", None, "decision"),
    ("We've agreed that API errors are returned as RFC 7807 problem documents.", None, "decision"),
    ("Remember that the staging database listens on port 5433.", "The staging database listens on port 5433.", "fact"),
    ("Keep in mind that the CI runners have only 2 cores.", "The CI runners have only 2 cores.", "fact"),
    ("For future reference, the VPN config lives in ops/vpn/README.md.", "The VPN config lives in ops/vpn/README.md.", "fact"),
]
CHATTER = [
    "hi", "ok thanks", "Looks good to me.", "Great, that works now.",
    "Can you fix the failing test in tests/test_api.py?",
    "Could you always check the logs first?",
    "Please run the tests again.",
    "Fix the typo in the README.",
    "What does this function do?",
    "Why did we decide to use Redis here?",
    "For now, skip the flaky integration tests.",
    "Right now I prefer to focus on the parser.",
    "Today we decided to look at the bug in the exporter.",
    "This time, never mind the formatting.",
    "Let's always keep going like this.",
    "I prefer it.",
    "We decided.",
    "Remember that.",
    "Always ```rm -rf build``` before a release build.",
    "Never commit the token [REDACTED:GitHub token] again.",
    "The build failed with exit code 2 on line 40 of main.py.",
    "I changed the parser to return a list and updated the tests.",
    "Next step is the changelog, we decided to write it later.",
    "Thanks, we decided that was enough for this session.",
    "We chose " + "a very long sentence " * 20 + "for no reason.",
]


@pytest.mark.parametrize(("said", "text", "category"), KEPT)
def test_a_durable_statement_is_kept(said: str, text: str | None, category: str) -> None:
    fact = durable(said)
    assert fact is not None
    assert (fact.text, fact.category) == (text or said, category)


@pytest.mark.parametrize("said", CHATTER)
def test_chatter_requests_questions_and_transient_instructions_are_not(said: str) -> None:
    assert durable(said) is None


def test_only_the_users_turns_are_read_and_each_memory_once() -> None:
    text = "\n".join([
        "user: Can you set up CI? I prefer GitHub Actions over Jenkins for new projects.",
        "assistant: I prefer Jenkins. We decided to use Jenkins.",
        "  Always use Jenkins.",
        "user: ok. I prefer GitHub Actions over Jenkins for new projects.",
    ])
    assert [r for r, _ in turns(text)] == ["user", "assistant", "user"]
    out = RuleCapturer().capture(text)
    assert [f.text for f in out.facts] == ["I prefer GitHub Actions over Jenkins for new projects."]
    assert RuleCapturer().capture("user: hi\nassistant: hello").warnings == [
        "nothing durable: no user sentence passed the capture rules"
    ]
