"""tools/log_bytes.py: a log's bytes per memory by table, and of the same
events copied into a new (compact) log, with the content hash checked."""

from __future__ import annotations

import json
from pathlib import Path

from events.types import MemoryId, MemoryRemembered
from tests.events.logs import text_log
from tests.tools.runner import run_tool


def test_a_text_log_and_its_compact_copy_are_measured(tmp_path: Path) -> None:
    log = text_log(tmp_path / "log.db")
    for n in range(200):
        log.append(MemoryRemembered(memory_id=MemoryId(f"01J00000000000000000000{n:03d}"), text=f"fact number {n}"))
    log.close()
    copy = tmp_path / "compact.db"
    proc = run_tool("log_bytes.py", str(tmp_path / "log.db"), "--memories", "200", "--compact-copy", str(copy), timeout=120)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    text, compact = result[str(tmp_path / "log.db")], result[str(copy)]
    assert "events" in text and "sqlite_autoindex_events_1" in text
    assert "event_rows" in compact and "events_recorded" in compact and "sqlite_autoindex_events_1" not in compact
    assert text["(payloads)"] == compact["(payloads)"] > 0  # payloads copied as stored
    assert compact["(file)"] < text["(file)"]


def test_bad_input_is_one_line_and_exit_nonzero(tmp_path: Path) -> None:
    proc = run_tool("log_bytes.py", str(tmp_path / "none.db"), "--memories", "10", timeout=60)
    assert proc.returncode != 0 and proc.stderr.strip() == f"no log at {tmp_path / 'none.db'}"
    (tmp_path / "log.db").write_bytes(b"")
    proc = run_tool("log_bytes.py", str(tmp_path / "log.db"), "--memories", "0", timeout=60)
    assert proc.returncode != 0 and proc.stderr.strip() == "--memories must be at least 1"
