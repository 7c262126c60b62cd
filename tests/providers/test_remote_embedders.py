"""The three remote embedders over real HTTP against the loopback fake:
batching, query/document types, retries on 429/5xx, and every failure mapped
to one clear error that never contains the API key."""

from __future__ import annotations

import time

import numpy as np
import pytest

from events.errors import MemmanError, ProviderRejected, ProviderUnavailable
from tests.providers.conftest import SECRET
from workers.embedders import create_embedder, embedder_for

PROVIDERS = ["openai", "voyage", "ollama"]


@pytest.fixture(params=PROVIDERS)
def provider(request: pytest.FixtureRequest) -> str:
    return request.param


def _fails(embedder, error: type[MemmanError]) -> MemmanError:  # type: ignore[no-untyped-def]
    with pytest.raises(error) as info:
        embedder.embed(["some text"])
    assert SECRET not in str(info.value)  # never a key in a message
    return info.value


def test_vectors_are_normalised_deterministic_and_batched(provider, settings_for, fake, ns) -> None:  # type: ignore[no-untyped-def]
    embedder = create_embedder(provider, settings_for(provider))
    texts = [f"note number {i} about sqlite" for i in range(20)]
    a = embedder.embed(texts)
    b = embedder.embed(texts)
    assert a.shape == (20, 32) and a.dtype == np.float32
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)
    assert np.array_equal(a, b)
    assert fake.stats(ns)["requests"] == 6  # 20 texts in batches of 8, twice
    assert embedder.fingerprint.key == f"{provider}:fake-32:32:api"


def test_empty_texts_get_a_zero_row_and_are_not_sent(provider, settings_for, fake, ns) -> None:  # type: ignore[no-untyped-def]
    out = create_embedder(provider, settings_for(provider)).embed(["", "hello world", "  "])
    assert not out[0].any() and not out[2].any() and out[1].any()
    assert fake.stats(ns)["texts"] == 1


def test_the_dimension_is_probed_once_when_unknown(settings_for, fake, ns) -> None:  # type: ignore[no-untyped-def]
    embedder = create_embedder("openai", settings_for("openai", model="fake-model"))
    assert embedder.fingerprint.dim == 64 and embedder.fingerprint.dim == 64
    assert fake.stats(ns)["requests"] == 1


def test_voyage_says_whether_it_embeds_a_query_or_a_document(settings_for, fake, ns) -> None:  # type: ignore[no-untyped-def]
    embedder = create_embedder("voyage", settings_for("voyage"))
    embedder.embed(["a stored fact"])
    embedder.embed(["a question"], kind="query")
    assert fake.stats(ns)["input_types"] == ["document", "query"]


def test_429_with_retry_after_is_retried(provider, settings_for, fake, ns) -> None:  # type: ignore[no-untyped-def]
    fake.script(ns, {"status": 429, "retry_after": "0"}, {"status": 429, "retry_after": "0"})
    assert create_embedder(provider, settings_for(provider)).embed(["retry me"]).any()
    assert fake.stats(ns)["requests"] == 3


def test_retry_after_is_honoured(settings_for, fake, ns) -> None:  # type: ignore[no-untyped-def]
    fake.script(ns, {"status": 429, "retry_after": "0.3"})
    started = time.monotonic()
    create_embedder("openai", settings_for("openai")).embed(["wait for it"])
    assert time.monotonic() - started >= 0.3


def test_500_is_retried_then_reported_as_unavailable(provider, settings_for, fake, ns) -> None:  # type: ignore[no-untyped-def]
    fake.script(ns, *[{"status": 500}] * 3)
    error = _fails(create_embedder(provider, settings_for(provider)), ProviderUnavailable)
    assert "HTTP 500 after 3 attempts" in str(error)
    assert fake.stats(ns)["requests"] == 3


def test_a_transient_500_heals(provider, settings_for, fake, ns) -> None:  # type: ignore[no-untyped-def]
    fake.script(ns, {"status": 503})
    assert create_embedder(provider, settings_for(provider)).embed(["ok"]).any()


