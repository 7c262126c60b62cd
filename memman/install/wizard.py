"""The first-run questions `memman install` asks in a terminal.

`questions` and `settings_from` are pure (tested without a TTY); the CLI asks
with click.prompt, the key with hidden input. A blank LLM endpoint keeps the
offline defaults: no key, no network."""

from __future__ import annotations

import msgspec

from events.errors import BadInput

EMBEDDERS = ("static", "onnx", "openai", "voyage", "ollama", "hashing")


class Question(msgspec.Struct, frozen=True, kw_only=True):
    key: str
    prompt: str
    default: str = ""
    secret: bool = False
    choices: tuple[str, ...] = ()


def questions(answers: dict[str, str]) -> Question | None:
    """The next question given the answers so far, or None when done."""
    if "llm.base_url" not in answers:
        return Question(key="llm.base_url", prompt="LLM endpoint (OpenAI-compatible /v1 URL; blank = offline rules)")
    if answers["llm.base_url"]:
        if "llm.api_key" not in answers:
            return Question(key="llm.api_key", prompt="LLM API key (hidden; blank for none)", secret=True)
        if "llm.model_fast" not in answers:
            return Question(key="llm.model_fast", prompt="LLM model", default="gpt-4o-mini")
    if "embeddings.provider" not in answers:
        return Question(key="embeddings.provider", prompt="Embedder", default="static", choices=EMBEDDERS)
    return None


def settings_from(answers: dict[str, str]) -> dict[str, str]:
    """config keys -> values to write; offline answers write nothing but the embedder."""
    out: dict[str, str] = {}
    url = answers.get("llm.base_url", "").strip()
    if url:
        if not url.startswith(("http://", "https://")):
            raise BadInput(f"LLM endpoint must be an http(s) URL, got {url!r}")
        out["llm.provider"] = "openai"
        out["llm.base_url"] = url
        if answers.get("llm.api_key", "").strip():
            out["llm.api_key"] = answers["llm.api_key"].strip()
        model = answers.get("llm.model_fast", "").strip()
        if model:
            out["llm.model_fast"] = model
            out["llm.model_slow"] = model
    embedder = answers.get("embeddings.provider", "").strip()
    if embedder and embedder != "static":
        if embedder not in EMBEDDERS:
            raise BadInput(f"unknown embedder {embedder!r}; choose from {', '.join(EMBEDDERS)}")
        out["embeddings.provider"] = embedder
    return out


def apply(data_dir, values: dict[str, str]) -> list[str]:  # type: ignore[no-untyped-def]
    """Validate every value first, then write; returns the keys written (never values)."""
    from memman import config

    for key, value in values.items():  # validation pass: nothing is written if one is bad
        section, field = config._split_key(key)
        config._coerce(config.SECTIONS[section], field, value, key)
    for key, value in values.items():
        config.set_value(data_dir, key, value)
    return sorted(values)
