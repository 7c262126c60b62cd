"""The graph benchmark's generator: the same seed gives the same history, and
every question names evidence that exists in it, so a recall score is about
recall and never about a broken question."""

from __future__ import annotations

import importlib.util
import json
import sys
from collections import Counter
from pathlib import Path

import pytest

TOOL = Path(__file__).resolve().parents[2] / "tools" / "bench_graph.py"


@pytest.fixture(scope="module")
def bench():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("bench_graph", TOOL)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_the_same_seed_gives_the_same_history(bench) -> None:  # type: ignore[no-untyped-def]
    a, b = bench.generate(7, size=200, questions=30), bench.generate(7, size=200, questions=30)
    assert a == b
    assert a.jsonl() == b.jsonl()
    assert bench.generate(8, size=200, questions=30).memories != a.memories


def test_every_evidence_key_exists_in_the_history(bench) -> None:  # type: ignore[no-untyped-def]
    for seed in (1, 2):
        history = bench.generate(seed, size=300, questions=50)
        keys = [m.key for m in history.memories]
        assert len(keys) == len(set(keys))
        texts = [m.text for m in history.memories]
        assert len(texts) == len(set(texts))  # a repeated text would be deduplicated by the drain
        for q in history.questions:
            assert q.evidence and set(q.evidence) <= set(keys), q


def test_questions_cover_every_intent_and_time_runs_forward(bench) -> None:  # type: ignore[no-untyped-def]
    history = bench.generate(3, size=300, questions=50)
    assert len(history.questions) == 50
    assert set(Counter(q.intent for q in history.questions)) == set(bench.INTENTS)
    at = {m.key: m.at for m in history.memories}
    for q in history.questions:
        if q.intent == "why":  # the reason is said before (or with) the decision
            decision, reason = q.evidence
            assert at[reason] <= at[decision]
        if q.intent == "when" and ":before" in q.evidence[0]:
            assert at[q.evidence[0]] < at[q.evidence[1]]
    assert [m.at for m in history.memories] == sorted(m.at for m in history.memories)
    assert {m.source for m in history.memories} == {"user", "agent"}
    first = json.loads(history.jsonl().splitlines()[0])
    assert set(first) == {"text", "at", "source", "meta"}
