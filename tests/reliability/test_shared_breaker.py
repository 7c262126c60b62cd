"""The circuit breaker is shared by every process of a data dir
(workers/providers/breaker.py): once one drain has found a provider
rate-limiting, the next drain process (an automatic drain, the scheduler)
skips that provider's work at once instead of waiting out Retry-After
again. Real processes (`memman scheduler drain`) against the loopback fake."""

from __future__ import annotations

import json
import stat
import subprocess
from pathlib import Path

from memman import config
from memman.maintenance import drain_all
from memman.service import Memman
from tests.cli.conftest import Cli, distinct_texts
from tests.providers.conftest import SECRET, fake, ns  # noqa: F401 - fixtures
from workers.providers import breaker

INPUTS = 4


def _setup(data_dir: Path, url: str, stores: tuple[str, ...] = ("default",)) -> None:
    for key, value in {"provider": "openai", "model": "fake-64", "base_url": url, "api_key": SECRET,
                       "timeout_s": "2", "max_retries": "3"}.items():
        config.set_value(data_dir, f"embeddings.{key}", value)
    with Memman(data_dir) as app:
        for store in stores:
            if not app.registry.exists(store):
                app.registry.create(store)
    for n, store in enumerate(stores):
        with Memman(data_dir, store) as app:
            for text in distinct_texts(INPUTS, start=50 * n):
                app.remember(text)
    drain_all(data_dir)  # bound to the remote embedder while it is healthy
    for n, store in enumerate(stores):
        with Memman(data_dir, store) as app:
            for text in distinct_texts(INPUTS, start=50 * n + 1000):
                app.remember(text)


def _states(data_dir: Path) -> list[Path]:
    return sorted((data_dir / breaker.DIRECTORY).glob("*.json"))


def _pending(data_dir: Path, store: str = "default") -> int:
    with Memman(data_dir, store) as app:
        return app.fresh().main.conn.execute("SELECT count(*) FROM memories WHERE status='pending'").fetchone()[0]


def test_a_second_drain_process_skips_a_provider_the_first_found_failing(data_dir: Path, fake, ns) -> None:  # type: ignore[no-untyped-def]
    """Store `other`'s inputs never failed and are due, yet the second
    process calls nobody: the first process's failures opened the circuit."""
    cli = Cli(data_dir)
    _setup(data_dir, fake.base_url(ns), stores=("default", "other"))
    fake.script(ns, *[{"status": 429, "retry_after": "0"}] * 100)
    before = fake.stats(ns)["requests"]
    first = cli("scheduler", "drain", "--store", "default")
    tried = fake.stats(ns)["requests"] - before
    assert tried == breaker.FAILURES, (tried, first)
    assert "Traceback" not in first.err

    second = cli("scheduler", "drain", "--store", "other")  # another process, within the cool-down
    assert fake.stats(ns)["requests"] - before == tried, "the second process called the failing provider again"
    assert "circuit open" in second.err, second
    assert second.code == 0 and "Traceback" not in second.err
    assert _pending(data_dir, "other") == INPUTS  # skipped, not lost, no retry attempt spent

    [state] = _states(data_dir)
    assert stat.S_IMODE(state.stat().st_mode) == 0o600
    assert stat.S_IMODE(state.parent.stat().st_mode) == 0o700
    text = state.read_text()
    assert SECRET not in text and ns in json.loads(text)["endpoint"]  # the endpoint named, never the key
    assert json.loads(text)["open_until"] > 0

    fake.space(ns).steps.clear()  # the provider heals, and the cool-down passes
    state.write_text(json.dumps({**json.loads(text), "open_until": 0}))
    healed = cli("scheduler", "drain", "--store", "other")
    assert healed.code == 0, healed
    assert _pending(data_dir, "other") == 0


def test_a_burst_of_drains_of_two_stores_trips_the_breaker_once(data_dir: Path, fake, ns) -> None:  # type: ignore[no-untyped-def]
    """Two stores on one provider, drained by two processes at once: together
    they make at most one request more than a single process would (one may
    be in flight when the other opens the circuit), never two full rounds of
    retries."""
    cli = Cli(data_dir)
    _setup(data_dir, fake.base_url(ns), stores=("default", "other"))
    fake.script(ns, *[{"status": 503}] * 100)
    before = fake.stats(ns)["requests"]
    procs = [
        subprocess.Popen(cli.argv("scheduler", "drain", "--store", store), env=cli.env(),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for store in ("default", "other")
    ]
    outputs = [p.communicate(timeout=120) for p in procs]
    tried = fake.stats(ns)["requests"] - before
    assert breaker.FAILURES <= tried <= breaker.FAILURES + 1, (tried, outputs)
    assert all(b"Traceback" not in err for _, err in outputs)
    assert _pending(data_dir, "default") == INPUTS and _pending(data_dir, "other") == INPUTS


def test_a_damaged_or_unwritable_state_never_stops_work(tmp_path: Path) -> None:
    directory = tmp_path / breaker.DIRECTORY
    shared = breaker.Breaker("openai", "http://127.0.0.1:1/v1", directory)
    assert shared.path is not None
    directory.mkdir(mode=0o700)
    shared.path.write_bytes(b"\x00not json")
    assert shared.open_for() == 0  # damaged: closed
    for _ in range(breaker.FAILURES - 1):
        assert not shared.failed()
    assert shared.failed() and shared.open_for() > 0
    other = breaker.Breaker("openai", "http://127.0.0.1:1/v1/", directory)  # the same endpoint, another process
    assert other.open_for() > 0
    assert breaker.Breaker("openai", "http://127.0.0.1:2/v1", directory).open_for() == 0  # another endpoint
    blocked = tmp_path / "file-not-dir"
    blocked.write_text("")
    local = breaker.Breaker("llm", "http://x", blocked / "sub")  # cannot be created: counts in-process
    for _ in range(breaker.FAILURES):
        local.failed()
    assert local.open_for() > 0 and local.path is None
