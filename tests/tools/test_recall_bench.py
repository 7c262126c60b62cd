"""The recall benchmark (tools/recall_bench): its metric arithmetic is right on
hand-built cases, its generator is deterministic with evidence that exists,
its split is by store, deterministic and disjoint, and the quick mode runs end
to end through the real CLI import and drain."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from tools.recall_bench import cli, goals, harness, report, suite
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
    assert stem("bake") == stem("baked") == stem("baking")
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
        # Small talk varies too: a store must not shrink to its events once the drain deduplicates.
        assert len({m.text for m in store.memories}) >= 0.85 * len(store.memories)
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
    assert all(s["active_memories"] >= 0.5 * s["memories"] for s in report["stores"])  # not shrunk to its events
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
    for argv in (["--mode", "telepathy"], ["--half", "third"], ["--tuning", "--half", "held-out"], ["--nope"]):
        with pytest.raises(SystemExit) as exit_:
            cli.main(argv)
        assert exit_.value.code == 2
        err = capsys.readouterr().err
        assert err.startswith("recall_bench: error: ") and err.count("\n") == 1, err
    assert cli.main(["--quick", "--keep", str(tmp_path / "k"), "--reuse", str(tmp_path)]) == 2
    assert capsys.readouterr().err.strip() == "recall_bench: error: use one of --keep and --reuse"


def test_update_doc_records_only_whole_halves(capsys: pytest.CaptureFixture[str]) -> None:
    # Docs hold whole halves; tuning figures only in a section named for them, never in the README.
    for argv in (["--quick"], ["--mode", "hybrid"], ["--store", "conv-02"], ["--category", "single"], ["--half", "both"]):
        assert cli.main([*argv, "--update-doc", "after"]) == 2
        assert capsys.readouterr().err.strip().endswith("(every store of it, with basic, hybrid and bm25)")
    assert cli.main(["--tuning", "--update-doc", "after"]) == 2
    assert capsys.readouterr().err.strip() == (
        "recall_bench: error: a tuning run goes in a section named *tuning, not 'after'; report the held-out half")


def test_a_marked_section_is_replaced_and_a_missing_one_named(tmp_path: Path) -> None:
    doc = tmp_path / "doc.md"
    doc.write_text("a\n<!-- recall-bench:after:begin -->\nold\n<!-- recall-bench:after:end -->\nz\n")
    report.replace_section(doc, "after", "| new |")
    assert doc.read_text() == "a\n<!-- recall-bench:after:begin -->\n| new |\n<!-- recall-bench:after:end -->\nz\n"
    with pytest.raises(KeyError, match="no section 'before'"):
        report.replace_section(doc, "before", "x")


def test_the_docs_hold_the_marked_sections_the_harness_rewrites() -> None:
    root = Path(cli.__file__).resolve().parents[2]
    doc = (root / "docs" / "recall-benchmark.md").read_text()
    for name in ("before", "after", "after2", "after3"):
        assert f"<!-- recall-bench:{name}:begin -->" in doc and f"<!-- recall-bench:{name}:end -->" in doc
    assert "<!-- recall-bench:headline:begin -->" in (root / "README.md").read_text()


def test_a_saved_run_is_reported_again_without_running(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    saved = tmp_path / "run.json"
    rows = [{"category": "single", "kind": "fact", "paraphrased": False, "modes": {"hybrid": score(["e"], ["e"])}}]
    summary = report.summarise(rows, ["hybrid"])
    saved.write_text(json.dumps({"title": "t", "modes": ["hybrid"], "summary": summary, "stores": [],
                                 "by_kind": report.by_kind(rows, ["hybrid"]), "half": "tuning", "command": "x",
                                 "questions": rows}))
    assert cli.main(["--from-json", str(saved), "--by-kind"]) == 0
    printed = capsys.readouterr().out
    assert "| hybrid | single | 1 | 1.000 | 1.000 | 1.000 | 1.000 | 1.000 |" in printed and "| single/fact | 1 |" in printed
    assert cli.main(["--from-json", str(saved), "--update-doc", "after-tuning"]) == 2  # hybrid alone is not a whole run
    assert "records a whole half only" in capsys.readouterr().err
    saved.write_text("{not json")
    assert cli.main(["--from-json", str(saved)]) == 2
    assert capsys.readouterr().err.strip() == f"recall_bench: error: cannot use {saved} as a saved run (JSONDecodeError); write one with --json"


def test_the_issue_goals_are_judged_from_the_summary() -> None:
    def row(category: str, hybrid: list[str], basic: list[str]) -> dict:
        return {"category": category, "kind": "k", "paraphrased": False,
                "modes": {"hybrid": score(hybrid, ["e"]), "basic": score(basic, ["e"])}}

    rows = [row("single", ["e"], ["x"]), row("single", ["e"], ["e"]), row("multi-hop", ["x"], ["e"])]
    verdict = {goal: (measured, met) for goal, measured, met in goals.check(report.summarise(rows, ["hybrid", "basic"]), rows)}
    assert verdict["hybrid hit@10 >= basic in single"] == ("+0.500", True)
    assert verdict["hybrid hit@10 >= basic in multi-hop"] == ("-1.000", False)
    measured, met = verdict["hybrid hit@10 >= basic + 0.08 overall"]
    assert measured.startswith("+0.000") and not met  # one win, one loss, one tie
    assert goals.paired_interval(rows, "hybrid", "hybrid") == (0.0, 0.0, 0.0)


def test_kept_stores_are_reused_without_a_rebuild(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    kept = tmp_path / "kept"
    argv = ["--quick", "--store", "conv-01", "--mode", "basic", "--mode", "bm25"]
    assert cli.main([*argv, "--keep", str(kept), "--json", str(tmp_path / "a.json")]) == 0
    assert cli.main([*argv, "--reuse", str(kept), "--json", str(tmp_path / "b.json")]) == 0
    assert "reusing" in capsys.readouterr().err
    first, again = (json.loads((tmp_path / n).read_text()) for n in ("a.json", "b.json"))
    assert first["summary"] == again["summary"] and again["complete"] is False
    (kept / "conv-01.built").write_text("another generator")
    assert cli.main([*argv, "--reuse", str(kept)]) == 2
    assert capsys.readouterr().err.strip() == (
        f"recall_bench: error: {kept} holds no build of conv-01 from this generator; build it with --keep")
    assert cli.main([*argv, "--reuse", str(tmp_path / "nothing-here")]) == 2
    assert not (tmp_path / "nothing-here").exists()


def test_name_only_counts_results_that_share_just_a_name() -> None:
    texts = {"a": "Tomas: Same here.", "b": "Tomas: I baked a lemon cake.", "c": "Tomas: No way!"}
    assert harness.name_only("What did Tomas bake?", ["a", "b", "c", "?X"], texts) == pytest.approx(2 / 3)
    assert harness.name_only("What did Tomas bake?", ["?X"], texts) is None
    rows = [{"modes": {"hybrid": {"name_only": 0.5}}}, {"modes": {"hybrid": {"name_only": None}}}, {"modes": {"hybrid": {"name_only": 1.0}}}]
    assert report.noise_line(rows, ["hybrid"]).endswith("hybrid 0.75")


def test_a_failing_memman_step_is_named(tmp_path: Path) -> None:
    with pytest.raises(harness.BenchError, match=r"^memman import \S*missing\.jsonl failed \(2\): memman: error: "):
        harness.memman_cli(tmp_path / "data", "import", str(tmp_path / "missing.jsonl"))
