"""Truth over time, measured: false supersessions and stale-first answers.

1. False supersession. `--sizes` stores of generated service facts, each about
   a different subject (tools/truth_scenarios.py: many near-identical
   sentences, lower-case service names, ticket/host/incident numbers), are
   imported and drained by the real CLI with the offline rule reconciler.
   Every fact is true and distinct, so every memory the drain superseded or
   dropped as a duplicate is a false supersession:
       false-supersession rate = (superseded + duplicates) / facts
2. The scripted week (tools/truth_scenarios.py `week()`): each scenario's
   memories are written with `--at` into a store that also holds 1k service
   facts, drained, then asked its "what is X now" question. Reported: how many
   changes the reconciler caught (UPDATE), the stale-first rate (the stale
   value ranks above the current one; target 0), and the as-of accuracy
   (`--as-of` a past date returns the value valid then first).
3. Known-at against a replay: the week imported in two batches, each question
   asked `--known-at` the time between them and answered by a replay of the log
   up to then; reported: how often the first answer and the whole top 10 agree.

    .venv/bin/python tools/bench_supersession.py                  # 1k and 10k
    .venv/bin/python tools/bench_supersession.py --sizes 1000 --json out.json

Figures go to docs/time.md. Whole-process CLI runs, so the numbers include
exactly what an agent would see.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tools.truth_scenarios import Scenario, service_facts, week  # noqa: E402

REPO = {"dir": ROOT}  # --repo: measure another checkout (e.g. main, for a before/after)


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MEMMAN_", "OPENAI_", "VOYAGE_"))}
    return {**env, "MEMMAN_DATA_DIR": str(data_dir), "OPENBLAS_NUM_THREADS": "1"}


def mm(env: dict[str, str], *args: str, stdin: bytes | None = None) -> str:
    repo = REPO["dir"]
    python = repo / ".venv" / "bin" / "python"
    done = subprocess.run(
        [str(python), "-m", "memman", *args], env=env, input=stdin, capture_output=True, cwd=repo, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"memman {' '.join(args)} failed: {done.stderr.decode()}")
    return done.stdout.decode()


def _import(env: dict[str, str], workdir: Path, lines: list[dict]) -> None:
    source = workdir / "input.jsonl"
    source.write_text("".join(json.dumps(x) + "\n" for x in lines))
    mm(env, "import", str(source))
    mm(env, "scheduler", "drain")


def false_supersession(n: int, workdir: Path) -> dict:
    env = _env(workdir / f"facts-{n}")
    facts = service_facts(n)
    _import(env, workdir, [{"text": t, "at": f"2026-02-{1 + i % 28:02d}T{i % 24:02d}:00:00Z"} for i, t in enumerate(facts)])
    status = json.loads(mm(env, "status", "--json"))["by_status"]
    reconciled = json.loads(mm(env, "events", "list", "--type", "memory.reconciled", "--limit", "1000000", "--json"))
    examples = [r["summary"][:200] for r in reconciled["events"] if " UPDATE " in r["summary"] or " NONE " in r["summary"]]
    hidden = status.get("superseded", 0)
    return {
        "facts": n,
        "by_status": status,
        "false_supersessions": hidden,
        "rate": round(hidden / n, 4),
        "examples": examples[:5],
    }


def _rank(hits: list[dict], fragment: str) -> int | None:
    return next((i for i, h in enumerate(hits) if fragment in h["content"]), None)


def _ask(env: dict[str, str], s: Scenario) -> dict:
    now = json.loads(mm(env, "recall", s.question, "--json"))["results"]
    past = json.loads(mm(env, "recall", s.question, "--as-of", s.past, "--json"))["results"]
    current, stale = _rank(now, s.current), _rank(now, s.stale)
    return {
        "name": s.name,
        "current_rank": current,
        "stale_rank": stale,
        "stale_first": current is None or (stale is not None and stale < current),
        "as_of_top": past[0]["content"] if past else None,
        "as_of_ok": bool(past) and s.past_value in past[0]["content"],
    }


def scripted_week(workdir: Path, noise: int = 1000) -> dict:
    env = _env(workdir / "week")
    lines = [{"text": t, "at": f"2026-02-{1 + i % 28:02d}T{i % 24:02d}:00:00Z"} for i, t in enumerate(service_facts(noise))]
    scenarios = week()
    lines += [{"text": st.text, "at": st.at} for s in scenarios for st in s.steps]
    _import(env, workdir, lines)
    reconciled = json.loads(mm(env, "events", "list", "--type", "memory.reconciled", "--limit", "1000000", "--json"))
    updates = sum(r["summary"].count(" UPDATE ") for r in reconciled["events"])
    changes = sum(len(s.steps) - 1 for s in scenarios)
    answers = [_ask(env, s) for s in scenarios]
    return {
        "scenarios": len(scenarios),
        "changes": changes,
        "updates": updates,
        "stale_first": sum(a["stale_first"] for a in answers),
        "stale_first_rate": round(sum(a["stale_first"] for a in answers) / len(answers), 4),
        "current_first": sum(a["current_rank"] == 0 for a in answers),
        "as_of_correct": sum(a["as_of_ok"] for a in answers),
        "answers": answers,
    }


def _replayed(store: Path, query: str, upto: int) -> list[str]:
    """What a replay of the log up to `upto` answers (scratch projections, then the same recall)."""
    from memman.recall import recall, succession
    from projections.store import StoreDB

    with tempfile.TemporaryDirectory() as tmp:
        past = StoreDB(Path(tmp), log_directory=store, upto=upto)
        try:
            past.catch_up()
            result = succession.finish(past.main.conn, recall(past, "default", query, limit=20), now="9999", limit=10)
            return [h.id for h in result.results]
        finally:
            past.close()


def known_at_agreement(workdir: Path, noise: int = 1000) -> dict:
    """`--known-at T` against a replay of the log up to T, on the week imported
    in two batches (first steps, then changes; T between them): how often the
    first answer and the whole list agree (docs/time.md says why the tail may not)."""
    import apsw

    env = _env(workdir / "known-at")
    scenarios = week()
    lines = [{"text": t, "at": f"2026-02-{1 + i % 28:02d}T{i % 24:02d}:00:00Z"} for i, t in enumerate(service_facts(noise))]
    _import(env, workdir, lines + [{"text": s.steps[0].text, "at": s.steps[0].at} for s in scenarios])
    store = workdir / "known-at" / "stores" / "default"
    conn = apsw.Connection(str(store / "log.db"), flags=apsw.SQLITE_OPEN_READONLY)
    upto, then = conn.execute("SELECT max(seq), max(recorded_at) FROM events").fetchone()
    conn.close()
    _import(env, workdir, [{"text": st.text, "at": st.at} for s in scenarios for st in s.steps[1:]])
    first = same = 0
    for s in scenarios:
        known = [h["id"] for h in json.loads(mm(env, "recall", s.question, "--known-at", then, "--json"))["results"]]
        replayed = _replayed(store, s.question, upto)
        first += bool(known) and bool(replayed) and known[0] == replayed[0]
        same += known == replayed
    return {"questions": len(scenarios), "first_answer_equal": first, "list_equal": same}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--json", dest="json_path", metavar="FILE")
    parser.add_argument("--keep", metavar="DIR", help="build the stores under DIR and keep them")
    parser.add_argument("--skip-week", action="store_true")
    parser.add_argument("--repo", metavar="DIR", help="run the memman of another checkout (with its .venv)")
    args = parser.parse_args()
    if args.repo:
        REPO["dir"] = Path(args.repo).resolve()
    root = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="memman-truth-"))
    root.mkdir(parents=True, exist_ok=True)
    try:
        result: dict = {"false_supersession": []}
        for n in [int(x) for x in args.sizes.split(",") if x.strip()]:
            row = false_supersession(n, root)
            result["false_supersession"].append(row)
            print(f"{n:>6} facts: {row['false_supersessions']} superseded, rate {row['rate']:.2%}  {row['examples']}", file=sys.stderr)
        if not args.skip_week:
            result["week"] = scripted_week(root)
            w = result["week"]
            print(f"week: {w['updates']}/{w['changes']} changes caught as UPDATE, stale first {w['stale_first']}/{w['scenarios']},"
                  f" current value first {w['current_first']}/{w['scenarios']},"
                  f" as-of correct {w['as_of_correct']}/{w['scenarios']}", file=sys.stderr)
            for a in w["answers"]:
                print(f"  {a}", file=sys.stderr)
            result["known_at"] = k = known_at_agreement(root)
            print(f"known-at vs replay: first answer equal {k['first_answer_equal']}/{k['questions']},"
                  f" whole list equal {k['list_equal']}/{k['questions']}", file=sys.stderr)
        if args.json_path:
            Path(args.json_path).write_text(json.dumps(result, indent=2))
        print(json.dumps(result, indent=2))
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
