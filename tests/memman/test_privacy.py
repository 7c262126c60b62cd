"""The secret detector (memman/intake/privacy.py) refuses every realistic secret in
the corpus and passes every ordinary engineering fact; `--redact` masks the
secret and keeps the rest; `<private>` sections never reach the log. The CLI
cases run the real entry point (fast path and click) and read log.db's bytes."""

from __future__ import annotations

import json

import pytest

from memman.intake.privacy import detect, guard, redact, strip_private
from tests.cli.conftest import Cli, assert_error
from tests.memman.privacy_corpus import ORDINARY, SECRETS

@pytest.fixture
def cli(data_dir) -> Cli:  # type: ignore[no-untyped-def]
    return Cli(data_dir)


SECRET_HINT = "not stored: remove it, wrap it in <private>...</private>, or pass --redact to store the text masked"


def test_the_corpus_is_big_enough() -> None:
    assert len(SECRETS) >= 10
    assert len({kind for text, _ in SECRETS for kind in (f.kind for f in detect(text))}) >= 10
    assert len(ORDINARY) >= 100


@pytest.mark.parametrize(("text", "secret"), SECRETS, ids=[s[:24] for s, _ in SECRETS])
def test_every_realistic_secret_is_found_and_redacted(text: str, secret: str) -> None:
    findings = detect(text)
    assert findings, text
    masked = redact(text, findings)
    assert secret not in masked
    assert "[REDACTED:" in masked


@pytest.mark.parametrize("text", ORDINARY, ids=[t[:30] for t in ORDINARY])
def test_no_ordinary_engineering_fact_is_flagged(text: str) -> None:
    assert detect(text) == []
    assert guard(text) == text


def test_redaction_keeps_the_words_around_the_secret() -> None:
    assert guard("The prod database password is hunter2, ask Bob", redacting=True) == (
        "The prod database password is [REDACTED:password], ask Bob"
    )


def test_private_sections_are_removed_and_an_unclosed_one_hides_the_rest() -> None:
    assert strip_private("keep <PRIVATE>drop</private>this") == "keep this"
    assert strip_private("keep <private>drop all of this") == "keep "


def test_a_refusal_names_the_kind_and_position_never_the_secret(tmp_path) -> None:  # type: ignore[no-untyped-def]
    cli = Cli(tmp_path / "data")
    result = cli("remember", "Deploy key is AKIAIOSFODNN7EXAMPLQ for staging")
    text = assert_error(result, 2, f"text looks like it holds a secret (AWS access key at character 15); {SECRET_HINT}")
    assert "AKIA" not in text
    assert not (tmp_path / "data" / "stores" / "default" / "log.db").exists() or cli.events() == []


def _texts(cli: Cli) -> list[str]:
    """The text of every remembered or replaced event, from the full event export."""
    events = [json.loads(line) for line in cli.ok("export", "--what", "events").out.splitlines()]
    return [e["event"]["text"] for e in events if e["type"] in ("memory.remembered", "memory.replaced")]


def _log_bytes(cli: Cli) -> bytes:
    store = cli.data_dir / "stores" / "default"
    return b"".join(p.read_bytes() for p in store.iterdir() if p.is_file())


@pytest.mark.parametrize("fast", [True, False])
def test_remember_refuses_or_redacts_in_both_paths(tmp_path, fast: bool) -> None:  # type: ignore[no-untyped-def]
    cli = Cli(tmp_path / "data")
    env = {} if fast else {"MEMMAN_NO_FASTPATH": "1"}
    cli.ok("remember", "Staging uses Redis 7", env=env)
    assert_error(cli("remember", "The prod database password is hunter2", env=env), 2, contains=["(password at"])
    cli.ok("remember", "The prod database password is hunter2", "--redact", env=env)
    cli.ok("remember", "Billing runs nightly <private>root pw is hunter3</private>", env=env)
    texts = _texts(cli)
    assert texts == [
        "Staging uses Redis 7",
        "The prod database password is [REDACTED:password]",
        "Billing runs nightly",
    ]
    raw = _log_bytes(cli)
    assert b"hunter2" not in raw and b"hunter3" not in raw


def test_replace_refuses_a_secret_and_redacts_on_request(cli: Cli) -> None:
    memory = cli.remember("The staging token lives in Vault")
    assert_error(cli("replace", memory, "token = ghp_R4nd0mT0k3nV4lu3F0rT3st1ngOnly1234"), 2, contains=["GitHub token"])
    cli.ok("replace", memory, "token = ghp_R4nd0mT0k3nV4lu3F0rT3st1ngOnly1234", "--redact")
    assert _texts(cli)[-1] == "token = [REDACTED:GitHub token]"


def test_import_refuses_the_whole_file_naming_the_line_unless_redact(cli: Cli) -> None:
    lines = "".join(
        json.dumps({"text": t}) + "\n"
        for t in ("Search runs on port 9200", "Use sk-proj-4fK9sLq2Zx8VbN3mR7tY1uW6eA0cD5gH for evals", "<private>x</private>")
    )
    assert_error(cli("import", "-", input=lines), 2, contains=["line 2: text looks like it holds a secret (OpenAI key"])
    assert cli.events() == []
    # the third line is all private: nothing would be left of it
    assert_error(cli("import", "--redact", "-", input=lines), 2, contains=["line 3: text is empty once"])
    cli.ok("import", "--redact", "-", input=lines.rsplit("{", 1)[0])
    assert _texts(cli) == [
        "Search runs on port 9200",
        "Use [REDACTED:OpenAI key] for evals",
    ]
