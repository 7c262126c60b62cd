"""Calibrated scores with a whole-text embedder (memman/recall/vector.py
`comparable`, `chance_z`): through the real CLI against the loopback fake
remote embedder, a gibberish query returns nothing above the default
--min-score, a relevant one does, and the score a relevant answer gets is on
the static embedder's scale. The onnx variant needs the extra and a built
model, so it skips here unless both are present."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from memman import config
from memman.recall.fusion import DEFAULT_MIN_SCORE, INJECT_MIN_SCORE
from memman.recall.vector import chance_z, comparable
from tests.providers.conftest import SECRET

TOPICS = ["billing", "search", "checkout", "payments", "reporting", "gateway", "ledger", "auth"]
NOTES = [
    *(f"Ran the {t} test suite: all green ({100 + n} tests)." for n, t in enumerate(TOPICS)),
    *(f"Closed ticket {t}-{300 + n}." for n, t in enumerate(TOPICS)),
    *(f"Deployed {t} build {500 + n} to staging." for n, t in enumerate(TOPICS)),
    *(f"Priya reviewed the pull request for {t}." for t in TOPICS),
    "We moved the billing database to PostgreSQL because it needs transactions across tables.",
    "The search service caches results in Redis for five minutes.",
    "Checkout is throttled at 100 requests per second per client.",
]
GIBBERISH = ["zorblax quintessor", "flibber wobnop grunkle", "qwvvx plomtrank"]


def _configure(data_dir: Path, provider: str, **values: str) -> None:
    config.set_value(data_dir, "embeddings.provider", provider)
    for key, value in values.items():
        config.set_value(data_dir, f"embeddings.{key}", value)


@pytest.fixture
def remote_store(memman, data_dir: Path, fake, ns):  # type: ignore[no-untyped-def]
    _configure(data_dir, "openai", model="fake-256", base_url=fake.base_url(ns), api_key=SECRET)
    for text in NOTES:
        assert memman("remember", text).code == 0
    assert memman("scheduler", "drain").code == 0
    return memman


def test_gibberish_returns_nothing_and_a_relevant_query_does(remote_store) -> None:  # type: ignore[no-untyped-def]
    for query in GIBBERISH:
        run = remote_store("recall", query, "--json")
        assert run.code == 0, run.err
        answer = run.json()
        assert answer["meta"]["fingerprint"].startswith("openai:fake-256")
        assert answer["results"] == [], (query, answer["results"][:1])
    relevant = remote_store("recall", "why did we move billing to PostgreSQL", "--json").json()
    assert relevant["results"] and relevant["results"][0]["content"].startswith("We moved the billing database")
    assert relevant["meta"]["confidence"] >= INJECT_MIN_SCORE > DEFAULT_MIN_SCORE


def test_the_vector_signal_is_on_one_scale_for_every_embedder() -> None:
    # the static embedder's centred cosine as it is; any other: the static equivalent of its z-score
    assert comparable(0.42, 3.0, "static") == 0.42
    assert comparable(0.42, 3.0, "openai") == comparable(0.9, 3.0, "onnx") == pytest.approx(0.39)
    assert comparable(None, None, "voyage") == 0.0
    assert chance_z(800) == pytest.approx(3.66, abs=0.01) and chance_z(5) == chance_z(30)


ONNX_MODEL_DIR = Path(os.environ.get("ONNX_MODEL_DIR", "/tmp/minilm-onnx"))


@pytest.mark.skipif(
    not (ONNX_MODEL_DIR / "model-int8.onnx").is_file(),
    reason=f"no ONNX model at {ONNX_MODEL_DIR}: build one with tools/build_onnx_model.py (needs torch)",
)
def test_gibberish_returns_nothing_with_onnx_either(memman, data_dir: Path) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("onnxruntime", reason="memman[onnx] not installed")
    _configure(data_dir, "onnx", model_path=str(ONNX_MODEL_DIR))
    for text in NOTES:
        assert memman("remember", text).code == 0
    assert memman("scheduler", "drain").code == 0
    for query in GIBBERISH:
        assert memman("recall", query, "--json").json()["results"] == []
    relevant = memman("recall", "why did we move billing to PostgreSQL", "--json").json()
    assert relevant["results"] and relevant["results"][0]["content"].startswith("We moved the billing database")
