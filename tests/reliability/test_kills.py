"""kill -9 at random points (seeded) of import, drain, replay and reembed.

Each test kills the real CLI process TRIALS times at a random moment of its
run, then lets one run finish, and checks what a user would: nothing lost,
nothing duplicated, `events verify` clean, and (for replay) recall and export
unchanged. The figures these tests produce are quoted in docs/reliability.md;
run them with `make test-reliability` (MEMMAN_RELIABILITY_SEED picks another
seed; `-s` prints each trial)."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
from collections import Counter
from pathlib import Path

import apsw
import pytest

from tests.cli.conftest import Cli, distinct_texts

TRIALS = 10
SEED = int(os.environ.get("MEMMAN_RELIABILITY_SEED", "1313"))
IMPORT_LINES = 20_000
DRAIN_INPUTS = 400
QUERIES = ["kor service logs", "gardens near pat", "which service keeps mel logs"]


def _kill_once(cli: Cli, args: tuple[str, ...], delay: float) -> list[str]:
    """Run `args`, SIGKILL it after `delay` seconds unless it ended first."""
    proc = subprocess.Popen(cli.argv(*args), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=cli.env())
    try:
        proc.wait(timeout=delay)
        outcome = f"finished (exit {proc.returncode})"
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        outcome = f"killed at {delay:.2f}s"
    assert proc.stderr is not None
    err = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    assert "Traceback" not in err, err
    return [outcome]


def _kill_at_random(cli: Cli, args: tuple[str, ...], rng: random.Random, low: float, high: float) -> list[str]:
    """Run `args` TRIALS times, each SIGKILLed after a random delay in
    [low, high] seconds (or left alone if it ends first). Returns how each ended."""
    outcomes = []
    for trial in range(TRIALS):
        outcomes += _kill_once(cli, args, rng.uniform(low, high))
        print(f"  {' '.join(args[:2])} trial {trial + 1}: {outcomes[-1]}")
    return outcomes


def _import_file(tmp_path: Path, count: int) -> Path:
    path = tmp_path / "history.jsonl"
    with path.open("w") as f:
        for i, text in enumerate(distinct_texts(count)):
            f.write(json.dumps({"text": text, "imp": 1 + i % 5}) + "\n")
    return path


def _events_in(cli: Cli, store: str) -> int:
    path = cli.data_dir / "stores" / store / "log.db"
    if not path.exists():
        return 0
    conn = apsw.Connection(str(path), flags=apsw.SQLITE_OPEN_READONLY)
    try:
        return conn.execute("SELECT count(*) FROM events").fetchone()[0]
    finally:
        conn.close()


def test_an_import_killed_at_random_then_rerun_yields_each_line_exactly_once(cli: Cli, tmp_path: Path) -> None:
    """One store per trial: a kill after all lines landed would prove nothing,
    so each trial kills a fresh 20k-line import, then re-runs it to the end."""
    path = _import_file(tmp_path, IMPORT_LINES)
    rng = random.Random(SEED)
    partial = []
    for trial in range(TRIALS):
        store = f"t{trial}"
        cli.ok("store", "create", store)
        [outcome] = _kill_once(cli, ("--store", store, "import", str(path)), rng.uniform(0.5, 3.5))
        partial.append(_events_in(cli, store))
        report = cli.json("--store", store, "import", str(path))
        assert (report["imported"], report["already"]) == (IMPORT_LINES - partial[-1], partial[-1])
        assert _events_in(cli, store) == IMPORT_LINES  # not one line lost, not one duplicated
        print(f"  import trial {trial + 1}: {outcome}, {partial[-1]} lines had landed; re-run added the rest")
    texts = Counter(json.loads(line)["text"] for line in cli.ok("--store", "t0", "export").out.splitlines())
    assert len(texts) == IMPORT_LINES and set(texts.values()) == {1}
    assert cli.json("--store", "t0", "events", "verify")["ok"] is True
    assert any(0 < n < IMPORT_LINES for n in partial)  # some kills landed mid-import


@pytest.fixture
def drained(cli: Cli, tmp_path: Path) -> Cli:
    cli.ok("import", str(_import_file(tmp_path, DRAIN_INPUTS)))
    return cli


def _derived_per_input(cli: Cli) -> Counter[tuple[int, str]]:
    return Counter((e["causation"], e["type"]) for e in cli.events() if e["causation"] is not None)


def test_a_drain_killed_ten_times_neither_loses_nor_duplicates_a_derivation(drained: Cli) -> None:
    cli = drained
    rng = random.Random(SEED + 1)
    outcomes = _kill_at_random(cli, ("scheduler", "drain"), rng, 0.3, 2.5)
    report = cli.json("scheduler", "drain")["stores"][0]
    assert (report["failed"], report["remaining"]) == (0, 0)
    derived = _derived_per_input(cli)
    assert set(derived.values()) == {1}  # no derivation twice
    inputs = {e["seq"] for e in cli.events("--type", "memory.remembered")}
    assert {seq for seq, _ in derived} >= inputs  # every input derived
    assert cli.json("status")["backlog"] == 0
    assert cli.json("events", "verify")["ok"] is True
    print(f"drain: {sum('killed' in o for o in outcomes)} kills, {len(derived)} derivations, 0 duplicated")


def _snapshot(cli: Cli) -> tuple[list[list[str]], str]:
    recalls = [[h["id"] for h in cli.json("recall", q, "--limit", "10")["results"]] for q in QUERIES]
    return recalls, cli.ok("export", "--all").out


def test_replay_killed_ten_times_leaves_recall_and_export_identical(drained: Cli) -> None:
    cli = drained
    cli.ok("scheduler", "drain")
    before = _snapshot(cli)
    assert all(before[0])  # each query finds something: the comparison means something
    rng = random.Random(SEED + 2)
    outcomes = _kill_at_random(cli, ("events", "replay"), rng, 0.2, 1.5)
    assert _snapshot(cli) == before  # ids and order of every recall, and the export
    assert cli.json("events", "verify")["ok"] is True
    print(f"replay: {sum('killed' in o for o in outcomes)} kills, recall and export identical")


def test_reembed_killed_ten_times_then_finished_binds_every_memory_once(drained: Cli) -> None:
    cli = drained
    cli.ok("scheduler", "drain")
    export = cli.ok("export", "--all").out
    rng = random.Random(SEED + 3)
    outcomes = _kill_at_random(cli, ("embed", "reembed", "--to", "hashing"), rng, 0.2, 2.0)
    result = cli("embed", "reembed", "--to", "hashing")
    assert result.code == 0, result
    status = cli.json("status")
    assert status["embedder"].startswith("hashing") and status["vectors"] == status["by_status"]["active"]
    assert cli.ok("export", "--all").out == export  # memories untouched
    assert cli.json("events", "verify")["ok"] is True
    assert cli.json("recall", QUERIES[0])["results"]
    print(f"reembed: {sum('killed' in o for o in outcomes)} kills, every active memory embedded once")
