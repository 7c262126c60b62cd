"""`memman embed ...` through the real CLI in subprocesses: JSON output, one
clear line and a non-zero exit for bad input with the log unchanged, no key
anywhere in the output, and a real swap against the loopback fake."""

from __future__ import annotations

from pathlib import Path

import pytest

from memman import config
from tests.providers.conftest import SECRET


@pytest.fixture
def drained(memman, data_dir: Path):  # type: ignore[no-untyped-def]
    memman("remember", "We chose SQLite because it needs no server")
    memman("remember", "Alice prefers tabs over spaces")
    assert memman("scheduler", "drain").code == 0
    return memman


def _configure(data_dir: Path, url: str) -> None:
    for key, value in {"provider": "openai", "model": "fake-256", "base_url": url, "api_key": SECRET}.items():
        config.set_value(data_dir, f"embeddings.{key}", value)


def _events(memman) -> int:  # type: ignore[no-untyped-def]
    return len(memman("events", "list", "--json", "--limit", "1000").json()["events"])


def test_status_json_reports_binding_coverage_and_credentials_without_the_key(drained, data_dir, fake, ns) -> None:  # type: ignore[no-untyped-def]
    _configure(data_dir, fake.base_url(ns))
    run = drained("embed", "status", "--json")
    assert run.code == 0, run.err
    status = run.json()
    assert status["bound"].startswith("static:") and status["swap"] is None
    assert status["coverage"][0]["covered"] == status["coverage"][0]["active"] == 2
    assert {"provider": "openai", "role": "configured", "source": "config", "available": True} in status["credentials"]
    assert SECRET not in run.out + run.err


def test_swap_there_and_back_through_the_cli(drained, data_dir, fake, ns) -> None:  # type: ignore[no-untyped-def]
    _configure(data_dir, fake.base_url(ns))
    run = drained("embed", "swap", "--to", "openai:fake-256", "--json")
    assert run.code == 0, run.err
    assert run.json()["to"] == "openai:fake-256:256:api" and run.json()["embedded"] == 2
    assert "swap: 2/2 memories" in run.err  # the progress line (stderr is not a terminal here)
    recall = drained("recall", "sqlite server", "--json").json()
    assert recall["meta"]["fingerprint"] == "openai:fake-256:256:api" and recall["meta"]["degraded"] is None
    back = drained("embed", "reembed", "--to", "static", "--json")
    assert back.code == 0, back.err
    assert back.json()["to"].startswith("static:") and back.json()["embedded"] == 0


def test_swap_and_back_on_a_store_whose_log_is_in_postgres(memman, data_dir, fake, ns, pg_dsn) -> None:  # type: ignore[no-untyped-def]
    """The swap's backfill and cut-over are events in the shared log; the local replica follows."""
    assert memman("store", "create", "default", "--backend", pg_dsn).code == 0
    memman("remember", "We chose SQLite because it needs no server")
    memman("remember", "Alice prefers tabs over spaces")
    assert memman("scheduler", "drain").code == 0
    _configure(data_dir, fake.base_url(ns))
    run = memman("embed", "swap", "--to", "openai:fake-256", "--json")
    assert run.code == 0, run.err
    assert run.json()["embedded"] == 2
    assert memman("recall", "sqlite server", "--json").json()["meta"]["fingerprint"] == "openai:fake-256:256:api"
    assert memman("events", "replay").code == 0  # the cut-over replays from the PostgreSQL log
    assert memman("recall", "sqlite server", "--json").json()["meta"]["fingerprint"] == "openai:fake-256:256:api"
    back = memman("embed", "reembed", "--to", "static", "--json")
    assert back.code == 0, back.err
    assert memman("events", "verify", "--json").json()["ok"] is True
    assert memman("status", "--json").json()["backend"].startswith("postgresql://")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["embed", "swap"], "give exactly one of --to PROVIDER[:MODEL], --resume or --abort"),
        (["embed", "swap", "--to", "static", "--abort"], "give exactly one of --to PROVIDER[:MODEL], --resume or --abort"),
        (["embed", "swap", "--to", "nope:model"], "unknown embedding provider 'nope'"),
        (["embed", "swap", "--resume"], "no embedder swap in progress"),
        (["embed", "swap", "--abort"], "no embedder swap in progress; nothing to abort"),
        # names the extra without onnxruntime, the build command with it
        (["embed", "reembed", "--to", "onnx"], "onnx"),
    ],
)
def test_bad_input_is_one_line_a_nonzero_exit_and_no_change(drained, args, message) -> None:  # type: ignore[no-untyped-def]
    before = _events(drained)
    run = drained(*args)
    assert run.code in (2, 6), run.err
    assert run.err.count("\n") == 1 and run.err.startswith("memman: error: ") and message in run.err
    assert _events(drained) == before


def test_an_unreachable_swap_target_exits_6_and_changes_nothing(drained, data_dir) -> None:  # type: ignore[no-untyped-def]
    _configure(data_dir, "http://127.0.0.1:9/v1")
    config.set_value(data_dir, "embeddings.max_retries", "0")  # the retry path has its own tests; keep this fast
    before = _events(drained)
    run = drained("embed", "swap", "--to", "openai")
    assert run.code == 6 and run.err.startswith("memman: error: openai at http://127.0.0.1:9/v1/embeddings")
    assert SECRET not in run.err
    assert _events(drained) == before


@pytest.mark.parametrize("command", ["status", "swap", "reembed"])
def test_every_embed_command_has_an_example_and_json(memman, command) -> None:  # type: ignore[no-untyped-def]
    run = memman("embed", command, "--help")
    assert run.code == 0 and "Example:" in run.out and "--json" in run.out
