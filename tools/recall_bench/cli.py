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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

from tools.recall_bench import goals, harness, report, suite
from tools.recall_bench.model import CATEGORIES, GENERATOR_VERSION

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "recall-benchmark.md"
README = ROOT / "README.md"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        """One line on stderr and exit 2, like every other error of the tool."""
        self.exit(2, f"recall_bench: error: {message} (see --help)\n")


def parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m tools.recall_bench", description=__doc__.split("\n\n")[0])
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
    p.add_argument("--update-doc", metavar="SECTION",
                   help="rewrite <!-- recall-bench:SECTION --> in docs/recall-benchmark.md and the README headline"
                   " (full held-out runs only)")
    p.add_argument("--from-json", metavar="FILE", help="report (and --update-doc) a run saved with --json; run nothing")
    p.add_argument("--postgres", choices=["replica", "server"], default=None,
                   help="each store on an embedded PostgreSQL, recall reading the local replica or the server projections")
    p.add_argument("--by-kind", action="store_true", help="also print a table per question kind (and paraphrased or not)")
    p.add_argument("--keep", metavar="DIR", help="build the stores under DIR (new) and keep them")
    p.add_argument("--reuse", metavar="DIR", help="query the stores a --keep DIR run built, without importing and"
                   " draining again (recall changes only; rebuild after a drain change)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    log = lambda msg: print(msg, file=sys.stderr, flush=True)  # noqa: E731
    try:
        out = _load(args.from_json) if args.from_json else _measure(args, argv, log)
        _check_doc_update(args, out)
    except BadArguments as exc:
        print(f"recall_bench: error: {exc}", file=sys.stderr)
        return 2
    except harness.BenchError as exc:  # memman import, drain or recall failed in a subprocess
        print(f"recall_bench: error: {exc}", file=sys.stderr)
        return 1
    noise = report.noise_line(out["questions"], out["modes"])
    print(f"### {out['title']}\n\n{report.table(out['summary'], out['modes'])}\n\n{report.headline(out['summary'])}\n\n{noise}")
    goal_rows = goals.check(out["summary"], out["questions"])
    if goal_rows:
        print(f"\n{goals.table(goal_rows)}")
    if args.by_kind:
        print(f"\n### Per kind of question (hit@10 / MRR)\n\n{report.kind_table(out['by_kind'], out['modes'])}")
    if args.json_path and not args.from_json:
        Path(args.json_path).write_text(json.dumps(out, indent=1) + "\n")
    if args.update_doc:
        body = (f"{out['title']}. Reproduce: `.venv/bin/python {out['command']}`\n\n"
                f"{report.table(out['summary'], out['modes'])}\n\n{report.headline(out['summary'])}\n\n{noise}\n\n"
                f"{goals.table(goal_rows)}\n\n"
                f"Per kind of question, hit@10 / MRR:\n\n{report.kind_table(out['by_kind'], out['modes'])}")
        report.replace_section(DOC, args.update_doc, body)
        if out["half"] == "held-out":
            report.replace_section(README, "headline", report.readme_line(out["summary"], args.update_doc))
    failed = [c for s in out["stores"] for c in s["cli_checks"] if not c["agree"]]
    if failed:
        log(f"CLI and in-process recall disagree on {len(failed)} spot checks: {failed[:3]}")
        return 1
    return 0


class BadArguments(Exception):
    """A bad combination of options or a file that cannot be used (exit 2)."""


def _measure(args: argparse.Namespace, argv: list[str] | None, log) -> dict:  # type: ignore[no-untyped-def]
    modes = ["basic", harness.BASELINE] if args.basic else list(dict.fromkeys(args.mode or harness.ALL_MODES))
    modes, missing = harness.supported(modes)
    if missing:
        log(f"skipped (recall has no such switch): {', '.join(missing)}")
    half = None if args.quick or args.half == "both" else args.half
    stores = suite.select(half, quick=args.quick, only=args.store)
    if not stores:
        raise BadArguments("no store selected")
    partial = bool(args.quick or args.half == "both" or args.store or args.category or args.reuse)
    if args.update_doc:
        _doc_allowed(args.update_doc, "quick" if args.quick else args.half, not partial, modes)
    if args.keep and args.reuse:
        raise BadArguments("use one of --keep and --reuse")
    if args.keep and Path(args.keep).exists():
        raise BadArguments(f"{args.keep} exists; --keep needs a new directory")
    if args.postgres and (args.keep or args.reuse):
        raise BadArguments("--postgres builds on a server started for the run: it cannot be kept or reused")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="memman-recall-bench-") as tmp, _postgres(args.postgres) as database:
        root = Path(args.keep or args.reuse or tmp)
        if not args.reuse:
            root.mkdir(parents=True, exist_ok=True)
        try:
            rows, stores_out = run(stores, root, modes, args.category, log, reuse=bool(args.reuse),
                                   backend=None if database is None else (database, args.postgres))
        except harness.NotBuilt as exc:
            raise BadArguments(str(exc)) from None
    label = "quick" if args.quick else (args.half if args.half != "both" else "both halves")
    if args.postgres:
        label += f", PostgreSQL {args.postgres} reads"
    title = (f"Recall benchmark, {label} ({len(rows)} questions, {len(stores)} stores, "
             f"generator v{GENERATOR_VERSION}, {time.perf_counter() - started:.0f} s)")
    shown = [a for a in (argv if argv is not None else sys.argv[1:]) if a != "--by-kind"]
    return {"title": title, "command": " ".join(["-m tools.recall_bench", *shown]), "generator_version": GENERATOR_VERSION,
            "half": label, "complete": not partial, "modes": modes, "skipped_modes": missing,
            "summary": report.summarise(rows, modes), "by_kind": report.by_kind(rows, modes), "stores": stores_out,
            "questions": rows}


