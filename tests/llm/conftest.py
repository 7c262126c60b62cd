"""One loopback fake OpenAI-compatible server for the whole run (tools/fake_llm.py),
reset before each test; settings that point memman at it with short timeouts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from memman import config
from memman.config import LLMSettings, RerankSettings
from tools.fake_llm import FakeLLM

API_KEY = "sk-test-THIS-MUST-NEVER-LEAK-1234"


@pytest.fixture(scope="session")
def _fake_server() -> Iterator[FakeLLM]:
    with FakeLLM() as fake:
        yield fake


@pytest.fixture
def fake(_fake_server: FakeLLM) -> Iterator[FakeLLM]:
    _fake_server.reset()
    _fake_server.delay = 2.0
    yield _fake_server
    _fake_server.reset()


@pytest.fixture
def llm_settings(fake: FakeLLM) -> LLMSettings:
    return LLMSettings(
        provider="openai",
        base_url=fake.url,
        api_key=API_KEY,
        model_fast="fake-fast",
        model_slow="fake-slow",
        timeout_s=0.3,
        max_retries=1,
        retry_backoff_s=0.01,
    )


@pytest.fixture
def rerank_settings(fake: FakeLLM) -> RerankSettings:
    return RerankSettings(provider="compatible", base_url=fake.url, api_key=API_KEY, model="fake-rerank", timeout_ms=300)


@pytest.fixture
def llm_configured(data_dir: Path, llm_settings: LLMSettings) -> Path:
    """config.toml pointing every store at the fake (as a user would set it)."""
    for field in ("provider", "base_url", "api_key", "model_fast", "model_slow", "timeout_s", "max_retries", "retry_backoff_s"):
        config.set_value(data_dir, f"llm.{field}", str(getattr(llm_settings, field)))
    return data_dir
