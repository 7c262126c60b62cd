"""The recall benchmark (tools/recall_bench): its metric arithmetic is right on
hand-built cases, its generator is deterministic with evidence that exists,
its split is by store, deterministic and disjoint, and the quick mode runs end
to end through the real CLI import and drain."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from tools.recall_bench import cli, suite
from tools.recall_bench.bm25 import BM25, stem
from tools.recall_bench.metrics import distinct, mean, score
from tools.recall_bench.model import CATEGORIES, half_of


def test_metrics_on_a_hand_built_ranking() -> None:
    ranked = ["x1", "x2", "e1", "x3", "x4", "x5", "e2", "x6", "x7", "x8", "e3"]  # e3 is 11th: outside the top 10
    got = score(ranked, ["e1", "e2", "e3"])
    assert got == {"hit@5": 1.0, "hit@10": 1.0, "recall@10": pytest.approx(2 / 3), "all@10": 0.0, "mrr": pytest.approx(1 / 3)}
    late = score(["x1", "x2", "x3", "x4", "x5", "e1"], ["e1"])  # 6th: a hit at 10, not at 5
    assert late == {"hit@5": 0.0, "hit@10": 1.0, "recall@10": 1.0, "all@10": 1.0, "mrr": pytest.approx(1 / 6)}
    assert score(["x1"], ["e1"]) == {"hit@5": 0.0, "hit@10": 0.0, "recall@10": 0.0, "all@10": 0.0, "mrr": 0.0}
    assert mean([late, score(["e1"], ["e1"])])["mrr"] == pytest.approx((1 / 6 + 1) / 2)
    with pytest.raises(ValueError):
        score(["e1"], [])


def test_a_turn_split_into_facts_counts_once_at_its_best_rank() -> None:
    # The drain may split one turn into two facts: both map to its key.
    assert distinct(["k1", "k1", None, "k2"], ["A", "B", "C", "D"]) == ["k1", "?C", "k2"]


def test_bm25_prefers_the_rarer_matching_term_and_stems() -> None:
    assert stem("adopted") == stem("adopting") == "adopt" and stem("puppies") == "puppy"
    index = BM25(["a", "b", "c"], ["Dana: the weather is nice", "Dana: we adopted a puppy", "Dana: nice nice nice"])
    assert index.search("Dana adopting puppies")[0] == "b"
    assert index.search("zebra") == []


def test_the_split_is_by_store_deterministic_and_disjoint() -> None:
    tuning = [s.name for s in suite.select("tuning")]
    held = [s.name for s in suite.select("held-out")]
    assert not set(tuning) & set(held) and sorted(tuning + held) == sorted(suite.names())
    assert [s.name for s in suite.select("tuning")] == tuning
    assert half_of("conv-01") == "tuning" and half_of("conv-02") == "held-out"  # stable, by the store's number
    for kind in ("conv", "proj"):  # balanced within each kind
        assert abs(sum(n.startswith(kind) for n in tuning) - sum(n.startswith(kind) for n in held)) <= 1


def test_the_same_name_gives_the_same_store_and_every_evidence_key_exists() -> None:
    a, b = suite.make("conv-03"), suite.make("conv-03")
    assert a.jsonl() == b.jsonl() and a.questions == b.questions
    assert suite.make("conv-04").jsonl() != a.jsonl()
    for store in (a, suite.make("proj-03")):
        keys = {m.key for m in store.memories}
        assert len(keys) == len(store.memories)
        evidence = {k for q in store.questions for k in q.evidence}
        assert evidence <= keys
        texts = Counter(m.text for m in store.memories if m.key in evidence)
        assert max(texts.values()) == 1  # the drain would deduplicate a repeated text
        line = json.loads(store.jsonl().splitlines()[0])
        assert line["meta"]["bench_key"] == store.memories[0].key and line["at"].endswith("Z")


def test_the_full_suite_has_the_questions_the_issue_asks_for() -> None:
    stores = suite.select(None)
    questions = [q for s in stores for q in s.questions]
    assert len(questions) >= 1500
    counts = Counter(q.category for q in questions)
    assert set(counts) == set(CATEGORIES) and min(counts.values()) >= 150
    assert sum(q.paraphrased for q in questions) / len(questions) >= 0.3
    assert Counter(q.kind for q in questions)["relative"] >= 50
    assert all(q.asked_at for q in questions if q.kind == "relative")
    assert all(len(q.evidence) >= 2 for q in questions if q.kind in ("cause-effect", "same-session", "same-entity"))


def test_quick_mode_runs_end_to_end_through_the_real_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "bench.json"
    code = cli.main(["--quick", "--mode", "hybrid", "--mode", "basic", "--mode", "bm25", "--mode", "no-vector",
                     "--json", str(out)])
    assert code == 0
    report = json.loads(out.read_text())
    assert [s["name"] for s in report["stores"]] == list(suite.QUICK)
    assert all(c["agree"] for s in report["stores"] for c in s["cli_checks"])
    assert len(report["stores"][0]["cli_checks"]) == 4
    overall = report["summary"]["hybrid"]["overall"]
    assert overall["n"] == len(report["questions"]) > 100
    assert 0.2 < overall["hit@10"] <= 1.0  # found evidence: keys map back through the drain
    for row in report["questions"][:20]:  # the summary is the mean of the rows
        assert row["modes"]["bm25"]["hit@10"] == float(bool(set(row["evidence"]) & set(row["modes"]["bm25"]["top"])))
    assert "| hybrid | overall |" in capsys.readouterr().out


def test_bad_arguments_are_one_line_and_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert cli.main(["--store", "no-such-store"]) == 2
    assert capsys.readouterr().err.strip() == "recall_bench: error: no store selected"
    assert cli.main(["--quick", "--keep", str(tmp_path)]) == 2
    assert "exists" in capsys.readouterr().err
