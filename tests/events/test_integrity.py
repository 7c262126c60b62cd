"""Per-event checksums: every field and the payload are covered, a documented
rewrite (purge) keeps the log verifiable, anything else is detected."""

from __future__ import annotations

from pathlib import Path

import apsw
import pytest

from events.errors import AppendOnlyViolation
from events.integrity import checksum
from events.log import EventLog
from events.types import MemoryId, MemoryRemembered

BASE = dict(id="01J", type="memory.remembered", schema_version=1, recorded_at="2026-01-01T00:00:00.000000Z",
            occurred_at="2026-01-01T00:00:00.000000Z", actor="cli", causation=None, stage=None, payload=b"\x80")


@pytest.mark.parametrize("field,value", [("id", "01K"), ("type", "memory.forgotten"), ("schema_version", 2),
                                         ("recorded_at", "2026-01-01T00:00:00.000001Z"), ("actor", "import"),
                                         ("causation", 1), ("stage", "x"), ("stage", "None"), ("payload", b"\x81")])
def test_every_field_changes_the_checksum(field: str, value: object) -> None:
    assert checksum(**{**BASE, field: value}) != checksum(**BASE)  # type: ignore[arg-type]


def test_the_checksum_is_stable_across_releases() -> None:
    # a stored value: changing the function would flag every existing event as damaged
    assert checksum(**BASE) == "b2:182d5b041d3a99212532d6cdfa9d4aae"  # type: ignore[arg-type]


def _log(tmp_path: Path) -> EventLog:
    log = EventLog(tmp_path / "log.db")
    for word in ("alpha", "bravo", "charlie"):
        log.append(MemoryRemembered(memory_id=MemoryId(f"M{word}"), text=f"secret {word}"))
    return log


def test_a_documented_rewrite_keeps_the_log_verifiable_and_append_only(tmp_path: Path) -> None:
    log = _log(tmp_path)
    purged = MemoryRemembered(memory_id=MemoryId("Mbravo"), text="[purged]")
    log.rewrite_payloads({2: log._encoder.encode(purged)})
    assert log.verify() == []
    assert log.get(2).event.text == "[purged]"
    with pytest.raises(AppendOnlyViolation):  # the trigger is back
        with log.conn:
            try:
                log.conn.execute("UPDATE events SET actor='x' WHERE seq=1")
            except apsw.ConstraintError as exc:
                raise AppendOnlyViolation(str(exc)) from exc


def test_an_undocumented_edit_is_reported(tmp_path: Path) -> None:
    log = _log(tmp_path)
    log.conn.execute("DROP TRIGGER events_no_update")
    log.conn.execute("UPDATE events SET actor='mallory' WHERE seq=3")
    problems = log.verify()
    assert "append-only trigger events_no_update is missing" in problems
    assert "event 3 does not match its checksum: it was altered or damaged on disk" in problems


def test_bytes_that_are_not_utf8_in_a_text_column_are_reported_not_raised(tmp_path: Path) -> None:
    from events.errors import CorruptEvent

    log = _log(tmp_path)
    log.conn.execute("DROP TRIGGER events_no_update")
    log.conn.execute("UPDATE events SET actor = CAST(X'9DFF' AS TEXT) WHERE seq = 2")
    assert "event 2 holds bytes that are not valid UTF-8 where text belongs: damaged on disk" in log.verify()
    with pytest.raises(CorruptEvent):
        log.get(2)
    with pytest.raises(CorruptEvent):
        list(log.read())


@pytest.mark.parametrize("kind", ["compact", "text"])
def test_a_damaged_page_of_the_rows_is_reported_and_the_log_marked(tmp_path: Path, kind: str) -> None:
    """Damage where the rows live makes reading them fail outright: verify
    still answers with problems (never an exception) and marks the log, so
    nothing more is appended to it."""
    from tests.events.logs import text_log

    log = EventLog(tmp_path / "log.db") if kind == "compact" else text_log(tmp_path / "log.db")
    for n in range(400):
        log.append(MemoryRemembered(memory_id=MemoryId(f"M{n}"), text=f"a longer text about fact number {n} " * 4))
    table = "event_rows" if kind == "compact" else "events"
    log.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    pages = log.conn.execute(
        "SELECT pageno FROM dbstat WHERE name = ? AND pagetype = 'leaf' ORDER BY pageno", (table,)
    ).fetchall()
    page_size = log.conn.execute("PRAGMA page_size").fetchone()[0]
    log.close()
    victim = pages[len(pages) // 2][0]
    data = bytearray((tmp_path / "log.db").read_bytes())
    data[(victim - 1) * page_size : victim * page_size] = b"\xa5" * page_size
    (tmp_path / "log.db").write_bytes(bytes(data))
    log = EventLog(tmp_path / "log.db")
    problems = log.verify()
    assert problems and any("damaged" in p or "integrity check" in p for p in problems)
    assert log.damaged_marker.exists()
