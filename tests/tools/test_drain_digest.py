"""tools/drain_digest.py: two drains of the same inputs over equal stores
derive equal events once ids are numbered by first appearance and latencies
dropped, and any difference in what was derived shows."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from memman.operations.maintenance import drain_all

ROOT = Path(__file__).resolve().parents[2]
LINES = [
    {"text": "The billing service timeout is 30s", "at": "2024-03-01T09:00:00Z"},
    {"text": "Priya prefers Helix for code review", "at": "2024-03-01T09:05:00Z", "entities": ["Priya", "Helix"]},
    {"text": "We chose Postgres over MySQL because of JSONB", "at": "2024-03-01T09:20:00Z"},
    {"text": "The billing service timeout is 45s", "at": "2024-03-02T10:00:00Z"},
]


def _store(data_dir: Path, lines: list[dict]) -> Path:
    batch = data_dir.parent / f"{data_dir.name}.jsonl"
    batch.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    env = {**os.environ, "MEMMAN_DATA_DIR": str(data_dir)}
    subprocess.run([sys.executable, "-m", "memman", "import", str(batch)], env=env, check=True, capture_output=True)
    drain_all(data_dir)
    (store,) = (data_dir / "stores").iterdir()
    return store


def _compare(a: Path, b: Path) -> subprocess.CompletedProcess[str]:
    tool = ROOT / "tools" / "drain_digest.py"
    return subprocess.run([sys.executable, str(tool), str(a), str(b)], capture_output=True, text=True)


def test_two_drains_of_the_same_inputs_digest_alike_and_a_difference_shows(tmp_path: Path) -> None:
    first, second = _store(tmp_path / "a", LINES), _store(tmp_path / "b", LINES)
    same = _compare(first, second)
    assert same.returncode == 0 and "identical" in same.stdout
    assert "memory.reconciled" in " ".join(h for h, _ in _digests(first))  # derived events are compared
    other = _store(tmp_path / "c", [*LINES[:3], {**LINES[3], "text": "The billing service timeout is 60s"}])
    differ = _compare(first, other)
    assert differ.returncode == 1 and "differ at event" in differ.stdout


def test_a_directory_without_a_log_is_one_line_and_exit_2(tmp_path: Path) -> None:
    got = _compare(tmp_path, tmp_path)
    assert got.returncode == 2 and got.stdout == "" and len(got.stderr.strip().splitlines()) == 1


def _digests(store: Path) -> list[tuple[str, str]]:
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        from drain_digest import digests
    finally:
        sys.path.remove(str(ROOT / "tools"))
    return digests(store, 0)
