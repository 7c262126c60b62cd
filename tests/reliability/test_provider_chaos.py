"""Provider chaos through the loopback fake: a provider that keeps answering
429 trips the circuit breaker, so the drain stops calling it instead of
waiting out every Retry-After; the skipped inputs stay pending without
spending a retry attempt, and the next drain, once the provider heals,
derives them all."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from events.errors import CircuitOpen, ProviderUnavailable
from memman import config
from memman.maintenance import drain_all
from memman.service import Memman
from tests.cli.conftest import distinct_texts
from tests.providers.conftest import SECRET, fake, ns, settings_for  # noqa: F401 - fixtures
from workers.embedders import create_embedder
from workers.providers import breaker, http

INPUTS = 6


def cool_down(data_dir: Path) -> None:
    """What 60 s of waiting does to the shared breaker's state (workers/providers/breaker.py)."""
    for state in (data_dir / breaker.DIRECTORY).glob("*.json"):
        state.write_text(json.dumps({**json.loads(state.read_text()), "open_until": 0}))


def _remote_store(app: Memman, data_dir: Path, url: str) -> None:
    for key, value in {"provider": "openai", "model": "fake-256", "base_url": url, "api_key": SECRET,
                       "timeout_s": "2", "max_retries": "3"}.items():
        config.set_value(data_dir, f"embeddings.{key}", value)
    for text in distinct_texts(INPUTS):
        app.remember(text)


def test_a_rate_limiting_provider_trips_the_breaker_and_nothing_is_lost(app, data_dir, fake, ns) -> None:  # type: ignore[no-untyped-def]
    _remote_store(app, data_dir, fake.base_url(ns))
    drain_all(data_dir)  # binds the embedder and derives everything while the provider is healthy
    more = distinct_texts(INPUTS, start=100)
    for text in more:
        app.remember(text)
    fake.script(ns, *[{"status": 429, "retry_after": "0"}] * 50)
    before = fake.stats(ns)["requests"]
    [report] = drain_all(data_dir)
    calls = fake.stats(ns)["requests"] - before
    # one batch of inputs tried BREAKER_FAILURES times, then the circuit is open: no call per input
    assert calls == http.BREAKER_FAILURES, calls
    assert (report.completed, report.dead) == (0, 0)
    failed = [r.event for r in app.db.log.read(types=["derivation.failed"])]
    # the one batch that was tried records one attempt per input in it; nothing is dead-lettered
    assert {(f.attempt, f.dead) for f in failed} == {(1, False)} and len(failed) <= INPUTS
    fake.space(ns).steps.clear()  # the provider heals, and the breaker's cool-down passes
    cool_down(data_dir)
    [healed] = drain_all(data_dir, clock=lambda: app.clock() + timedelta(hours=1))  # past the retry backoff
    assert healed.remaining == 0 and healed.dead == 0
    assert app.fresh().main.conn.execute("SELECT count(*) FROM memories WHERE status='active'").fetchone()[0] == 2 * INPUTS


def test_an_open_circuit_fails_at_once_and_is_a_provider_error(settings_for, fake, ns) -> None:  # type: ignore[no-untyped-def]
    fake.script(ns, *[{"status": 500}] * 10)
    embedder = create_embedder("openai", settings_for("openai", max_retries=10))
    for _ in range(2):
        try:
            embedder.embed(["x"])
        except CircuitOpen as exc:
            assert "its work is skipped" in str(exc)
            assert isinstance(exc, ProviderUnavailable)  # exit 6 at the CLI
            break
        except ProviderUnavailable:
            continue
    else:
        raise AssertionError("the circuit never opened")
    assert fake.stats(ns)["requests"] == http.BREAKER_FAILURES
