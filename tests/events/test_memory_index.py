"""Which events concern a memory: a new log keeps (memory number, seq)
pairs behind the `event_memories` view; a log written before keeps its
`event_memories` table. Both read, append, verify and copy the same, and
both are append-only."""

from __future__ import annotations

from pathlib import Path

import apsw
import pytest

from events.backends.copy import content_hash, copy_log
from events.log import EventLog
from events.log.schema import LEGACY_MEMORY_INDEX, TEXT_SCHEMA
from events.types import Edge, EdgesInferred, MemoryForgotten, MemoryId, MemoryRemembered, Provenance

A, B, C = (MemoryId(f"01J000000000000000000000{x}A") for x in "ABC")


def _write_some(log: EventLog) -> None:
    log.append(MemoryRemembered(memory_id=A, text="first"))
    log.append(MemoryRemembered(memory_id=B, text="second"))
    edges = [Edge(src=A, dst=B, edge_type="temporal", weight=1.0), Edge(src=B, dst=C, edge_type="entity", weight=0.5)]
    log.append(EdgesInferred(edges=edges, provenance=Provenance(implementation="rules")))
    log.append(MemoryForgotten(memory_id=A))


def _legacy_log(path: Path) -> EventLog:
    """A log file exactly as memman wrote it before the compact index
    (schema version 4, `event_memories` a WITHOUT ROWID table)."""
    conn = apsw.Connection(str(path))
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(TEXT_SCHEMA + LEGACY_MEMORY_INDEX + "PRAGMA user_version=4;")
    conn.close()
    return EventLog(path)


def _kind(log: EventLog) -> str:
    return log.conn.execute("SELECT type FROM sqlite_master WHERE name = 'event_memories'").fetchone()[0]


def test_a_new_log_keeps_memory_references_as_numbers(tmp_path: Path) -> None:
    log = EventLog(tmp_path / "log.db")
    _write_some(log)
    assert _kind(log) == "view"
    assert [r.seq for r in log.for_memory(A)] == [1, 3, 4]
    assert [r.seq for r in log.for_memory(C)] == [3]
    assert log.conn.execute("SELECT id FROM memory_numbers ORDER BY n").fetchall() == [(A,), (B,), (C,)]
    assert log.conn.execute("SELECT count(*) FROM memory_events").fetchone()[0] == 6
    assert log.verify() == []


@pytest.mark.parametrize("table", ["memory_events", "memory_numbers", "event_memories"])
def test_the_compact_index_is_append_only(tmp_path: Path, table: str) -> None:
    log = EventLog(tmp_path / "log.db")
    _write_some(log)
    for statement in (f"DELETE FROM {table}", f"UPDATE {table} SET seq = 9" if table != "memory_numbers" else "UPDATE memory_numbers SET id = 'x'"):
        with pytest.raises(apsw.ConstraintError, match="append-only"):
            log.conn.execute(statement)
    assert [r.seq for r in log.for_memory(B)] == [2, 3]


def test_verify_names_a_missing_trigger_of_the_compact_index(tmp_path: Path) -> None:
    log = EventLog(tmp_path / "log.db")
    _write_some(log)
    log.conn.execute("DROP TRIGGER memory_events_no_delete")
    assert log.verify() == ["append-only trigger memory_events_no_delete is missing"]


def test_a_log_written_before_keeps_its_table_and_works(tmp_path: Path) -> None:
    log = _legacy_log(tmp_path / "old.db")
    _write_some(log)
    assert _kind(log) == "table"
    reopened = EventLog(log.path)
    reopened.append(MemoryRemembered(memory_id=C, text="third"))
    assert _kind(reopened) == "table"
    assert [r.seq for r in reopened.for_memory(C)] == [3, 5]
    assert reopened.verify() == []


def test_old_and_new_logs_copy_into_each_other_with_equal_hashes(tmp_path: Path) -> None:
    old = _legacy_log(tmp_path / "old.db")
    _write_some(old)
    new = EventLog(tmp_path / "new.db")
    assert copy_log(old, new) == 4
    back = _legacy_log(tmp_path / "back.db")
    assert copy_log(new, back) == 4
    assert content_hash(old) == content_hash(new) == content_hash(back)
    for memory in (A, B, C):
        assert [r.seq for r in old.for_memory(memory)] == [r.seq for r in new.for_memory(memory)] == [
            r.seq for r in back.for_memory(memory)
        ]
    assert new.verify() == [] and back.verify() == []
