"""tools/recall_bench/cold.py: the cold recall against `python -c pass`, in
turn: one clear line and exit 2 on bad input, one clear line naming the
command and its error when a recall fails, and a real run over a small
drained store gives both medians and their ratios."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from memman.operations.maintenance import drain_all
from memman.service import Memman
from tools.recall_bench import cold

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tools.recall_bench.cold", *args], cwd=ROOT, capture_output=True, text=True)


def test_bad_input_is_one_line_and_exit_2(tmp_path: Path) -> None:
    for args, message in (([str(tmp_path)], "holds no memman store"), ([str(tmp_path), "--runs", "0"], "--runs must be at least 1")):
        done = _run(*args)
        assert done.returncode == 2 and done.stdout == ""
        assert done.stderr.count("\n") == 1 and done.stderr.startswith("cold: error: ") and message in done.stderr


def test_a_failing_recall_stops_the_run_with_one_line(tmp_path: Path) -> None:
    store = tmp_path / "stores" / "default"
    store.mkdir(parents=True)
    (store / "log.db").write_bytes(b"not a database " * 512)  # memman refuses it: exit 5, one line
    done = _run(str(tmp_path), "--runs", "1")
    assert done.returncode == 1 and done.stdout == "" and "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("bench: ")
    assert "recall" in done.stderr and "exited 5: memman: error:" in done.stderr and "corrupt" in done.stderr


def test_a_real_run_reports_both_medians(data_dir: Path) -> None:
    with Memman(data_dir) as app:
        app.remember("The billing service timeout is 30s in production.")
    drain_all(data_dir)
    out = cold.measure(data_dir, runs=1)
    assert out["recall_wall_ms"] > 0 and out["floor_wall_ms"] > 0 and out["recall_cpu_ms"] > 0
    assert out["wall_ratio"] == out["recall_wall_ms"] / out["floor_wall_ms"]