@contextmanager
def _postgres(reads: str | None) -> Iterator[Callable[[], str] | None]:
    """A fresh database per store on an embedded server (the test suite's), or None."""
    if reads is None:
        yield None
        return
    from tests.postgres_server import started_server

    with started_server("memman-rb-") as server:
        yield server.create_database


def _load(path: str) -> dict:
    try:
        out = json.loads(Path(path).read_text())
        out["summary"], out["modes"], out["title"], out["questions"], out["stores"]  # noqa: B018 - the keys a report needs
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise BadArguments(f"cannot use {path} as a saved run ({type(exc).__name__}); write one with --json") from None
    return out


def _doc_allowed(section: str, half: str, complete: bool, modes: list[str]) -> None:
    """Docs record whole halves with basic, hybrid and bm25: the held-out half
    in any section (and the README), the tuning half only in a section whose
    name ends in "tuning"."""
    whole = complete and {"basic", "hybrid", harness.BASELINE} <= set(modes)
    if not whole or half not in ("held-out", "tuning"):
        raise BadArguments("--update-doc records a whole half only (every store of it, with basic, hybrid and bm25)")
    if half == "tuning" and not section.endswith("tuning"):
        raise BadArguments(f"a tuning run goes in a section named *tuning, not {section!r}; report the held-out half")


def _check_doc_update(args: argparse.Namespace, out: dict) -> None:
    if not args.update_doc:
        return
    _doc_allowed(args.update_doc, out.get("half", ""), out.get("complete", True), out["modes"])
    if out.get("generator_version") != GENERATOR_VERSION:
        raise BadArguments(f"the saved run is generator v{out.get('generator_version')}, this is v{GENERATOR_VERSION}")
    for path, name in ((DOC, args.update_doc), *([(README, "headline")] if out["half"] == "held-out" else [])):
        if f"<!-- recall-bench:{name}:begin -->" not in path.read_text():
            raise BadArguments(f"{path.name} has no section {name!r} (<!-- recall-bench:{name}:begin --> ... :end -->)")


def run(stores: list, root: Path, modes: list[str], categories: list[str] | None, log,  # type: ignore[no-untyped-def]
        reuse: bool = False, backend: tuple[Callable[[], str], str] | None = None) -> tuple[list[dict], list[dict]]:
    rows: list[dict] = []
    stores_out: list[dict] = []
    for store in stores:
        if categories:
            store.questions = [q for q in store.questions if q.category in categories]
        if reuse:
            data_dir, seconds = harness.built(store, root), 0.0
            log(f"{store.name} ({store.half}): reusing {data_dir}")
        else:
            data_dir, seconds = harness.build(store, root, None if backend is None else (backend[0](), backend[1]))
            log(f"{store.name} ({store.half}): {len(store.memories)} memories imported and drained in {seconds:.1f} s")
        result = harness.evaluate(store, data_dir, modes, log)
        rows += result["rows"]
        stores_out.append({"name": store.name, "kind": store.kind, "half": store.half, "memories": len(store.memories),
                           "questions": len(result["rows"]), "drain_s": round(seconds, 2),
                           "active_memories": result["active_memories"], "hidden_evidence": result["hidden_evidence"],
                           "cli_checks": result["cli_checks"]})
    return rows, stores_out