def test_other_4xx_are_rejected_at_once_without_leaking_the_key(provider, settings_for, fake, ns) -> None:  # type: ignore[no-untyped-def]
    fake.script(ns, {"status": 401, "body": f'{{"error": "bad key {SECRET}"}}'})
    error = _fails(create_embedder(provider, settings_for(provider)), ProviderRejected)
    assert "HTTP 401" in str(error) and "api_key" in str(error)
    assert fake.stats(ns)["requests"] == 1


def test_a_slow_server_times_out(provider, settings_for, fake, ns) -> None:  # type: ignore[no-untyped-def]
    fake.script(ns, {"slow": 1.0})
    embedder = create_embedder(provider, settings_for(provider, timeout_s=0.2, max_retries=0))
    started = time.monotonic()
    error = _fails(embedder, ProviderUnavailable)
    # The fake answers after 1.0 s, so an ignored timeout would succeed rather than raise;
    # the bound only catches a catastrophic wait (timed asserts flake on a loaded machine).
    assert "Timeout" in str(error) and time.monotonic() - started < 5.0


def test_a_deadline_bounds_the_whole_call_retries_included(settings_for, fake, ns) -> None:  # type: ignore[no-untyped-def]
    fake.script(ns, {"status": 500}, {"slow": 1.0}, {"slow": 1.0})
    embedder = create_embedder("openai", settings_for("openai", timeout_s=5.0, max_retries=5))
    started = time.monotonic()
    with pytest.raises(ProviderUnavailable):
        embedder.embed(["q"], kind="query", deadline=time.monotonic() + 0.25)  # type: ignore[call-arg]
    # Without the deadline the third attempt succeeds after ~2 s of slow answers (no raise);
    # the 5 s per-request timeout is the bound a deadline that was ignored would hit.
    assert time.monotonic() - started < 5.0


def test_a_malformed_body_is_unavailable(provider, settings_for, fake, ns) -> None:  # type: ignore[no-untyped-def]
    fake.script(ns, {"malformed": True})
    assert "malformed" in str(_fails(create_embedder(provider, settings_for(provider)), ProviderUnavailable))


def test_a_wrong_dimension_is_rejected(provider, settings_for, fake, ns) -> None:  # type: ignore[no-untyped-def]
    fake.script(ns, {"wrong_dim": 7})
    error = _fails(create_embedder(provider, settings_for(provider), dim=32), ProviderRejected)
    assert "7-d" in str(error) and "32-d" in str(error)


def test_too_few_vectors_is_unavailable(provider, settings_for, fake, ns) -> None:  # type: ignore[no-untyped-def]
    fake.script(ns, {"wrong_count": True})
    assert "0 vectors for 1" in str(_fails(create_embedder(provider, settings_for(provider)), ProviderUnavailable))


def test_a_hung_up_connection_is_retried_then_unavailable(provider, settings_for, fake, ns) -> None:  # type: ignore[no-untyped-def]
    fake.script(ns, *[{"hang_up": True}] * 3)
    _fails(create_embedder(provider, settings_for(provider)), ProviderUnavailable)
    assert fake.stats(ns)["requests"] == 3


def test_the_registry_rebuilds_a_remote_embedder_from_its_fingerprint_without_a_request(settings_for, fake, ns) -> None:  # type: ignore[no-untyped-def]
    embedder = embedder_for("ollama:nomic-embed-text:latest:32:api", settings_for("ollama"))
    assert embedder.fingerprint.key == "ollama:nomic-embed-text:latest:32:api"
    assert fake.stats(ns)["requests"] == 0


def test_a_provider_not_configured_takes_its_key_from_the_environment(settings_for, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from workers.embedders.remote import api_key_for

    settings = settings_for("openai")
    assert api_key_for("openai", settings) == (SECRET, "config")
    assert api_key_for("voyage", settings) == ("", "missing")
    monkeypatch.setenv("VOYAGE_API_KEY", "pa-env")
    assert api_key_for("voyage", settings) == ("pa-env", "env VOYAGE_API_KEY")
    assert api_key_for("ollama", settings) == ("", "not needed")
