"""Does graph expansion help recall? A benchmark on synthetic agent histories.

Each history is a deterministic (seeded) multi-session record of a small
engineering org, remembered by a user and an agent over several weeks:

- people lead, join and mentor projects; projects have a language, a
  database, a region, a CI system; people have an office and tool habits;
  these links are spread over separate memories (multi-hop questions);
- decisions whose reason is stated in a separate, earlier memory, sometimes
  repeated in the decision with a cue ("because ..."), sometimes not (why);
- values that change over time ("the rate limit is 100 rps", weeks later
  "we raised the rate limit to 500 rps") and episodes whose steps follow one
  another in one session, not all naming the episode (when);
- what we know about a person or a project: every durable (non-noise) fact
  naming it (entity); single facts asked in other words (general);
- and plenty of distractors that share the same names and vocabulary.

Every memory has a stable key (`lead:Priya`, `why:Falcon:etl:decision`,
`noise:0042`); every question is tagged with the intent it exercises and the
keys of its evidence (a key the drain superseded is left out of the score and
reported). Each history is imported (JSON Lines with `at` and
`source`) into a fresh data dir and drained; each question is recalled with
`limit=10`, with graph expansion off and on. Results map back to keys by
content (the drain may split a text into facts). Reported per intent:

    R@k   fraction of the evidence keys in a limit=k recall, out of min(|evidence|, k)
    MRR   mean of 1 / rank of the first evidence hit (0 when none in the top 10);
          WHY and WHEN results are in causal or time order, so read R@k there

`--perf` also builds a 10k-memory history and reports edge inference in the
drain, edges per memory, `graph rebuild` time and the latency graph expansion
adds to an in-process recall (targets from issue 5: <= 15 ms at 10k with ~20
edges per memory; >= 200 memories/s; rebuild of 10k <= 30 s).

    .venv/bin/python tools/bench_graph.py --quick                  # 1 small history
    .venv/bin/python tools/bench_graph.py                          # 3 histories x 60 questions
    .venv/bin/python tools/bench_graph.py --histories 5 --perf --json graph-bench.json

Progress goes to stderr; Markdown tables go to stdout. Intents are detected
by recall unless `--oracle-intent` passes each question's tagged intent.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tools.graph_bench.evaluate import _recall_api, evaluate, summarise  # noqa: E402
from tools.graph_bench.history import INTENTS, generate  # noqa: E402,F401 (INTENTS too: tests/tools/test_bench_graph.py loads this file)
from tools.graph_bench.perf import PERF_SIZE, perf  # noqa: E402
from tools.graph_bench.report import detection, markdown, perf_markdown, reach_markdown  # noqa: E402


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--histories", type=int, default=3, help="histories to generate and evaluate; 0 with --perf [3]")
    parser.add_argument("--seeds", type=int, default=1, help="seed of the first history; the next ones follow [1]")
    parser.add_argument("--questions", type=int, default=60, help="questions per history [60]")
    parser.add_argument("--memories", type=int, default=500, help="memories per history [500]")
    parser.add_argument("--quick", action="store_true", help="one history of 200 memories and 30 questions")
    parser.add_argument("--oracle-intent", action="store_true", help="pass each question's tagged intent to recall")
    parser.add_argument("--perf", action="store_true", help=f"also measure speed on a {PERF_SIZE}-memory store")
    parser.add_argument("--perf-runs", type=int, default=5, help="timed recalls per question and mode [5]")
    parser.add_argument("--json", dest="json_path", metavar="FILE", help="write every number as JSON")
    parser.add_argument("--keep", metavar="DIR", help="build stores under DIR and keep them")
    args = parser.parse_args(argv)
    if args.quick:
        args.histories, args.memories, args.questions = 1, 200, 30
    return args


def _print_quality(rows: list[dict], args: argparse.Namespace) -> dict[str, dict[str, float]]:
    """The quality tables on stdout; returns the summary."""
    table = summarise(rows)
    print(f"### Recall of the evidence, graph expansion off vs on ({len(rows)} questions,"
          f" {args.histories} histories of ~{args.memories} memories)\n")
    print(markdown(table))
    print("\n### Detected intent per question kind, and recall's default\n")
    print(detection(rows))
    print("\n### Evidence the graph reaches but the anchors miss\n")
    print(reach_markdown(rows))
    return table


def _print_perf(p: dict) -> None:
    print(f"\n### Performance at {PERF_SIZE} memories\n")
    print(perf_markdown(p))
    print(f"\nRecall of the evidence at {PERF_SIZE} memories (60 questions):\n")
    print(markdown(p["quality_10k"]))


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    has_graph, has_intent = _recall_api()
    if not has_graph:
        log("recall has no graph= parameter yet: 'on' and 'off' are the same recall")
    tmp_ctx = tempfile.TemporaryDirectory(prefix="memman-graph-bench-") if not args.keep else None
    tmp = Path(args.keep) if args.keep else Path(tmp_ctx.name)  # type: ignore[union-attr]
    report: dict[str, object] = {
        "command": " ".join(["tools/bench_graph.py", *(argv if argv is not None else sys.argv[1:])]),
        "graph_api": has_graph,
        "intent_api": has_intent,
        "oracle_intent": args.oracle_intent,
        "histories": [],
    }
    rows: list[dict] = []
    try:
        for i in range(args.histories):
            seed = args.seeds + i
            history = generate(seed, size=args.memories, questions=args.questions)
            log(f"history {i + 1}/{args.histories} (seed {seed}): {len(history.memories)} memories,"
                f" {len(history.questions)} questions")
            result = evaluate(history, tmp / f"h{seed}", oracle=args.oracle_intent, log=log)
            log(f"  drained in {result['drain_s']} s; edges {result['edges']}")
            report["histories"].append(result)  # type: ignore[union-attr]
            rows += result["questions"]
        if rows:
            report["summary"] = _print_quality(rows, args)
        if args.perf:
            report["perf"] = p = perf(tmp, seed=10_000 + args.seeds, questions=60, runs=args.perf_runs, log=log)
            _print_perf(p)
    finally:
        if tmp_ctx is not None:
            tmp_ctx.cleanup()
    if args.json_path:
        Path(args.json_path).write_text(json.dumps(report, indent=1, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
