"""The command line: `python -m tools.recall_bench [options]`.

Reports the HELD-OUT half by default. Tune only with `--half tuning`; look at
the held-out half only to report (docs/recall-benchmark.md). Progress goes to
stderr, the Markdown table to stdout.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from tools.recall_bench import harness, report, suite
from tools.recall_bench.model import CATEGORIES, GENERATOR_VERSION

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "recall-benchmark.md"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m tools.recall_bench", description=__doc__.split("\n\n")[0])
    half = p.add_mutually_exclusive_group()
    half.add_argument("--half", choices=["held-out", "tuning", "both"], default="held-out", help="which stores [held-out]")
    half.add_argument("--tuning", dest="half", action="store_const", const="tuning", help="same as --half tuning")
    p.add_argument("--quick", action="store_true", help="two small stores (one per half, both run): for tests")
    p.add_argument("--mode", action="append", choices=harness.ALL_MODES, metavar="MODE",
                   help=f"repeatable; default all: {', '.join(harness.ALL_MODES)}")
    p.add_argument("--basic", action="store_true", help="only the --basic mode (with the BM25 baseline)")
    p.add_argument("--category", action="append", choices=CATEGORIES, help="only these categories (repeatable)")
    p.add_argument("--store", action="append", metavar="NAME", help="only these stores, e.g. conv-02 (repeatable)")
    p.add_argument("--json", dest="json_path", metavar="FILE", help="write every figure and per-question result")
    p.add_argument("--update-doc", metavar="SECTION", help="rewrite <!-- recall-bench:SECTION --> in docs/recall-benchmark.md")
    p.add_argument("--keep", metavar="DIR", help="build the stores under DIR (new) and keep them")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    modes = ["basic", harness.BASELINE] if args.basic else list(dict.fromkeys(args.mode or harness.ALL_MODES))
    modes, missing = harness.supported(modes)
    log = lambda msg: print(msg, file=sys.stderr, flush=True)  # noqa: E731
    if missing:
        log(f"skipped (recall has no such switch): {', '.join(missing)}")
    half = None if args.quick or args.half == "both" else args.half
    stores = suite.select(half, quick=args.quick, only=args.store)
    if not stores:
        print("recall_bench: error: no store selected", file=sys.stderr)
        return 2
    if args.keep and Path(args.keep).exists():
        print(f"recall_bench: error: {args.keep} exists; --keep needs a new directory", file=sys.stderr)
        return 2
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="memman-recall-bench-") as tmp:
        root = Path(args.keep) if args.keep else Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        rows, stores_out = run(stores, root, modes, args.category, log)
    summary = report.summarise(rows, modes)
    label = "quick" if args.quick else (args.half if args.half != "both" else "both halves")
    title = (f"Recall benchmark, {label} ({len(rows)} questions, {len(stores)} stores, "
             f"generator v{GENERATOR_VERSION}, {time.perf_counter() - started:.0f} s)")
    print(f"### {title}\n\n{report.table(summary, modes)}\n\n{report.headline(summary)}")
    out = {"title": title, "command": "python -m tools.recall_bench " + " ".join(argv if argv is not None else sys.argv[1:]),
           "generator_version": GENERATOR_VERSION, "half": label, "modes": modes, "skipped_modes": missing,
           "summary": summary, "stores": stores_out, "questions": rows}
    if args.json_path:
        Path(args.json_path).write_text(json.dumps(out, indent=1) + "\n")
    if args.update_doc:
        body = f"{title}. Reproduce: `{out['command']}`\n\n{report.table(summary, modes)}\n\n{report.headline(summary)}"
        report.replace_section(DOC, args.update_doc, body)
    failed = [c for s in stores_out for c in s["cli_checks"] if not c["agree"]]
    if failed:
        log(f"CLI and in-process recall disagree on {len(failed)} spot checks: {failed[:3]}")
        return 1
    return 0


def run(stores: list, root: Path, modes: list[str], categories: list[str] | None, log) -> tuple[list[dict], list[dict]]:  # type: ignore[no-untyped-def]
    rows: list[dict] = []
    stores_out: list[dict] = []
    for store in stores:
        if categories:
            store.questions = [q for q in store.questions if q.category in categories]
        data_dir, seconds = harness.build(store, root)
        log(f"{store.name} ({store.half}): {len(store.memories)} memories imported and drained in {seconds:.1f} s")
        result = harness.evaluate(store, data_dir, modes, log)
        rows += result["rows"]
        stores_out.append({"name": store.name, "kind": store.kind, "half": store.half, "memories": len(store.memories),
                           "questions": len(result["rows"]), "drain_s": round(seconds, 2),
                           "active_memories": result["active_memories"], "hidden_evidence": result["hidden_evidence"],
                           "cli_checks": result["cli_checks"]})
    return rows, stores_out
