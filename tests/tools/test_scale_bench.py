"""tools/scale_bench.py at a tiny size: a generated store (drain of the
first inputs, the rest derived in bulk through the events API, then replay)
is complete (nothing pending, every memory embedded and linked), and the
report carries every measure with its floor. The figures themselves are
benchmarks (docs/scale.md), never asserted."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.tools.runner import run_tool



def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return run_tool("scale_bench.py", *args, timeout=900)


def test_a_tiny_generated_store_is_complete_and_reported(tmp_path: Path) -> None:
    out = tmp_path / "scale.json"
    run = _run("--dir", str(tmp_path / "stores"), "--sizes", "260", "--drain-max", "100", "--runs", "1",
               "--drain-batch", "5", "--json", str(out))  # fmt: skip
    assert run.returncode == 0, run.stderr
    (result,) = json.loads(out.read_text())["results"]
    build = result["build"]
    assert build["method"] == "generate" and build["generated"]["inputs"] == 60  # 260 - the 200 drained for real
    store = result["store"]
    assert store["memories"] >= 260 and store["edges"] > 0 and store["bytes_per_memory"] > 0
    for group, keys in (("cold", ("pass", "recall", "recall_basic", "recall_as_of", "hook")),
                        ("warm", ("pass", "recall_warm", "recall_basic_warm", "hook_warm", "hook_shim_warm", "remember_warm"))):  # fmt: skip
        assert all(result[group][k]["median"] > 0 and result[group][k]["x"] > 0 for k in keys)
    assert result["drain"]["processed"] == 5
    assert "| `recall` (hybrid), cold |" in run.stdout and "| store on disk, bytes per memory |" in run.stdout
    status = subprocess.run(
        [sys.executable, "-m", "memman", "status", "--json"], capture_output=True, text=True, check=True,
        env={**os.environ, "MEMMAN_DATA_DIR": str(tmp_path / "stores" / "n260-generate" / "data"),
             "MEMMAN_STORE": "default", "MEMMAN_SERVER": "off"},
    )  # fmt: skip
    facts = json.loads(status.stdout)
    assert facts["backlog"] == 2  # the timed remembers' inputs only, cold and warm (no automatic drain while timing)
    assert facts["vectors"] >= facts["by_status"].get("active", 0)

    again = _run("--dir", str(tmp_path / "stores"), "--sizes", "260", "--drain-max", "100", "--runs", "1",
                 "--drain-batch", "5", "--json", str(out))  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert "reusing the store" in again.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--sizes", "ten"], "--sizes must be comma-separated integers"),
        (["--sizes", "0"], "must be positive"),
        (["--runs", "0"], "must be positive"),
        (["--baseline", "/nonexistent"], "not a memman source tree"),
        (["--peer", "/nonexistent/memman"], "no such executable"),
    ],
)
def test_bad_input_is_one_clear_line(args: list[str], message: str) -> None:
    run = _run("--dir", "/nonexistent-unused", *args)
    assert run.returncode == 2
    assert message in run.stderr and "Traceback" not in run.stderr
