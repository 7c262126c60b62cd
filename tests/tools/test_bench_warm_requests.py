"""tools/bench_warm_requests.py: the server's CPU per request, measured by
running the server's own request function against a real store, for this
tree and a baseline tree. Figures are benchmarks (docs/scale.md), never
asserted; bad arguments are one line and exit 2."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from memman.service import Memman
from tests.tools.runner import ROOT, drained_store, run_tool



def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return run_tool("bench_warm_requests.py", *args, timeout=600)


def test_it_times_requests_for_this_tree_and_a_baseline(tmp_path: Path) -> None:
    data = tmp_path / "data"
    drained_store(data)
    out = tmp_path / "warm.json"
    run = _run("--data", str(data), "--rounds", "1", "--verb", "hook", "--baseline", str(ROOT), "--json", str(out))
    assert run.returncode == 0, run.stderr
    figures = json.loads(out.read_text())["figures"][str(data)]
    assert figures["this tree"]["n"] == 10 and figures["baseline"]["n"] == 10
    assert all(f["median"] > 0 and f["peak_rss_mb"] > 0 for f in figures.values())
    assert "| this tree | baseline |" in run.stdout


def test_a_drain_between_requests_on_a_copy_per_tree(tmp_path: Path) -> None:
    data, copy = tmp_path / "data", tmp_path / "copy"
    for where in (data, copy):
        drained_store(where, ["The billing service timeout is 30 seconds"])
    out = tmp_path / "warm.json"
    run = _run("--data", str(data), "--baseline", str(ROOT), "--baseline-data", str(copy), "--drain",
               "--rounds", "1", "--json", str(out))  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert set(json.loads(out.read_text())["figures"][str(data)]) == {"this tree", "baseline"}
    for where in (data, copy):  # each tree drained its own copy: one more memory in each
        with Memman(where, store="default") as app:
            assert app.db.main.conn.execute("SELECT count(*) FROM memories WHERE status='active'").fetchone()[0] == 2


def test_bad_arguments_are_one_line_and_exit_2(tmp_path: Path) -> None:
    (tmp_path / "stores" / "default").mkdir(parents=True)
    for args in (["--data", str(tmp_path / "none")], ["--data", str(tmp_path), "--rounds", "0"],
                 ["--data", str(tmp_path), "--baseline", str(tmp_path)],
                 ["--data", str(tmp_path), "--baseline-data", str(tmp_path)]):  # fmt: skip
        run = _run(*args)
        assert run.returncode == 2 and "Traceback" not in run.stderr and run.stderr.strip().splitlines()[-1].startswith(
            "bench_warm_requests.py: error:"
        )
