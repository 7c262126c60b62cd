"""The PostgreSQL log keeps the same contract as the SQLite one (the contract
tests run unchanged against a real server), plus what only a shared server
needs: TRUNCATE refused, a disabled trigger reported, concurrent writers from
several processes leaving a gap-free seq that a tailing reader never skips."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from events.backends.postgres import PostgresEventLog
from events.errors import AppendOnlyViolation
from events import codec
from events.log import EventLog
from tests.events.test_log import EventLogContract, remembered


class TestPostgresEventLog(EventLogContract):
    refused = AppendOnlyViolation

    @pytest.fixture(autouse=True)
    def _dsn(self, pg_dsn: str) -> Iterator[None]:
        self.dsn = pg_dsn
        self.opened: list[EventLog] = []
        yield
        for log in self.opened:  # before the database is dropped under them
            log.close()

    def make_log(self, tmp_path: Path) -> EventLog:
        self.opened.append(PostgresEventLog(self.dsn))
        return self.opened[-1]

    def reopen(self, log: EventLog) -> EventLog:
        return self.make_log(Path())


def test_truncate_is_refused_and_a_disabled_trigger_is_reported(pg_dsn: str) -> None:
    log = PostgresEventLog(pg_dsn)
    log.append(remembered("A"))
    with pytest.raises(AppendOnlyViolation):
        log.conn.execute("TRUNCATE events CASCADE")
    log.conn.execute("ALTER TABLE events DISABLE TRIGGER events_no_delete")
    assert log.verify() == ["append-only trigger events_no_delete is missing"]
    log.close()


def test_the_same_bytes_as_sqlite(pg_dsn: str, tmp_path: Path) -> None:
    """One event encoding: envelope columns are identical, and so is the
    msgpack payload (SQLite stores it deflated with the preset dictionary,
    events/codec.py; PostgreSQL plain, its server compresses large values)."""
    from freezegun import freeze_time

    pg, lite = PostgresEventLog(pg_dsn), EventLog(tmp_path / "log.db")
    with freeze_time("2026-05-01T12:00:00Z"):
        for log in (pg, lite):
            log.append(remembered("A", "the same text ✓"), actor="cli")
    cols = "seq, type, schema_version, recorded_at, occurred_at, actor, causation, stage, payload"
    (pg_row,) = pg.conn.execute(f"SELECT {cols} FROM events").fetchall()
    (lite_row,) = lite.conn.execute(f"SELECT {cols} FROM events").fetchall()
    pg.close()
    assert tuple(pg_row)[:-1] == tuple(lite_row)[:-1]
    assert bytes(pg_row[-1]) == codec.unpack(lite_row[-1]) != lite_row[-1]


_WRITER = textwrap.dedent(
    """
    import sys
    from events.backends.postgres import PostgresEventLog
    from events.log import NewEvent
    from events.types import MemoryRemembered
    log = PostgresEventLog(sys.argv[1])
    for i in range(int(sys.argv[3])):
        batch = [NewEvent(event=MemoryRemembered(memory_id=f"{sys.argv[2]}-{i}-{j}", text="x")) for j in range(1 + i % 3)]
        log.append_many(batch)
    """
)


def test_concurrent_writers_leave_a_gap_free_seq_that_a_tailing_reader_never_skips(pg_dsn: str) -> None:
    PostgresEventLog(pg_dsn).close()  # schema first, so the writers race only on appends
    writers = [
        subprocess.Popen([sys.executable, "-c", _WRITER, pg_dsn, f"w{n}", "30"], cwd=Path(__file__).parents[2])
        for n in range(4)
    ]
    reader = PostgresEventLog(pg_dsn)
    seen: list[int] = []
    while True:
        running = any(w.poll() is None for w in writers)
        seen.extend(r.seq for r in reader.read(after=seen[-1] if seen else 0))
        if not running:
            seen.extend(r.seq for r in reader.read(after=seen[-1] if seen else 0))
            break
    assert all(w.returncode == 0 for w in writers)
    total = 4 * sum(1 + i % 3 for i in range(30))
    assert seen == list(range(1, total + 1))  # every event, once, in order: nothing committed behind the reader
    assert reader.verify() == []
    reader.close()


def test_the_checksums_match_sqlite_and_a_documented_rewrite_stays_verifiable(pg_dsn: str, tmp_path: Path) -> None:
    """events/integrity.py's per-event checksum is stored and checked the same way."""
    from freezegun import freeze_time

    from events.types import MemoryRemembered

    from events.backends.copy import copy_log
    from events.integrity import row_checksum
    from events.log.rows import COLUMNS

    pg, lite = PostgresEventLog(pg_dsn), EventLog(tmp_path / "log.db")
    pg.append(remembered("A", "secret alpha"))
    pg.append(remembered("B", "secret bravo"))
    stored = pg.conn.execute(f"SELECT {COLUMNS}, checksum FROM events ORDER BY seq").fetchall()
    assert [row[-1] for row in stored] == [row_checksum(tuple(row[:-1])) for row in stored]
    copy_log(pg, lite)  # a copy keeps the checksums, and SQLite's verify accepts them
    assert lite.verify() == []
    pg.rewrite_payloads({2: pg._encoder.encode(MemoryRemembered(memory_id="B", text="[purged]"))})  # type: ignore[arg-type]
    assert pg.verify() == []
    assert pg.get(2).event.text == "[purged]"  # type: ignore[union-attr]
    with pytest.raises(AppendOnlyViolation):  # the trigger is back
        pg.conn.execute("UPDATE events SET actor = 'x' WHERE seq = 1")
    pg.conn.execute("ALTER TABLE events DISABLE TRIGGER events_no_update")
    pg.conn.execute("UPDATE events SET actor = 'mallory' WHERE seq = 1")
    problems = pg.verify()
    assert "append-only trigger events_no_update is missing" in problems
    assert "event 1 does not match its checksum: it was altered or damaged on disk" in problems
    pg.close()


def test_a_log_found_damaged_takes_no_appends_from_any_machine_until_a_check_finds_it_sound(pg_dsn: str) -> None:
    """SQLite's `log.db.damaged` marker, shared: one machine's `verify` finding
    damage stops every machine's appends (a trigger), and the next sound check
    lets them resume."""
    from events.errors import LogDamaged

    here, there = PostgresEventLog(pg_dsn), PostgresEventLog(pg_dsn)
    here.append(remembered("A", "alpha"))
    here.conn.execute("ALTER TABLE events DISABLE TRIGGER events_no_update")
    here.conn.execute("UPDATE events SET actor = 'mallory' WHERE seq = 1")
    assert "event 1 does not match its checksum: it was altered or damaged on disk" in here.verify()
    for log in (here, there):
        with pytest.raises(LogDamaged, match=r"was found damaged \(append-only trigger events_no_update is missing\); nothing was written"):
            log.append(remembered("B", "bravo"))
    with pytest.raises(LogDamaged):
        there.rewrite_payloads({1: b"\x90"})
    assert there.head() == 1
    here.conn.execute("UPDATE events SET actor = 'cli' WHERE seq = 1")  # restored (here: undone)
    here.conn.execute("ALTER TABLE events ENABLE TRIGGER events_no_update")
    assert there.verify() == []
    assert there.append(remembered("B", "bravo")).seq == 2
    here.close()
    there.close()
