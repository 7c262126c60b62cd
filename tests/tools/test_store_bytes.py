"""tools/store_bytes.py: a whole store's bytes per memory, file by file and
table by table, every file of its directory counted."""

from __future__ import annotations

import json
from pathlib import Path

from tests.tools.runner import drained_store, run_tool


def test_every_file_and_table_of_a_drained_store_is_measured(tmp_path: Path) -> None:
    drained_store(tmp_path / "data")
    store = tmp_path / "data" / "stores" / "default"
    proc = run_tool("store_bytes.py", str(store), "--json", timeout=120)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["memories"] == 2
    parts = result["bytes_per_memory"]
    for name in ("log.db", "projections.db", "vectors.db"):
        assert parts[name]["(file)"] == (store / name).stat().st_size / 2
    assert parts["projections.db"]["edge_rows"] > 0 and parts["vectors.db"]["vector_rows"] > 0
    assert "(free pages)" in parts["projections.db"]
    assert parts["(all files)"]["(file)"] == sum(p.stat().st_size for p in store.iterdir() if p.is_file()) / 2
    table = run_tool("store_bytes.py", str(store), "--memories", "1", timeout=120)
    assert table.returncode == 0, table.stderr
    assert "| **log.db** |" in table.stdout and "| projections.db: memories |" in table.stdout


def test_bad_input_is_one_line_and_exit_nonzero(tmp_path: Path) -> None:
    proc = run_tool("store_bytes.py", str(tmp_path), timeout=60)
    assert proc.returncode != 0 and proc.stderr.strip() == f"store_bytes: no store at {tmp_path} (no projections.db)"
    drained_store(tmp_path / "data")
    store = tmp_path / "data" / "stores" / "default"
    proc = run_tool("store_bytes.py", str(store), "--memories", "0", timeout=60)
    assert proc.returncode != 0 and proc.stderr.strip() == "store_bytes: --memories must be at least 1"
