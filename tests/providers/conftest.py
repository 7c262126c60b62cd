"""One loopback fake embedding server for the whole test run
(tools/fake_embeddings.py); each test gets its own namespace on it, so
scripted failures and request counters never leak between tests."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tools"))

from fake_embeddings import FakeServer  # noqa: E402

from workers.embedders import EmbedderSettings  # noqa: E402

SECRET = "sk-test-0123456789-secret"


@pytest.fixture(scope="session")
def fake() -> Iterator[FakeServer]:
    server = FakeServer().start()
    yield server
    server.stop()


@pytest.fixture
def ns() -> str:
    return uuid.uuid4().hex[:12]


@pytest.fixture
def settings_for(fake: FakeServer, ns: str):  # type: ignore[no-untyped-def]
    """EmbedderSettings pointing `provider` at this test's namespace, with
    short timeouts and backoff so failure tests stay fast."""

    def make(provider: str = "openai", **overrides: object) -> EmbedderSettings:
        values: dict[str, object] = dict(
            provider=provider,
            model="fake-32",
            base_url=fake.base_url(ns, provider),
            api_key=SECRET,  # ollama needs none, but one behind an authenticating proxy does
            timeout_s=1.0,
            max_retries=2,
            backoff_s=0.01,
            batch_size=8,
        )
        values.update(overrides)
        return EmbedderSettings(**values)  # type: ignore[arg-type]

    return make
