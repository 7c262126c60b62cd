"""tools/bench_vector_cache.py: a one-input drain's cost and the flat
caches' bytes, on a private copy of a data dir per tree (the original is
never written). Figures are benchmarks (docs/scale.md), never asserted; bad
arguments are one line and exit 2."""

from __future__ import annotations

import json
from pathlib import Path

from tests.tools.runner import ROOT, drained_store, run_tool


def _files(data: Path) -> dict[str, int]:
    return {str(p.relative_to(data)): p.stat().st_mtime_ns for p in data.rglob("*") if p.is_file()}


def test_it_drains_copies_and_reports_per_tree(tmp_path: Path) -> None:
    data = tmp_path / "data"
    drained_store(data)
    before = _files(data)
    out = tmp_path / "cache.json"
    run = run_tool("bench_vector_cache.py", "--data", str(data), "--baseline", str(ROOT), "--runs", "1",
                   "--json", str(out), timeout=600)  # fmt: skip
    assert run.returncode == 0, run.stderr
    found = json.loads(out.read_text())
    for tree in ("this", "baseline"):
        assert found[tree]["drain_cpu_ms"] > 0 and found[tree]["cold_recall_cpu_ms"] > 0
        assert found[tree]["memories"] == 4  # two seeded, a warm-up, a run
        assert set(found[tree]["cache_bytes"]) == {"f32"} and found[tree]["cache_bytes_per_memory"] > 0
    assert "| this |" in run.stdout and "| baseline |" in run.stdout
    assert _files(data) == before  # only the copies were written


def test_bad_arguments_are_one_line_and_exit_2(tmp_path: Path) -> None:
    (tmp_path / "data" / "stores" / "default").mkdir(parents=True)
    for args in (["--data", str(tmp_path)], ["--data", str(tmp_path / "data"), "--runs", "x"],
                 ["--data", str(tmp_path / "data"), "--runs", "0"]):  # fmt: skip
        run = run_tool("bench_vector_cache.py", *args, timeout=120)
        assert run.returncode == 2 and "Traceback" not in run.stderr
        assert run.stderr.strip().splitlines()[-1].startswith("bench_vector_cache.py: error:")
